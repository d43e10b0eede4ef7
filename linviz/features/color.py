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
from linviz.numba_setup import kernel, prange

_TASK_IMAGES = 64
HUE, SATURATION, VALUE = 0, 1, 2


@kernel
def _hsv_histogram_one(img, row, bins, which, h_buf, w_buf):
    """Histogram of one image into ``row``; ``h_buf`` (float32) / ``w_buf`` scratch of H*W."""
    flat = img.reshape(-1)
    n = h_buf.shape[0]
    fbins = np.float32(bins)
    # first loop: selects only, vectorizable
    for p in range(n):
        r = np.float32(flat[3 * p])
        g = np.float32(flat[3 * p + 1])
        b = np.float32(flat[3 * p + 2])
        mx = r if r > g else g
        mx = mx if mx > b else b
        mn = r if r < g else g
        mn = mn if mn < b else b
        d = mx - mn
        if which == HUE:
            dd = d if d > 0 else np.float32(1.0)
            h_r = (g - b) / dd
            h_r = h_r + np.float32(6.0) if h_r < 0 else h_r
            h_g = (b - r) / dd + np.float32(2.0)
            h_b = (r - g) / dd + np.float32(4.0)
            h = h_r if mx == r else (h_g if mx == g else h_b)
            pos = h * (fbins / np.float32(6.0))
            w_buf[p] = d
        elif which == SATURATION:
            pos = (d / mx if mx > 0 else np.float32(0.0)) * fbins
            w_buf[p] = np.float32(1.0)
        else:
            pos = mx * (fbins / np.float32(255.0))
            w_buf[p] = np.float32(1.0)
        h_buf[p] = pos
    row[:] = 0
    total = 0.0
    for p in range(n):
        w = w_buf[p]
        if w == 0:
            continue
        k = np.int64(h_buf[p])
        if k >= bins:
            k = bins - 1
        row[k] += w
        total += w
    if total > 0:
        inv = 1.0 / total
        for k in range(bins):
            row[k] = np.float32(row[k] * inv)
    else:
        row[:] = np.float32(1.0 / bins)


@kernel
def _hsv_histogram_range(images, out, start, stop, bins, which):
    n = images.shape[1] * images.shape[2]
    h_buf = np.empty(n, dtype=np.float32)
    w_buf = np.empty(n, dtype=np.float32)
    for i in range(start, stop):
        _hsv_histogram_one(images[i], out[i], bins, which, h_buf, w_buf)


@kernel(parallel=True)
def _hsv_histogram_parallel(images, out, bins, which, task):
    n = images.shape[0]
    for t in prange((n + task - 1) // task):
        _hsv_histogram_range(images, out, t * task, min(n, (t + 1) * task), bins, which)


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


@kernel(parallel=True)
def _area_pool_parallel(images, out, gh, gw, task):
    n = images.shape[0]
    for t in prange((n + task - 1) // task):
        _area_pool_range(images, out, t * task, min(n, (t + 1) * task), gh, gw)


def _check_bins(bins, what) -> int:
    bins = int(bins)
    if not 1 <= bins <= 360:
        raise LinvizError(f"{what}: bins must be between 1 and 360, got {bins}")
    return bins


def _hsv_histogram(images, bins, which, what, parallel) -> np.ndarray:
    bins = _check_bins(bins, what)
    arr = as_rgb_batch(images, what)
    out = np.empty((arr.shape[0], bins), dtype=np.float32)
    if arr.shape[0] == 0:
        return out
    if parallel is None:
        parallel = arr.shape[0] > _TASK_IMAGES
    if parallel:
        _hsv_histogram_parallel(arr, out, bins, which, _TASK_IMAGES)
    else:
        _hsv_histogram_range(arr, out, 0, arr.shape[0], bins, which)
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
    if parallel is None:
        parallel = n > _TASK_IMAGES
    if parallel:
        _area_pool_parallel(arr, out, height, width, _TASK_IMAGES)
    else:
        _area_pool_range(arr, out, 0, n, height, width)
    return out


def color_layout(images, grid: int = 4, *, parallel: bool | None = None) -> np.ndarray:
    """The image averaged down to ``grid x grid`` RGB -> float32 ``(N, grid*grid*3)`` in [0, 1]."""
    return area_pool(images, grid, grid, what="color_layout", parallel=parallel)
