"""Raw pixels as features: the image itself, optionally gray and/or averaged down.

Values are scaled to [0, 1] (the pipeline standardizes them afterwards anyway). Columns are
in the image's own order, ``(H, W, 3)`` or ``(H, W)`` flattened, so a weight template
reshapes straight back into a picture.
"""

from __future__ import annotations

import numpy as np

from linviz.features._images import as_rgb_batch
from linviz.features.color import area_pool
from linviz.features.hog_descriptor import LUMA_WEIGHTS

_INV_255 = np.float32(1.0 / 255.0)


def raw_pixels(images, grayscale: bool = False, size: int | None = None) -> np.ndarray:
    """uint8 RGB images -> float32 ``(N, D)`` in [0, 1].

    ``size``: average the image down to ``size x size`` first (area averaging, see
    :func:`linviz.features.color.area_pool`); ``grayscale``: BT.601 luma
    (0.299 R + 0.587 G + 0.114 B, as HOG uses), D = H*W instead of H*W*3.
    """
    arr = as_rgb_batch(images, "raw_pixels")
    n = arr.shape[0]
    if size is None:
        rgb = arr.astype(np.float32)
        rgb *= _INV_255
    else:
        rgb = area_pool(arr, size, size, what="raw_pixels").reshape(n, size, size, 3)
    if grayscale:
        w = np.asarray(LUMA_WEIGHTS, dtype=np.float32)
        gray = (w[0] * rgb[..., 0] + w[1] * rgb[..., 1]) + w[2] * rgb[..., 2]
        return np.ascontiguousarray(gray.reshape(n, -1))
    return rgb.reshape(n, -1)
