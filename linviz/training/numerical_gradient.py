"""Numerical gradient check: does the analytic gradient match centered differences?

For a sample of coordinates w of W the check compares the analytic derivative with the
centered difference the lecture teaches, ``g(h) = (f(w + h) - f(w - h)) / 2h``, and reports
the relative error ``|numeric - analytic| / max(|numeric| + |analytic|, tiny)`` per
coordinate and overall (the worst one, the median, and ``||n - a|| / (||n|| + ||a||)`` over
the sample).

The error of g(h) has two parts, and they pull the step in opposite directions:

* truncation: g(h) = f'(w) + h^2 f'''(w) / 6 + ..., an error that falls like h^2;
* rounding: f itself carries an error of a few eps |f|, and g divides the difference of two
  such values by 2h, an error that grows like 1/h.

So the relative error against h is a V on a log-log plot (:func:`step_sweep`): truncation on
the right, rounding on the left, the bottom near h ~ 1e-5 for a loss of a few units in
float64. Richardson's combination ``(4 g(h/2) - g(h)) / 3`` cancels the h^2 term (error
O(h^4)); it is reported apart (``richardson``), as what a better formula buys, never in
place of g(h).

Kinks: the SVM's hinge ``max(0, margin)`` and the L1 term ``|w|`` are not differentiable at
0. When the steps +-h put a margin, or the weight itself, on both sides of 0, the centered
difference averages two slopes and its error says nothing about the gradient. Only the loss
knows where its kinks are, so the caller says which steps cross one (``kinks``; for the
losses of :mod:`linviz.models`, :meth:`linviz.models.LossFunction.crossed_kinks`). A smooth
loss (the softmax with L2) has none, and no coordinate is ever flagged there. Flagged
coordinates (``crossed_kink``) are reported apart: ``max_rel_error_smooth`` and
``median_rel_error`` leave them out.

A derivative that is zero (an SVM bias whose class is balanced, a weight no image uses) has
no relative error to speak of: the analytic value is a sum that cancels to ~1e-16, the
numeric one is the error of the estimate, about ``eps * |f| / h`` from rounding (~1e-11 for a
loss of 3 in float64, growing like the square root of the number of terms summed in f).
Dividing one by the other would report 1.0. A coordinate whose numeric value is within the
error of the estimate -- the larger of ``64 * eps * |f| / h`` and four times the measured
disagreement of the steps h and h/2, which is rounding alone at small h -- and whose
analytic value is within rounding of zero (the same bound, and at most 1e-10 of the largest
analytic derivative) is reported as zero within rounding: ``zero_within_rounding`` is True,
its relative error 0, and it counts in no maximum or median.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np

from linviz.text import counted

# A loss's kinks: which of the coordinates' steps of +-h cross one (bool per coordinate).
KinkFinder = Callable[[Sequence[tuple], float], np.ndarray]

# The sweep of the lecture's lesson: the steps 1e-1 ... 1e-10.
SWEEP_STEPS = tuple(10.0 ** -k for k in range(1, 11))
# An analytic derivative below this fraction of the largest one can be zero within rounding.
_ZERO_FRACTION = 1e-10


def relative_errors(numeric: np.ndarray, analytic: np.ndarray) -> np.ndarray:
    """``|n - a| / (|n| + |a|)`` elementwise, 0 where both are 0."""
    denom = np.maximum(np.abs(numeric) + np.abs(analytic), np.finfo(np.float64).tiny)
    rel = np.abs(numeric - analytic) / denom
    rel[(numeric == 0) & (analytic == 0)] = 0.0
    return rel


@dataclass(frozen=True)
class GradientCheckResult:
    coordinates: tuple[tuple[int, ...], ...]   # the checked indices of W
    analytic: np.ndarray                      # d f / d w from the function
    numeric: np.ndarray                       # the centered difference g(h)
    rel_errors: np.ndarray                    # per coordinate, of ``numeric``
    crossed_kink: np.ndarray                  # bool per coordinate: the steps +-h crossed a kink
    h: float
    # bool per coordinate: analytic and numeric both within the rounding noise (rel error 0)
    zero_within_rounding: np.ndarray = None
    rounding_noise: np.ndarray = None         # per coordinate: the bound used for that
    richardson: np.ndarray = None             # (4 g(h/2) - g(h)) / 3, for comparison only

    def __post_init__(self):
        n = len(self.coordinates)
        if self.zero_within_rounding is None:
            object.__setattr__(self, "zero_within_rounding", np.zeros(n, bool))
        if self.rounding_noise is None:
            object.__setattr__(self, "rounding_noise", np.zeros(n))
        if self.richardson is None:
            object.__setattr__(self, "richardson", np.full(n, np.nan))

    @property
    def compared(self) -> np.ndarray:
        """Bool per coordinate: neither a crossed kink nor zero within rounding."""
        return ~self.crossed_kink & ~self.zero_within_rounding

    @property
    def richardson_rel_errors(self) -> np.ndarray:
        rel = relative_errors(self.richardson, self.analytic)
        rel[self.zero_within_rounding] = 0.0
        return rel

    @property
    def max_rel_error(self) -> float:
        return float(self.rel_errors.max()) if self.rel_errors.size else 0.0

    @property
    def max_rel_error_smooth(self) -> float:
        """Worst error over the coordinates whose steps did not cross a kink."""
        smooth = self.rel_errors[~self.crossed_kink]
        return float(smooth.max()) if smooth.size else 0.0

    @property
    def median_rel_error(self) -> float:
        """Median error over the compared coordinates (no kinks, no zeros); NaN if none."""
        rel = self.rel_errors[self.compared]
        return float(np.median(rel)) if rel.size else float("nan")

    @property
    def overall_rel_error(self) -> float:
        diff = np.linalg.norm(self.numeric - self.analytic)
        total = np.linalg.norm(self.numeric) + np.linalg.norm(self.analytic)
        return float(diff / total) if total > 0 else 0.0

    @property
    def n_kinks(self) -> int:
        return int(self.crossed_kink.sum())

    @property
    def n_zero(self) -> int:
        """Coordinates whose derivative is zero within rounding (not compared)."""
        return int(self.zero_within_rounding.sum())

    def summary(self) -> str:
        text = (f"{len(self.coordinates)} coordinates, centered differences with h={self.h:g}: max relative "
                f"error {self.max_rel_error:.2e}, median {self.median_rel_error:.2e}, overall "
                f"{self.overall_rel_error:.2e}")
        if self.n_kinks:
            text += (f"; {counted(self.n_kinks, 'step')} crossed a kink of the loss (max error elsewhere "
                     f"{self.max_rel_error_smooth:.2e})")
        if self.n_zero:
            bound = float(self.rounding_noise[self.zero_within_rounding].max())
            text += (f"; {counted(self.n_zero, 'coordinate')} zero within rounding (analytic and numeric "
                     f"both <= {bound:.1e}, not compared)")
        return text


def sample_coordinates(shape, num_checks: int, seed: int) -> tuple[tuple[int, ...], ...]:
    """``num_checks`` distinct random indices of an array of ``shape`` (all when fewer)."""
    size = int(np.prod(shape))
    flat = np.random.default_rng(seed).choice(size, size=min(int(num_checks), size), replace=False)
    return tuple(tuple(int(i) for i in np.unravel_index(k, shape)) for k in flat)


def _centered(value, W, ix, step) -> float:
    """g(step) at coordinate ``ix``; W is restored."""
    old = W[ix]
    W[ix] = old + step
    plus = float(value(W))
    W[ix] = old - step
    minus = float(value(W))
    W[ix] = old
    return (plus - minus) / (2.0 * step)


def _kinks_at(kinks, coords, h) -> np.ndarray:
    if kinks is None:
        return np.zeros(len(coords), bool)
    return np.asarray(kinks(coords, float(h)), dtype=bool).reshape(len(coords))


def gradient_check(f: Callable[[np.ndarray], tuple[float, np.ndarray]], W: np.ndarray,
                   num_checks: int = 20, h: float = 1e-5, seed: int = 0,
                   kinks: Optional[KinkFinder] = None,
                   value: Optional[Callable[[np.ndarray], float]] = None) -> GradientCheckResult:
    """Check ``f(W) -> (loss, dW)`` at ``num_checks`` random coordinates of W (W is restored).

    ``h`` is the step of the centered difference (1e-5, the lecture's, is near the bottom of
    the V for a loss of a few units in float64). ``kinks(coordinates, h)`` says which steps
    cross a kink of f; None means f is smooth (no coordinate is flagged). ``value(W)``, the
    loss alone, spares the gradient in the finite differences (default ``f(W)[0]``).
    """
    W = np.asarray(W)
    if value is None:
        value = lambda w: f(w)[0]  # noqa: E731
    loss0, analytic_full = f(W)
    analytic_full = np.array(analytic_full, dtype=np.float64, copy=True)
    coords = sample_coordinates(W.shape, num_checks, seed)
    crossed = _kinks_at(kinks, coords, h)
    full_step = np.empty(len(coords))
    half_step = np.empty(len(coords))
    analytic = np.empty(len(coords))
    for n, ix in enumerate(coords):
        full_step[n] = _centered(value, W, ix, h)
        half_step[n] = _centered(value, W, ix, h / 2)
        analytic[n] = analytic_full[ix]
    rel = relative_errors(full_step, analytic)
    # Rounding noise of the estimate: each f carries an error of a few eps |f| (more for long
    # sums), divided by the step. The measured spread of the two step sizes catches the long
    # sums (for a zero derivative it is the estimate's error alone).
    spread = np.abs(full_step - half_step)
    eps = np.finfo(W.dtype if np.issubdtype(W.dtype, np.floating) else np.float64).eps
    floor = 64.0 * eps * max(abs(float(loss0)), np.finfo(np.float64).tiny) / h
    noise = np.maximum(floor, 4.0 * spread)
    largest = float(np.abs(analytic_full).max()) if analytic_full.size else 0.0
    analytic_zero = np.abs(analytic) <= np.minimum(noise, _ZERO_FRACTION * largest)
    zero = ~crossed & analytic_zero & (np.abs(full_step) <= noise)
    rel[zero] = 0.0
    richardson = (4.0 * half_step - full_step) / 3.0
    return GradientCheckResult(coords, analytic, full_step, rel, crossed, float(h), zero, noise, richardson)


@dataclass(frozen=True)
class StepSweep:
    """The relative error of the centered difference against its step h, at fixed
    coordinates: the lecture's V (truncation falls with h, rounding rises as h shrinks)."""

    steps: np.ndarray             # h, from large to small
    median_rel_error: np.ndarray  # over the compared coordinates at each h (NaN if none)
    n_compared: np.ndarray        # coordinates neither crossing a kink nor zero, per h
    n_kinks: np.ndarray           # coordinates whose steps crossed a kink, per h

    @property
    def best_step(self) -> float:
        """The h of the lowest median error."""
        finite = np.where(np.isfinite(self.median_rel_error), self.median_rel_error, np.inf)
        return float(self.steps[int(np.argmin(finite))])


def step_sweep(f: Callable[[np.ndarray], tuple[float, np.ndarray]], W: np.ndarray, num_checks: int = 20,
               steps: Sequence[float] = SWEEP_STEPS, seed: int = 0, kinks: Optional[KinkFinder] = None,
               value: Optional[Callable[[np.ndarray], float]] = None,
               progress: Optional[Callable[[int, int], None]] = None) -> StepSweep:
    """The median relative error of g(h) for each h of ``steps``, on the coordinates
    :func:`gradient_check` samples with ``seed``.

    Which coordinates are zero within rounding is a property of the derivative, not of the
    step: it is decided once, by the check at h = 1e-5, and those coordinates are left out
    at every step (as are, per step, those whose steps cross a kink). ``progress(done,
    total)`` after each step.
    """
    W = np.asarray(W)
    if value is None:
        value = lambda w: f(w)[0]  # noqa: E731
    base = gradient_check(f, W, num_checks=num_checks, h=1e-5, seed=seed, kinks=kinks, value=value)
    medians, compared, crossed_counts = [], [], []
    for k, h in enumerate(steps):
        numeric = np.array([_centered(value, W, ix, float(h)) for ix in base.coordinates])
        rel = relative_errors(numeric, base.analytic)
        crossed = _kinks_at(kinks, base.coordinates, h)
        use = ~crossed & ~base.zero_within_rounding
        medians.append(float(np.median(rel[use])) if use.any() else float("nan"))
        compared.append(int(use.sum()))
        crossed_counts.append(int(crossed.sum()))
        if progress is not None:
            progress(k + 1, len(steps))
    return StepSweep(np.array(steps, dtype=np.float64), np.array(medians), np.array(compared),
                     np.array(crossed_counts))
