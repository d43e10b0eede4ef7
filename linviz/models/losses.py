"""The two losses of linear classification, SVM (hinge) and softmax (cross-entropy).

``svm_loss(W, X, y, reg)`` and ``softmax_loss(W, X, y, reg)`` return ``(loss, dW)`` for
W (D, C), X (N, D), y (N,) integer class indices: the data loss averaged over the N images,
plus ``reg * R(W)`` (see :mod:`linviz.models.regularizers`), natural logarithm. Both accept
float32 and float64 (the result is in the wider of the two dtypes) and run on the fused
kernels of :mod:`linviz.models.loss_kernels`.

``LOSSES`` is the one table of the losses: for each name (the identifier that model files,
settings and run records store) what every layer needs to know about it, from the label a
menu shows to the kernel that computes it. Code that must treat the losses differently reads
a property of the entry (``LOSSES[name].has_probabilities``), never compares names.

``LossFunction`` is the same computation with its buffers kept, for the training loop: it
works on the transposed weights ``Wt`` (C, D) that the kernels want, reads the minibatch rows
of X in place, and writes the gradient into one preallocated array.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from linviz.models import loss_kernels
from linviz.models.loss_kernels import SOFTMAX_KERNEL, SVM_KERNEL
from linviz.models.regularizers import REG_TYPES, check_reg_type
from linviz.numba_setup import readonly


@dataclass(frozen=True)
class LossSpec:
    """What linviz knows about one loss; an entry of :data:`LOSSES`.

    ``initial_loss(n_classes, delta, squared)`` is the loss at W = 0, where every score is
    equal: what the first iterations of a run from small random weights should show (the
    lecture's sanity check). ``initial_loss_words`` says the same for a person ("ln 10",
    "C - 1 = 9"); ``initial_loss_rule`` is the rule without numbers ("ln C").
    """

    name: str  # the stored identifier: model files, settings, run records, --model
    label: str  # what a menu shows: "Multiclass SVM (hinge)"
    short_label: str  # inside a sentence or a narrow box: "SVM"
    help: str  # one line for a tooltip or --help
    has_probabilities: bool  # its scores become class probabilities (else they stay scores)
    hinge: bool  # a sum of hinges: a margin delta, piecewise linear with kinks; else smooth
    kernel_code: Optional[int]  # SVM_KERNEL / SOFTMAX_KERNEL; None: no compiled kernel (NumPy)
    initial_loss_rule: str
    initial_loss: Callable[..., float]
    initial_loss_words: Callable[..., str]

    def expected_initial_loss(self, n_classes: int, delta: float = 1.0, squared: bool = False) -> float:
        return float(self.initial_loss(int(n_classes), float(delta), bool(squared)))


# The loss at W = 0 and its words, per loss: (n_classes, delta, squared) -> float / str.
def _softmax_initial(n_classes: int, delta: float = 1.0, squared: bool = False) -> float:
    return math.log(n_classes)  # every probability is 1 / C


def _softmax_initial_words(n_classes: int, delta: float = 1.0, squared: bool = False) -> str:
    return f"ln {n_classes}"


def _svm_initial(n_classes: int, delta: float = 1.0, squared: bool = False) -> float:
    # every one of the C - 1 wrong classes sits exactly at the margin
    return (n_classes - 1) * (delta ** 2 if squared else delta)


def _svm_initial_words(n_classes: int, delta: float = 1.0, squared: bool = False) -> str:
    if delta == 1:
        return f"C - 1 = {n_classes - 1}"
    return f"(C - 1) x {'delta^2' if squared else 'delta'}"


LOSSES: dict[str, LossSpec] = {
    "softmax": LossSpec(
        name="softmax", label="Softmax (cross-entropy)", short_label="softmax",
        help="Cross-entropy of the softmax probabilities, -ln p_y: smooth, and the scores become probabilities",
        has_probabilities=True, hinge=False, kernel_code=SOFTMAX_KERNEL, initial_loss_rule="ln C",
        initial_loss=_softmax_initial, initial_loss_words=_softmax_initial_words),
    "svm": LossSpec(
        name="svm", label="Multiclass SVM (hinge)", short_label="SVM",
        help="Multiclass SVM (Weston-Watkins): every wrong class whose score comes within delta of the true "
             "class's adds the excess; scores, not probabilities",
        has_probabilities=False, hinge=True, kernel_code=SVM_KERNEL, initial_loss_rule="(C - 1) × delta",
        initial_loss=_svm_initial, initial_loss_words=_svm_initial_words),
}
# The kernels' code of each loss (the chunked training loop and the loss surfaces take it).
LOSS_CODES = {name: spec.kernel_code for name, spec in LOSSES.items()}


def loss_named(name: str, table: Optional[dict] = None) -> LossSpec:
    """The entry of ``table`` (default :data:`LOSSES`) called ``name``; ValueError naming the
    choices when there is none."""
    table = LOSSES if table is None else table
    try:
        return table[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {name!r}; choose from {', '.join(table)}") from None


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
        self._kernel = loss_named(self.loss).kernel_code
        self._reg_code = check_reg_type(self.reg_type)

    def expected_initial_loss(self, n_classes: int) -> float:
        """The loss at W ~ 0: every score equal, so C - 1 margins of delta, or ln C."""
        return loss_named(self.loss).expected_initial_loss(n_classes, self.delta, self.squared)

    def transposed(self, Wt: np.ndarray, X: np.ndarray, y: np.ndarray, idx: np.ndarray,
                   dWt: np.ndarray | None) -> float:
        """Loss of rows ``idx`` at weights ``Wt`` (C, D); gradient written into ``dWt`` unless None.

        No checks here (the caller validated once): Wt, X and dWt share one float dtype and are
        C-contiguous, y and idx are int64 with valid values.
        """
        n_reg = Wt.shape[1] if self.n_reg_rows is None else int(self.n_reg_rows)
        out = dWt if dWt is not None else _EMPTY[Wt.dtype.char]  # empty: the loss alone
        X, y = readonly(X), readonly(y)  # the kernel's one type for what it only reads
        # float32 data gets the softmax's vectorized exp() (float64 keeps libm's, to its full
        # precision)
        return loss_kernels.loss_batch(Wt, X, y, idx, self._kernel, float(self.delta), bool(self.squared),
                                       float(self.reg), self._reg_code, float(self.elastic_beta), n_reg, out,
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
        if REG_TYPES[self.reg_type].absolute_values and self.reg > 0:
            out |= np.array([d < n_reg and abs(W[d, c]) < h for d, c in coords])
        if LOSSES[self.loss].hinge and not self.squared:  # a squared hinge is smooth
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
