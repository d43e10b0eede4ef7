"""The workplace's 60,000-image CIFAR-10 JPEG archive (loaded once per session)."""

from __future__ import annotations

import numpy as np
import pytest

from linviz.data import CIFAR10_CLASSES

pytestmark = pytest.mark.shared_data


def test_counts_classes_and_order(shared_cifar10):
    dataset = shared_cifar10
    assert dataset.class_names == CIFAR10_CLASSES
    assert len(dataset.train) == 50_000 and len(dataset.test) == 10_000
    assert list(np.bincount(dataset.train.labels)) == [5_000] * 10
    assert list(np.bincount(dataset.test.labels)) == [1_000] * 10
    assert dataset.train.images.shape == (50_000, 32, 32, 3) and dataset.train.images.dtype == np.uint8
    assert dataset.train.images.flags.c_contiguous and dataset.test.images.flags.c_contiguous
    assert dataset.skipped == []


def test_pixels_match_pillow(shared_cifar10, shared_cifar10_archive):
    """The fast JPEG path gives exactly what Pillow gives, image by image."""
    import io
    import tarfile

    from PIL import Image

    # Members near the start of the archive, so the reference read stops early.
    names = {"train/airplane/0000.jpg": (shared_cifar10.train, 0), "train/airplane/0007.jpg": (shared_cifar10.train, 7)}
    found = 0
    with tarfile.open(shared_cifar10_archive) as tar:
        for member in tar:
            if member.name.lstrip("./") in names:
                split, index = names[member.name.lstrip("./")]
                expected = np.asarray(Image.open(io.BytesIO(tar.extractfile(member).read())).convert("RGB"))
                assert np.array_equal(split.images[index], expected)
                found += 1
                if found == len(names):
                    break
    assert found == 2


def test_images_are_real_photos(shared_cifar10):
    images = shared_cifar10.test.images[::50]
    assert 80 < images.mean() < 160 and images.std() > 40
