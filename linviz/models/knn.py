"""k-nearest-neighbour classification with L1 / L2 distances as Numba kernels.

The lecture's first classifier, kept for comparison with the linear ones: ``fit`` only
memorizes the training set; ``predict`` takes a majority vote of the k nearest training
rows. Ties are broken deterministically: equal distances by the lower training index (stable
sort), equal votes by the smaller class index (the CS231n convention).
"""

from __future__ import annotations

import numpy as np

from linviz.numba_setup import kernel, prange

METRICS = ("l1", "l2")


@kernel(parallel=True, fastmath={"reassoc", "contract"})
def _l1_distances(A, B, out):
    for i in prange(A.shape[0]):
        a = A[i]
        for j in range(B.shape[0]):
            b = B[j]
            acc = np.float32(0.0)
            for d in range(a.shape[0]):
                acc += abs(a[d] - b[d])
            out[i, j] = acc


@kernel(parallel=True, fastmath={"reassoc", "contract"})
def _l2_distances(A, B, out):
    # Squared differences summed directly (not |a|^2 + |b|^2 - 2ab, which cancels badly for
    # near neighbours); the square root is left out: it does not change the ranking.
    for i in prange(A.shape[0]):
        a = A[i]
        for j in range(B.shape[0]):
            b = B[j]
            acc = np.float32(0.0)
            for d in range(a.shape[0]):
                t = a[d] - b[d]
                acc += t * t
            out[i, j] = acc


def pairwise_distances(A: np.ndarray, B: np.ndarray, metric: str = "l2") -> np.ndarray:
    """(len(A), len(B)) distances: L1 (sum |a - b|) or L2 (Euclidean)."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose from {', '.join(METRICS)}")
    A = np.ascontiguousarray(A, dtype=np.float32)
    B = np.ascontiguousarray(B, dtype=np.float32)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[1]:
        raise ValueError(f"expected two (N, D) arrays with the same D, got {A.shape} and {B.shape}")
    out = np.empty((A.shape[0], B.shape[0]), np.float32)
    if metric == "l1":
        _l1_distances(A, B, out)
    else:
        _l2_distances(A, B, out)
        np.sqrt(out, out=out)
    return out


def _vote(neighbour_labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Majority class per row; ties go to the smaller class index (argmax takes the first)."""
    counts = np.zeros((neighbour_labels.shape[0], n_classes), np.int64)
    rows = np.repeat(np.arange(neighbour_labels.shape[0]), neighbour_labels.shape[1])
    np.add.at(counts, (rows, neighbour_labels.ravel()), 1)
    return np.argmax(counts, axis=1)


class KNearestNeighbor:
    """k-NN classifier (scikit-learn shape: ``fit``, ``predict``, ``score``)."""

    def __init__(self, k: int = 1, metric: str = "l2"):
        self.k = k
        self.metric = metric

    def fit(self, X, y) -> "KNearestNeighbor":
        if self.metric not in METRICS:
            raise ValueError(f"unknown metric {self.metric!r}; choose from {', '.join(METRICS)}")
        self.X_train_ = np.ascontiguousarray(X, dtype=np.float32)
        self.classes_, self.y_train_ = np.unique(np.asarray(y), return_inverse=True)
        return self

    def distances(self, X) -> np.ndarray:
        return pairwise_distances(X, self.X_train_, self.metric)

    def predict_from_distances(self, dists: np.ndarray, k: int | None = None) -> np.ndarray:
        k = self.k if k is None else k
        if not 1 <= k <= dists.shape[1]:
            raise ValueError(f"k must be between 1 and {dists.shape[1]}, got {k}")
        order = np.argsort(dists, axis=1, kind="stable")[:, :k]
        return self.classes_[_vote(self.y_train_[order], len(self.classes_))]

    def predict(self, X) -> np.ndarray:
        return self.predict_from_distances(self.distances(X))

    def score(self, X, y) -> float:
        return float(np.mean(self.predict(X) == np.asarray(y)))


def cross_validate_knn(X, y, ks, folds: int = 5, seed: int = 0, metric: str = "l2") -> dict:
    """k-fold cross-validation of k-NN: ``{k: array of accuracies, one per fold}``.

    The rows are shuffled once (seeded) and cut into ``folds`` parts; each part is the
    validation set once. Distances are computed once per fold and reused for every k.
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.asarray(y)
    if folds < 2 or folds > len(y):
        raise ValueError(f"folds must be between 2 and {len(y)}, got {folds}")
    parts = np.array_split(np.random.default_rng(seed).permutation(len(y)), folds)
    results = {int(k): np.empty(folds) for k in ks}
    for f, val in enumerate(parts):
        tr = np.concatenate([p for i, p in enumerate(parts) if i != f])
        model = KNearestNeighbor(metric=metric).fit(X[tr], y[tr])
        dists = model.distances(X[val])
        for k in results:
            results[k][f] = np.mean(model.predict_from_distances(dists, k) == y[val])
    return results
