"""HOG glyphs: a HOG vector drawn as oriented line segments, one star of lines per cell.

The classic picture (as ``skimage.feature.hog(..., visualize=True)`` draws it): for each
cell and orientation bin a line through the cell centre, *perpendicular* to the bin's mid
gradient direction (so it follows the edge that produced the gradient), with an intensity
proportional to the bin's value. With blocks of several cells, a cell appears in several
blocks; its value per bin is the mean over those blocks.

Signs. A HOG vector of an image is >= 0, but a weight template over HOG columns is signed:
positive weights are edges that vote *for* the class, negative ones *against* it. The
picture is therefore signed (lines add with their sign; draw it with a diverging colormap
centred on 0), or with ``sign="positive"`` / ``"negative"`` only that part, as a
non-negative magnitude (useful for two side-by-side gray pictures).

Plain NumPy: one small (orientations, g, g) stencil of anti-aliased lines, then a single
tensor product with the cell values.
"""

from __future__ import annotations

import functools

import numpy as np

from linviz.errors import LinvizError
from linviz.features.hog_descriptor import hog_grid


@functools.lru_cache(maxsize=16)
def _line_stencils(orientations: int, size: int) -> np.ndarray:
    """(orientations, size, size) float32, read-only: anti-aliased unit-intensity segments
    through the centre. Kept: a live template is redrawn several times a second, and the
    stencils were most of its cost."""
    c = (size - 1) / 2.0
    radius = max(c - 0.5, 0.5)
    rr, cc = np.mgrid[0:size, 0:size].astype(np.float64)
    rr -= c
    cc -= c
    out = np.empty((orientations, size, size), dtype=np.float32)
    for o in range(orientations):
        theta = np.pi * (o + 0.5) / orientations  # mid gradient angle of bin o
        # edge direction in (row, col), perpendicular to the gradient (sin t, cos t)
        dr, dc = np.cos(theta), -np.sin(theta)
        along = rr * dr + cc * dc
        across = np.abs(rr * dc - cc * dr)
        line = np.clip(1.0 - across, 0.0, 1.0) * np.clip(radius + 0.5 - np.abs(along), 0.0, 1.0)
        out[o] = line
    out.flags.writeable = False
    return out


def hog_cells(hog_vector, *, image_shape, orientations: int, pixels_per_cell: int, cells_per_block: int) -> np.ndarray:
    """A HOG vector -> per-cell values ``(cell_rows, cell_cols, orientations)`` (block mean)."""
    ncr, ncc, nbr, nbc = hog_grid(image_shape, int(pixels_per_cell), int(cells_per_block))
    b = int(cells_per_block)
    v = np.asarray(hog_vector, dtype=np.float64).ravel()
    expected = nbr * nbc * b * b * int(orientations)
    if v.size != expected:
        raise LinvizError(
            f"hog_glyphs: a HOG vector of {image_shape[0]}x{image_shape[1]} images with these parameters "
            f"has {expected} values, got {v.size}"
        )
    blocks = v.reshape(nbr, nbc, b, b, orientations)
    total = np.zeros((ncr, ncc, orientations))
    count = np.zeros((ncr, ncc, 1))
    for i in range(b):
        for j in range(b):
            total[i : i + nbr, j : j + nbc] += blocks[:, :, i, j]
            count[i : i + nbr, j : j + nbc] += 1
    return total / count


def hog_glyphs(
    hog_vector,
    *,
    image_shape,
    orientations: int,
    pixels_per_cell: int,
    cells_per_block: int,
    glyph_size: int = 15,
    sign: str = "both",
) -> np.ndarray:
    """Render a HOG vector (of an image, or a signed weight template) as float32 ``(h, w)``.

    ``h, w = cell_rows * glyph_size, cell_cols * glyph_size``. ``sign``: ``"both"`` (signed
    picture), ``"positive"`` or ``"negative"`` (that part only, as magnitudes >= 0).
    """
    if sign not in ("both", "positive", "negative"):
        raise LinvizError(f"hog_glyphs: sign must be both, positive or negative, got {sign!r}")
    glyph_size = int(glyph_size)
    if glyph_size < 3:
        raise LinvizError(f"hog_glyphs: glyph_size must be >= 3, got {glyph_size}")
    cells = hog_cells(
        hog_vector,
        image_shape=image_shape,
        orientations=orientations,
        pixels_per_cell=pixels_per_cell,
        cells_per_block=cells_per_block,
    )
    if sign == "positive":
        cells = np.maximum(cells, 0.0)
    elif sign == "negative":
        cells = np.maximum(-cells, 0.0)
    stencils = _line_stencils(int(orientations), glyph_size)
    ncr, ncc = cells.shape[:2]
    tiles = np.einsum("rco,oyx->rycx", cells.astype(np.float32), stencils)
    return np.ascontiguousarray(tiles.reshape(ncr * glyph_size, ncc * glyph_size), dtype=np.float32)
