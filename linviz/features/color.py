"""Color features: HSV hue / saturation / value histograms and a coarse color layout.

All take uint8 RGB images ``(N, H, W, 3)`` (or one ``(H, W, 3)``) and return float32 rows.

Hue is HSV hue (the hexcone formula of ``colorsys`` / ``matplotlib.colors.rgb_to_hsv``),
binned over [0, 360) degrees: with 10 bins red (0 deg) is bin 0, yellow (60) bin 1, green
(120) bin 3, cyan (180) bin 5, blue (240) bin 6, magenta (300) bin 8.

**Gray pixels.** A pixel with R = G = B has no hue, and a nearly gray one has a hue that is
mostly JPEG noise. Each pixel therefore votes with its *chroma* ``max(R,G,B) - min(R,G,B)``
(saturation times value): pure colors count fully, grays not at all, and dark noisy pixels
little. The row is divided by the total vote, so it sums to 1; an image without any chroma
(entirely gray) gets the uniform row ``1/bins`` -- "no hue information" rather than a spike
in the red bin, which is where a plain ``rgb_to_hsv`` histogram would put every gray pixel.

Saturation (``chroma / max``, 0 for black) and value (``max / 255``) histograms count every
pixel once (rows sum to 1), over [0, 1] with the top edge in the last bin.

``color_layout(images, grid)`` is the image averaged down to ``grid x grid`` RGB cells
(area averaging; with sizes not divisible by ``grid``, cell ``i`` covers rows
``i*H//grid .. (i+1)*H//grid``), scaled to [0, 1], flattened as ``(grid, grid, 3)``.
"""

from __future__ import annotations

import numpy as np

from linviz.errors import LinvizError
from linviz.features._images import as_rgb_batch
from linviz.kernel_threads import run_rows
from linviz.numba_setup import kernel

_PIECE_IMAGES = 512  # images per piece of a batch on several threads (linviz.kernel_threads)
HUE, SATURATION, VALUE = 0, 1, 2


@kernel(inner=True)
def _histogram_of_bins(k_buf, wi_buf, n, bins, row, part):
    """``row[k]`` = sum of the integer votes ``wi_buf[p]`` of the pixels ``p < n`` in bin
    ``k_buf[p]``, divided by the total vote (the uniform row ``1/bins`` when it is 0).

    Votes are whole numbers (chroma 0-255, or 1): integer sums are exact and, unlike float
    sums, may be reordered, so the total vectorizes (int32: the callers check that
    H * W * 255 fits). ``part`` is int32 scratch ``(4, bins)``. Shared by the HSV histograms
    and the fused HOG + hue kernel.
    """
    total = np.int32(0)
    for p in range(n):
        total += wi_buf[p]
    # scatter into 4 interleaved partial histograms: a smooth image hits the same bin run
    # after run, and with one histogram each add would wait for the previous one's store
    # (unsigned bin index: no negative-index wraparound select per pixel)
    part[:] = 0
    for p in range(n):
        part[p & 3, np.uint64(k_buf[p])] += wi_buf[p]
    for k in range(bins):
        row[k] = np.float32(part[0, k] + part[1, k] + part[2, k] + part[3, k])
    if total > 0:
        inv = 1.0 / total
        for k in range(bins):
            row[k] = np.float32(row[k] * inv)
    else:
        row[:] = np.float32(1.0 / bins)


@kernel(inline="always")
def hue_and_chroma(r, g, b):
    """HSV hue in sextants [0, 6) and chroma (max - min) of one float32 RGB pixel.

    Branch-free (the numerator and offset of the hexcone sector are chosen by selects) so
    that the callers' pixel loops vectorize; a gray pixel (chroma 0) gets hue 0. Shared by
    ``hue_histogram`` and the fused HOG + hue kernel, which must agree bit for bit.
    """
    zero = np.float32(0.0)
    mx = max(r, max(g, b))
    mn = min(r, min(g, b))
    d = mx - mn
    dd = d if d > zero else np.float32(1.0)
    num = r - g
    off = np.float32(4.0)
    num = b - r if mx == g else num
    off = np.float32(2.0) if mx == g else off
    num = g - b if mx == r else num
    off = zero if mx == r else off
    h = num / dd + off
    return (h + np.float32(6.0) if h < zero else h), d


@kernel(error_model="numpy", inner=True)
def _hsv_histogram_one(img, row, bins, which, h_buf, w_buf, k_buf, wi_buf, part):
    """Histogram of one image into ``row``; ``h_buf``, ``w_buf`` (float32), ``k_buf``,
    ``wi_buf`` (int32) are scratch of H*W.

    The per-pixel loops use selects only and one loop per mode, so that LLVM vectorizes them;
    the scatter into ``row`` is a separate scalar loop.
    """
    flat = img.reshape(-1)
    n = h_buf.shape[0]
    fbins = np.float32(bins)
    one = np.float32(1.0)
    zero = np.float32(0.0)
    if which == HUE:
        to_bins = fbins / np.float32(6.0)
        for p in range(n):
            r = np.float32(flat[3 * p])
            g = np.float32(flat[3 * p + 1])
            b = np.float32(flat[3 * p + 2])
            h, d = hue_and_chroma(r, g, b)
            h_buf[p] = h * to_bins
            w_buf[p] = d
    elif which == SATURATION:
        for p in range(n):
            r = np.float32(flat[3 * p])
            g = np.float32(flat[3 * p + 1])
            b = np.float32(flat[3 * p + 2])
            mx = max(r, max(g, b))
            mn = min(r, min(g, b))
            safe = mx if mx > zero else one
            h_buf[p] = ((mx - mn) / safe) * fbins
            w_buf[p] = one
    else:
        to_bins = fbins / np.float32(255.0)
        for p in range(n):
            r = np.float32(flat[3 * p])
            g = np.float32(flat[3 * p + 1])
            b = np.float32(flat[3 * p + 2])
            h_buf[p] = max(r, max(g, b)) * to_bins
            w_buf[p] = one
    for p in range(n):
        k_buf[p] = min(np.int32(h_buf[p]), np.int32(bins - 1))
        wi_buf[p] = np.int32(w_buf[p])
    _histogram_of_bins(k_buf, wi_buf, n, bins, row, part)


@kernel
def _hsv_histogram_range(images, out, start, stop, bins, which):
    n = images.shape[1] * images.shape[2]
    h_buf = np.empty(n, dtype=np.float32)
    w_buf = np.empty(n, dtype=np.float32)
    k_buf = np.empty(n, dtype=np.int32)
    wi_buf = np.empty(n, dtype=np.int32)
    part = np.empty((4, bins), dtype=np.int32)
    for i in range(start, stop):
        _hsv_histogram_one(images[i], out[i], bins, which, h_buf, w_buf, k_buf, wi_buf, part)


@kernel
def _area_pool_range(images, out, start, stop, gh, gw):
    """Average uint8 RGB images over a gh x gw grid of areas -> out rows (gh, gw, 3) in [0, 1]."""
    H, W = images.shape[1], images.shape[2]
    for i in range(start, stop):
        img = images[i]
        row = out[i]
        k = 0
        for cy in range(gh):
            y0 = cy * H // gh
            y1 = (cy + 1) * H // gh
            for cx in range(gw):
                x0 = cx * W // gw
                x1 = (cx + 1) * W // gw
                s0 = 0
                s1 = 0
                s2 = 0
                for y in range(y0, y1):
                    for x in range(x0, x1):
                        s0 += np.int64(img[y, x, 0])
                        s1 += np.int64(img[y, x, 1])
                        s2 += np.int64(img[y, x, 2])
                scale = np.float32(1.0 / (255.0 * (y1 - y0) * (x1 - x0)))
                row[k] = np.float32(s0) * scale
                row[k + 1] = np.float32(s1) * scale
                row[k + 2] = np.float32(s2) * scale
                k += 3


def _check_bins(bins, what) -> int:
    bins = int(bins)
    if not 1 <= bins <= 360:
        raise LinvizError(f"{what}: bins must be between 1 and 360, got {bins}")
    return bins


def _hsv_histogram(images, bins, which, what, parallel) -> np.ndarray:
    bins = _check_bins(bins, what)
    arr = as_rgb_batch(images, what)
    if arr.shape[1] * arr.shape[2] * 255 >= 2**31:
        raise LinvizError(f"{what}: images of {arr.shape[1]}x{arr.shape[2]} are too large for the histogram kernel")
    out = np.empty((arr.shape[0], bins), dtype=np.float32)
    if arr.shape[0] == 0:
        return out
    run_rows(arr.shape[0], _PIECE_IMAGES, lambda start, stop: _hsv_histogram_range(arr, out, start, stop, bins, which),
             parallel)
    return out


def hue_histogram(images, bins: int = 10, *, parallel: bool | None = None) -> np.ndarray:
    """HSV hue histogram, chroma-weighted, -> float32 ``(N, bins)``; rows sum to 1.

    Gray pixels do not vote; an all-gray image gets the uniform row (see module docstring).
    """
    return _hsv_histogram(images, bins, HUE, "hue_histogram", parallel)


def saturation_histogram(images, bins: int = 10, *, parallel: bool | None = None) -> np.ndarray:
    """HSV saturation histogram over [0, 1] -> float32 ``(N, bins)``; rows sum to 1."""
    return _hsv_histogram(images, bins, SATURATION, "saturation_histogram", parallel)


def value_histogram(images, bins: int = 10, *, parallel: bool | None = None) -> np.ndarray:
    """HSV value (max channel / 255) histogram -> float32 ``(N, bins)``; rows sum to 1."""
    return _hsv_histogram(images, bins, VALUE, "value_histogram", parallel)


def area_pool(images, height: int, width: int, *, what: str = "area_pool", parallel: bool | None = None) -> np.ndarray:
    """uint8 RGB images averaged over a ``height x width`` grid -> float32 ``(N, h*w*3)`` in [0, 1]."""
    arr = as_rgb_batch(images, what)
    n, h, w = arr.shape[:3]
    height, width = int(height), int(width)
    if not (1 <= height <= h and 1 <= width <= w):
        raise LinvizError(f"{what}: cannot average {h}x{w} images down to {height}x{width}")
    out = np.empty((n, height * width * 3), dtype=np.float32)
    if n == 0:
        return out
    run_rows(n, _PIECE_IMAGES, lambda start, stop: _area_pool_range(arr, out, start, stop, height, width), parallel)
    return out


def color_layout(images, grid: int = 4, *, parallel: bool | None = None) -> np.ndarray:
    """The image averaged down to ``grid x grid`` RGB -> float32 ``(N, grid*grid*3)`` in [0, 1]."""
    return area_pool(images, grid, grid, what="color_layout", parallel=parallel)
