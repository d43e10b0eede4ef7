"""Numerical gradient check: does the analytic gradient match centered differences?

For a sample of coordinates w of W the check compares the analytic derivative with
centered differences ``g(h) = (f(w + h) - f(w - h)) / 2h`` and reports the relative error
``|numeric - analytic| / max(|numeric| + |analytic|, tiny)`` per coordinate and overall
(the worst one, and ``||n - a|| / (||n|| + ||a||)`` over the sample). The numeric value is the
Richardson combination ``(4 g(h/2) - g(h)) / 3``, exact to O(h^4), so that a moderate h (1e-4)
keeps the rounding error of f small too: with the plain g(1e-5), coordinates whose derivative
is ~1e-4 show relative errors of 1e-7 from rounding alone. On a smooth loss in float64 the
errors are around 1e-9 or below; above 1e-7 something is wrong.

The hinge of the SVM is not smooth: when a step of +-h moves a margin across 0, the centered
difference averages two different slopes and the error can be large although the gradient
is right. The check detects this instead of hiding it: it repeats the estimate with step h/2;
on a smooth function both estimates agree to O(h^2) (about 1e-10 here), while across a kink
they differ by about the size of the error itself. Such coordinates are flagged
``crossed_kink`` and reported apart (``max_rel_error_smooth`` leaves them out).

A derivative that is zero (an SVM bias whose class is balanced, a weight no image uses) has
no relative error to speak of: the analytic value is a sum that cancels to ~1e-16, the
numeric one is the rounding noise of the loss divided by the step, about
``eps * |f| / h`` (~1e-11 for a loss of 3 in float64, growing like the square root of the
number of terms summed in f). Dividing one by the other would report 1.0. A coordinate whose
analytic and numeric values are both within the rounding noise -- the larger of
``64 * eps * |f| / h`` and four times the measured disagreement of the two step sizes,
which on a smooth function is rounding alone -- is reported as zero within rounding:
``zero_within_rounding`` is True, its relative error 0, and it counts in no maximum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class GradientCheckResult:
    coordinates: tuple[tuple[int, ...], ...]   # the checked indices of W
    analytic: np.ndarray                      # d f / d w from the function
    numeric: np.ndarray                       # (4 g(h/2) - g(h)) / 3
    rel_errors: np.ndarray                    # per coordinate
    crossed_kink: np.ndarray                  # bool per coordinate: the step crossed a kink
    h: float
    # bool per coordinate: analytic and numeric both within the rounding noise (rel error 0)
    zero_within_rounding: np.ndarray = None
    rounding_noise: np.ndarray = None         # per coordinate: the bound used for that

    def __post_init__(self):
        if self.zero_within_rounding is None:
            object.__setattr__(self, "zero_within_rounding", np.zeros(len(self.coordinates), bool))
        if self.rounding_noise is None:
            object.__setattr__(self, "rounding_noise", np.zeros(len(self.coordinates)))

    @property
    def max_rel_error(self) -> float:
        return float(self.rel_errors.max()) if self.rel_errors.size else 0.0

    @property
    def max_rel_error_smooth(self) -> float:
        """Worst error over the coordinates whose step did not cross a kink."""
        smooth = self.rel_errors[~self.crossed_kink]
        return float(smooth.max()) if smooth.size else 0.0

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
        text = (f"{len(self.coordinates)} coordinates, h={self.h:g}: max relative error "
                f"{self.max_rel_error:.2e}, overall {self.overall_rel_error:.2e}")
        if self.n_kinks:
            text += (f"; {self.n_kinks} step(s) crossed a kink of the loss (max error elsewhere "
                     f"{self.max_rel_error_smooth:.2e})")
        if self.n_zero:
            bound = float(self.rounding_noise[self.zero_within_rounding].max())
            text += (f"; {self.n_zero} coordinate(s) zero within rounding (analytic and numeric "
                     f"both <= {bound:.1e}, not compared)")
        return text


def gradient_check(f: Callable[[np.ndarray], tuple[float, np.ndarray]], W: np.ndarray,
                   num_checks: int = 20, h: float = 1e-4, seed: int = 0,
                   kink_tol: float = 1e-7) -> GradientCheckResult:
    """Check ``f(W) -> (loss, dW)`` at ``num_checks`` random coordinates of W (W is restored).

    ``kink_tol``: absolute disagreement between the estimates with steps h and h/2 above
    which a coordinate counts as crossing a kink.
    """
    W = np.asarray(W)
    loss0, analytic_full = f(W)
    analytic_full = np.array(analytic_full, dtype=np.float64, copy=True)
    rng = np.random.default_rng(seed)
    flat = rng.choice(W.size, size=min(num_checks, W.size), replace=False)
    coords = tuple(tuple(int(i) for i in np.unravel_index(k, W.shape)) for k in flat)

    def centered(ix, step):
        old = W[ix]
        W[ix] = old + step
        plus = float(f(W)[0])
        W[ix] = old - step
        minus = float(f(W)[0])
        W[ix] = old
        return (plus - minus) / (2.0 * step)

    full_step = np.empty(len(coords))
    half_step = np.empty(len(coords))
    analytic = np.empty(len(coords))
    for n, ix in enumerate(coords):
        full_step[n] = centered(ix, h)
        half_step[n] = centered(ix, h / 2)
        analytic[n] = analytic_full[ix]
    numeric = (4.0 * half_step - full_step) / 3.0
    denom = np.maximum(np.abs(numeric) + np.abs(analytic), np.finfo(np.float64).tiny)
    rel = np.abs(numeric - analytic) / denom
    rel[(numeric == 0) & (analytic == 0)] = 0.0
    # Smooth: g(h) - g(h/2) = h^2 f'(3) / 8 + rounding, ~1e-9 at h = 1e-4. Across a kink it is
    # about the slope jump times the fraction of the step beyond the kink: far larger.
    spread = np.abs(full_step - half_step)
    kinks = spread > kink_tol
    # Rounding noise of the numeric estimate: each f carries an error of a few eps |f| (more
    # for long sums), divided by the step. The measured spread of the two step sizes catches
    # the long sums (for a zero derivative it is noise alone, and tracks the estimate's own).
    eps = np.finfo(W.dtype if np.issubdtype(W.dtype, np.floating) else np.float64).eps
    floor = 64.0 * eps * max(abs(float(loss0)), np.finfo(np.float64).tiny) / h
    noise = np.maximum(floor, 4.0 * spread)
    zero = ~kinks & (np.abs(analytic) <= noise) & (np.abs(numeric) <= noise)
    rel[zero] = 0.0
    return GradientCheckResult(coords, analytic, numeric, rel, kinks, h, zero, noise)
