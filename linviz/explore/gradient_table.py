"""The gradient check, as a table: sampled weights, analytic and numerical derivatives, their
relative error, judged by the course's thresholds.

The numbers are :func:`linviz.training.gradient_check`'s (centered differences with step h,
Richardson-combined; relative error ``|n - a| / (|n| + |a|)``; zero within rounding where
both derivatives are rounding noise; kinks detected by comparing steps h and h/2), computed
in float64 on one minibatch of the given features. The course's reading (CS231n, "Gradient
checks"): below 1e-7 fine; up to 1e-4 acceptable for a loss with kinks but too high for a
smooth one such as the softmax; above 1e-4 suspect; above 1e-2 wrong. An SVM entry whose
finite difference crossed a hinge kink is marked ``kink``: its error says nothing about the
gradient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from linviz.errors import Cancelled
from linviz.models.losses import LOSSES, LossFunction
from linviz.progress import is_cancelled
from linviz.training.numerical_gradient import GradientCheckResult, gradient_check

FINE, ACCEPTABLE, WRONG = 1e-7, 1e-4, 1e-2
VERDICTS = {
    "fine": "below 1e-7: the gradient is right",
    "acceptable": "1e-7 to 1e-4: acceptable for a loss with kinks (SVM)",
    "suspect": "above 1e-4 (or above 1e-7 for a smooth loss): suspect",
    "wrong": "above 1e-2: the gradient is probably wrong",
    "kink": "the step crossed a kink of the hinge: not an error",
    "zero": "zero within rounding: both derivatives are rounding noise",
}
HISTOGRAM_EDGES = np.arange(-17.0, 1.0, 1.0)  # log10 of the relative error; zeros in the first bin


def verdict(rel_error: float, *, kink: bool = False, zero: bool = False, smooth: bool = False) -> str:
    """The course's reading of one relative error (a key of :data:`VERDICTS`)."""
    if zero:
        return "zero"
    if kink:
        return "kink"
    if rel_error < FINE:
        return "fine"
    if rel_error > WRONG:
        return "wrong"
    if rel_error <= ACCEPTABLE and not smooth:
        return "acceptable"
    return "suspect"


@dataclass(frozen=True)
class GradientRow:
    feature: int  # row of W
    cls: int  # column of W
    analytic: float
    numeric: float
    rel_error: float
    verdict: str


@dataclass(frozen=True, eq=False)
class GradientTable:
    rows: tuple
    result: GradientCheckResult
    loss: str
    h: float
    batch_rows: int
    counts: np.ndarray  # histogram of log10(rel error) over HISTOGRAM_EDGES (zeros in the first bin)

    @property
    def smooth(self) -> bool:
        """No kinks: a relative error above 1e-7 cannot be blamed on a hinge."""
        return not LOSSES[self.loss].hinge

    def verdict_counts(self) -> dict:
        out = {key: 0 for key in VERDICTS}
        for row in self.rows:
            out[row.verdict] += 1
        return out

    def summary(self) -> str:
        counts = self.verdict_counts()
        parts = [f"{n} {key}" for key, n in counts.items() if n]
        return f"{self.result.summary()}. Verdicts: {', '.join(parts)}"


def log_histogram(rel_errors: np.ndarray) -> np.ndarray:
    """Counts of log10(rel error) in the unit bins of :data:`HISTOGRAM_EDGES`; errors below
    1e-17 (zeros too) in the first bin, above 1 in the last."""
    values = np.log10(np.maximum(np.asarray(rel_errors, dtype=np.float64), 10.0 ** HISTOGRAM_EDGES[0]))
    values = np.clip(values, HISTOGRAM_EDGES[0], HISTOGRAM_EDGES[-1] - 1e-9)
    counts, _ = np.histogram(values, bins=HISTOGRAM_EDGES)
    return counts


def gradient_table(W, X, y, *, loss: str = "softmax", reg: float = 0.0, reg_type: str = "l2", delta: float = 1.0,
                   squared: bool = False, elastic_beta: float = 1.0, n_reg_rows: Optional[int] = None,
                   num_checks: int = 100, h: float = 1e-4, batch_size: int = 200, seed: int = 0,
                   cancel=None) -> GradientTable:
    """Check the gradient of the loss at W on a minibatch of ``batch_size`` rows of (X, y)
    (drawn from ``seed``), at ``num_checks`` weights, in float64. ``cancel`` (Event or
    callable) is checked at every loss evaluation (raises Cancelled)."""
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"h must be a finite number > 0, got {h}")
    X = np.asarray(X)
    y = np.asarray(y)
    n = X.shape[0]
    rng = np.random.default_rng([int(seed), 0x6C4E])
    rows = np.sort(rng.choice(n, min(int(batch_size), n), replace=False))
    Xb = np.ascontiguousarray(X[rows], dtype=np.float64)
    yb = np.ascontiguousarray(y[rows], dtype=np.int64)
    fn = LossFunction(loss, reg, reg_type, elastic_beta, delta, squared, n_reg_rows)

    def f(Wc):
        if is_cancelled(cancel):
            raise Cancelled("gradient check cancelled")
        return fn(Wc, Xb, yb)

    Wc = np.array(W, dtype=np.float64, copy=True)
    result = gradient_check(f, Wc, num_checks=int(num_checks), h=float(h), seed=int(seed))
    smooth = not LOSSES[loss].hinge
    table = tuple(GradientRow(int(ix[0]), int(ix[1]), float(a), float(nu), float(r),
                              verdict(float(r), kink=bool(k), zero=bool(z), smooth=smooth))
                  for ix, a, nu, r, k, z in zip(result.coordinates, result.analytic, result.numeric,
                                                result.rel_errors, result.crossed_kink, result.zero_within_rounding))
    return GradientTable(table, result, loss, float(h), len(rows), log_histogram(result.rel_errors))
