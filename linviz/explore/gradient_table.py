"""The gradient check, as a table: sampled weights, analytic and numerical derivatives, their
relative error, judged by the course's thresholds; and the sweep of the step h.

The numbers are :func:`linviz.training.gradient_check`'s, computed in float64 on one
minibatch of the given features: the numerical derivative is the centered difference
``(f(w + h) - f(w - h)) / 2h`` with the chosen h; relative error ``|n - a| / (|n| + |a|)``;
zero within rounding where both derivatives are rounding noise. Richardson's
``(4 g(h/2) - g(h)) / 3`` is a separate column, for comparison. The course's reading
(CS231n, "Gradient checks"): below 1e-7 fine; up to 1e-4 acceptable for a loss with kinks but
too high for a smooth one such as the softmax; above 1e-4 suspect; above 1e-2 wrong. An entry
whose steps +-h crossed a kink of the loss (an SVM margin, or an L1 / elastic-net weight,
within reach of 0: :meth:`linviz.models.LossFunction.crossed_kinks`) is marked ``kink``: its
error says nothing about the gradient. A smooth loss has no kinks and never shows one.

:func:`gradient_sweep` is the lecture's lesson in one curve: the median relative error for h
from 1e-1 to 1e-10, a V on a log-log plot (truncation error falls with h, rounding error
rises as h shrinks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from linviz.errors import Cancelled
from linviz.models.losses import LOSSES, LossFunction
from linviz.progress import is_cancelled
from linviz.training.numerical_gradient import (SWEEP_STEPS, GradientCheckResult, StepSweep, gradient_check,
                                              step_sweep)

FINE, ACCEPTABLE, WRONG = 1e-7, 1e-4, 1e-2
VERDICTS = {
    "fine": "below 1e-7: the gradient is right",
    "acceptable": "1e-7 to 1e-4: acceptable for a loss with kinks (SVM)",
    "suspect": "above 1e-4 (or above 1e-7 for a smooth loss): suspect",
    "wrong": "above 1e-2: the gradient is probably wrong",
    "kink": "the steps ±h crossed a kink of the loss (hinge or |w|): not an error",
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
    richardson_rel_error: float = float("nan")  # of (4 g(h/2) - g(h)) / 3, for comparison


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


def _minibatch(X, y, batch_size: int, seed: int):
    """The float64 minibatch of ``batch_size`` rows drawn from ``seed``."""
    X = np.asarray(X)
    y = np.asarray(y)
    rng = np.random.default_rng([int(seed), 0x6C4E])
    rows = np.sort(rng.choice(X.shape[0], min(int(batch_size), X.shape[0]), replace=False))
    return np.ascontiguousarray(X[rows], dtype=np.float64), np.ascontiguousarray(y[rows], dtype=np.int64)


def _check_problem(W, X, y, loss, reg, reg_type, delta, squared, elastic_beta, n_reg_rows, batch_size, seed,
                   cancel):
    """(f, value, kinks, W copy, minibatch rows) of one check, in float64."""
    Xb, yb = _minibatch(X, y, batch_size, seed)
    fn = LossFunction(loss, reg, reg_type, elastic_beta, delta, squared, n_reg_rows)
    W0 = np.array(W, dtype=np.float64, copy=True)

    def f(Wc):
        if is_cancelled(cancel):
            raise Cancelled("gradient check cancelled")
        return fn(Wc, Xb, yb)

    def value(Wc):
        if is_cancelled(cancel):
            raise Cancelled("gradient check cancelled")
        return fn.value(Wc, Xb, yb)

    def kinks(coords, h):
        return fn.crossed_kinks(W0, Xb, yb, coords, h)

    return f, value, kinks, W0.copy(), len(yb)


def _check_h(h) -> float:
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"h must be a finite number > 0, got {h}")
    return float(h)


def gradient_table(W, X, y, *, loss: str = "softmax", reg: float = 0.0, reg_type: str = "l2", delta: float = 1.0,
                   squared: bool = False, elastic_beta: float = 1.0, n_reg_rows: Optional[int] = None,
                   num_checks: int = 100, h: float = 1e-5, batch_size: int = 200, seed: int = 0,
                   cancel=None) -> GradientTable:
    """Check the gradient of the loss at W on a minibatch of ``batch_size`` rows of (X, y)
    (drawn from ``seed``), at ``num_checks`` weights, in float64, with centered differences of
    step ``h``. ``cancel`` (Event or callable) is checked at every loss evaluation (raises
    Cancelled)."""
    h = _check_h(h)
    f, value, kinks, Wc, n_rows = _check_problem(W, X, y, loss, reg, reg_type, delta, squared, elastic_beta,
                                                 n_reg_rows, batch_size, seed, cancel)
    result = gradient_check(f, Wc, num_checks=int(num_checks), h=h, seed=int(seed), kinks=kinks, value=value)
    smooth = not LOSSES[loss].hinge
    table = tuple(GradientRow(int(ix[0]), int(ix[1]), float(a), float(nu), float(r),
                              verdict(float(r), kink=bool(k), zero=bool(z), smooth=smooth), float(ri))
                  for ix, a, nu, r, k, z, ri in zip(result.coordinates, result.analytic, result.numeric,
                                                    result.rel_errors, result.crossed_kink,
                                                    result.zero_within_rounding, result.richardson_rel_errors))
    return GradientTable(table, result, loss, h, n_rows, log_histogram(result.rel_errors))


def gradient_sweep(W, X, y, *, loss: str = "softmax", reg: float = 0.0, reg_type: str = "l2", delta: float = 1.0,
                   squared: bool = False, elastic_beta: float = 1.0, n_reg_rows: Optional[int] = None,
                   num_checks: int = 100, steps=SWEEP_STEPS, batch_size: int = 200, seed: int = 0,
                   cancel=None, progress=None) -> StepSweep:
    """The median relative error of the centered difference for each step of ``steps``, on the
    weights and minibatch :func:`gradient_table` checks with the same ``seed`` (kinks and
    zeros left out, see :func:`linviz.training.step_sweep`)."""
    steps = tuple(_check_h(h) for h in steps)
    f, value, kinks, Wc, _ = _check_problem(W, X, y, loss, reg, reg_type, delta, squared, elastic_beta,
                                            n_reg_rows, batch_size, seed, cancel)
    return step_sweep(f, Wc, num_checks=int(num_checks), steps=steps, seed=int(seed), kinks=kinks, value=value,
                      progress=progress)
