"""The minimum and maximum of a growing series over blocks of 2, 4, 8, ... points, so that a
live plot draws a curve of n points at w pixel columns in O(w) per frame, not O(n).

The loss plot receives the loss of every minibatch: a HOG + hue run adds thousands a second,
and a long run (or a batch of one) reaches millions. Drawing it as it is, or through
pyqtgraph's own peak downsampling, walks the whole series at every frame, so the window's
redraws grow slower as the run goes on. Here each new point is folded into the levels once,
and a frame reads the one level whose blocks are about a pixel column wide: each block drawn
as a stroke from its minimum to its maximum, the same band on screen.

Level ``k`` holds the complete blocks of ``2 ** (k + 1)`` points (block ``b`` covers points
``b * size .. (b + 1) * size - 1``). Any range of points is the union of O(log n) such blocks
(the dyadic pieces of :meth:`PeakPyramid.extremes`), which also gives the incomplete block at
the series' end and the series' whole range without walking it. Non-finite values (a run that
diverged) are left out of every minimum and maximum. The levels are float32, as the losses:
together they hold as many numbers as the series, twice.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from linviz.explore.curves import grew_from


class PeakPyramid:
    """Block minima and maxima of a series that grows at its end (its newest points may also
    change, as a centred smoothing's do)."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        """Forget the series: the next :meth:`update` starts afresh."""
        self._values = np.zeros(0, np.float32)
        self._lows: list[np.ndarray] = []  # level k: the minimum of each complete block
        self._highs: list[np.ndarray] = []
        self._counts: list[int] = []  # complete blocks held in level k

    def __len__(self) -> int:
        return len(self._values)

    def update(self, values: np.ndarray, changed_from: Optional[int] = None) -> None:
        """Follow ``values``, the series as it is now, of which ``values[:changed_from]`` is
        unchanged since the last update. ``None``: the series only grew if its first and its
        last known point are the same as before, otherwise everything is recomputed."""
        values = np.asarray(values)
        n, old = len(values), len(self._values)
        if changed_from is None:
            changed_from = old if grew_from(self._values, values) else 0
        start = max(0, min(int(changed_from), old, n))
        self._values = values
        level, size = 0, 2
        while n // size >= 1:
            count = n // size
            first = min(start // size, self._counts[level] if level < len(self._counts) else 0)
            if level == 0:  # pairs of points
                low_below = high_below = _finite(values[2 * first:2 * count])
            else:  # pairs of the level below's blocks
                low_below = self._lows[level - 1][2 * first:2 * count]
                high_below = self._highs[level - 1][2 * first:2 * count]
            self._store(level, first, count, np.fmin(low_below[0::2], low_below[1::2]),
                        np.fmax(high_below[0::2], high_below[1::2]))
            level, size = level + 1, size * 2
        del self._lows[level:], self._highs[level:], self._counts[level:]

    def _store(self, level: int, first: int, count: int, lows: np.ndarray, highs: np.ndarray) -> None:
        """Blocks ``first .. count - 1`` of ``level``; its arrays grow by doubling."""
        if level == len(self._lows):
            self._lows.append(np.zeros(0, np.float32))
            self._highs.append(np.zeros(0, np.float32))
            self._counts.append(0)
        if len(self._lows[level]) < count:
            for store in (self._lows, self._highs):
                grown = np.full(max(count, 2 * len(store[level]), 16), np.nan, np.float32)
                grown[:first] = store[level][:first]
                store[level] = grown
        self._lows[level][first:count] = lows
        self._highs[level][first:count] = highs
        self._counts[level] = count

    def extremes(self, start: int = 0, stop: Optional[int] = None) -> tuple[float, float]:
        """The smallest and largest finite value of points ``start .. stop - 1`` (nan, nan
        when there is none), from O(log n) blocks."""
        n = len(self._values)
        stop = n if stop is None else min(int(stop), n)
        low, high, i = np.inf, -np.inf, max(0, int(start))
        while i < stop:
            level = -1  # the largest block that starts at i and ends by stop
            while (level + 1 < len(self._counts) and i % (2 << (level + 1)) == 0
                   and i + (2 << (level + 1)) <= stop):
                level += 1
            if level < 0:
                value = float(self._values[i])
                if np.isfinite(value):
                    low, high = min(low, value), max(high, value)
                i += 1
                continue
            size = 2 << level
            block_low, block_high = self._lows[level][i // size], self._highs[level][i // size]
            if np.isfinite(block_low):
                low, high = min(low, float(block_low)), max(high, float(block_high))
            i += size
        return (low, high) if low <= high else (np.nan, np.nan)

    def view(self, start: float, stop: float, columns: int) -> tuple[np.ndarray, np.ndarray]:
        """Points ``(x, y)`` that draw the series between point indices ``start`` and ``stop``
        (floats; beyond the series is fine) at ``columns`` pixel columns: the points
        themselves when there are at most two per column, else per block of the finest level
        with at most one block per column, the block's minimum then its maximum at its centre.
        One point either side of the range is included, so the line reaches the plot's edges;
        non-finite points and empty blocks are left out."""
        n = len(self._values)
        i0, i1 = max(0, int(np.floor(start)) - 1), min(n, int(np.ceil(stop)) + 2)
        if i1 <= i0:
            return np.zeros(0), np.zeros(0, np.float32)
        columns = max(1, int(columns))
        span = i1 - i0
        if span <= 2 * columns or not self._counts:
            y = np.asarray(self._values[i0:i1], dtype=np.float32)
            keep = np.isfinite(y)
            return np.arange(i0, i1, dtype=np.float64)[keep], y[keep]
        level = 0  # the finest level with at most one block per column
        while level + 1 < len(self._counts) and span / (2 << level) > columns:
            level += 1
        size = 2 << level
        b0, b1 = i0 // size, -(-i1 // size)
        complete = max(b0, min(b1, self._counts[level]))
        lows = list(self._lows[level][b0:complete])
        highs = list(self._highs[level][b0:complete])
        for b in range(complete, b1):  # the series' incomplete last block (if in view)
            low, high = self.extremes(b * size, (b + 1) * size)
            lows.append(low)
            highs.append(high)
        lows_array, highs_array = np.asarray(lows), np.asarray(highs)
        centres = (np.arange(b0, b0 + len(lows_array)) * size + (size - 1) / 2.0)
        keep = np.isfinite(lows_array)
        x = np.repeat(centres[keep], 2)
        y = np.column_stack([lows_array[keep], highs_array[keep]]).ravel().astype(np.float32)
        return x, y


def _finite(values: np.ndarray) -> np.ndarray:
    """``values`` as float32 with every non-finite value as nan."""
    values = np.asarray(values, dtype=np.float32)
    return np.where(np.isfinite(values), values, np.nan)
