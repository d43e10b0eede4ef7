"""Real images for the feature tests: a few CIFAR-10 pictures from the shared archive when it
is there, else deterministic synthetic pictures with edges, gradients and noise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SHARED_ARCHIVE = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "cifar10-jpeg.tar.gz"


def _synthetic(n: int, size: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    out = np.empty((n, size, size, 3), dtype=np.uint8)
    for i in range(n):
        angle = rng.uniform(0, np.pi)
        base = 128 + 100 * np.sign(np.cos(angle) * (xx - size / 2) + np.sin(angle) * (yy - size / 2))
        for c in range(3):
            ramp = rng.uniform(-3, 3) * xx + rng.uniform(-3, 3) * yy
            out[i, :, :, c] = np.clip(base * rng.uniform(0.3, 1) + ramp + rng.normal(0, 12, base.shape), 0, 255)
    return out


@pytest.fixture(scope="session")
def real_images(request) -> np.ndarray:
    """24 uint8 RGB 32x32 images: CIFAR-10 test images (2-3 per class) or synthetic ones."""
    if SHARED_ARCHIVE.is_file():
        dataset = request.getfixturevalue("shared_cifar10")
        images = dataset.test.images if dataset.test is not None else dataset.train.images
        return np.ascontiguousarray(images[:: max(1, len(images) // 24)][:24])
    return _synthetic(24)


@pytest.fixture(scope="session")
def odd_sized_images(real_images) -> dict:
    """The same pictures at sizes not divisible by the cell sizes (crops and resizes)."""
    from PIL import Image

    out = {}
    for h, w in [(40, 40), (37, 29), (29, 37), (19, 23)]:
        out[(h, w)] = np.stack(
            [np.asarray(Image.fromarray(img).resize((w, h), Image.BILINEAR)) for img in real_images[:8]]
        )
    out[(27, 30)] = np.ascontiguousarray(real_images[:8, 2:29, 1:31])
    return out
