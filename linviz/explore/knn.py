"""The kNN lab's computations: features for distances, cross-validation snapshots, one
image's neighbours and vote, and test accuracy side by side with a linear model. No Qt.

The lecture's lessons, as functions a notebook can call:

* **choosing k by cross-validation** (:func:`cross_validation`): every fold's accuracy for
  every k, one immutable :class:`CrossValidation` snapshot after each fold (a plot can fill
  in live), the mean and standard deviation over the folds, and the best k;
* **what a pixel distance finds** (:func:`neighbors_of`): the k nearest training images of
  one image with their distances and the vote;
* **free to train, slow to test** (:func:`knn_test`, :func:`linear_test`): accuracy and the
  training and prediction time per image of kNN and of a linear model on the same split.

Distances are taken on raw pixels as the course does (values in [0, 1], not standardized),
or, for any other feature spec, on the standardized features without the bias column.
The exact search itself is :class:`linviz.models.KNearestNeighbor`.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Iterator, Optional

import numpy as np

from linviz.errors import Cancelled, LinvizError
from linviz.features import FeaturePipeline, parse_feature_spec
from linviz.models.knn import METRICS, KNearestNeighbor, check_ks, iter_cross_validation
from linviz.progress import CancelCheck, ProgressCallback, check_cancelled, is_cancelled

DEFAULT_KS = (1, 3, 5, 8, 10, 12, 15, 20, 50, 100)  # the course's list
DEFAULT_FOLDS = 5
DEFAULT_TRAIN_SIZE = 5000  # the course's subsample of CIFAR-10
DISTANCES = METRICS


def ks_that_fit(ks, train_size: int, folds: int) -> tuple[list[int], list[int], int]:
    """(the k values a ``folds``-fold cross-validation of ``train_size`` images can validate,
    the ones it cannot, the training images of its smallest fold): a fold trains on the
    images of the others, and k cannot be more than those."""
    smallest_fold = train_size - -(-train_size // folds)
    return [k for k in ks if k <= smallest_fold], [k for k in ks if k > smallest_fold], smallest_fold


def parse_ks(text, name: str = "k") -> tuple[int, ...]:
    """'1, 3, 5' (commas or spaces) -> (1, 3, 5): positive whole numbers, duplicates dropped,
    the given order kept. LinvizError when bad, its message starting with ``name`` (what the
    caller calls the field: the CLI's option, the lab's box)."""
    parts = [p for p in str(text).replace(",", " ").split() if p]
    if not parts:
        raise LinvizError(f"{name}: give at least one value, e.g. 1,3,5")
    ks = []
    for part in parts:
        try:
            k = int(part)
        except ValueError:
            raise LinvizError(f"{name}: {part!r} is not a whole number") from None
        if k < 1:
            raise LinvizError(f"{name}: every value must be at least 1, got {k}")
        if k not in ks:
            ks.append(k)
    return tuple(ks)


# --------------------------------------------------------------------------- cross-validation


@dataclass(frozen=True, eq=False)
class CrossValidation:
    """Cross-validation of k-NN as far as it got: ``fold_accuracies[f, i]`` is fold f's
    validation accuracy with k = ks[i], NaN while fold f has not finished."""

    ks: tuple[int, ...]
    folds: int
    metric: str
    n_train: int
    fold_accuracies: np.ndarray  # (folds, len(ks)), read-only
    seconds: float = 0.0

    @property
    def finished(self) -> np.ndarray:
        """The accuracies of the finished folds, (folds_done, len(ks))."""
        return self.fold_accuracies[~np.isnan(self.fold_accuracies).any(axis=1)]

    @property
    def folds_done(self) -> int:
        return len(self.finished)

    @property
    def done(self) -> bool:
        return self.folds_done == self.folds

    @property
    def mean(self) -> np.ndarray:
        """Mean accuracy per k over the finished folds (NaN before the first)."""
        done = self.finished
        return done.mean(axis=0) if len(done) else np.full(len(self.ks), np.nan)

    @property
    def std(self) -> np.ndarray:
        """Standard deviation per k over the finished folds (population, ddof=0, as
        ``np.std``; 0 after one fold)."""
        done = self.finished
        return done.std(axis=0) if len(done) else np.full(len(self.ks), np.nan)

    @property
    def best_index(self) -> Optional[int]:
        """Index into ``ks`` of the highest mean accuracy; equal means go to the smaller k."""
        if not self.folds_done:
            return None
        mean = self.mean
        top = np.flatnonzero(mean == mean.max())
        return int(min(top, key=lambda i: self.ks[i]))

    @property
    def best_k(self) -> Optional[int]:
        i = self.best_index
        return None if i is None else int(self.ks[i])

    def as_json(self) -> dict:
        """{"k", "fold_accuracies" (per k, one accuracy per fold), "mean", "std", "best_k"}."""
        def clean(values):
            return [None if np.isnan(v) else float(v) for v in values]

        return {"k": [int(k) for k in self.ks], "fold_accuracies": [clean(col) for col in self.fold_accuracies.T],
                "mean": clean(self.mean), "std": clean(self.std), "best_k": self.best_k}


def cross_validation(X, y, ks=DEFAULT_KS, *, folds: int = DEFAULT_FOLDS, metric: str = "l2", seed: int = 0,
                     progress: Optional[ProgressCallback] = None,
                     cancel: CancelCheck = None) -> Iterator[CrossValidation]:
    """``folds``-fold cross-validation of k-NN on (X, y): yields a :class:`CrossValidation`
    after each fold (the folds of :func:`linviz.models.knn.fold_parts`; each fold searches
    once for the largest k). Bad arguments raise LinvizError before any work."""
    ks = tuple(int(k) for k in ks)
    n = len(y)
    if metric not in METRICS:
        raise LinvizError(f"distance must be one of {', '.join(METRICS)}, got {metric!r}")
    if not 2 <= folds <= n:
        raise LinvizError(f"folds must be between 2 and {n} (the training images), got {folds}")
    try:
        check_ks(ks, n, folds)
    except ValueError as exc:
        raise LinvizError(f"{exc} with {n:,} training images in {folds} folds") from None
    accuracies = np.full((folds, len(ks)), np.nan)
    start = time.perf_counter()
    for f, fold in iter_cross_validation(X, y, ks, folds, seed, metric, progress=progress, cancel=cancel):
        accuracies[f] = fold
        snapshot = accuracies.copy()
        snapshot.setflags(write=False)
        yield CrossValidation(ks, folds, metric, n, snapshot, time.perf_counter() - start)


def run_cross_validation(X, y, ks=DEFAULT_KS, **kwargs) -> CrossValidation:
    """:func:`cross_validation` to the end: the last snapshot."""
    last = None
    for last in cross_validation(X, y, ks, **kwargs):
        pass
    return last


# --------------------------------------------------------------------------- features


def is_pixel_spec(spec) -> bool:
    """True when every block of the spec is raw pixels: distances on them are taken
    unstandardized, as the course does."""
    return all(item.name == "raw" for item in parse_feature_spec(spec).items)


@dataclass(frozen=True, eq=False)
class KnnFeatures:
    """How images become the rows kNN measures distances between: raw pixels as they are
    (values in [0, 1]), any other spec standardized on the kNN training images, without the
    bias column. ``pipeline`` is fitted on those training images either way (a linear model
    compared on the same features uses it)."""

    spec_text: str
    pipeline: FeaturePipeline
    standardized: bool

    def from_extracted(self, features: np.ndarray) -> np.ndarray:
        """Unstandardized pipeline output -> kNN rows (float32, C-contiguous)."""
        if not self.standardized:
            return np.ascontiguousarray(features, dtype=np.float32)
        return np.ascontiguousarray(self.pipeline.transform_features(features)[:, :-1], dtype=np.float32)

    def transform(self, images, *, progress: Optional[ProgressCallback] = None, cancel: CancelCheck = None,
                  cache_key: Optional[str] = None) -> np.ndarray:
        """uint8 images -> kNN rows."""
        return self.from_extracted(self.pipeline.extract(images, progress, cancel, cache_key=cache_key))

    def linear_rows(self, rows: np.ndarray) -> np.ndarray:
        """kNN rows -> a linear model's input: standardized, bias column last."""
        if self.standardized:
            return np.ascontiguousarray(np.hstack([rows, np.ones((len(rows), 1), np.float32)]), dtype=np.float32)
        return np.ascontiguousarray(self.pipeline.transform_features(rows), dtype=np.float32)

    @property
    def description(self) -> str:
        return "raw pixels (unstandardized)" if not self.standardized else f"{self.spec_text} (standardized)"


def training_subset(n_available: int, size: Optional[int], seed: int = 0) -> np.ndarray:
    """Sorted indices of ``size`` images drawn without replacement (seeded); all of them when
    ``size`` is None or at least ``n_available``."""
    if size is None or size >= n_available:
        return np.arange(n_available)
    if size < 1:
        raise LinvizError(f"training subset: at least 1 image, got {size}")
    return np.sort(np.random.default_rng(seed).choice(n_available, size=size, replace=False))


@dataclass(frozen=True, eq=False)
class KnnSetup:
    """A fitted kNN on a subset of training images: what CV, neighbours and tests share."""

    features: KnnFeatures
    subset: np.ndarray  # indices of the training images used (sorted)
    X: np.ndarray  # (n, D) their kNN rows
    y: np.ndarray  # (n,) their labels
    n_classes: int
    model: KNearestNeighbor  # fitted on X, y
    extract_seconds: float  # the training images' features
    fit_seconds: float  # memorizing them (the norms the search needs)

    @property
    def metric(self) -> str:
        return self.model.metric

    @property
    def seconds(self) -> float:
        """kNN's "training": the training images' features and the fit."""
        return self.extract_seconds + self.fit_seconds

    def with_metric(self, metric: str) -> "KnnSetup":
        """The same images and features with another distance (only the fit is redone)."""
        if metric == self.metric:
            return self
        if metric not in METRICS:
            raise LinvizError(f"distance must be one of {', '.join(METRICS)}, got {metric!r}")
        KNearestNeighbor(metric=metric).fit(self.X[:1], self.y[:1])  # compile outside the timing
        start = time.perf_counter()
        model = KNearestNeighbor(metric=metric).fit(self.X, self.y)
        return dataclasses.replace(self, model=model, fit_seconds=time.perf_counter() - start)


def prepare_knn(images, labels, *, spec="raw", metric: str = "l2", train_size: Optional[int] = None, seed: int = 0,
                n_classes: Optional[int] = None, progress: Optional[ProgressCallback] = None,
                cancel: CancelCheck = None, cache_key: Optional[str] = None) -> KnnSetup:
    """Draw ``train_size`` training images (seeded; all when None), compute their kNN rows
    and fit the search. ``cache_key`` (e.g. f"{dataset.key}/train") lets a second call with
    the same images reuse the extracted features."""
    if metric not in METRICS:
        raise LinvizError(f"distance must be one of {', '.join(METRICS)}, got {metric!r}")
    spec = parse_feature_spec(spec)
    labels = np.asarray(labels)
    start = time.perf_counter()
    subset = training_subset(len(labels), train_size, seed)
    pipeline = FeaturePipeline(spec)
    all_images = len(subset) == len(labels)
    chosen = images if all_images else images[subset]
    key = None if cache_key is None else (cache_key if all_images else f"{cache_key}/subset{len(subset)}s{seed}")
    extracted = pipeline.extract(chosen, progress, cancel, cache_key=key)
    pipeline.fit(extracted)
    features = KnnFeatures(str(spec), pipeline, standardized=not is_pixel_spec(spec))
    X = features.from_extracted(extracted)
    y = labels[subset]
    check_cancelled(cancel)
    KNearestNeighbor(metric=metric).fit(X[:1], y[:1])  # compiles (or loads) the norms kernel: not "training"
    extracted_at = time.perf_counter()
    model = KNearestNeighbor(metric=metric).fit(X, y)
    n_classes = int(n_classes if n_classes is not None else (labels.max() + 1 if len(labels) else 0))
    return KnnSetup(features, subset, X, y, n_classes, model, extracted_at - start,
                    time.perf_counter() - extracted_at)


# --------------------------------------------------------------------------- one image


@dataclass(frozen=True)
class Neighbors:
    """The k nearest training images of one image, nearest first, and their vote."""

    k: int
    metric: str
    positions: np.ndarray  # (k,) rows of the setup's X
    indices: np.ndarray  # (k,) indices of those images in the training images given to prepare_knn
    distances: np.ndarray  # (k,) float64 (L2: Euclidean, L1: sum |a - b|, cosine: 1 - cos)
    labels: np.ndarray  # (k,) their classes
    votes: np.ndarray  # (n_classes,) how many of the k each class has
    predicted: int  # the vote's winner; equal votes go to the smaller class index


def neighbors_of(setup: KnnSetup, row: np.ndarray, k: int, *, exclude: Optional[int] = None,
                 parallel: bool = False) -> Neighbors:
    """The k nearest of ``row`` (one kNN row, from ``setup.features``) among the setup's
    training images. ``exclude``: an index into the training images to leave out (the query
    itself, when it is one of them). Serial by default: one image is a quick-lane job."""
    row = np.asarray(row, dtype=np.float32).reshape(1, -1)
    skip = -1
    if exclude is not None:
        where = np.searchsorted(setup.subset, exclude)
        if where < len(setup.subset) and setup.subset[where] == exclude:
            skip = int(where)
    available = len(setup.y) - (skip >= 0)
    if not 1 <= k <= available:
        raise LinvizError(f"k must be between 1 and {available} (the training images), got {k}")
    distances, positions = setup.model.kneighbors(row, k, exclude=np.array([skip]), parallel=parallel)
    positions = positions[0]
    labels = setup.y[positions]
    votes = np.bincount(labels, minlength=setup.n_classes)
    predicted = int(setup.model.predict_from_neighbors(positions[None, :], k)[0])
    return Neighbors(int(k), setup.metric, positions, setup.subset[positions], distances[0], labels, votes, predicted)


# --------------------------------------------------------------------------- test and comparison


@dataclass(frozen=True)
class ClassifierTiming:
    """One row of the lecture's comparison: accuracy, training and prediction time."""

    name: str
    accuracy: float
    n_train: int
    train_seconds: Optional[float]  # None: not known (a model loaded from a file)
    n_test: int
    predict_seconds: float
    note: str = ""

    @property
    def train_us_per_image(self) -> Optional[float]:
        return None if self.train_seconds is None or not self.n_train else 1e6 * self.train_seconds / self.n_train

    @property
    def predict_us_per_image(self) -> Optional[float]:
        return 1e6 * self.predict_seconds / self.n_test if self.n_test else None


def knn_test(setup: KnnSetup, X_test: np.ndarray, y_test: np.ndarray, k: int, *,
             progress: Optional[ProgressCallback] = None,
             cancel: CancelCheck = None) -> tuple[np.ndarray, ClassifierTiming]:
    """Predict every test row with k neighbours: (predicted classes, timing). Training time
    is the fit (memorizing the rows), prediction time the search and the vote; feature
    extraction is counted on neither side (nor for the linear model)."""
    if not 1 <= k <= len(setup.y):
        raise LinvizError(f"k must be between 1 and {len(setup.y)} (the training images), got {k}")
    start = time.perf_counter()
    _, positions = setup.model.kneighbors(X_test, k, progress=progress, cancel=cancel)
    predicted = setup.model.predict_from_neighbors(positions, k)
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(predicted == np.asarray(y_test))) if len(y_test) else float("nan")
    name = f"kNN (k = {k}, {setup.metric.upper() if setup.metric != 'cosine' else 'cosine'})"
    return predicted, ClassifierTiming(name, accuracy, len(setup.y), setup.fit_seconds, len(y_test), seconds,
                                       "memorizes the training images")


def linear_test(X_train, y_train, X_test, y_test, *, n_classes: int, W: Optional[np.ndarray] = None,
                train_seconds: Optional[float] = None, n_train: Optional[int] = None, name: str = "linear",
                note: str = "", progress: Optional[ProgressCallback] = None,
                cancel: CancelCheck = None, features: Optional[str] = None) -> ClassifierTiming:
    """A linear classifier's accuracy and times on the test rows (bias column last).

    With ``W`` (D + 1, C) the given model is tested (``train_seconds`` as known); without,
    a softmax classifier with the settings recommended for ``features`` (the spec the rows
    come from; default: HOG + hue's, the window's) is trained here on (X_train, y_train) and
    timed."""
    if W is None:
        from linviz.training import TrainingConfig, TrainingControl, recommended_settings, train
        from linviz.training.defaults import DEFAULT_FEATURES

        control = TrainingControl()
        config = TrainingConfig(**recommended_settings(features or DEFAULT_FEATURES, "softmax", "sgd"))
        start = time.perf_counter()
        final = None
        for final in train(X_train, y_train, config=config, control=control, n_classes=n_classes):
            if is_cancelled(cancel):
                control.stop()
            if progress is not None and final.epoch:
                progress(int(1000 * final.epoch), 1000 * config.epochs)
        if is_cancelled(cancel):
            raise Cancelled("cancelled")
        train_seconds = time.perf_counter() - start
        W = final.best_W if final.best_W is not None else final.W
        n_train = len(y_train)
    start = time.perf_counter()
    predicted = np.argmax(np.asarray(X_test, dtype=np.float32) @ np.asarray(W, dtype=np.float32), axis=1)
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(predicted == np.asarray(y_test))) if len(y_test) else float("nan")
    return ClassifierTiming(name, accuracy, int(n_train if n_train is not None else len(y_train)), train_seconds,
                            len(y_test), seconds, note)
