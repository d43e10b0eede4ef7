"""Training curves drawn so that they do not mislead: centred smoothing, nice log ticks.

The loss of every minibatch is noisy, so the loss plot draws a smoothed line over it. The old
line was an exponential moving average: causal, so on a descending loss it lagged *above*
the raw curve for the whole run (on full-batch gradient descent it ended at 2.03 while the
loss was 1.90). Here every point is the mean of a window centred on it: ``h`` points either
side, where ``h`` follows from the smoothing weight ``s`` (0 = raw, as TensorBoard's slider)
as the lag of the moving average it replaces, h = round(s / (1 - s)). Points nearer to the
start or the newest point than ``h`` use a window shrunk symmetrically (the newest point is
its own raw value), so no point ever lags and the line stays inside the band of the raw
curve. The window spans at most a tenth of the series (:func:`window_half_width`): a run of
twenty minibatches is drawn as it is, not pulled towards a first loss far above the rest.
:class:`CurveSmoother` keeps the result of an append-only series and recomputes only the
points whose window changed (the newest ``h``), so a live plot pays per new point, not per
redraw.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

MAX_SMOOTHING = 0.99
DEFAULT_SMOOTHING = 0.8  # a window of 9 iterations: light enough to stay in the raw band


def half_width(smoothing: float) -> int:
    """Points either side of the centred window for a smoothing weight in [0, 0.99]."""
    s = float(smoothing)
    if not (0.0 <= s <= MAX_SMOOTHING):
        raise ValueError(f"smoothing must be in [0, {MAX_SMOOTHING}], got {smoothing}")
    return int(math.floor(s / (1.0 - s) + 0.5 + 1e-9))


def window_half_width(smoothing: float, n: int) -> int:
    """:func:`half_width` for a series of ``n`` points, its window (2h + 1 points) at most a
    tenth of the series."""
    return max(0, min(half_width(smoothing), (n // 10 - 1) // 2))


def grew_from(old: np.ndarray, new: np.ndarray) -> bool:
    """Whether ``new`` looks like ``old`` grown at its end: at least as long, with the same
    first and last point of ``old`` (nan equal to nan). A live series is followed from its new
    points only when this holds; anything else is another series."""
    k = len(old)
    return 0 < k <= len(new) and np.array_equal(old[[0, k - 1]], new[[0, k - 1]], equal_nan=True)


def _centred(cumsum: np.ndarray, n: int, h: int, first: int) -> np.ndarray:
    """Centred means of points ``first .. n-1``, from ``cumsum`` (cumsum[k] = sum of the first k)."""
    i = np.arange(first, n)
    k = np.minimum(np.minimum(i, n - 1 - i), h)
    return (cumsum[i + k + 1] - cumsum[i - k]) / (2 * k + 1)


def smooth_curve(values, smoothing: float = DEFAULT_SMOOTHING) -> np.ndarray:
    """The centred moving average of ``values`` (float64); ``smoothing`` 0 returns them as they are."""
    values = np.asarray(values, dtype=np.float64)
    h = window_half_width(smoothing, len(values))
    if h == 0 or len(values) < 3:
        return values.copy()
    cumsum = np.concatenate([[0.0], np.cumsum(values)])
    return _centred(cumsum, len(values), h, 0)


class CurveSmoother:
    """:func:`smooth_curve` of a series that only grows, recomputing only what changed."""

    def __init__(self, smoothing: float = DEFAULT_SMOOTHING):
        self.set_smoothing(smoothing)
        self._source: Optional[np.ndarray] = None
        self._n = 0
        self._cumsum = np.zeros(1)
        self._out = np.zeros(0)
        self.changed_from = 0  # the last update changed the smoothed points from this one on

    def set_smoothing(self, smoothing: float) -> None:
        half_width(smoothing)  # checked
        self.smoothing = float(smoothing)
        self._h = -1  # the half width of the last update: another one recomputes every point

    def reset(self) -> None:
        self._source, self._n = None, 0

    def update(self, values: np.ndarray) -> np.ndarray:
        """The smoothed curve of ``values`` (float32, the same length). ``values`` may be the
        previous series grown at its end (recomputed from the new points) or anything else
        (recomputed in full)."""
        values = np.asarray(values)
        n = len(values)
        old = self._n if self._source is not None and grew_from(self._source, values) else 0
        if len(self._cumsum) < n + 1:
            bigger = np.zeros(max(n + 1, 2 * len(self._cumsum)))
            bigger[:old + 1] = self._cumsum[:old + 1]
            self._cumsum = bigger
            out = np.zeros(len(bigger) - 1, np.float32)
            out[:old] = self._out[:old]
            self._out = out
        if n > old:
            self._cumsum[old + 1:n + 1] = self._cumsum[old] + np.cumsum(values[old:n], dtype=np.float64)
        h = window_half_width(self.smoothing, n)  # grows with a short series: then all of it changes
        first = max(0, old - h - 1) if h == self._h else 0
        if h == 0:
            self._out[first:n] = values[first:n]
        elif n:
            self._out[first:n] = _centred(self._cumsum, n, h, first)
        self._source, self._n, self._h = values, n, h
        self.changed_from = first
        return self._out[:n]


def log_ticks(lo: float, hi: float, max_ticks: int = 8) -> list[float]:
    """Labelled tick values for a log axis showing ``lo .. hi`` (> 0): the powers of ten when
    at least two fall inside, else 1-2-5 steps (or finer) of the decade, so a range inside
    one decade (a loss from 2.3 down to 1.5) still gets numbers."""
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        return []
    lo_exp, hi_exp = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    decades = [10.0 ** e for e in range(lo_exp, hi_exp + 1) if lo <= 10.0 ** e <= hi]
    if len(decades) >= 2:
        stride = max(1, math.ceil(len(decades) / max_ticks))
        return decades[::stride]
    for mantissas in ((1, 2, 5), (1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9)):
        ticks = [m * 10.0 ** e for e in range(lo_exp - 1, hi_exp + 1) for m in mantissas
                 if lo <= m * 10.0 ** e <= hi]
        if len(ticks) >= 2:
            return ticks[:: max(1, math.ceil(len(ticks) / max_ticks))]
    # a very narrow range: a linear 1-2-5 step inside it
    span = hi - lo
    step = 10.0 ** math.floor(math.log10(span / 2))
    for m in (1, 2, 5, 10):
        if span / (m * step) <= max_ticks:
            step *= m
            break
    start = math.ceil(lo / step) * step
    return [start + k * step for k in range(int((hi - start) / step + 1e-9) + 1)]


def tick_label(value: float) -> str:
    """``0.001``, ``2``, ``1.5``, ``1e+04``: short and exact enough for an axis."""
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e4:
        return f"{value:.4g}"
    return f"{value:.0e}"


def following_range(n: int) -> float:
    """The right end of an x-axis that follows a run of ``n`` points: ``n`` rounded up to the
    next unit of its second digit (at most 10% beyond it, usually a few
    percent), so the axis moves in steps rather than every frame."""
    if n <= 10:
        return 10.0
    step = 10 ** (math.floor(math.log10(n)) - 1)
    return float(math.ceil(n / step) * step)


class FollowingRange:
    """The right end of an x-axis that follows a growing run (:func:`following_range`), moved
    at most about once per ``interval`` seconds.

    A fast run (HOG + hue: about 17,000 minibatches a second) passes a step of
    :func:`following_range` at nearly every redraw, and so does a paced one early on (steps of
    one point below 100); each move makes the axis lay out its ticks again and its labels
    jump. So the axis moves to where the run will be ``interval`` from now, at its pace since
    the last move (and no further than half as far again as it is).
    """

    def __init__(self, interval: float = 0.5):
        self.interval = float(interval)
        self.reset()

    def reset(self) -> None:
        self.right: Optional[float] = None
        self._n = 0
        self._moved_at = -math.inf
        self._moved_n = 0

    def update(self, n: int, now: float, final: bool = False) -> Optional[float]:
        """The new right end for ``n`` points at time ``now`` (seconds), or None when the axis
        stays as it is. Fewer points than last time: another series, followed afresh.
        ``final``: the run has ended; the axis ends where the plain rule says, no look-ahead."""
        right = following_range(n)
        growing = n >= self._n
        self._n = n
        if final:
            if right == self.right:
                return None
        elif self.right is not None and growing and right <= self.right:
            return None  # still inside (a look-ahead is kept until the run reaches it)
        elif self.right is not None and growing:
            pace = (n - self._moved_n) / max(now - self._moved_at, 1e-3)
            # at most half as far again: the run fills two thirds of the plot or more
            right = following_range(int(n + min(pace * self.interval, n / 2)))
        self.right, self._moved_at, self._moved_n = right, now, n
        return right
