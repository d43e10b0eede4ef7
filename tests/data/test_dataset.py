"""Split / Dataset, stratified validation splits and per-class subsampling."""

from __future__ import annotations

import numpy as np
import pytest

from linviz.data import Dataset, Split, split_validation, subsample_per_class
from linviz.errors import DatasetError


def make_split(counts=(50, 30, 20)) -> Split:
    labels = np.concatenate([np.full(n, c) for c, n in enumerate(counts)])
    labels = labels[np.random.default_rng(0).permutation(len(labels))]
    images = np.zeros((len(labels), 4, 4, 3), np.uint8)
    images[:, 0, 0, 0] = np.arange(len(labels)) % 256
    images[:, 0, 0, 1] = np.arange(len(labels)) // 256
    return Split(images, labels)


def ids(split: Split) -> set[int]:
    return set((split.images[:, 0, 0, 0].astype(int) + 256 * split.images[:, 0, 0, 1].astype(int)).tolist())


def test_split_checks_and_converts():
    split = Split(np.zeros((2, 3, 3, 3), np.uint8), [0, 1])
    assert len(split) == 2 and split.labels.dtype == np.int64
    with pytest.raises(ValueError):
        Split(np.zeros((2, 3, 3), np.uint8), [0, 1])
    with pytest.raises(ValueError):
        Split(np.zeros((2, 3, 3, 3), np.uint8), [0])


@pytest.mark.parametrize("size,expected", [(20, (10, 6, 4)), (0.1, (5, 3, 2)), (0.25, (13, 7, 5))])
def test_split_validation_is_stratified_disjoint_and_seeded(size, expected):
    split = make_split()
    train, val = split_validation(split, size, seed=1)
    assert tuple(np.bincount(val.labels, minlength=3)) == expected
    assert len(train) + len(val) == len(split)
    assert ids(train).isdisjoint(ids(val)) and ids(train) | ids(val) == ids(split)
    again_train, again_val = split_validation(split, size, seed=1)
    assert np.array_equal(val.images, again_val.images)
    _, other_val = split_validation(split, size, seed=2)
    assert ids(other_val) != ids(val)


@pytest.mark.parametrize("bad", [-1, 101, 1.5, 0.0])
def test_split_validation_rejects_bad_sizes(bad):
    with pytest.raises(DatasetError):
        split_validation(make_split(), bad)


def test_subsample_per_class():
    split = make_split()
    small = subsample_per_class(split, 25, seed=0)
    assert list(np.bincount(small.labels)) == [25, 25, 20]
    assert ids(small) <= ids(split)
    assert ids(subsample_per_class(split, 25, seed=0)) == ids(small)


def test_dataset_summary_and_key():
    split = make_split()
    dataset = Dataset(["a", "b", "c"], split, None, [("x.png", "empty file")], source="here")
    summary = dataset.summary()
    assert summary["splits"] == {"train": 100}
    assert summary["per_class"]["train"] == {"a": 50, "b": 30, "c": 20}
    assert summary["image_shape"] == [4, 4, 3]
    assert summary["skipped"] == [{"path": "x.png", "reason": "empty file"}]
    same = Dataset(["a", "b", "c"], Split(split.images.copy(), split.labels.copy()), None, source="elsewhere")
    assert same.key == dataset.key and len(dataset.key) == 32
    changed_images = split.images.copy()
    changed_images[0, 1, 1, 1] += 1
    assert Dataset(["a", "b", "c"], Split(changed_images, split.labels), None).key != dataset.key
    assert Dataset(["a", "b", "z"], split, None).key != dataset.key
