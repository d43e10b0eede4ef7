"""Histogram of oriented gradients (Dalal & Triggs), equal to ``skimage.feature.hog``.

What is computed, step by step, exactly as scikit-image 0.2x does it (``_hog.py`` and
``_hoghistogram.pyx``), so that grayscale float input gives the same vector to 1e-4:

1. Gradients by central differences *without* the 1/2 factor, ``g_row[y] = I[y+1] - I[y-1]``
   and ``g_col[x] = I[x+1] - I[x-1]``, set to 0 on the first and last row / column.
2. Unsigned orientation ``rad2deg(arctan2(g_row, g_col)) % 180`` in float64, and bin ``i``
   holds the orientations in ``[180/n * i, 180/n * (i + 1))`` (hard binning, no
   interpolation between bins or cells).
3. Cell histogram = the sum of the gradient magnitudes voting for each bin, divided by the
   number of pixels of the cell. Only whole cells count: the last ``H % cell`` rows and
   ``W % cell`` columns are ignored (their pixels still feed their neighbours' gradients).
4. Blocks of ``b x b`` cells, stride one cell, normalized with L1, L1-sqrt, L2 or L2-Hys
   (eps = 1e-5; L2-Hys clips at 0.2 and renormalizes), or left as they are with ``"none"``
   (linviz's addition; see ``HOG_NORMS``). Output order
   ``(block_row, block_col, cell_row, cell_col, orientation)``, flattened.

Speed: ``arctan2`` per pixel would cost more than everything else together, so the kernel
finds the bin with a float32 polynomial arctangent (error < 1e-6 rad) and only falls back to
the exact float64 formula for the few pixels whose angle lies within 1e-4 of a bin width of a
bin edge; the exact ties that real images produce (zero row gradient, zero column
gradient, equal magnitudes: 0, 90, 45, 135 degrees) are looked up from bins precomputed
with NumPy's own formula. The result is bin-for-bin what scikit-image computes. Every
per-pixel loop is written with selects only, so that LLVM vectorizes it.

The uint8 RGB (luma) path, the one the app and the benchmark use, is one fused kernel per
image (``_hog_hue_rgb_range``; HOG + hue of a 32x32 image in 4.7 us of CPU on one core,
against 7.2 us for the separate row-by-row HOG and hue kernels):

1. one pass over the interleaved pixels writes the luma plane -- and, for the pipeline's
   HOG + hue spec (:func:`hog_and_hue`), each pixel's hue bin and chroma vote -- so the
   channels are split once;
2. the plane sits in a flat buffer with mirrored pad rows (``a - a = 0`` gives the zero
   border gradient) and a column mask, so gradient, magnitude and bin of the whole image are
   one long branch-free loop at full vector width (32-pixel rows were too short, and a
   computed index ``q - W`` makes Numba add a wraparound select per element that blocks
   vectorization: the loops index shifted views with the loop counter alone);
3. the votes are scattered into two interleaved partial cell histograms (even and odd
   columns, so that neighbours voting for the same bin do not wait on each other's stores),
   which measured 1.8x cheaper than one-hot sums per bin;
4. nothing is sliced per row or per pixel: in compiled code every array view costs two
   atomic reference-count updates (about 20% of the kernel when each row had its views),
   and computed indices are unsigned so that no wraparound select is emitted.

``channel_max`` (the ``best`` preset's HOG) has the same flat layout with the three channels
in one padded array (``_max_gradient_bins``), and computes the per-pixel gradient and bin
once for every cell size asked for (:func:`hog_max_scales`): only the scatter into cells and
the block normalization are per scale. ``best``'s three HOG items cost 13 us of CPU per image
together, where three separate row-by-row passes cost ~51 us.

Grayscale float32 input keeps the row-by-row kernels: one-hot accumulations per pixel
column (vectorized) summed per cell.

Float64 input is the exact path (:mod:`linviz.features.hog_float64`): its bins are computed
by NumPy, with scikit-image's own formula, and only the votes' scatter and the normalization
are compiled. NumPy's ``arctan2`` is SIMD code on some CPUs (AVX-512) and the C library's on
others, and the two can differ in the last bit; float64 gradients one rounding step off the
diagonal (``a/255 - b/255``) then sit exactly on the 45 or 135 degree edge, and that last bit
decides their bin. Binning from NumPy's result gives scikit-image's bins on every CPU. The
float32 paths (1e-4 parity) look the exact ties up from NumPy (``special``) and give the
other pixels near an edge the C library's ``atan2``: those agree with NumPy's unless the
angle is within a few float64 ulps of an edge, and of the 61 million luma gradients of
CIFAR-10 none but the exact ties comes within a million ulps of an edge (4 to 36 bins).

RGB input (uint8, on its 0-255 scale as scikit-image uses uint8 input):

* default: converted to gray with the ITU-R BT.601 luma weights
  ``Y = 0.299 R + 0.587 G + 0.114 B`` in float32 (see :func:`rgb_to_gray`; not the course
  code's 0.144 typo), then as above;
* ``channel_max=True``: the gradient of each channel is computed and, per pixel, the one of
  the channel with the largest magnitude is kept (first channel on ties), which is what
  ``skimage.feature.hog(image, channel_axis=-1)`` does.
"""

from __future__ import annotations

import math

import numpy as np

from linviz.errors import LinvizError
from linviz.features.color import _histogram_of_bins, hue_and_chroma
from linviz.features._images import as_gray_float_batch, as_rgb_batch, is_rgb_uint8
from linviz.features.hog_cell_histograms import HOG_NORMS, normalize_blocks, scatter_scratch, scatter_votes
from linviz.features.hog_float64 import hog_float64
from linviz.kernel_threads import run_rows
from linviz.numba_setup import kernel


LUMA_WEIGHTS = (0.299, 0.587, 0.114)
_W_R = np.float32(LUMA_WEIGHTS[0])
_W_G = np.float32(LUMA_WEIGHTS[1])
_W_B = np.float32(LUMA_WEIGHTS[2])

# Abramowitz & Stegun 4.4.49: atan(x) on [0, 1], |error| <= 2e-8 rad (float32 rounding
# dominates, about 1e-7 rad).
_A1 = np.float32(0.9999993329)
_A3 = np.float32(-0.3332985605)
_A5 = np.float32(0.1994653599)
_A7 = np.float32(-0.1390853351)
_A9 = np.float32(0.0964200441)
_A11 = np.float32(-0.0559098861)
_A13 = np.float32(0.0218612288)
_A15 = np.float32(-0.0040540580)
_HALF_PI = np.float32(math.pi / 2)
_PI = np.float32(math.pi)
# A pixel whose approximate position inside its bin is closer than this (in bin widths) to
# an edge gets the exact float64 treatment. 1e-4 bin widths is >= 1e-4 degrees, two orders
# above the float32 error of the fast path.
_EDGE_MARGIN = np.float32(1e-4)
_ONE = np.float32(1.0)
_ZERO = np.float32(0.0)

# Images per piece of a batch on several threads (linviz.kernel_threads; the kernels
# allocate their scratch once per piece).
_PIECE_IMAGES = 512


def rgb_to_gray(images) -> np.ndarray:
    """uint8 RGB ``(..., 3)`` -> float32 luma on the 0-255 scale, exactly as the HOG kernel.

    ``Y = 0.299 R + 0.587 G + 0.114 B`` (ITU-R BT.601), evaluated in float32 as
    ``(0.299 R + 0.587 G) + 0.114 B``; useful to feed scikit-image the same gray image.
    """
    arr = np.asarray(images)
    r = arr[..., 0].astype(np.float32)
    g = arr[..., 1].astype(np.float32)
    b = arr[..., 2].astype(np.float32)
    return (_W_R * r + _W_G * g) + _W_B * b


# --------------------------------------------------------------------------- kernels


@kernel(inner=True)
def _exact_bin(gr, gc, n_orient):
    """Bin of (gr, gc) computed like scikit-image, in float64; -1 when no bin holds it."""
    t = math.atan2(np.float64(gr), np.float64(gc)) * (180.0 / math.pi)
    # NumPy's "% 180" (fmod, then + 180 for a negative remainder) for t in [-180, 180]
    if t >= 180.0 or t <= -180.0:
        o = 0.0
    elif t < 0.0:
        o = t + 180.0
    else:
        o = t
    per = 180.0 / n_orient
    for i in range(n_orient):
        if o < per * (i + 1) and o >= per * i:
            return i
    return -1


@kernel(inline="always")
def _fast_bin(g_r, g_c, scale, edge_hi, s90, s45, s135):
    """The orientation bin of one gradient, branch-free, or -1 when it lies too near an edge.

    Folds the gradient to the upper half plane (the orientation is unsigned), takes the
    polynomial arctangent of the smaller over the larger component, and maps the exact ties
    (equal components: 45/135 degrees; a zero column gradient: 90 degrees) to the bins
    precomputed with NumPy's own formula. A zero row gradient (bin 0, also zero magnitude) is
    left to the caller. Inlined by Numba, so the callers' loops still vectorize.
    """
    xx = -g_c if g_r < _ZERO else g_c
    yy = -g_r if g_r < _ZERO else g_r
    ax = -xx if xx < _ZERO else xx
    lo = ax if ax < yy else yy
    hi = yy if ax < yy else ax
    hi = hi if hi > _ZERO else _ONE
    r = np.float32(lo / hi)
    r2 = r * r
    a = r * (_A1 + r2 * (_A3 + r2 * (_A5 + r2 * (_A7 + r2 * (_A9 + r2 * (_A11 + r2 * (_A13 + r2 * _A15)))))))
    a = _HALF_PI - a if ax < yy else a
    a = _PI - a if xx < _ZERO else a
    u = a * scale
    b = np.int32(u)
    f = u - np.float32(b)
    near = (f < _EDGE_MARGIN) | (f > _ONE - _EDGE_MARGIN) | (u >= edge_hi)
    b = np.int32(-1) if near else b
    b = (s45 if xx > _ZERO else s135) if ax == yy else b
    return s90 if g_c == _ZERO else b


@kernel(error_model="numpy", inner=True)
def _accumulate_row(gr, gc, mag, pos, acc, n_orient, scale, special):
    """Vote the gradients of one image row (arrays over x) into ``acc[o, x]``.

    Every loop here is over x and free of branches (selects only), so LLVM vectorizes it:

    1. magnitude and orientation bin from a polynomial arctangent; the exact ties real
       images are full of (a zero gradient component, equal magnitudes) get their bins from
       ``special`` by selects, and the pixels whose angle lies within 1e-4 of a bin width
       of a bin edge are flagged with -1 (about 1e-4 of the pixels);
    2. only when a row has flagged pixels, a scalar pass gives them the exact float64 bin;
    3. ``acc[o, x] += mag[x] where bin == o``, for each orientation: a one-hot
       accumulation per pixel column instead of a scatter, whose store-to-load chains on
       repeated bins cost more than the 9 compares. The caller sums ``acc`` over each
       cell's columns once per band of ``cell`` rows.

    ``pos`` is an int32 scratch row; ``acc`` is float32 ``(n_orient, len(row))``.
    """
    n = gr.shape[0]
    edge_hi = np.float32(n_orient) - _EDGE_MARGIN
    s90 = np.int32(special[0])
    s45 = np.int32(special[1])
    s135 = np.int32(special[2])
    # "any pixel flagged" as an int32 min: a count would be an int64 sum (Numba widens int32
    # arithmetic), and that one int64 lane halves the vector width of the whole loop
    lowest = np.int32(0)
    for x in range(n):
        g_r = gr[x]
        g_c = gc[x]
        m = np.float32(math.sqrt(g_r * g_r + g_c * g_c))
        mag[x] = m
        b = _fast_bin(g_r, g_c, scale, edge_hi, s90, s45, s135)
        b = np.int32(0) if g_r == _ZERO else b  # also covers zero gradients (magnitude 0)
        lowest = min(lowest, b)
        pos[x] = b
    if lowest < 0:
        for x in range(n):
            if pos[x] < 0:
                pos[x] = _exact_bin(gr[x], gc[x], n_orient)  # -1 when no bin holds it
    for o in range(n_orient):
        row = acc[o]
        oo = np.int32(o)
        for x in range(n):
            row[x] += mag[x] if pos[x] == oo else _ZERO


@kernel(inner=True)
def _cells_from_columns(acc, hist, cy, cell):
    """Sum the per-column accumulators of one band of rows into the cells of row ``cy``."""
    n_orient = acc.shape[0]
    ncc = hist.shape[1]
    for cx in range(ncc):
        for o in range(n_orient):
            s = _ZERO
            for x in range(cx * cell, cx * cell + cell):
                s += acc[o, x]
            hist[cy, cx, o] = s
    acc[:] = 0


@kernel(inner=True)
def _plane_cell_histograms(plane, hist, cell, n_orient, scale, special, gr, gc, mag, pos, acc):
    """Cell histograms (summed magnitudes, not yet averaged) of a gray plane.

    ``gr``, ``gc`` (plane dtype), ``mag``, ``pos`` (float32) are scratch rows of length
    ``cells_x * cell``.
    """
    H, W = plane.shape
    ncr = hist.shape[0]
    width = gr.shape[0]
    hist[:] = 0
    for y in range(ncr * cell):
        if 0 < y < H - 1:
            for x in range(width):
                gr[x] = plane[y + 1, x] - plane[y - 1, x]
        else:
            gr[:] = 0
        for x in range(1, min(width, W - 1)):
            gc[x] = plane[y, x + 1] - plane[y, x - 1]
        gc[0] = 0
        if width == W:
            gc[W - 1] = 0
        _accumulate_row(gr, gc, mag, pos, acc, n_orient, scale, special)
        if y % cell == cell - 1:
            _cells_from_columns(acc, hist, y // cell, cell)






@kernel(error_model="numpy", inner=True)
def _luma_hue_pass(img, L, off, hue_bins, k_buf, wi_buf):
    """One pass over the pixels of a uint8 RGB image: BT.601 luma into ``L[off:off+H*W]``
    and, when ``hue_bins`` > 0, each pixel's hue bin and chroma vote into ``k_buf``/``wi_buf``.

    Fusing the two reads the interleaved channels once (splitting them costs more than the
    arithmetic). The hue is ``color.hue_and_chroma``, as in ``hue_histogram``, so the
    histogram is bit-identical to it.
    """
    flat = img.reshape(-1)
    n = img.shape[0] * img.shape[1]
    # a view, indexed by the loop counter alone: ``L[off + p]`` would make Numba emit the
    # negative-index wraparound select per element (it cannot prove off + p >= 0), and the
    # loop would not vectorize
    dst = L[off:off + n]
    if hue_bins > 0:
        to_bins = np.float32(hue_bins) / np.float32(6.0)
        last = np.int32(hue_bins - 1)
        for p in range(n):
            r = np.float32(flat[3 * p])
            g = np.float32(flat[3 * p + 1])
            b = np.float32(flat[3 * p + 2])
            dst[p] = (_W_R * r + _W_G * g) + _W_B * b
            h, d = hue_and_chroma(r, g, b)
            k_buf[p] = min(np.int32(h * to_bins), last)
            wi_buf[p] = np.int32(d)
    else:
        for p in range(n):
            dst[p] = ((_W_R * np.float32(flat[3 * p]) + _W_G * np.float32(flat[3 * p + 1]))
                      + _W_B * np.float32(flat[3 * p + 2]))


@kernel(error_model="numpy", inner=True)
def _padded_cell_histograms(L, H, W, colmask, colbase, hist, cell, n_orient, scale, special, mag, pos, part):
    """Cell histograms (sums) of the luma plane held in ``L`` with mirrored pad rows.

    ``L`` is flat: ``L[1 + (y + 1) * W + x]`` is pixel (y, x) and rows -1 and H repeat rows
    1 and H - 2, so ``L[q + W] - L[q - W]`` is the row gradient on every row, border rows
    included (a - a = 0 exactly, scikit-image's zero border). ``colmask[p]`` is 0 on the first
    and last column, where the column gradient is zeroed by a select. The gradient, magnitude
    and bin of all used rows are then one flat branch-free loop (hundreds of pixels: long
    enough to vectorize with full vectors, which 32-pixel rows were not always).
    """
    ncr = hist.shape[0]
    n_used = ncr * cell * W
    edge_hi = np.float32(n_orient) - _EDGE_MARGIN
    s90 = np.int32(special[0])
    s45 = np.int32(special[1])
    s135 = np.int32(special[2])
    # shifted views indexed by p alone (as in _luma_hue_pass: no wraparound selects)
    base = 1 + W
    below = L[base + W:base + W + n_used]
    above = L[base - W:base - W + n_used]
    right = L[base + 1:base + 1 + n_used]
    left = L[base - 1:base - 1 + n_used]
    lowest = np.int32(0)
    for p in range(n_used):
        g_r = below[p] - above[p]
        d = right[p] - left[p]
        g_c = d if colmask[p] != 0 else _ZERO
        m = np.float32(math.sqrt(g_r * g_r + g_c * g_c))
        mag[p] = m
        b = _fast_bin(g_r, g_c, scale, edge_hi, s90, s45, s135)
        b = np.int32(0) if g_r == _ZERO else b
        lowest = min(lowest, b)
        pos[p] = b
    if lowest < 0:
        for p in range(n_used):
            if pos[p] < 0:
                g_c = (right[p] - left[p]) if colmask[p] != 0 else _ZERO
                b = _exact_bin(below[p] - above[p], g_c, n_orient)
                if b < 0:  # an angle no bin holds (as in scikit-image): no vote
                    b = 0
                    mag[p] = _ZERO
                pos[p] = b
    scatter_votes(mag, pos, W, hist, cell, n_orient, colbase, part)


@kernel
def _hog_hue_rgb_range(images, out, hog_col, hue_col, hue_bins, start, stop, cell, block, n_orient, norm, special):
    """Luma HOG of images ``start:stop`` into ``out[i, hog_col:]`` and, when ``hue_bins``
    > 0, their hue histogram into ``out[i, hue_col:hue_col + hue_bins]``, image by image
    (each image is read once and stays in L1 for both)."""
    H, W = images.shape[1], images.shape[2]
    ncr, ncc = H // cell, W // cell
    length = (ncr - block + 1) * (ncc - block + 1) * block * block * n_orient
    hist, part, colbase = scatter_scratch(ncr, ncc, cell, n_orient)
    L = np.zeros((H + 2) * W + 2, dtype=np.float32)
    colmask = np.ones(H * W, dtype=np.uint8)
    for y in range(H):
        colmask[y * W] = 0
        colmask[y * W + W - 1] = 0
    top = min(1, H - 1)  # mirrored pad rows (see _padded_cell_histograms)
    bottom = max(H - 2, 0)
    mag = np.empty(H * W, dtype=np.float32)
    pos = np.empty(H * W, dtype=np.int32)
    k_buf = np.empty(H * W, dtype=np.int32)
    wi_buf = np.empty(H * W, dtype=np.int32)
    hue_part = np.empty((4, max(hue_bins, 1)), dtype=np.int32)
    scale = np.float32(n_orient / math.pi)
    for i in range(start, stop):
        _luma_hue_pass(images[i], L, 1 + W, hue_bins, k_buf, wi_buf)
        for x in range(W):
            L[1 + x] = L[1 + (top + 1) * W + x]
            L[1 + (H + 1) * W + x] = L[1 + (bottom + 1) * W + x]
        if hue_bins > 0:
            _histogram_of_bins(k_buf, wi_buf, H * W, hue_bins, out[i, hue_col:hue_col + hue_bins], hue_part)
        _padded_cell_histograms(L, H, W, colmask, colbase, hist, cell, n_orient, scale, special, mag, pos, part)
        normalize_blocks(hist, cell, block, norm, out[i, hog_col:hog_col + length])


@kernel(inline="always")
def _strongest_channel(r0, c0, r1, c1, r2, c2):
    """The gradient (row, column, squared magnitude) of the channel with the largest
    magnitude, the first one on ties (``argmax``), by selects."""
    m0 = r0 * r0 + c0 * c0
    m1 = r1 * r1 + c1 * c1
    m2 = r2 * r2 + c2 * c2
    take1 = m1 > m0
    g_r = r1 if take1 else r0
    g_c = c1 if take1 else c0
    m = m1 if take1 else m0
    take2 = m2 > m
    return (r2 if take2 else g_r), (c2 if take2 else g_c), (m2 if take2 else m)


@kernel(error_model="numpy", inner=True)
def _max_gradient_bins(img, P, colmask, n_orient, scale, special, mag, pos):
    """Per pixel of a uint8 RGB image: the gradient of the channel with the largest magnitude
    (first channel on ties, as ``skimage.feature.hog(..., channel_axis=-1)``), its magnitude
    into ``mag`` and its orientation bin into ``pos``.

    ``P`` holds the three channels as padded flat planes of ``(H + 2) * W + 2`` values each
    (the layout of ``_padded_cell_histograms``: mirrored pad rows give the zero border row
    gradient, ``colmask`` the zero border column gradient), so the per-pixel work is one
    branch-free loop over the whole image. All twelve neighbour views come from the one
    array ``P``, and only ``mag`` and ``pos`` are written: with more separate arrays LLVM
    gives up the runtime overlap checks and the loop does not vectorize (4x slower).
    Gradients are integers, so the squared magnitudes compare exactly.
    """
    H, W = img.shape[0], img.shape[1]
    n = H * W
    stride = (H + 2) * W + 2
    flat = img.reshape(-1)
    for ch in range(3):
        base = ch * stride + 1 + W
        dst = P[base:base + n]
        for p in range(n):
            dst[p] = np.float32(flat[3 * p + ch])
        top = base + min(1, H - 1) * W
        bottom = base + max(H - 2, 0) * W
        for x in range(W):
            P[base - W + x] = P[top + x]
            P[base + n + x] = P[bottom + x]
    edge_hi = np.float32(n_orient) - _EDGE_MARGIN
    s90 = np.int32(special[0])
    s45 = np.int32(special[1])
    s135 = np.int32(special[2])
    b0 = 1 + W
    b1 = stride + 1 + W
    b2 = 2 * stride + 1 + W
    below0 = P[b0 + W:b0 + W + n]
    above0 = P[b0 - W:b0 - W + n]
    right0 = P[b0 + 1:b0 + 1 + n]
    left0 = P[b0 - 1:b0 - 1 + n]
    below1 = P[b1 + W:b1 + W + n]
    above1 = P[b1 - W:b1 - W + n]
    right1 = P[b1 + 1:b1 + 1 + n]
    left1 = P[b1 - 1:b1 - 1 + n]
    below2 = P[b2 + W:b2 + W + n]
    above2 = P[b2 - W:b2 - W + n]
    right2 = P[b2 + 1:b2 + 1 + n]
    left2 = P[b2 - 1:b2 - 1 + n]
    lowest = np.int32(0)
    for p in range(n):
        inner = colmask[p] != 0
        g_r, g_c, m = _strongest_channel(
            below0[p] - above0[p], (right0[p] - left0[p]) if inner else _ZERO,
            below1[p] - above1[p], (right1[p] - left1[p]) if inner else _ZERO,
            below2[p] - above2[p], (right2[p] - left2[p]) if inner else _ZERO)
        mag[p] = np.float32(math.sqrt(m))
        b = _fast_bin(g_r, g_c, scale, edge_hi, s90, s45, s135)
        b = np.int32(0) if g_r == _ZERO else b  # also covers zero gradients (magnitude 0)
        lowest = min(lowest, b)
        pos[p] = b
    if lowest < 0:  # the few pixels near a bin edge: the exact bin, from the same gradient
        for p in range(n):
            if pos[p] < 0:
                inner = colmask[p] != 0
                g_r, g_c, _ = _strongest_channel(
                    below0[p] - above0[p], (right0[p] - left0[p]) if inner else _ZERO,
                    below1[p] - above1[p], (right1[p] - left1[p]) if inner else _ZERO,
                    below2[p] - above2[p], (right2[p] - left2[p]) if inner else _ZERO)
                b = _exact_bin(g_r, g_c, n_orient)
                if b < 0:  # an angle no bin holds (as in scikit-image): no vote
                    b = 0
                    mag[p] = _ZERO
                pos[p] = b


@kernel
def _hog_max_range(images, out, start, stop, n_orient, special, cols, cells, blocks, norms):
    """Channel-max HOG of images ``start:stop`` at several cell sizes at once.

    Scale ``k`` (cell ``cells[k]``, ``blocks[k]`` x ``blocks[k]`` blocks, norm ``norms[k]``)
    goes to ``out[i, cols[k]:]``. The per-pixel gradient and bin are computed once per image
    and shared by every scale (the ``best`` preset has three: cells of 4, 8 and 16 pixels);
    only the votes' scatter into cells and the block normalization are per scale.
    """
    H, W = images.shape[1], images.shape[2]
    k_scales = cells.shape[0]
    n = H * W
    P = np.zeros(3 * ((H + 2) * W + 2), dtype=np.float32)
    colmask = np.ones(n, dtype=np.uint8)
    for y in range(H):
        colmask[y * W] = 0
        colmask[y * W + W - 1] = 0
    mag = np.empty(n, dtype=np.float32)
    pos = np.empty(n, dtype=np.int32)
    most = 1
    for k in range(k_scales):
        most = max(most, (H // cells[k]) * (W // cells[k]) * n_orient)
    hbuf = np.empty(most, dtype=np.float32)
    part = np.empty((2, most), dtype=np.float32)
    colbase = np.empty((k_scales, W), dtype=np.int32)
    for k in range(k_scales):
        for x in range(W):
            colbase[k, x] = (x // cells[k]) * n_orient
    scale = np.float32(n_orient / math.pi)
    for i in range(start, stop):
        _max_gradient_bins(images[i], P, colmask, n_orient, scale, special, mag, pos)
        for k in range(k_scales):
            cell = cells[k]
            block = blocks[k]
            ncr, ncc = H // cell, W // cell
            hist = hbuf[:ncr * ncc * n_orient].reshape((ncr, ncc, n_orient))
            scatter_votes(mag, pos, W, hist, cell, n_orient, colbase[k], part)
            length = (ncr - block + 1) * (ncc - block + 1) * block * block * n_orient
            normalize_blocks(hist, cell, block, norms[k], out[i, cols[k]:cols[k] + length])


@kernel
def _hog_gray_range(planes, out, start, stop, cell, block, n_orient, norm, special):
    H, W = planes.shape[1], planes.shape[2]
    hist = np.empty((H // cell, W // cell, n_orient), dtype=np.float32)
    width = (W // cell) * cell
    gr = np.empty(width, dtype=planes.dtype)
    gc = np.empty(width, dtype=planes.dtype)
    mag = np.empty(width, dtype=np.float32)
    pos = np.empty(width, dtype=np.int32)
    acc = np.zeros((n_orient, width), dtype=np.float32)
    scale = np.float32(n_orient / math.pi)
    for i in range(start, stop):
        _plane_cell_histograms(planes[i], hist, cell, n_orient, scale, special, gr, gc, mag, pos, acc)
        normalize_blocks(hist, cell, block, norm, out[i])




# --------------------------------------------------------------------------- Python side


def _special_bins(n_orient: int) -> np.ndarray:
    """Bins of the exact 90, 45 and 135 degree gradients, by scikit-image's own formula."""
    g = np.ones(64)
    rows = np.concatenate([g, g, g, -g])
    cols = np.concatenate([0 * g, g, -g, g])
    orient = np.rad2deg(np.arctan2(rows, cols)) % 180
    per = 180.0 / n_orient
    out = []
    for value in (orient[0], orient[64], orient[128]):
        bins = [i for i in range(n_orient) if per * i <= value < per * (i + 1)]
        out.append(bins[0] if bins else -1)
    # 135 degrees arrives both as atan2(+,-) and as atan2(-,+) % 180: they agree here.
    if orient[128] != orient[192]:  # pragma: no cover - would mean a different libm
        raise RuntimeError("inconsistent 135-degree orientation in this NumPy build")
    return np.array(out, dtype=np.int64)


def check_hog_params(orientations, pixels_per_cell, cells_per_block, block_norm) -> tuple[int, int, int, int]:
    """Validate HOG parameters; return (orientations, cell, block, norm code)."""

    def square(value, name):
        if isinstance(value, (tuple, list)):
            if len(value) != 2 or value[0] != value[1]:
                raise LinvizError(f"hog: {name} must be one number (square cells/blocks), got {value}")
            value = value[0]
        value = int(value)
        if value < 1:
            raise LinvizError(f"hog: {name} must be >= 1, got {value}")
        return value

    n_orient = int(orientations)
    if not 1 <= n_orient <= 360:
        raise LinvizError(f"hog: orientations must be between 1 and 360, got {orientations}")
    if block_norm not in HOG_NORMS:
        raise LinvizError(f"hog: block_norm must be one of {', '.join(HOG_NORMS)}, got {block_norm!r}")
    return (n_orient, square(pixels_per_cell, "pixels_per_cell"), square(cells_per_block, "cells_per_block"),
            HOG_NORMS.index(block_norm))


def hog_grid(image_shape, pixels_per_cell: int, cells_per_block: int) -> tuple[int, int, int, int]:
    """(cell rows, cell cols, block rows, block cols) for an image of ``image_shape``."""
    h, w = int(image_shape[0]), int(image_shape[1])
    ncr, ncc = h // pixels_per_cell, w // pixels_per_cell
    nbr, nbc = ncr - cells_per_block + 1, ncc - cells_per_block + 1
    if nbr <= 0 or nbc <= 0:
        need = cells_per_block * pixels_per_cell
        raise LinvizError(
            f"hog: images of {h}x{w} are too small for {pixels_per_cell}-pixel cells in "
            f"{cells_per_block}x{cells_per_block} blocks (need at least {need}x{need})"
        )
    return ncr, ncc, nbr, nbc


def hog_length(image_shape, orientations=9, pixels_per_cell=8, cells_per_block=1) -> int:
    """Length of the HOG vector of one image of ``image_shape`` (H, W[, C])."""
    _, _, nbr, nbc = hog_grid(image_shape, int(pixels_per_cell), int(cells_per_block))
    return nbr * nbc * int(cells_per_block) ** 2 * int(orientations)


def hog(
    images,
    orientations: int = 9,
    pixels_per_cell: int = 8,
    cells_per_block: int = 1,
    block_norm: str = "L2-Hys",
    channel_max: bool = False,
    *,
    out: np.ndarray | None = None,
    parallel: bool | None = None,
) -> np.ndarray:
    """HOG of a batch of images -> float32 ``(N, F)``, equal to ``skimage.feature.hog``.

    ``images``: uint8 RGB ``(N, H, W, 3)`` / ``(H, W, 3)``, or float grayscale
    ``(N, H, W)`` / ``(H, W)`` (float64 is computed in float64, anything else in
    float32: the gradients then equal scikit-image's bit for bit, and so do the bins; on
    float64 on every CPU, whichever code NumPy runs for ``arctan2``).
    RGB goes through :func:`rgb_to_gray` (BT.601 luma, 0-255 scale), or with
    ``channel_max=True`` keeps per pixel the gradient of the channel with the largest
    magnitude (scikit-image's ``channel_axis=-1`` mode). ``out`` may be a preallocated
    C-contiguous float32 ``(N, F)`` array (for example a column slice target of the
    pipeline); ``parallel``: on every core (:mod:`linviz.kernel_threads`), by default for
    batches of more than 512 images (float64 input, the exact path, runs in the calling
    thread).
    See the module docstring for the exact algorithm.
    """
    n_orient, cell, block, norm = check_hog_params(orientations, pixels_per_cell, cells_per_block, block_norm)
    rgb = is_rgb_uint8(images)
    arr = as_rgb_batch(images, "hog") if rgb else as_gray_float_batch(images, "hog")
    n, h, w = arr.shape[:3]
    length = hog_length((h, w), n_orient, cell, block)
    if out is None:
        out = np.empty((n, length), dtype=np.float32)
    elif out.shape != (n, length) or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError(f"hog: out must be C-contiguous float32 {(n, length)}, got {out.dtype} {out.shape}")
    if n == 0:
        return out
    if arr.dtype == np.float64:  # the exact path: bins from NumPy's arctan2
        hog_float64(arr, out, cell, block, n_orient, norm)
        return out
    special = _special_bins(n_orient)
    if rgb and not channel_max:
        _run_luma_hog_hue(arr, out, 0, 0, 0, cell, block, n_orient, norm, special, parallel)
    elif rgb:
        _run_max_hog(arr, out, n_orient, special, [(0, cell, block, norm)], parallel)
    else:
        run_rows(n, _PIECE_IMAGES, lambda start, stop: _hog_gray_range(arr, out, start, stop, cell, block, n_orient,
                                                                       norm, special), parallel)
    return out


def _run_max_hog(arr, out, n_orient, special, scales, parallel):
    cols, cells, blocks, norms = (np.array(v, dtype=np.int64) for v in zip(*scales))
    run_rows(arr.shape[0], _PIECE_IMAGES, lambda start, stop: _hog_max_range(arr, out, start, stop, n_orient, special,
                                                                              cols, cells, blocks, norms), parallel)


def hog_max_scales(images, out: np.ndarray, scales, orientations: int = 9, *,
                   parallel: bool | None = None) -> np.ndarray:
    """Channel-max HOG of uint8 RGB images at several cell sizes in one pass, written in place.

    ``scales`` is a list of ``(column, pixels_per_cell, cells_per_block, block_norm)``; the
    HOG of image ``i`` at each scale goes to ``out[i, column:column + hog_length]``, the same
    values as ``hog(images, orientations, cell, block, norm, channel_max=True)``. The
    per-pixel gradients and bins, most of the work, are computed once for all scales (the
    ``best`` preset has three). ``out`` is a C-contiguous float32 ``(N, D)`` matrix.
    """
    arr = as_rgb_batch(images, "hog")
    n, h, w = arr.shape[:3]
    checked = []
    for col, cell, block, norm in scales:
        n_orient, cell, block, norm_code = check_hog_params(orientations, cell, block, norm)
        length = hog_length((h, w), n_orient, cell, block)
        if not 0 <= int(col) <= out.shape[1] - length:
            raise ValueError(f"hog_max_scales: {length} HOG columns at {col} do not fit out {out.shape}")
        checked.append((int(col), cell, block, norm_code))
    if out.dtype != np.float32 or out.ndim != 2 or out.shape[0] != n or not out.flags.c_contiguous:
        raise ValueError(f"hog_max_scales: out must be C-contiguous float32 ({n}, D), got {out.dtype} {out.shape}")
    if n == 0 or not checked:
        return out
    n_orient = int(orientations)
    _run_max_hog(arr, out, n_orient, _special_bins(n_orient), checked, parallel)
    return out


def _run_luma_hog_hue(arr, out, hog_col, hue_col, hue_bins, cell, block, n_orient, norm, special, parallel):
    run_rows(arr.shape[0], _PIECE_IMAGES,
             lambda start, stop: _hog_hue_rgb_range(arr, out, hog_col, hue_col, hue_bins, start, stop, cell, block,
                                                    n_orient, norm, special), parallel)


def hog_and_hue(
    images,
    out: np.ndarray,
    hog_col: int,
    hue_col: int,
    orientations: int = 9,
    pixels_per_cell: int = 8,
    cells_per_block: int = 1,
    block_norm: str = "L2-Hys",
    hue_bins: int = 10,
    *,
    parallel: bool | None = None,
) -> np.ndarray:
    """Luma HOG and the hue histogram of uint8 RGB images in one pass, written in place.

    ``out`` is a C-contiguous float32 ``(N, D)`` matrix; the HOG of image ``i`` goes to
    ``out[i, hog_col:hog_col + hog_length]`` and its hue histogram to
    ``out[i, hue_col:hue_col + hue_bins]``, the same values as :func:`hog` (``channel_max``
    False) and :func:`linviz.features.hue_histogram` (bit for bit). The feature pipeline
    uses this when a spec has both, so each image is read once while it is in L1 cache.
    """
    n_orient, cell, block, norm = check_hog_params(orientations, pixels_per_cell, cells_per_block, block_norm)
    arr = as_rgb_batch(images, "hog")
    n, h, w = arr.shape[:3]
    length = hog_length((h, w), n_orient, cell, block)
    hue_bins = int(hue_bins)
    if not 1 <= hue_bins <= 360:
        raise LinvizError(f"hue_histogram: bins must be between 1 and 360, got {hue_bins}")
    if h * w * 255 >= 2**31:
        raise LinvizError(f"hue_histogram: images of {h}x{w} are too large for the histogram kernel")
    if (out.dtype != np.float32 or out.ndim != 2 or out.shape[0] != n or not out.flags.c_contiguous
            or not (0 <= hog_col and hog_col + length <= out.shape[1])
            or not (0 <= hue_col and hue_col + hue_bins <= out.shape[1])):
        raise ValueError(f"hog_and_hue: out {out.dtype} {out.shape} cannot hold {length} HOG columns at "
                         f"{hog_col} and {hue_bins} hue columns at {hue_col} for {n} images")
    if n == 0:
        return out
    _run_luma_hog_hue(arr, out, int(hog_col), int(hue_col), hue_bins, cell, block, n_orient, norm,
                      _special_bins(n_orient), parallel)
    return out
