"""Loss landscapes around W: the loss along lines W + a D and over planes W + a D1 + b D2.

The lecture's first picture of optimization: take the current weights W, pick one or two
directions in weight space, and draw the loss along them. For the multiclass SVM the data
loss along a line is piecewise linear (a sum of hinges of functions linear in a) and over a
plane a convex bowl of flat facets; the softmax's is smooth; L2 regularization adds a
parabola.

It is exact and fast because the model is linear: the scores on the plane are
``S0 + a S1 + b S2`` with ``S1 = X D1`` and ``S2 = X D2`` computed once, so each grid point
costs O(N C) (the kernels in :mod:`linviz.explore.surface_kernels`), not the O(N D C) of
evaluating the loss afresh. The regularization is exact as well: for L2 the quadratic form
``|W + a D1 + b D2|^2`` from the six inner products; for L1 (and the L1 part of the elastic
net) a kernel sums the absolute values at every grid point.

Directions (all (D, C) arrays of W's shape):

* :func:`random_directions`: Gaussian, each class column scaled to the norm of W's column
  ("filter normalization"), so the picture does not depend on the feature scale: a = 1
  moves every class template by its own length.
* :func:`gradient_direction`: the negative gradient of the loss at W, scaled to W's norm.
* :func:`trajectory_plane`: the two main directions of a training trajectory (PCA of the
  weight snapshots' displacements from W), the path's coordinates on that plane and its
  distance from it (the path is not on the plane).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numba
import numpy as np

from linviz.errors import LinvizError
from linviz.limits import MAX_LANDSCAPE_SPAN, MAX_LANDSCAPE_STEPS, MIN_LANDSCAPE_SPAN
from linviz.models.losses import SOFTMAX_KERNEL, LossFunction, check_inputs, loss_named
from linviz.models.regularizers import check_reg_type, regularizer_named
from linviz.progress import check_cancelled, report
from linviz.explore import surface_kernels as K

MAX_GRID_STEPS = MAX_LANDSCAPE_STEPS  # alphas or betas per axis
MAX_GRID_POINTS = 1_100_000


class SurfaceError(LinvizError, ValueError):
    """The loss cannot be computed around these weights (too large to compute with): a
    message for the user, not a bug."""


@dataclass(frozen=True, eq=False)
class LossSurface:
    """The loss on a line (1-D) or over a plane (2-D) through W.

    1-D: ``data``, ``reg`` and ``total`` are (len(alphas),), ``betas`` is None. 2-D: they are
    (len(betas), len(alphas)), row k at ``betas[k]``, column m at ``alphas[m]``; the center
    of the grid is W itself when the ranges are symmetric. ``data`` is the mean data loss over
    the ``n_images`` images, ``reg`` the regularization loss ``reg * R``, ``total`` their sum.
    """

    alphas: np.ndarray
    betas: Optional[np.ndarray]
    data: np.ndarray
    reg: np.ndarray
    total: np.ndarray
    loss: str
    n_images: int

    @property
    def is_2d(self) -> bool:
        return self.betas is not None

    def value_at(self, a: float, b: float = 0.0) -> tuple[int, int, float, float, float]:
        """The grid point nearest to (a, b): (row, column, data, reg, total); row 0 in 1-D."""
        m = int(np.argmin(np.abs(self.alphas - a)))
        if self.betas is None:
            return 0, m, float(self.data[m]), float(self.reg[m]), float(self.total[m])
        k = int(np.argmin(np.abs(self.betas - b)))
        return k, m, float(self.data[k, m]), float(self.reg[k, m]), float(self.total[k, m])

    def to_json(self) -> dict:
        """{"alphas", "betas", "data", "reg", "total"} as lists (betas None in 1-D)."""
        return {"alphas": self.alphas.tolist(), "betas": None if self.betas is None else self.betas.tolist(),
                "data": self.data.tolist(), "reg": self.reg.tolist(), "total": self.total.tolist()}


def grid(span: float, steps: int, center: float = 0.0) -> np.ndarray:
    """``steps`` evenly spaced values from center - span to center + span (float64); the span
    from MIN_LANDSCAPE_SPAN to MAX_LANDSCAPE_SPAN (smaller ones are not distinct numbers)."""
    if not (math.isfinite(span) and MIN_LANDSCAPE_SPAN <= span <= MAX_LANDSCAPE_SPAN):
        raise ValueError(f"the range must be a number from {MIN_LANDSCAPE_SPAN:g} to {MAX_LANDSCAPE_SPAN:g}, "
                         f"got {span:.4g}")
    if not 2 <= int(steps) <= MAX_GRID_STEPS:
        raise ValueError(f"steps must be from 2 to {MAX_GRID_STEPS}, got {steps}")
    return np.linspace(center - span, center + span, int(steps))


def _axis(values, name: str) -> np.ndarray:
    values = np.ascontiguousarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size < 1:
        raise ValueError(f"{name} must be a 1-D array of at least one value")
    if values.size > MAX_GRID_STEPS:
        raise ValueError(f"{name}: at most {MAX_GRID_STEPS} values, got {values.size}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} must be finite")
    if np.any(np.diff(values) <= 0):
        raise ValueError(f"{name} must be increasing")
    return values


def _evenly_spaced(alphas: np.ndarray) -> bool:
    if alphas.size < 3:
        return True
    steps = np.diff(alphas)
    return bool(np.all(np.abs(steps - steps.mean()) <= 1e-9 * abs(steps.mean())))


def _log_chunk(n_classes: int) -> int:
    """Images whose softmax sums (each in [e^-40, C]) may be multiplied and stay a normal
    double: e^(-40 n) > 2^-1000 and C^n < 2^1000."""
    return max(1, min(17, int(1000.0 / math.log2(max(n_classes, 2)))))


def scores_along(W: np.ndarray, X: np.ndarray, directions: Sequence[np.ndarray]) -> list[np.ndarray]:
    """``[X W, X D1, ...]`` as float64 (N, C) matrices, from one matrix product in X's dtype."""
    dtype = np.float64 if np.asarray(X).dtype == np.float64 else np.float32
    stacked = np.concatenate([np.asarray(W, dtype=dtype)] + [np.asarray(d, dtype=dtype) for d in directions], axis=1)
    S = np.asarray(X, dtype=dtype) @ stacked
    C = W.shape[1]
    return [np.ascontiguousarray(S[:, k * C:(k + 1) * C], dtype=np.float64) for k in range(len(directions) + 1)]


def _check_directions(W: np.ndarray, directions) -> list[np.ndarray]:
    dirs = [np.asarray(d) for d in directions]
    for d in dirs:
        if d.shape != W.shape:
            raise ValueError(f"a direction has shape {d.shape}, W has {W.shape}")
        if not np.all(np.isfinite(d)):
            raise ValueError("a direction has values that are not finite")
    return dirs


def loss_surface(W, X, y, directions, alphas, betas=None, *, loss: str = "svm", reg: float = 0.0,
                 reg_type: str = "l2", delta: float = 1.0, squared: bool = False, elastic_beta: float = 1.0,
                 n_reg_rows: Optional[int] = None, parallel: bool = True, cancel=None, progress=None,
                 scores: Optional[list] = None) -> LossSurface:
    """The loss at ``W + a D1`` for a in ``alphas`` (``betas`` None, one direction) or at
    ``W + a D1 + b D2`` over the grid ``betas`` x ``alphas`` (two directions).

    The loss options are those of :func:`linviz.models.svm_loss` / ``softmax_loss`` (the
    data loss is the mean over the rows of X, natural log; ``n_reg_rows`` leaves the bias
    row unregularized when D - 1). ``parallel=False`` keeps the work on the calling thread
    (the quick lane; parallel kernels run from one thread at a time). ``cancel``: an Event or
    callable, checked between blocks of grid rows (raises :class:`linviz.errors.Cancelled`).
    ``scores``: ``scores_along(W, X, directions)`` computed before, to reuse it.
    """
    code = loss_named(loss).kernel_code
    check_reg_type(reg_type)
    W = np.asarray(W)
    X = np.asarray(X)
    y = np.ascontiguousarray(y, dtype=np.int64)
    check_inputs(W, X, y)
    dirs = _check_directions(W, directions)
    alphas = _axis(alphas, "alphas")
    if betas is None:
        if len(dirs) != 1:
            raise ValueError(f"a 1-D surface takes one direction, got {len(dirs)}")
        row_betas = np.zeros(1)
    else:
        if len(dirs) != 2:
            raise ValueError(f"a 2-D surface takes two directions, got {len(dirs)}")
        betas = _axis(betas, "betas")
        row_betas = betas
    if alphas.size * row_betas.size > MAX_GRID_POINTS:
        raise ValueError(f"at most {MAX_GRID_POINTS:,} grid points, got {alphas.size * row_betas.size:,}")
    N, C = X.shape[0], W.shape[1]
    if scores is None:
        scores = scores_along(W, X, dirs)
    S0, S1 = scores[0], scores[1]
    S2 = scores[2] if len(dirs) == 2 else S1  # 1-D: b = 0, S2 unused
    for S in (S0, S1, S2):
        if not np.all(np.isfinite(S)):
            raise SurfaceError("the scores are not finite (weights, directions or features too large)")
    uniform = _evenly_spaced(alphas)
    step = (alphas[-1] - alphas[0]) / (alphas.size - 1) if alphas.size > 1 else 0.0
    with np.errstate(over="ignore"):
        # the softmax kernel walks a uniform axis by powers of e^(S1 step); S1 h > 40 is never used
        R = np.exp(S1 * step) if code == SOFTMAX_KERNEL and uniform else S1
    out = np.empty((row_betas.size, alphas.size))
    run = K.data_grid_parallel if parallel else K.data_grid_serial
    threads = max(1, numba.get_num_threads()) if parallel else 1
    # rows per compiled call (cancel is checked between calls): 16 per thread, sharing the
    # softmax's per-image powers (fewer rows per call cost up to 2x)
    block = 16 * threads
    for row0 in range(0, row_betas.size, block):
        check_cancelled(cancel)
        row1 = min(row_betas.size, row0 + block)
        run(S0, S1, S2, R, y, alphas, uniform, row_betas, row0, row1, code, float(delta), bool(squared),
            _log_chunk(C), threads, out)
        report(progress, row1, row_betas.size)
    data = out / N
    regs = reg_grid(W, dirs, alphas, row_betas, reg=reg, reg_type=reg_type, elastic_beta=elastic_beta,
                    n_reg_rows=n_reg_rows, parallel=parallel)
    if betas is None:
        data, regs = data[0], regs[0]
    return LossSurface(alphas, betas, data, regs, data + regs, loss, N)


def reg_grid(W, directions, alphas, betas, *, reg: float, reg_type: str = "l2", elastic_beta: float = 1.0,
             n_reg_rows: Optional[int] = None, parallel: bool = True) -> np.ndarray:
    """``reg * R(W + a D1 [+ b D2])`` over betas x alphas (one direction: b ignored)."""
    penalty = regularizer_named(reg_type)
    out = np.zeros((len(betas), len(alphas)))
    if reg == 0:
        return out
    n = W.shape[0] if n_reg_rows is None else int(n_reg_rows)
    w = np.ascontiguousarray(W[:n], dtype=np.float64).ravel()
    d1 = np.ascontiguousarray(directions[0][:n], dtype=np.float64).ravel()
    d2 = (np.ascontiguousarray(directions[1][:n], dtype=np.float64).ravel() if len(directions) > 1
          else np.zeros_like(d1))
    a = np.asarray(alphas, dtype=np.float64)[None, :]
    b = np.asarray(betas, dtype=np.float64)[:, None]
    if penalty.squares:
        # |w + a d1 + b d2|^2 from the six inner products: exact up to rounding, O(1) per point
        ww, d11, d22 = w @ w, d1 @ d1, d2 @ d2
        wd1, wd2, d12 = w @ d1, w @ d2, d1 @ d2
        squares = ww + a * a * d11 + b * b * d22 + 2 * a * wd1 + 2 * b * wd2 + 2 * a * b * d12
        out += (elastic_beta if penalty.uses_beta else 1.0) * np.maximum(squares, 0.0)
    if penalty.absolute_values:
        absolute = np.empty_like(out)
        run = K.abs_grid_parallel if parallel else K.abs_grid_serial
        run(w, d1, d2, np.ascontiguousarray(alphas, dtype=np.float64), np.ascontiguousarray(betas, dtype=np.float64),
            absolute)
        out += absolute
    return reg * out


def loss_slices(W, X, y, directions, alphas, **options) -> list[LossSurface]:
    """One 1-D surface per direction (the lecture's overlaid random lines), from one matrix
    product for all of them."""
    dirs = _check_directions(np.asarray(W), directions)
    scores = scores_along(np.asarray(W), np.asarray(X), dirs)
    return [loss_surface(W, X, y, [d], alphas, None, scores=[scores[0], scores[k + 1]], **options)
            for k, d in enumerate(dirs)]


# --------------------------------------------------------------------------- directions


def _column_norms(W: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(np.asarray(W, dtype=np.float64), axis=0)
    if not np.any(norms > 0):
        return np.ones_like(norms)  # W = 0: unit columns (there is no scale to follow)
    fallback = float(np.mean(norms[norms > 0]))
    return np.where(norms > 0, norms, fallback)


def random_directions(W, count: int = 1, seed: int = 0) -> list[np.ndarray]:
    """``count`` Gaussian directions, each class column scaled to the norm of W's column
    (W = 0: unit columns; a zero column takes the mean of the others). float64."""
    W = np.asarray(W)
    rng = np.random.default_rng(seed)
    norms = _column_norms(W)
    out = []
    for _ in range(int(count)):
        d = rng.standard_normal(W.shape)
        d *= norms / np.linalg.norm(d, axis=0)
        out.append(d)
    return out


def _scale_like(d: np.ndarray, W: np.ndarray) -> np.ndarray:
    norm_d = float(np.linalg.norm(d))
    if norm_d == 0:
        return d
    target = float(np.linalg.norm(np.asarray(W, dtype=np.float64))) or float(np.sqrt(W.shape[1]))
    return d * (target / norm_d)


def gradient_direction(W, X, y, *, loss: str = "svm", reg: float = 0.0, reg_type: str = "l2",
                       delta: float = 1.0, squared: bool = False, elastic_beta: float = 1.0,
                       n_reg_rows: Optional[int] = None) -> np.ndarray:
    """The negative gradient of the total loss at W on (X, y), scaled to W's norm (float64).
    LinvizError when the gradient is zero (a minimum, or a flat spot of the hinge)."""
    fn = LossFunction(loss, reg, reg_type, elastic_beta, delta, squared, n_reg_rows)
    _, dW = fn(np.asarray(W, dtype=np.float64), np.asarray(X, dtype=np.float64) if np.asarray(X).dtype == np.float64
               else X, y)
    d = -np.asarray(dW, dtype=np.float64)
    if not np.any(d):
        raise LinvizError("the gradient is zero here: there is no downhill direction to show")
    return _scale_like(d, W)


def orthogonal_random(direction: np.ndarray, W, seed: int = 0) -> np.ndarray:
    """A random direction orthogonal to ``direction`` (Frobenius inner product), of its norm:
    the second axis of a plane through the gradient."""
    rng = np.random.default_rng(seed)
    d = rng.standard_normal(direction.shape)
    unit = direction / max(float(np.linalg.norm(direction)), np.finfo(float).tiny)
    d -= float(np.sum(d * unit)) * unit
    return d * (float(np.linalg.norm(direction)) / float(np.linalg.norm(d)))


@dataclass(frozen=True, eq=False)
class TrajectoryPlane:
    """The plane through W spanned by a trajectory's two main directions.

    ``directions``: (D1, D2), orthogonal, each of W's norm; ``coordinates`` (T, 2): the (a, b)
    of every snapshot's projection on the plane (W at (0, 0)); ``distances`` (T,): each
    snapshot's distance from the plane in units of |W| (the part the plane cannot show);
    ``explained``: the share of the path's squared displacement the plane holds.
    """

    directions: tuple
    coordinates: np.ndarray
    distances: np.ndarray
    explained: float

    @property
    def max_distance(self) -> float:
        return float(self.distances.max()) if self.distances.size else 0.0

    def note(self) -> str:
        return (f"the plane holds {self.explained:.1%} of the path's squared displacement; the path is up to "
                f"{self.max_distance:.3g} |W| away from it (mean {float(np.mean(self.distances)):.3g} |W|)")


def trajectory_plane(trajectory: Sequence[np.ndarray], W) -> TrajectoryPlane:
    """PCA of the displacements ``W_t - W`` of the snapshots (uncentered: the plane passes
    through W, the surface's center). The first direction is signed so that the path starts
    at a < 0. LinvizError with fewer than two snapshots away from W or a path on a line."""
    W = np.asarray(W, dtype=np.float64)
    snaps = [np.asarray(t, dtype=np.float64) for t in trajectory if np.asarray(t).shape == W.shape]
    if len(snaps) < 2:
        raise LinvizError("the trajectory needs the weights of at least two epochs (train a little longer)")
    M = np.stack([(s - W).ravel() for s in snaps])
    if not np.all(np.isfinite(M)):
        raise LinvizError("the trajectory has weights that are not finite")
    _, sv, Vt = np.linalg.svd(M, full_matrices=False)
    if len(sv) < 2 or sv[1] <= 1e-12 * max(sv[0], np.finfo(float).tiny):
        raise LinvizError("the trajectory lies on a line: it spans no plane (train a little longer)")
    scale = float(np.linalg.norm(W)) or 1.0
    v1, v2 = Vt[0], Vt[1]
    first = M[0]
    if float(first @ v1) > 0:
        v1 = -v1
    if float(first @ v2) > 0:
        v2 = -v2
    coords = np.stack([M @ v1, M @ v2], axis=1) / scale
    residual = M - np.outer(M @ v1, v1) - np.outer(M @ v2, v2)
    distances = np.linalg.norm(residual, axis=1) / scale
    total = float(np.sum(sv ** 2))
    explained = float((sv[0] ** 2 + sv[1] ** 2) / total) if total > 0 else 1.0
    return TrajectoryPlane((v1.reshape(W.shape) * scale, v2.reshape(W.shape) * scale), coords, distances, explained)


DIRECTION_KINDS = ("random", "gradient", "trajectory")
