"""The exact HOG of float64 gray images: bins computed by NumPy with scikit-image's own formula.

NumPy's ``arctan2`` is SIMD code on some CPUs (AVX-512) and the C library's on others, and the
two can differ in the last bit; float64 gradients one rounding step off the diagonal
(``a/255 - b/255``) then sit exactly on the 45 or 135 degree edge, and that last bit decides
their bin. Binning from NumPy's own result gives scikit-image's bins on every CPU; only the
gradients, the votes' scatter and the normalization are compiled.
"""

from __future__ import annotations

import math

import numpy as np

from linviz.features._images import batch_parts
from linviz.features.hog_cell_histograms import normalize_blocks, scatter_scratch, scatter_votes
from linviz.numba_setup import kernel

_ZERO = np.float32(0.0)


@kernel
def float64_gradients(planes, g_row, g_col):
    """scikit-image's gradients of float64 gray images ``(N, H, W)``: central differences
    without the 1/2, zero on the first and last row / column (``_hog_channel_gradient``),
    into ``g_row``, ``g_col`` ``(N, H * W)``."""
    n, H, W = planes.shape
    for i in range(n):
        for y in range(H):
            for x in range(W):
                g_row[i, y * W + x] = planes[i, y + 1, x] - planes[i, y - 1, x] if 0 < y < H - 1 else 0.0
                g_col[i, y * W + x] = planes[i, y, x + 1] - planes[i, y, x - 1] if 0 < x < W - 1 else 0.0


@kernel(error_model="numpy")
def hog_from_degrees(g_row, g_col, degrees, W, out, cell, block, n_orient, norm):
    """HOG of float64 gray images from their gradients and NumPy's orientation in degrees,
    ``np.rad2deg(np.arctan2(g_row, g_col))``, all ``(N, H * W)``; row ``i`` of ``out`` gets
    image ``i``.

    The bin of each pixel is scikit-image's, to the last bit of the angle it is given:

    1. NumPy's ``% 180`` (``npy_divmod``: ``fmod``, then ``+ 180`` for a negative
       remainder). The angle lies in [-180, 180] plus rounding, where ``fmod`` is a
       subtraction of 180 that is exact (Sterbenz) or nothing at all: two selects.
    2. Bin ``i`` holds ``per * i <= o < per * (i + 1)`` with ``per = 180. / n``, the edges
       exactly as scikit-image computes its ``orientation_end`` / ``orientation_start``;
       ``o / per`` gives the bin to within one, the edges settle it. An angle in no bin (180
       after the rounding of step 1, NaN) casts no vote.

    Selects only, so the pixel loop vectorizes.
    """
    n = g_row.shape[0]
    H = g_row.shape[1] // W
    hist, part, colbase = scatter_scratch(H // cell, W // cell, cell, n_orient)
    mag = np.empty(H * W, dtype=np.float32)
    pos = np.empty(H * W, dtype=np.int32)
    per = 180.0 / n_orient
    inv = n_orient / 180.0
    top = np.int64(n_orient)
    for i in range(n):
        gr = g_row[i]
        gc = g_col[i]
        deg = degrees[i]
        for p in range(H * W):
            d = deg[p]
            m = d - 180.0 if d >= 180.0 else (d + 180.0 if d <= -180.0 else d)  # fmod(d, 180)
            o = m + 180.0 if m < 0.0 else m
            u = o * inv if o >= 0.0 else 0.0  # no conversion of a NaN
            b = np.int64(min(u, np.float64(top)))
            b = b - 1 if o < per * np.float64(b) else b
            b = b + 1 if o >= per * np.float64(b + 1) else b
            held = (b >= 0) & (b < top) & (o >= per * np.float64(b)) & (o < per * np.float64(b + 1))
            g_r = gr[p]
            g_c = gc[p]
            mag[p] = np.float32(math.sqrt(g_r * g_r + g_c * g_c)) if held else _ZERO
            pos[p] = np.int32(b) if held else np.int32(0)
        scatter_votes(mag, pos, W, hist, cell, n_orient, colbase, part)
        normalize_blocks(hist, cell, block, norm, out[i])


# Pixels whose float64 gradients and orientations are held at once (24 MB): a chunk of
# images, never the whole batch.
_FLOAT64_CHUNK_PIXELS = 1 << 20


def hog_float64(planes, out, cell, block, n_orient, norm) -> None:
    """HOG of float64 gray images into ``out``, binned from NumPy's own orientations.

    The orientation is ``np.rad2deg(np.arctan2(g_row, g_col))``, called on the same float64
    gradients as scikit-image's ``hog_histograms``, and binned with its comparisons
    (:func:`hog_from_degrees`). Calling NumPy rather than computing the angle in compiled
    code is what makes the bins agree on every CPU: NumPy sends ``arctan2`` to SIMD code on
    some CPUs (AVX-512) and to the C library on others, and the two can differ in the last
    bit, which decides the bin of a gradient one rounding step off the diagonal
    (``a/255 - b/255`` against ``c/255 - d/255``) at 45 or 135 degrees. Done chunk by chunk.
    """
    n, h, w = planes.shape
    chunk = max(1, _FLOAT64_CHUNK_PIXELS // (h * w))
    g_row = np.empty((min(n, chunk), h * w))
    g_col = np.empty_like(g_row)
    degrees = np.empty_like(g_row)
    for start, stop in batch_parts(n, chunk):
        k = stop - start
        float64_gradients(planes[start:stop], g_row[:k], g_col[:k])
        np.arctan2(g_row[:k], g_col[:k], out=degrees[:k])
        np.rad2deg(degrees[:k], out=degrees[:k])
        hog_from_degrees(g_row[:k], g_col[:k], degrees[:k], w, out[start:stop], cell, block, n_orient, norm)
