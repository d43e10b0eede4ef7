"""Weight templates as pictures, one per class and feature block (numpy only, no Qt).

W has one row per feature column (bias last) and one column per class. Each feature block
(``pipeline.blocks``) is drawn the way that block is read:
- raw pixels: the RGB template, stretched per class (the familiar CIFAR-10 "car" picture);
  grayscale raw pixels in a diverging colormap;
- HOG: the glyph picture of the positive weights minus that of the negative ones, in a
  diverging colormap (red: this edge direction speaks for the class, blue: against);
- histograms: signed bars (hue bins in their own color);
- color layout: the coarse color grid, stretched per class.

:func:`shared_template_rows` draws several weight matrices (runs to compare) on ONE color
scale per feature block instead: zero is mid-gray (raw pixels, layout) or white (the rest) and
the strongest weight of all of them is drawn darkest, so that regularization's effect on the
templates' magnitude shows (stretched per class, a faint template looks as strong as any).
"""

from __future__ import annotations

import numpy as np

from linviz.workbench.pictures import bars_tile, diverging_rgb, hue_colors, minmax_rgb, upscale

TILE = 64


def _param(block, *names, default=None):
    params = getattr(block, "params", {}) or {}
    for name in names:
        if name in params:
            return params[name]
    return default


def _image_shape(pipeline, default=(32, 32)) -> tuple[int, int]:
    shape = getattr(pipeline, "image_shape", None)
    if shape:
        return tuple(shape[:2])
    return default


def signed_rgb(values: np.ndarray, scale: float) -> np.ndarray:
    """An RGB template on a fixed scale: 0 is mid-gray, +-``scale`` full color (or none)."""
    scale = scale if scale > 0 else 1.0
    return np.clip(np.round(127.5 + 127.5 * np.asarray(values, dtype=np.float32) / scale), 0, 255).astype(np.uint8)


def raw_tiles(weights: np.ndarray, block, scale: float | None = None) -> list[np.ndarray]:
    n = weights.shape[0]
    shape = tuple(getattr(block, "shape", ()) or ())
    tiles = []
    for c in range(weights.shape[1]):
        w = weights[:, c]
        if len(shape) == 3 and int(np.prod(shape)) == n:
            picture = minmax_rgb(w.reshape(shape)) if scale is None else signed_rgb(w.reshape(shape), scale)
        else:
            side = shape[:2] if len(shape) >= 2 and int(np.prod(shape[:2])) == n else None
            if side is None:
                s = int(round(np.sqrt(n)))
                side = (s, s) if s * s == n else None
            if side is None:
                tiles.append(bars_tile(w, TILE))
                continue
            picture = diverging_rgb(w.reshape(side), scale)
        tiles.append(upscale(picture, TILE))
    return tiles


def hog_pictures(weights: np.ndarray, block, image_shape: tuple[int, int]) -> list[np.ndarray]:
    """Per class: the glyphs of the positive weights minus those of the negative ones."""
    from linviz.features import hog_glyphs

    orientations = int(_param(block, "orient", "orientations", default=9))
    cell = int(_param(block, "cell", "pixels_per_cell", default=8))
    cells_per_block = int(_param(block, "block", "cells_per_block", default=1))
    image_shape = tuple(_param(block, "image_shape", default=image_shape))
    kwargs = dict(image_shape=image_shape, orientations=orientations, pixels_per_cell=cell,
                  cells_per_block=cells_per_block)
    pictures = []
    for c in range(weights.shape[1]):
        w = weights[:, c].astype(np.float32)
        positive = hog_glyphs(np.maximum(w, 0), **kwargs)
        negative = hog_glyphs(np.maximum(-w, 0), **kwargs)
        pictures.append(np.asarray(positive, dtype=np.float32) - np.asarray(negative, dtype=np.float32))
    return pictures


def hog_scale(pictures: list[np.ndarray]) -> float:
    """One scale for all classes so they compare; 60% of the peak so typical strokes show."""
    return 0.6 * max(float(np.max(np.abs(p))) for p in pictures) or 1.0


def hog_tiles(weights: np.ndarray, block, image_shape: tuple[int, int], scale: float | None = None) -> list[np.ndarray]:
    pictures = hog_pictures(weights, block, image_shape)
    scale = hog_scale(pictures) if scale is None else scale
    return [upscale(diverging_rgb(p, scale), TILE) for p in pictures]


def hist_tiles(weights: np.ndarray, block, scale: float | None = None) -> list[np.ndarray]:
    name = str(getattr(block, "name", ""))
    channel = _param(block, "channel", default=name.split(":")[0])
    colors = hue_colors(weights.shape[0]) if channel == "hue" else None
    scale = (float(np.max(np.abs(weights))) or 1.0) if scale is None else scale
    return [bars_tile(weights[:, c], TILE, colors=colors, signed=True, scale=scale) for c in range(weights.shape[1])]


def layout_tiles(weights: np.ndarray, block, scale: float | None = None) -> list[np.ndarray]:
    n = weights.shape[0]
    grid = int(_param(block, "grid", default=int(round(np.sqrt(n / 3)))))
    if grid * grid * 3 != n:
        return hist_tiles(weights, block, scale)
    shape = tuple(getattr(block, "shape", ()) or (grid, grid, 3))
    if int(np.prod(shape)) != n or len(shape) != 3:
        shape = (grid, grid, 3)
    picture = minmax_rgb if scale is None else (lambda w: signed_rgb(w, scale))
    return [upscale(picture(weights[:, c].reshape(shape)), TILE) for c in range(weights.shape[1])]


def short_block_name(block) -> str:
    """"hog 8px", "hue", "raw", "layout 4x4": row labels that fit beside a 64 px tile."""
    name = str(getattr(block, "name", "")).split(":")[0] or str(getattr(block, "kind", "?"))
    if name == "hog":
        return f"hog {_param(block, 'cell', default='?')}px"
    if name == "layout":
        grid = _param(block, "grid", default="?")
        return f"layout {grid}x{grid}"
    return name


def template_rows(W: np.ndarray, pipeline, scales: list | None = None) -> list[tuple[str, list[np.ndarray]]]:
    """(block name, one RGB tile per class) for every feature block of ``pipeline``.
    ``scales``: one color scale per block (:func:`shared_scales`) instead of each W's own."""
    W = np.asarray(W, dtype=np.float32)
    blocks = list(getattr(pipeline, "blocks", []) or [])
    if not blocks:
        return [("weights", hist_tiles(W[:-1], None, scales[0] if scales else None))]
    image_shape = _image_shape(pipeline)
    rows = []
    for k, block in enumerate(blocks):
        weights = W[block.start:block.stop]
        kind = getattr(block, "kind", "hist")
        scale = scales[k] if scales else None
        try:
            if kind == "raw":
                tiles = raw_tiles(weights, block, scale)
            elif kind == "hog":
                tiles = hog_tiles(weights, block, image_shape, scale)
            elif kind == "layout":
                tiles = layout_tiles(weights, block, scale)
            else:
                tiles = hist_tiles(weights, block, scale)
        except (ImportError, ValueError, TypeError):
            tiles = hist_tiles(weights, block)  # an unknown layout still shows its signs
        rows.append((short_block_name(block), tiles))
    return rows


def shared_scales(Ws: list[np.ndarray], pipeline) -> list[float]:
    """One color scale per feature block for all of ``Ws`` (same pipeline): the largest |w| of
    the block in any of them (HOG: 60% of the largest glyph stroke, as for one W)."""
    blocks = list(getattr(pipeline, "blocks", []) or [])
    if not blocks:
        return [max(float(np.max(np.abs(np.asarray(W)[:-1]))) for W in Ws) or 1.0]
    image_shape = _image_shape(pipeline)
    scales = []
    for block in blocks:
        parts = [np.asarray(W, dtype=np.float32)[block.start:block.stop] for W in Ws]
        if getattr(block, "kind", "") == "hog":
            try:
                scales.append(max(hog_scale(hog_pictures(w, block, image_shape)) for w in parts))
                continue
            except (ImportError, ValueError, TypeError):
                pass
        scales.append(max(float(np.max(np.abs(w))) if w.size else 0.0 for w in parts) or 1.0)
    return scales


def shared_template_rows(Ws: list[np.ndarray], pipeline) -> list[list[tuple[str, list[np.ndarray]]]]:
    """:func:`template_rows` of each W, all on :func:`shared_scales`."""
    scales = shared_scales(Ws, pipeline)
    return [template_rows(W, pipeline, scales) for W in Ws]


# The spec whose kernels draw an image's HOG glyphs and hue histogram (image_hog_and_hue):
# the fused luma HOG + hue kernel, the one the default features use too.
PICTURE_FEATURES = "hog+hue"


def image_hog_and_hue(image: np.ndarray, orientations: int = 9, cell: int = 8, bins: int = 10):
    """(HOG glyph picture, hue histogram) of one uint8 RGB image, for the features panel:
    the values of ``hog`` (1x1 blocks, L2-Hys) and ``hue_histogram``, from the one fused
    kernel (:func:`linviz.features.hog_descriptor.hog_and_hue`)."""
    from linviz.features import hog_glyphs, hog_length
    from linviz.features.hog_descriptor import hog_and_hue

    batch = np.ascontiguousarray(image[None])
    length = hog_length(image.shape[:2], orientations, cell, 1)
    row = np.empty((1, length + int(bins)), np.float32)
    hog_and_hue(batch, row, 0, length, orientations, cell, 1, "L2-Hys", bins)
    glyphs = hog_glyphs(row[0, :length], image_shape=image.shape[:2], orientations=orientations,
                        pixels_per_cell=cell, cells_per_block=1)
    return np.asarray(glyphs, dtype=np.float32), row[0, length:].copy()


def image_pictures_pending() -> bool:
    """True while the kernels of :func:`image_hog_and_hue` are being made ready in the
    background (a first run compiles them in another process): calling it now would
    compile them on the calling thread, the window's."""
    from linviz.training import warmup

    return warmup.pending(warmup.features_part(PICTURE_FEATURES))


def templates_caption(pipeline) -> str:
    """How to read the template rows of ``pipeline``: only the feature blocks shown."""
    blocks = list(getattr(pipeline, "blocks", []) or [])
    parts, histograms = [], []
    for block in blocks:
        kind = getattr(block, "kind", "hist")
        if kind == "raw":
            rgb = len(tuple(getattr(block, "shape", ()) or ())) == 3
            text = ("raw pixels: the RGB template, stretched per class" if rgb
                    else "raw pixels: red = evidence for the class, blue = against")
        elif kind == "hog":
            text = "HOG: edge directions, red = evidence for the class, blue = against"
        elif kind == "layout":
            text = "color layout: the coarse color grid, stretched per class"
        else:
            name = short_block_name(block)
            if name not in histograms:
                histograms.append(name)
            continue
        if text not in parts:
            parts.append(text)
    if histograms or not parts:
        what = f"{', '.join(histograms)} histogram{'s' if len(histograms) > 1 else ''}: " if histograms else ""
        parts.append(f"{what}bars up = evidence for the class, down = against")
    return "Weight templates, one column per class. " + "; ".join(parts)
