"""Input checking shared by the feature functions: what shapes and dtypes they accept.

Every public feature function takes a batch ``(N, H, W, 3)`` of uint8 RGB images (what
``linviz.data`` produces) or a single image ``(H, W, 3)``; HOG and raw pixels also accept
float grayscale ``(N, H, W)`` / ``(H, W)``. Kernels are compiled for one argument type each
(every other type would be another compile), so the conversion to that type happens here,
once, outside the compiled code: C-contiguous, the kernel's dtype, and read-only (the
kernels only read images; a writable array would be another type, and a cached dataset's
are read-only).
"""

from __future__ import annotations

import numpy as np

from linviz.errors import LinvizError
from linviz.numba_setup import readonly


def as_rgb_batch(images, what: str) -> np.ndarray:
    """``images`` as a read-only C-contiguous uint8 ``(N, H, W, 3)`` array (a single image
    gets N=1)."""
    arr = np.asarray(images)
    if arr.ndim == 3 and arr.shape[-1] == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise LinvizError(f"{what}: expected RGB images of shape (N, H, W, 3), got {arr.shape}")
    if arr.dtype != np.uint8:
        if np.issubdtype(arr.dtype, np.floating):
            raise LinvizError(f"{what}: expected uint8 RGB images (0-255), got {arr.dtype}")
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    return readonly(np.ascontiguousarray(arr))


def is_rgb_uint8(images) -> bool:
    """True for uint8 RGB input ``(N, H, W, 3)`` or ``(H, W, 3)``; float input is grayscale."""
    arr = np.asarray(images)
    return arr.dtype == np.uint8 and arr.ndim in (3, 4) and arr.shape[-1] == 3


def as_gray_float_batch(images, what: str) -> np.ndarray:
    """Grayscale input as a read-only C-contiguous ``(N, H, W)`` array: float64 stays
    float64, all else becomes float32 (a gradient's exact value decides ties between orientation bins,
    so HOG computes on the caller's own precision)."""
    arr = np.asarray(images)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise LinvizError(f"{what}: expected grayscale images of shape (N, H, W), got {arr.shape}")
    dtype = np.float64 if arr.dtype == np.float64 else np.float32
    return readonly(np.ascontiguousarray(arr, dtype=dtype))


def batch_parts(n: int, chunk: int):
    """(start, stop) pairs covering range(n) in pieces of ``chunk``."""
    for start in range(0, n, chunk):
        yield start, min(n, start + chunk)
