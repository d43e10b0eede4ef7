"""The jobs of the Nearest neighbors lab: index the training images, cross-validate k, test
beside a linear model, find one image's neighbours. No Qt in here.

Each is a plain function of a ``ctx`` (progress, cancel, publish; see
:mod:`linviz.workbench.jobs`) over the window's prepared data. A setup (the fitted features
and the index of the training images) is the slow part, so every job takes the current one
and reuses it when its :class:`SetupKey` matches, or refits only the distance when nothing
else changed. The arithmetic is :mod:`linviz.explore.knn`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Optional

import numpy as np


@dataclass(frozen=True)
class SetupKey:
    """What a kNN setup is made of: the data, the features, the subset and the distance."""

    data_key: tuple
    spec: str
    train_size: int
    metric: str


@dataclass(frozen=True, eq=False)
class KnnTestResult:
    key: SetupKey
    k: int
    split: str  # "test" or "validation" (no test split)
    labels: np.ndarray
    predicted: np.ndarray
    knn: object  # ClassifierTiming
    linear: object  # ClassifierTiming

    @property
    def mistakes(self) -> np.ndarray:
        return np.flatnonzero(self.predicted != self.labels)


def _setup_for(key: SetupKey, prepared, setup, ctx):
    """The setup of ``key``: ``setup`` itself when it is that one; when only the distance
    differs, the same features refitted; else made from the training images."""
    from linviz.explore.knn import prepare_knn

    if setup is not None and setup.key == key:
        return setup
    if setup is not None and dataclasses.replace(setup.key, metric=key.metric) == key:
        made = setup.value.with_metric(key.metric)
    else:
        ctx.message("Indexing the training images for kNN")
        made = prepare_knn(prepared.train.images, prepared.train.labels, spec=key.spec, metric=key.metric,
                           train_size=key.train_size, n_classes=len(prepared.class_names), progress=ctx.progress,
                           cancel=ctx.cancel, cache_key=f"{prepared.key()}:train")
    # the kernels the lab uses, compiled (or loaded from Numba's cache) here, not on the quick lane
    made.model.kneighbors(made.X[:1], 1, parallel=False)
    made.model.kneighbors(made.X[:1], 1)
    return KeyedSetup(key, made)


@dataclass(frozen=True, eq=False)
class KeyedSetup:
    key: SetupKey
    value: object  # linviz.explore.knn.KnnSetup


def index_job(key: SetupKey, prepared, setup: Optional[KeyedSetup]):
    def job(ctx) -> KeyedSetup:
        return _setup_for(key, prepared, setup, ctx)

    return job


def cv_job(key: SetupKey, prepared, setup: Optional[KeyedSetup], ks, folds: int):
    """Index if needed, then cross-validate; publishes (setup, snapshot) after each fold."""

    def job(ctx):
        from linviz.explore.knn import cross_validation

        keyed = _setup_for(key, prepared, setup, ctx)
        ctx.message(f"{folds}-fold cross-validation of kNN")
        last = None
        for last in cross_validation(keyed.value.X, keyed.value.y, ks, folds=folds, metric=key.metric,
                                     progress=ctx.progress, cancel=ctx.cancel):
            ctx.publish((keyed, last))
        return keyed, last

    return job


def knn_test_job(key: SetupKey, prepared, setup: Optional[KeyedSetup], k: int, split: str, linear: dict):
    """Index if needed, predict the test split with k neighbours, and time a linear model on
    the same split: ``linear`` has W, X_test, train_seconds, n_train, name (the current
    model) or is empty (train one with the defaults on the kNN training images)."""

    def job(ctx) -> tuple:
        from linviz.explore.knn import knn_test, linear_test

        keyed = _setup_for(key, prepared, setup, ctx)
        s = keyed.value
        part = prepared.split(split)
        ctx.message(f"kNN on the {split} images")
        X_test = s.features.transform(part.images, progress=ctx.progress, cancel=ctx.cancel,
                                      cache_key=f"{prepared.key()}:{split}")
        predicted, knn_timing = knn_test(s, X_test, part.labels, k, progress=ctx.progress, cancel=ctx.cancel)
        ctx.message("The linear model on the same images")
        n_classes = len(prepared.class_names)
        if linear:
            linear_timing = linear_test(None, None, linear["X_test"], part.labels, n_classes=n_classes,
                                        W=linear["W"], train_seconds=linear["train_seconds"],
                                        n_train=linear["n_train"], name=linear["name"], note=linear["note"])
        else:
            linear_timing = linear_test(s.features.linear_rows(s.X), s.y, s.features.linear_rows(X_test), part.labels,
                                        n_classes=n_classes, name="linear: softmax on the same features and images",
                                        note="trained now on the kNN training images", progress=ctx.progress,
                                        cancel=ctx.cancel, features=s.features.spec_text)
        return keyed, KnnTestResult(key, k, split, np.asarray(part.labels), predicted, knn_timing, linear_timing)

    return job


def neighbors_job(keyed: KeyedSetup, image: np.ndarray, k: int, exclude: Optional[int]):
    """One image's neighbours (quick lane: serial kernels)."""

    def job(ctx):
        from linviz.explore.knn import neighbors_of

        row = keyed.value.features.transform(image[None])[0]
        return neighbors_of(keyed.value, row, k, exclude=exclude)

    return job
