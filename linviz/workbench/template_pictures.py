"""Weight templates as pictures, one per class and feature block (numpy only, no Qt).

W has one row per feature column (bias last) and one column per class. Each feature block
(``pipeline.blocks``) says how its weights are read
(:meth:`~linviz.features.blocks.BlockType.weight_pictures`): numbers in a *style*, which
this module paints, never looking at the block's name:

- ``rgb``: an RGB template, stretched per class (the familiar CIFAR-10 "car" picture);
- ``map``: a signed map in a diverging colormap (red: evidence for the class, blue: against),
  per class or on one scale for all classes (HOG's glyphs);
- ``bars``: signed bars (hue bins in their own color);
- ``patches``: ready-made pictures (the visual words' strongest patches).

:func:`shared_template_rows` draws several weight matrices (runs to compare) on ONE color
scale per feature block instead: zero is mid-gray (``rgb``) or white (the rest) and the
strongest weight of all of them is drawn darkest, so that regularization's effect on the
templates' magnitude shows (stretched per class, a faint template looks as strong as any).
"""

from __future__ import annotations

import numpy as np

from linviz.workbench.pictures import bars_tile, diverging_rgb, hue_colors, minmax_rgb, upscale

TILE = 64


def _image_shape(pipeline, default=(32, 32)) -> tuple[int, int]:
    shape = getattr(pipeline, "image_shape", None)
    if shape:
        return tuple(shape[:2])
    return default


def signed_rgb(values: np.ndarray, scale: float) -> np.ndarray:
    """An RGB template on a fixed scale: 0 is mid-gray, +-``scale`` full color (or none)."""
    scale = scale if scale > 0 else 1.0
    return np.clip(np.round(127.5 + 127.5 * np.asarray(values, dtype=np.float32) / scale), 0, 255).astype(np.uint8)


def _weight_pictures(pipeline, block, weights: np.ndarray):
    state = pipeline.state_of(block) if hasattr(pipeline, "state_of") else None
    return block.type.weight_pictures(block, weights, _image_shape(pipeline), state)


def picture_scale(pictures) -> float:
    """The value drawn at full color when the classes share one scale."""
    values = [np.max(np.abs(np.asarray(p, dtype=np.float32))) for p in pictures.pictures if np.size(p)]
    return pictures.peak_fraction * max((float(v) for v in values), default=0.0) or 1.0


def paint(pictures, scale: float | None = None) -> list[np.ndarray]:
    """One TILE x TILE RGB tile per class; ``scale`` (from :func:`picture_scale`) puts every
    class, and every weight matrix given the same scale, on one color scale."""
    style = pictures.style
    if style == "patches":
        return [upscale(np.asarray(p, dtype=np.uint8), TILE) for p in pictures.pictures]
    if scale is None and not pictures.per_class:
        scale = picture_scale(pictures)
    if style == "rgb":
        return [upscale(minmax_rgb(p) if scale is None else signed_rgb(p, scale), TILE) for p in pictures.pictures]
    if style == "map":
        return [upscale(diverging_rgb(p, scale), TILE) for p in pictures.pictures]
    colors = hue_colors(len(pictures.pictures[0])) if pictures.colors == "hue" and pictures.pictures else None
    return [bars_tile(p, TILE, colors=colors, signed=True, scale=scale) for p in pictures.pictures]


def short_block_name(block) -> str:
    """"hog 8px", "hue", "raw", "layout 4x4": row labels that fit beside a 64 px tile."""
    return block.type.short_name(block)


def template_rows(W: np.ndarray, pipeline, scales: list | None = None) -> list[tuple[str, list[np.ndarray]]]:
    """(block name, one RGB tile per class) for every feature block of ``pipeline``.
    ``scales``: one color scale per block (:func:`shared_scales`) instead of each W's own."""
    W = np.asarray(W, dtype=np.float32)
    blocks = list(getattr(pipeline, "blocks", []) or [])
    if not blocks:
        scale = scales[0] if scales else float(np.max(np.abs(W[:-1]))) or 1.0
        return [("weights", [bars_tile(W[:-1, c], TILE, signed=True, scale=scale) for c in range(W.shape[1])])]
    rows = []
    for k, block in enumerate(blocks):
        pictures = _weight_pictures(pipeline, block, W[block.start:block.stop])
        rows.append((short_block_name(block), paint(pictures, scales[k] if scales else None)))
    return rows


def shared_scales(Ws: list[np.ndarray], pipeline) -> list[float]:
    """One color scale per feature block for all of ``Ws`` (same pipeline): the largest value
    drawn for the block in any of them (HOG: 60% of the largest glyph stroke, as for one W)."""
    blocks = list(getattr(pipeline, "blocks", []) or [])
    if not blocks:
        return [max(float(np.max(np.abs(np.asarray(W)[:-1]))) for W in Ws) or 1.0]
    scales = []
    for block in blocks:
        drawn = [_weight_pictures(pipeline, block, np.asarray(W, dtype=np.float32)[block.start:block.stop]) for W in Ws]
        scales.append(max(picture_scale(d) for d in drawn) or 1.0)
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
        text = block.type.reading(block)
        if text is None:
            name = short_block_name(block)
            if name not in histograms:
                histograms.append(name)
        elif text not in parts:
            parts.append(text)
    if histograms or not parts:
        what = f"{', '.join(histograms)} histogram{'s' if len(histograms) > 1 else ''}: " if histograms else ""
        parts.append(f"{what}bars up = evidence for the class, down = against")
    return "Weight templates, one column per class. " + "; ".join(parts)
