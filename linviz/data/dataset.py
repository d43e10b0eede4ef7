"""The in-memory dataset: ``Split`` (images + labels) and ``Dataset`` (class names, splits).

Images are uint8 (N, H, W, 3), C-contiguous, labels int64 (N,). ``Dataset.key`` is a content
fingerprint (SHA-256 of the class names, labels and pixels): feature caches use it, so two
loads of the same pictures share cached features whatever the path they came from.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from linviz.errors import DatasetError, SplitSizeError


@dataclass(frozen=True, eq=False)
class Split:
    """One split of a dataset: ``images`` uint8 (N, H, W, 3) and ``labels`` int64 (N,).

    Treat the arrays as read-only (copy before changing pixels): splits share memory with
    each other and with the dataset cache writer.
    """

    images: np.ndarray
    labels: np.ndarray

    def __post_init__(self):
        images = np.ascontiguousarray(self.images, dtype=np.uint8)
        labels = np.ascontiguousarray(self.labels, dtype=np.int64).reshape(-1)
        if images.ndim != 4 or images.shape[-1] != 3:
            raise ValueError(f"Split images must be (N, H, W, 3), got {images.shape}")
        if len(images) != len(labels):
            raise ValueError(f"Split has {len(images)} images but {len(labels)} labels")
        # Treat both arrays as read-only: datasets are shared (feature caches key on their
        # content, the cache writer may still be saving them). The flag is not set because
        # Numba compiles a separate specialization for read-only arrays, which would
        # bypass the feature kernels' warm-up.
        object.__setattr__(self, "images", images)
        object.__setattr__(self, "labels", labels)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])

    def counts(self, n_classes: int) -> np.ndarray:
        """Number of images per class (length ``n_classes``)."""
        return np.bincount(self.labels, minlength=n_classes)[:n_classes]

    def take(self, indices) -> "Split":
        indices = np.asarray(indices, dtype=np.int64)
        return Split(self.images[indices], self.labels[indices])


@dataclass(frozen=True, eq=False)
class Dataset:
    """Class names, a train split, an optional test split and the files that were skipped."""

    class_names: list[str]
    train: Split
    test: Optional[Split]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    source: str = ""
    key: str = ""

    def __post_init__(self):
        object.__setattr__(self, "class_names", [str(name) for name in self.class_names])
        if not self.key:
            object.__setattr__(self, "key", content_key(self.class_names, self.train, self.test))

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.train.image_shape

    def splits(self) -> dict[str, Split]:
        """``{"train": ..., "test": ...}`` without the missing ones."""
        result = {"train": self.train}
        if self.test is not None:
            result["test"] = self.test
        return result

    def summary(self) -> dict:
        """What ``info`` prints: classes, counts per split and per class, shape, skipped."""
        splits = self.splits()
        return {
            "source": self.source,
            "classes": list(self.class_names),
            "splits": {name: len(split) for name, split in splits.items()},
            "per_class": {
                name: {cls: int(n) for cls, n in zip(self.class_names, split.counts(self.n_classes))}
                for name, split in splits.items()
            },
            "image_shape": list(self.image_shape),
            "skipped": [{"path": path, "reason": reason} for path, reason in self.skipped],
            "key": self.key,
        }


def content_key(class_names: Sequence[str], train: Split, test: Optional[Split]) -> str:
    """SHA-256 over class names, shapes, labels and pixels (about 0.1 s for 60,000 images)."""
    digest = hashlib.sha256()
    digest.update(json.dumps(list(class_names)).encode())
    for split in (train, test):
        if split is None:
            digest.update(b"<none>")
            continue
        digest.update(repr(split.images.shape).encode())
        digest.update(memoryview(split.labels).cast("B"))
        digest.update(memoryview(split.images).cast("B"))
    return digest.hexdigest()[:32]


def _fraction_to_count(size, n: int, what: str) -> int:
    """A count stays a count; a float in (0, 1) is a fraction of ``n``."""
    if isinstance(size, (float, np.floating)):
        if not 0.0 < size < 1.0:
            raise SplitSizeError(f"{what} as a fraction must be between 0 and 1, got {size}")
        return int(round(float(size) * n))
    count = int(size)
    if count < 0 or count > n:
        raise SplitSizeError(f"{what} must be between 0 and the {n:,} training images, got {count:,}")
    return count


def split_validation(split: Split, val_size, seed: int = 0) -> tuple[Split, Split]:
    """Hold out ``val_size`` images (a count, or a fraction in (0, 1)), stratified by class.

    Each class gives its share (largest remainders get the rounding), so the validation set
    has the class balance of ``split``; the permutation is seeded, so the result is
    reproducible.
    """
    n = len(split)
    n_val = _fraction_to_count(val_size, n, "validation size")
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(split.labels, return_counts=True)
    exact = counts * (n_val / n) if n else counts * 0.0
    per_class = np.floor(exact).astype(np.int64)
    remainder = n_val - int(per_class.sum())
    if remainder > 0:
        order = np.argsort(-(exact - per_class), kind="stable")
        per_class[order[:remainder]] += 1
    val_idx, train_idx = [], []
    for cls, k in zip(classes, per_class):
        members = np.flatnonzero(split.labels == cls)
        members = members[rng.permutation(len(members))]
        val_idx.append(members[:k])
        train_idx.append(members[k:])
    val_idx = np.sort(np.concatenate(val_idx)) if val_idx else np.zeros(0, np.int64)
    train_idx = np.sort(np.concatenate(train_idx)) if train_idx else np.zeros(0, np.int64)
    return split.take(train_idx), split.take(val_idx)


def subsample_per_class(split: Split, n_per_class: int, seed: int = 0) -> Split:
    """At most ``n_per_class`` images of each class (seeded random choice, original order kept)."""
    if n_per_class < 0:
        raise DatasetError(f"images per class must be >= 0, got {n_per_class}")
    rng = np.random.default_rng(seed)
    chosen = []
    for cls in np.unique(split.labels):
        members = np.flatnonzero(split.labels == cls)
        if len(members) > n_per_class:
            members = np.sort(rng.choice(members, size=n_per_class, replace=False))
        chosen.append(members)
    indices = np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, np.int64)
    return split.take(indices)
