"""Pictures from numbers, in plain numpy (no Qt): mosaics, colormaps, bar tiles.

Every live view that shows many small images draws them as ONE mosaic image, because one
``ImageItem`` is about ten times cheaper than many small ones (docs/pitfalls.md, 'Many small
images: draw one mosaic').
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _diverging_lut() -> np.ndarray:
    """Blue (negative) - white (zero) - red (positive), like RdBu reversed.

    255 entries (odd), so that zero falls exactly on the white middle entry."""
    anchors = np.array(
        [[0.02, 0.19, 0.38], [0.26, 0.58, 0.76], [0.97, 0.97, 0.97], [0.84, 0.38, 0.30], [0.40, 0.0, 0.12]]
    )
    positions = np.linspace(0.0, 1.0, len(anchors))
    t = np.linspace(0.0, 1.0, 255)
    lut = np.stack([np.interp(t, positions, anchors[:, k]) for k in range(3)], axis=1)
    return np.round(lut * 255).astype(np.uint8)


DIVERGING_LUT = _diverging_lut()
# White to a calm blue, for counts (the confusion matrix).
SEQUENTIAL_LUT = np.round(
    np.stack([np.interp(np.linspace(0, 1, 256), [0, 1], [1.0, c]) for c in (0.13, 0.40, 0.69)], axis=1) * 255
).astype(np.uint8)


def diverging_rgb(values: np.ndarray, scale: float | None = None) -> np.ndarray:
    """Signed values -> RGB uint8 with zero at white; ``scale`` is the value drawn darkest."""
    values = np.asarray(values, dtype=np.float32)
    if scale is None:
        scale = float(np.max(np.abs(values))) if values.size else 1.0
    scale = scale if scale > 0 else 1.0
    index = np.clip(np.round((values / scale * 0.5 + 0.5) * 254), 0, 254).astype(np.intp)
    return DIVERGING_LUT[index]


def minmax_rgb(values: np.ndarray) -> np.ndarray:
    """Stretch values to 0..255 (the usual way to show a raw-pixel weight template)."""
    values = np.asarray(values, dtype=np.float32)
    lo, hi = float(values.min()), float(values.max())
    span = hi - lo if hi > lo else 1.0
    return np.round((values - lo) / span * 255).astype(np.uint8)


def upscale(picture: np.ndarray, size: int) -> np.ndarray:
    """Nearest-neighbour resize of an (h, w, 3) picture to (size, size, 3)."""
    h, w = picture.shape[:2]
    rows = (np.arange(size) * h // size).clip(0, h - 1)
    cols = (np.arange(size) * w // size).clip(0, w - 1)
    return picture[rows][:, cols]


def hue_colors(n: int) -> np.ndarray:
    """n RGB colors around the hue circle (bin centres), for hue-histogram bars."""
    import colorsys

    rgb = [colorsys.hsv_to_rgb((i + 0.5) / n, 0.75, 0.9) for i in range(n)]
    return np.round(np.array(rgb) * 255).astype(np.uint8)


def bars_tile(values: np.ndarray, size: int, colors: np.ndarray | None = None, signed: bool = True,
              scale: float | None = None) -> np.ndarray:
    """A (size, size, 3) picture of vertical bars; signed bars grow up/down from the middle."""
    values = np.asarray(values, dtype=np.float32).ravel()
    n = max(1, len(values))
    tile = np.full((size, size, 3), 255, dtype=np.uint8)
    if scale is None:
        scale = float(np.max(np.abs(values))) if values.size else 1.0
    scale = scale if scale > 0 else 1.0
    baseline = size // 2 if signed else size - 1
    height = (size // 2 - 1) if signed else size - 2
    tile[baseline, :] = 170
    edges = np.linspace(0, size, n + 1).astype(int)
    for i, v in enumerate(values):
        x0, x1 = edges[i], max(edges[i] + 1, edges[i + 1] - 1)
        length = int(round(min(abs(v) / scale, 1.0) * height))
        if colors is not None:
            color = colors[i % len(colors)]
        else:
            color = DIVERGING_LUT[230] if v >= 0 else DIVERGING_LUT[25]
        if v >= 0:
            tile[baseline - length:baseline, x0:x1] = color
        else:
            tile[baseline + 1:baseline + 1 + length, x0:x1] = color
    return tile


@dataclass(frozen=True)
class MosaicLayout:
    """Where each tile sits in a mosaic: tile k at (row_of(k), col_of(k)) * pitch + gap."""

    rows: int
    cols: int
    tile_h: int
    tile_w: int
    gap: int
    row_gap: int = -1  # vertical gap (room for labels); -1 = same as ``gap``

    @property
    def _row_gap(self) -> int:
        return self.gap if self.row_gap < 0 else self.row_gap

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows * (self.tile_h + self._row_gap) - self._row_gap + 2 * self.gap,
                self.cols * (self.tile_w + self.gap) + self.gap)

    def origin(self, row: int, col: int) -> tuple[int, int]:
        """(y, x) of the tile's top-left pixel."""
        return (self.gap + row * (self.tile_h + self._row_gap), self.gap + col * (self.tile_w + self.gap))

    def cell_at(self, y: float, x: float) -> tuple[int, int] | None:
        """(row, col) of the tile under image pixel (y, x), or None on a gap or outside."""
        pitch_y, pitch_x = self.tile_h + self._row_gap, self.tile_w + self.gap
        row, col = int((y - self.gap) // pitch_y), int((x - self.gap) // pitch_x)
        if not (0 <= row < self.rows and 0 <= col < self.cols) or y < self.gap or x < self.gap:
            return None
        if (y - self.gap) - row * pitch_y >= self.tile_h or (x - self.gap) - col * pitch_x >= self.tile_w:
            return None
        return row, col


def mosaic(tiles: np.ndarray, cols: int, gap: int = 2, background: int = 255,
           rows: int | None = None) -> tuple[np.ndarray, MosaicLayout]:
    """(K, h, w, 3) uint8 tiles -> one C-contiguous (H, W, 3) uint8 mosaic, row-major order."""
    tiles = np.asarray(tiles)
    k, h, w = tiles.shape[:3]
    cols = max(1, cols)
    rows = rows if rows is not None else max(1, -(-k // cols))
    layout = MosaicLayout(rows, cols, h, w, gap)
    out = np.full(layout.shape + (3,), background, dtype=np.uint8)
    for i in range(min(k, rows * cols)):
        y, x = layout.origin(i // cols, i % cols)
        out[y:y + h, x:x + w] = tiles[i]
    return out, layout


def grid_mosaic(grid: list[list[np.ndarray]], gap: int = 4, background: int = 255,
                row_gap: int = -1) -> tuple[np.ndarray, MosaicLayout]:
    """A list of rows of equally sized (h, w, 3) tiles -> one mosaic."""
    rows = len(grid)
    cols = max(len(r) for r in grid)
    h, w = grid[0][0].shape[:2]
    layout = MosaicLayout(rows, cols, h, w, gap, row_gap)
    out = np.full(layout.shape + (3,), background, dtype=np.uint8)
    for r, row in enumerate(grid):
        for c, tile in enumerate(row):
            y, x = layout.origin(r, c)
            out[y:y + h, x:x + w] = tile
    return out, layout
