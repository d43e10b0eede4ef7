"""The two losses of linear classification, SVM (hinge) and softmax (cross-entropy).

``svm_loss(W, X, y, reg)`` and ``softmax_loss(W, X, y, reg)`` return ``(loss, dW)`` for
W (D, C), X (N, D), y (N,) integer class indices: the data loss averaged over the N images,
plus ``reg * R(W)`` (see :mod:`linviz.models.regularizers`), natural logarithm. Both accept
float32 and float64 (the result is in the wider of the two dtypes) and run on the fused
kernels of :mod:`linviz.models.loss_kernels`.

``LossFunction`` is the same computation with its buffers kept, for the training loop: it
works on the transposed weights ``Wt`` (C, D) that the kernels want, reads the minibatch rows
of X in place, and writes the gradient into one preallocated array.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linviz.models import loss_kernels
from linviz.models.regularizers import check_reg_type

LOSSES = ("svm", "softmax")


def _float_dtype(*arrays) -> np.dtype:
    dtype = np.result_type(*arrays)
    return np.dtype(np.float64) if dtype == np.float64 else np.dtype(np.float32)


def check_inputs(W: np.ndarray, X: np.ndarray, y: np.ndarray) -> None:
    """ValueError for shapes or labels the kernels must never see (they do no bounds checks)."""
    if W.ndim != 2 or X.ndim != 2 or y.ndim != 1:
        raise ValueError(f"expected W (D, C), X (N, D), y (N,); got {W.shape}, {X.shape}, {y.shape}")
    if X.shape[1] != W.shape[0]:
        raise ValueError(f"X has {X.shape[1]} columns but W has {W.shape[0]} rows")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} labels")
    if X.shape[0] == 0:
        raise ValueError("empty batch: X has no rows")
    if y.size and (y.min() < 0 or y.max() >= W.shape[1]):
        raise ValueError(f"labels must lie in 0..{W.shape[1] - 1}; got {y.min()}..{y.max()}")


@dataclass
class LossFunction:
    """A loss with its hyper-parameters fixed, evaluated by the fused kernels.

    ``n_reg_rows``: how many leading rows of W are regularized (None = all, the textbook
    definition; a classifier passes D - 1 to leave the bias row free).
    """

    loss: str = "softmax"
    reg: float = 0.0
    reg_type: str = "l2"
    elastic_beta: float = 1.0
    delta: float = 1.0
    squared: bool = False
    n_reg_rows: int | None = None

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose from {', '.join(LOSSES)}")
        self._reg_code = check_reg_type(self.reg_type)

    def expected_initial_loss(self, n_classes: int) -> float:
        """The loss at W ~ 0: every score equal, so C - 1 margins of delta, or ln C."""
        if self.loss == "softmax":
            return float(np.log(n_classes))
        return float((n_classes - 1) * (self.delta ** 2 if self.squared else self.delta))

    def transposed(self, Wt: np.ndarray, X: np.ndarray, y: np.ndarray, idx: np.ndarray,
                   dWt: np.ndarray | None) -> float:
        """Loss of rows ``idx`` at weights ``Wt`` (C, D); gradient written into ``dWt`` unless None.

        No checks here (the caller validated once): Wt, X and dWt share one float dtype and are
        C-contiguous, y and idx are int64 with valid values.
        """
        n_reg = Wt.shape[1] if self.n_reg_rows is None else int(self.n_reg_rows)
        want_grad = dWt is not None
        out = dWt if want_grad else _EMPTY[Wt.dtype.char]
        if self.loss == "svm":
            return loss_kernels.svm_batch(Wt, X, y, idx, float(self.delta), bool(self.squared),
                                          float(self.reg), self._reg_code, float(self.elastic_beta),
                                          n_reg, want_grad, out)
        # float32 data gets the vectorized exp() (float64 keeps libm's, to its full precision)
        return loss_kernels.softmax_batch(Wt, X, y, idx, float(self.reg), self._reg_code,
                                          float(self.elastic_beta), n_reg, want_grad, out,
                                          Wt.dtype == np.float32)

    def __call__(self, W: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """``(loss, dW)`` at W (D, C) over all rows of X."""
        Wt, Xc, yc, rows = _kernel_inputs(W, X, y)
        dWt = np.empty_like(Wt)
        loss = self.transposed(Wt, Xc, yc, rows, dWt)
        return float(loss), np.ascontiguousarray(dWt.T)

    def value(self, W: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
        """The loss alone at W (D, C) over all rows of X (no gradient computed)."""
        return float(self.transposed(*_kernel_inputs(W, X, y), None))

    def crossed_kinks(self, W: np.ndarray, X: np.ndarray, y: np.ndarray, coordinates, h: float) -> np.ndarray:
        """Which steps ``W[d, c] +- h`` put a kink of this loss between them (bool per
        ``(d, c)`` of ``coordinates``), at W (D, C) on the rows of (X, y).

        The kinks are where the loss is not differentiable: a hinge margin
        ``s_j - s_{y_i} + delta`` (j != y_i) at 0 for the plain SVM (the squared hinge is
        differentiable there), and a regularized weight at 0 for the L1 and elastic-net terms.
        A step of h on ``W[d, c]`` moves ``s_c`` of image i by ``h x_id``: the margins of class
        c of the images of other classes, and every margin of the images of class c (their
        ``s_{y_i}``). A margin m crosses when ``|m| < h |x_id|``; a weight when ``|w| < h``.
        The softmax with L2 has no kinks: nothing is ever flagged.
        """
        W = np.asarray(W, dtype=np.float64)
        coords = [(int(d), int(c)) for d, c in coordinates]
        out = np.zeros(len(coords), dtype=bool)
        if not coords:
            return out
        n_reg = W.shape[0] if self.n_reg_rows is None else int(self.n_reg_rows)
        if self.reg_type in ("l1", "elastic") and self.reg > 0:
            out |= np.array([d < n_reg and abs(W[d, c]) < h for d, c in coords])
        if self.loss == "svm" and not self.squared:
            X = np.asarray(X, dtype=np.float64)
            y = np.asarray(y, dtype=np.int64)
            scores = X @ W
            rows = np.arange(len(y))
            margins = np.abs(scores - scores[rows, y][:, None] + self.delta)
            margins[rows, y] = np.inf  # no margin of the true class
            for k, (d, c) in enumerate(coords):
                reach = h * np.abs(X[:, d])
                own = y == c
                others = ~own & (margins[:, c] < reach)
                mine = own & (margins < reach[:, None]).any(axis=1)
                out[k] |= bool(others.any() or mine.any())
        return out


def _kernel_inputs(W, X, y):
    """(Wt, X, y, rows) checked and laid out as :meth:`LossFunction.transposed` wants them."""
    W = np.asarray(W)
    X = np.asarray(X)
    y = np.asarray(y)
    check_inputs(W, X, y)
    dtype = _float_dtype(W, X)
    return (np.ascontiguousarray(W.T, dtype=dtype), np.ascontiguousarray(X, dtype=dtype),
            np.ascontiguousarray(y, dtype=np.int64), np.arange(X.shape[0], dtype=np.int64))


# Zero-size gradient placeholders for loss-only calls (the kernels' signature wants an array).
_EMPTY = {"f": np.empty((0, 0), np.float32), "d": np.empty((0, 0), np.float64)}


def svm_loss(W, X, y, reg, delta=1.0, *, squared=False, reg_type="l2", elastic_beta=1.0,
             n_reg_rows=None):
    """Multiclass SVM loss ``mean_i sum_{j != y_i} max(0, s_j - s_{y_i} + delta) + reg*R(W)``.

    ``squared=True`` squares each margin (squared hinge). Returns ``(loss, dW)``.
    """
    return LossFunction("svm", reg, reg_type, elastic_beta, delta, squared, n_reg_rows)(W, X, y)


def softmax_loss(W, X, y, reg, *, reg_type="l2", elastic_beta=1.0, n_reg_rows=None):
    """Softmax loss ``mean_i -ln(e^{s_{y_i}} / sum_j e^{s_j}) + reg*R(W)``. Returns ``(loss, dW)``."""
    return LossFunction("softmax", reg, reg_type, elastic_beta, 1.0, False, n_reg_rows)(W, X, y)


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so that no exp() overflows."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)
