"""The evidence maps as one mosaic: a row of tiles per evidence row (the image, then one tile
per feature block), arranged so the tiles come out as large as the view allows.

The four rows (top class, true class, compared class, their difference) stack in one column
on a tall view; on a wide one they go two or four side by side, each with its label on its
left. The labels keep their size in pixels, so their room in the picture depends on the scale
the picture is drawn at: both are worked out together here.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtGui import QFont, QFontMetricsF

from linviz.workbench.pictures import bars_tile, diverging_rgb, grid_mosaic, hue_colors, upscale

TILE = 64  # picture pixels per tile
GAP = 4
ROW_GAP = int(0.3 * TILE)
GROUPINGS = (1, 2, 4)  # evidence rows side by side


def short_block_name(name: str) -> str:
    """'hog:orient=9:cell=8:...' -> 'HOG 8'; the full spec goes in a tooltip."""
    kind, _, rest = name.partition(":")
    params = dict(p.split("=", 1) for p in rest.split(":") if "=" in p)
    if kind == "hog":
        return f"HOG {params.get('cell', '?')}"
    if kind == "raw":
        return "pixels (gray)" if params.get("gray") not in (None, "0") else "pixels"
    if kind == "layout":
        return "layout"
    return {"hue": "hue", "sat": "sat.", "val": "value"}.get(kind, kind)


def evidence_tiles(image: np.ndarray, evidences: list) -> list[list[np.ndarray]]:
    """Per evidence row: the image's tile, then a tile per block, each block's column on one
    color scale so the rows compare. Red: evidence for, blue: against."""
    blocks = evidences[0].blocks if evidences else []
    scales = []
    for k in range(len(blocks)):
        peak = max(float(np.max(np.abs(ev.blocks[k].values))) for ev in evidences)
        scales.append(peak or 1.0)
    picture = upscale(np.ascontiguousarray(image), TILE)
    rows = []
    for ev in evidences:
        tiles = [picture]
        for k, block in enumerate(ev.blocks):
            if block.kind == "hist":
                colors = hue_colors(len(block.values)) if block.name.startswith("hue") else None
                tiles.append(bars_tile(block.values, TILE, colors=colors, scale=scales[k]))
            else:
                tiles.append(upscale(diverging_rgb(block.values, scales[k]), TILE))
        rows.append(tiles)
    return rows


def _text_px(texts: list[str]) -> float:
    """The widest of ``texts`` as the mosaic's text items draw them (document margins included)."""
    from PySide6.QtWidgets import QGraphicsTextItem

    item = QGraphicsTextItem()
    widest = 0.0
    for text in texts:
        item.setPlainText(text)
        widest = max(widest, item.boundingRect().width())
    return widest


def evidence_mosaic(tiles: list, row_labels: list[str], block_names: list[str], scores: list[float],
                    view_size: tuple[float, float]):
    """(picture, layout, labels, (margin_top, margin_left), groups) for the view's size in
    pixels: the arrangement of the rows that draws the tiles largest."""
    n_rows, per_row = len(tiles), len(tiles[0])
    labels = [f"{label}\nscore {score:+.2f}" for label, score in zip(row_labels, scores)]  # two lines: narrow
    label_px = _text_px(labels) + 6
    headers = ["image"] + list(block_names)
    header_px = 2.2 * QFontMetricsF(QFont()).height()  # room for two staggered lines of block names
    width, height = max(view_size[0], 1.0), max(view_size[1], 1.0)
    pitch = TILE + GAP

    def scale_of(groups: int) -> float:
        lines = math.ceil(n_rows / groups)
        tiles_w = groups * per_row * pitch + GAP
        tiles_h = lines * (TILE + ROW_GAP) - ROW_GAP + 2 * GAP
        return min((width - groups * label_px) / tiles_w, (height - header_px) / tiles_h)

    groups = max((g for g in GROUPINGS if g <= n_rows), key=lambda g: (scale_of(g) > 0, scale_of(g), -g))
    scale = max(scale_of(groups), 0.05)
    spacer = math.ceil(label_px / scale / pitch)  # blank tiles where a group's label goes
    blank = np.full((TILE, TILE, 3), 255, np.uint8)
    lines = math.ceil(n_rows / groups)
    grid = []
    for line in range(lines):
        row = []
        for g in range(groups):
            if g:
                row += [blank] * spacer
            k = line * groups + g
            row += tiles[k] if k < n_rows else [blank] * per_row
        grid.append(row)
    picture, layout = grid_mosaic(grid, gap=GAP, row_gap=ROW_GAP)
    # the scale the view will draw at (the range padded by 1 %, the margins in pixels), so the
    # margins in picture units hold the labels whole
    h, w = picture.shape[:2]
    pad = 1.02
    scale = max(min((width - pad * label_px) / (pad * w), (height - pad * header_px) / (pad * h)), 0.05)
    stagger = _text_px(headers) > pitch * scale  # names wider than a tile: two lines, alternately
    placed = []
    for g in range(groups):
        first = g * (per_row + spacer)
        for c, name in enumerate(headers):
            y, x = layout.origin(0, first + c)
            lift = 0.45 * header_px / scale if stagger and c % 2 == 1 else 0.0
            placed.append((name, x + TILE / 2, y - 1 - lift, "top"))
        for line in range(lines):
            k = line * groups + g
            if k < n_rows:
                y, x = layout.origin(line, first)
                placed.append((labels[k], x - 3, y + TILE / 2, "left"))
    margins = (header_px / scale, label_px / scale)
    return picture, layout, placed, margins, groups
