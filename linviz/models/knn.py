"""k-nearest-neighbour classification: exact answers, BLAS speed, bounded memory.

The lecture's first classifier, kept for comparison with the linear ones: ``fit`` only
memorizes the training set; ``predict`` takes a majority vote of the k nearest training
rows. Three distances between rows a (a query) and b (a training row):

* ``"l1"``: sum |a_d - b_d|;
* ``"l2"``: sqrt(sum (a_d - b_d)^2), ranked by its square (the same order, without the
  rounding of a square root);
* ``"cosine"``: 1 - a.b / (|a| |b|), and 1 when either row is all zeros.

**Exact.** The distance that ranks the neighbours is computed in float64 from the float32
rows, coordinate by coordinate (eight interleaved partial sums, in a fixed order, so the
same two rows always give the same bits). Ties are broken the same way everywhere: equal
distances by the **lower training index**, equal votes by the **smaller class index**
(classes sorted as ``np.unique`` sorts them; the CS231n convention).

**Fast.** Computing that float64 distance for every pair would be slow, so the pairs are
screened first with a cheap float32 value whose worst-case error is known:

* L2 and cosine: a float32 matrix product through BLAS per block of queries and chunk of
  training rows, then |b|^2 - 2 a.b (L2, d^2 - |a|^2) or -a.b / |b| (cosine, (d - 1) |a|);
  the product's error is at most gamma_D |a| |b|, gamma_D = D u / (1 - D u), u = 2^-24
  (the textbook bound for a dot product of D terms, in any summation order);
* L1: a Numba kernel summing |a - b| in float32 (8 query rows at a time, SIMD); its
  relative error is at most gamma_(D+1).

While a chunk is in cache, each query keeps its k smallest screening values in a bounded
heap (t = the largest of them) and a list of candidates: the rows whose value is within
the error bound of t (:func:`_thresholds`). t only decreases, so the list can only be
tightened later. At the end only the candidates get the exact distance, and the k best by
(distance, index) win. A row left out is provably farther than k others, so the answer is
the exact one, found by one pass over the screening values (argpartition-like), not by
sorting them; a few dozen candidates per query are measured exactly in practice, and a
query with thousands of rows within the error bound of each other (near-duplicates) has
all of its rows measured exactly.

**Bounded memory.** Queries go in blocks of :data:`BLOCK_ROWS`, the training set in chunks
of columns: never a full N_test x N_train matrix. The extra memory is one chunk of float32
screening values (:data:`CHUNK_BYTES`), the candidate lists (block x (4k + 256)), a chunk of
gathered training rows when the training set is a subset of a larger matrix (a
cross-validation fold), the training rows' norms, and the (n, k) answers. Progress is
reported and cancellation checked between chunks (a few tenths of a second each).

The Numba kernels are in :mod:`linviz.models.knn_kernels`. Parallel kernels are for the
heavy lane only (one thread calls them at a time); ``parallel=False`` gives the serial ones,
for the quick lane (one image's neighbours).
"""

from __future__ import annotations

from typing import Iterator, Optional, Sequence

import numpy as np

from linviz.models.knn_kernels import (
    count_votes,
    exact_matrix,
    finish_block,
    finish_block_parallel,
    l1_block,
    l1_block_parallel,
    screen_block,
    screen_block_parallel,
    squared_norms,
    squared_norms_parallel,
)
from linviz.progress import CancelCheck, ProgressCallback, check_cancelled, report

METRICS = ("l1", "l2", "cosine")
_L1, _L2, _COSINE = 0, 1, 2
_METRIC_CODE = {"l1": _L1, "l2": _L2, "cosine": _COSINE}

BLOCK_ROWS = 1024  # queries per block
# Float32 screening values of one block x one chunk of training rows: 1024 x 2048. Chunks this
# wide keep sgemm efficient (with 1,271 columns it took 1.5x the CPU time here) and still end
# every few tenths of a second for a progress report and a cancel check on CIFAR-10 pixels.
CHUNK_BYTES = 8 * 2**20
_U32 = 2.0 ** -24  # float32 unit roundoff
_U64 = 2.0 ** -53  # float64 unit roundoff


def _check_metric(metric: str) -> int:
    if metric not in _METRIC_CODE:
        raise ValueError(f"unknown metric {metric!r}; choose from {', '.join(METRICS)}")
    return _METRIC_CODE[metric]


def vote(neighbor_labels: np.ndarray, ks, n_classes: int) -> np.ndarray:
    """Majority votes of the first k neighbours for every k in ``ks`` at once.

    ``neighbor_labels`` (n, kmax) class indices, nearest first. Returns (n, len(ks)) class
    indices, in the order of ``ks``; equal counts go to the smaller class index.
    """
    labels = np.ascontiguousarray(neighbor_labels, dtype=np.int64)
    ks_arr = np.asarray(list(ks), dtype=np.int64).ravel()
    if labels.ndim != 2 or not len(ks_arr):
        raise ValueError("expected (n, kmax) neighbour labels and at least one k")
    if ks_arr.min() < 1 or ks_arr.max() > labels.shape[1]:
        raise ValueError(f"every k must be between 1 and {labels.shape[1]}, got {ks_arr.tolist()}")
    order = np.unique(ks_arr)
    out = np.empty((labels.shape[0], len(order)), np.int64)
    if labels.shape[0]:
        count_votes(labels, order, int(n_classes), out)
    return out[:, np.searchsorted(order, ks_arr)]


# --------------------------------------------------------------------------- the search


class _Training:
    """The training rows searched: a float32 matrix, optionally a subset of its rows, with
    the float64 norms the exact distances and the error bounds need."""

    def __init__(self, X: np.ndarray, rows: Optional[np.ndarray] = None, squared_norms: Optional[np.ndarray] = None,
                 parallel: bool = True):
        self.X = X
        self.identity = rows is None
        self.rows = np.arange(len(X), dtype=np.int64) if rows is None else np.ascontiguousarray(rows, np.int64)
        if squared_norms is None:
            squared_norms = _row_squared_norms(X, parallel)
        self.squared_norms = squared_norms  # of every row of X (indexed by X's rows)
        self.norms = np.sqrt(squared_norms)

    def __len__(self) -> int:
        return len(self.rows)


MAX_ABS_VALUE = 1e15  # squares summed over a million columns stay within float32's range


def _check_values(X: np.ndarray, what: str) -> None:
    """Finite values small enough for float32 screening (sums of squares must not overflow)."""
    if X.size == 0:
        return
    if not np.isfinite(X).all():
        raise ValueError(f"the {what} contain NaN or infinite values")
    largest = float(np.abs(X).max())
    if largest > MAX_ABS_VALUE:
        raise ValueError(f"the {what} contain a value of magnitude {largest:.3g}; kNN takes values up to "
                         f"{MAX_ABS_VALUE:g} (rescale them)")


def _row_squared_norms(X: np.ndarray, parallel: bool) -> np.ndarray:
    out = np.empty(len(X), np.float64)
    if len(X):
        (squared_norms_parallel if parallel else squared_norms)(X, out)
    return out


def _gamma(n: int) -> float:
    """gamma_n = n u / (1 - n u) for float32, slightly inflated for the float64 arithmetic
    that applies it."""
    nu = n * _U32
    if nu >= 0.5:
        raise ValueError(f"{n} columns are too many for float32 screening")
    return nu / (1.0 - nu) * (1.0 + 1e-9)


def _screening(metric: int, train: _Training, D: int) -> Optional[np.ndarray]:
    """The searched rows' float32 factor of the screening value: |b|^2 (L2), -1/|b| (cosine,
    0 for a zero row), None (L1)."""
    if metric == _L2:
        return train.squared_norms[train.rows].astype(np.float32)
    if metric == _COSINE:
        norms = train.norms[train.rows]
        return (-np.divide(1.0, norms, out=np.zeros(len(norms)), where=norms > 0)).astype(np.float32)
    return None


def _thresholds(metric: int, norms: np.ndarray, train: _Training, D: int) -> tuple[np.ndarray, np.ndarray]:
    """(scale, margin) per query: a searched row is a candidate when its screening value is at
    most t * scale + margin, t the k-th smallest value of the query's row. Each screening
    value is within e of the exact value in its units, so a row above t + 2e (or t (1 + g) /
    (1 - g) for L1's relative error g) is farther than k others.

    * L2, V = |b|^2 - 2 a.b in float32 (= d^2 - |a|^2): sgemm error 2 gamma_D |a| |b|, float32
      roundings of |b|^2 and of the sum 3 u (|b|^2 + 2 |a| |b|), the float64 exact path
      (D + 8) 2^-53 (|a| + |b|)^2; with M = max |b| over the searched rows.
    * cosine, V = -a.b / |b| (= (d - 1) |a|): sgemm error gamma_D |a|, two float32 roundings
      2 u |a|, the exact path 2 (D + 8) 2^-53 |a|.
    * L1, V = the float32 sum: relative error gamma_(D+1), the exact path (D + 8) 2^-53.
    """
    n = len(norms)
    rho64 = (D + 8) * _U64
    gamma = _gamma(D)
    if metric == _L1:
        g = 1.01 * _gamma(D + 2) + 2 * rho64
        return np.full(n, (1.0 + g) / (1.0 - g)), np.zeros(n)
    if metric == _L2:
        M = float(train.norms[train.rows].max()) if len(train) else 0.0
        e = (2 * gamma + 6 * _U32) * norms * M + 3 * _U32 * M * M + rho64 * (norms + M) ** 2
    else:
        e = (gamma + 3 * _U32 + 2 * rho64) * norms
    return np.ones(n), 2.02 * e + 1e-300


def _search(A: np.ndarray, train: _Training, k: int, metric: str, *, exclude: Optional[np.ndarray] = None,
            parallel: bool = True, progress: Optional[ProgressCallback] = None,
            cancel: CancelCheck = None) -> tuple[np.ndarray, np.ndarray]:
    """(distances float64 (n, k), positions int64 (n, k)) of the k nearest searched rows of
    every row of A, nearest first; positions index ``train.rows``. L2 distances are square
    roots here (ranked by their squares)."""
    code = _check_metric(metric)
    A = np.ascontiguousarray(A, dtype=np.float32)
    B = train.X
    n, D = A.shape
    N = len(train)
    if not 1 <= k <= N - (exclude is not None):
        raise ValueError(f"k must be between 1 and {N - (exclude is not None)}, got {k}")
    if exclude is None:
        exclude = np.full(n, -1, np.int64)
    else:
        exclude = np.ascontiguousarray(exclude, dtype=np.int64)
        if exclude.shape != (n,):
            raise ValueError(f"exclude must have one entry per query ({n}), got shape {exclude.shape}")
    out_d = np.empty((n, k), np.float64)
    out_i = np.empty((n, k), np.int64)
    if n == 0:
        return out_d, out_i
    _check_values(A, "query rows")
    R = max(1, min(n, BLOCK_ROWS))
    C = int(max(1, min(N, CHUNK_BYTES // (4 * R))))
    V = np.empty((R, C), np.float32)  # one chunk of screening values: it stays in cache
    gathered = None if (train.identity or code == _L1) else np.empty((C, D), np.float32)
    factor = _screening(code, train, D)
    mode = {_L1: 0, _L2: 1, _COSINE: 2}[code]
    if factor is None:
        factor = np.zeros(1, np.float32)
    cap = 4 * k + 256  # candidates kept per query between compactions
    heaps = np.empty((R, k), np.float32)
    sizes = np.empty(R, np.int64)
    found = np.empty((R, cap), np.int64)
    found_v = np.empty((R, cap), np.float32)
    counts = np.empty(R, np.int64)
    overflow = np.empty(R, np.bool_)
    screen = screen_block_parallel if parallel else screen_block
    finish = finish_block_parallel if parallel else finish_block
    l1 = l1_block_parallel if parallel else l1_block
    norms_of = squared_norms_parallel if parallel else squared_norms
    blocks = range(0, n, R)
    steps = len(blocks) * -(-N // C)
    step = 0
    for start in blocks:
        stop = min(start + R, n)
        m = stop - start
        Ab = A[start:stop]
        sq = np.empty(m, np.float64)
        norms_of(Ab, sq)
        norms = np.sqrt(sq)
        scale, margin = _thresholds(code, norms, train, D)
        left_out = exclude[start:stop]
        sizes[:m] = 0
        counts[:m] = 0
        overflow[:m] = False
        product_rows = Ab * np.float32(-2.0) if code == _L2 else Ab  # exact: -2 a.b keeps a.b's rounding
        for j0 in range(0, N, C):
            check_cancelled(cancel)
            j1 = min(j0 + C, N)
            Vc = V[:m, : j1 - j0] if j1 - j0 == C else np.empty((m, j1 - j0), np.float32)
            if code == _L1:
                l1(Ab, B, train.rows, j0, j1, Vc)
            else:
                chunk = B[j0:j1] if train.identity else np.take(B, train.rows[j0:j1], axis=0, out=gathered[: j1 - j0])
                np.matmul(product_rows, chunk.T, out=Vc)
            screen(Vc, j0, factor, mode, k, left_out, scale, margin, heaps[:m], sizes[:m], found[:m], found_v[:m],
                   counts[:m], overflow[:m])
            step += 1
            report(progress, step, steps)
        finish(Ab, B, train.rows, code, k, left_out, scale, margin, heaps[:m], found[:m], found_v[:m], counts[:m],
               overflow[:m], norms, train.norms, out_d[start:stop], out_i[start:stop])
    if code == _L2:
        np.sqrt(out_d, out=out_d)
    return out_d, out_i


def pairwise_distances(A: np.ndarray, B: np.ndarray, metric: str = "l2") -> np.ndarray:
    """(len(A), len(B)) exact float64 distances (see the module docstring). For small inputs:
    it is the full matrix."""
    code = _check_metric(metric)
    A = np.ascontiguousarray(A, dtype=np.float32)
    B = np.ascontiguousarray(B, dtype=np.float32)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[1]:
        raise ValueError(f"expected two (N, D) arrays with the same D, got {A.shape} and {B.shape}")
    out = np.empty((A.shape[0], B.shape[0]), np.float64)
    if out.size:
        exact_matrix(A, B, code, np.sqrt(_row_squared_norms(A, False)), np.sqrt(_row_squared_norms(B, False)), out)
    if code == _L2:
        np.sqrt(out, out=out)
    return out


class KNearestNeighbor:
    """k-NN classifier (scikit-learn shape: ``fit``, ``kneighbors``, ``predict``, ``score``).

    ``fit`` keeps a reference to X when it is already float32 and C-contiguous (no copy).
    """

    def __init__(self, k: int = 1, metric: str = "l2"):
        self.k = k
        self.metric = metric

    def fit(self, X, y, *, parallel: bool = True) -> "KNearestNeighbor":
        _check_metric(self.metric)
        X = np.ascontiguousarray(X, dtype=np.float32)
        y = np.asarray(y)
        if X.ndim != 2 or y.shape != (X.shape[0],):
            raise ValueError(f"expected X (N, D) and y (N,), got {X.shape} and {y.shape}")
        _check_values(X, "training rows")
        self.X_train_ = X
        self.classes_, y_index = np.unique(y, return_inverse=True)
        self.y_train_ = y_index.astype(np.int64)
        self._train = _Training(X, parallel=parallel)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "_train"):
            raise ValueError("call fit(X, y) first")

    def kneighbors(self, X, n_neighbors: Optional[int] = None, *, exclude=None, parallel: bool = True,
                   progress: Optional[ProgressCallback] = None, cancel: CancelCheck = None):
        """(distances float64 (n, k), indices int64 (n, k)) of the nearest training rows,
        nearest first, ties by the lower index. ``exclude``: per query a training index to
        leave out (-1: none), e.g. the query itself."""
        self._check_fitted()
        k = self.k if n_neighbors is None else int(n_neighbors)
        X = np.ascontiguousarray(X, dtype=np.float32)
        if X.ndim != 2 or X.shape[1] != self.X_train_.shape[1]:
            raise ValueError(f"expected (n, {self.X_train_.shape[1]}) query rows, got {X.shape}")
        return _search(X, self._train, k, self.metric, exclude=None if exclude is None else np.asarray(exclude),
                       parallel=parallel, progress=progress, cancel=cancel)

    def predict_from_neighbors(self, indices: np.ndarray, ks=None) -> np.ndarray:
        """Labels voted by the first k of each row of ``indices`` (from :meth:`kneighbors`);
        ``ks`` a list gives (n, len(ks)) labels, one column per k."""
        self._check_fitted()
        many = ks is not None and np.ndim(ks) > 0
        ks_list = list(ks) if many else [self.k if ks is None else int(ks)]
        votes = vote(self.y_train_[indices], ks_list, len(self.classes_))
        labels = self.classes_[votes]
        return labels if many else labels[:, 0]

    def predict(self, X, *, parallel: bool = True, progress: Optional[ProgressCallback] = None,
                cancel: CancelCheck = None) -> np.ndarray:
        _, idx = self.kneighbors(X, parallel=parallel, progress=progress, cancel=cancel)
        return self.predict_from_neighbors(idx)

    def score(self, X, y, **kwargs) -> float:
        return float(np.mean(self.predict(X, **kwargs) == np.asarray(y)))

    def distances(self, X) -> np.ndarray:
        """The full (n, N_train) matrix of exact distances: for small inputs only."""
        self._check_fitted()
        return pairwise_distances(X, self.X_train_, self.metric)


# --------------------------------------------------------------------------- cross-validation


def fold_parts(n: int, folds: int, seed: int = 0) -> list[np.ndarray]:
    """The validation rows of each fold: a seeded permutation of range(n) cut into ``folds``
    nearly equal parts (``np.array_split``), each part sorted."""
    if not 2 <= folds <= n:
        raise ValueError(f"folds must be between 2 and {n}, got {folds}")
    return [np.sort(part) for part in np.array_split(np.random.default_rng(seed).permutation(n), folds)]


def check_ks(ks, n: int, folds: int) -> list[int]:
    """``ks`` as a list of ints, each usable with ``folds``-fold CV of ``n`` rows."""
    ks = [int(k) for k in ks]
    smallest_fold = n - -(-n // folds)  # training rows of the fold with the largest validation part
    if not ks:
        raise ValueError("give at least one k")
    bad = [k for k in ks if not 1 <= k <= smallest_fold]
    if bad:
        raise ValueError(f"k must be between 1 and {smallest_fold} (the training rows of a fold), got "
                         f"{', '.join(map(str, bad))}")
    return ks


def iter_cross_validation(X, y, ks, folds: int = 5, seed: int = 0, metric: str = "l2", *,
                          progress: Optional[ProgressCallback] = None,
                          cancel: CancelCheck = None) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(fold, accuracies)`` after each fold, ``accuracies`` aligned with ``ks``.

    The folds are :func:`fold_parts`; a fold trains on all other rows (in their original
    order, so ties go to the lower row of X) and validates on its part. Each fold searches
    once for the largest k and votes for every k from that one sorted neighbour list.
    """
    _check_metric(metric)
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.asarray(y)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"expected X (N, D) and y (N,), got {X.shape} and {y.shape}")
    _check_values(X, "rows")
    parts = fold_parts(len(y), folds, seed)
    ks = check_ks(ks, len(y), folds)
    kmax = max(ks)
    classes, y_index = np.unique(y, return_inverse=True)
    y_index = y_index.astype(np.int64)
    squared_norms = _row_squared_norms(X, True)
    inside = np.ones(len(y), bool)
    for f, val in enumerate(parts):
        inside[:] = True
        inside[val] = False
        train = _Training(X, np.flatnonzero(inside), squared_norms)

        def fold_progress(done, total, f=f):
            report(progress, f * total + done, folds * total)

        _, positions = _search(X[val], train, kmax, metric, progress=fold_progress, cancel=cancel)
        predicted = vote(y_index[train.rows[positions]], ks, len(classes))
        yield f, (predicted == y_index[val][:, None]).mean(axis=0)


def cross_validate_knn(X, y, ks, folds: int = 5, seed: int = 0, metric: str = "l2", *,
                       progress: Optional[ProgressCallback] = None, cancel: CancelCheck = None) -> dict:
    """k-fold cross-validation of k-NN: ``{k: array of accuracies, one per fold}`` (see
    :func:`iter_cross_validation`)."""
    ks = [int(k) for k in ks]
    results = {k: np.empty(folds) for k in ks}
    for f, accuracies in iter_cross_validation(X, y, ks, folds, seed, metric, progress=progress, cancel=cancel):
        for k, a in zip(ks, accuracies):
            results[k][f] = a
    return results


__all__: Sequence[str] = ("METRICS", "KNearestNeighbor", "cross_validate_knn", "fold_parts", "iter_cross_validation",
                          "pairwise_distances", "vote", "check_ks")
