"""Steps at a chosen pace against a clock: the 2-D playground's "play" and paced training.

:class:`Pacer` counts the steps due at ``steps_per_second`` since it started: after T
seconds, floor(T * pace) in all. It never sleeps itself; the caller asks how many steps are
due now (:meth:`Pacer.due`) and, when none is, how long until the next one
(:meth:`Pacer.seconds_until_due`). The clock is injectable, so tests drive it by hand and
never time anything.
"""

from __future__ import annotations

import math
import time
from typing import Callable, Optional


class Pacer:
    """Steps due at ``steps_per_second`` against a clock: after T seconds of playing,
    floor(T * pace) steps have been due in all. After a stall at most ``max_burst`` steps
    are owed at once (the rest are dropped, so the pace stays even)."""

    def __init__(self, steps_per_second: float = 10.0, clock: Callable[[], float] = time.monotonic,
                 max_burst: int = 5):
        self.clock = clock
        self.pace = float(steps_per_second)
        self.max_burst = int(max_burst)
        self.running = False
        self._t0 = 0.0
        self._done = 0

    def start(self) -> None:
        self.running = True
        self._t0 = self.clock()
        self._done = 0

    def stop(self) -> None:
        self.running = False

    def set_pace(self, steps_per_second: float) -> None:
        """A new pace counts from now (the steps already taken stay taken)."""
        self.pace = float(steps_per_second)
        if self.running:
            self.start()

    def due(self, limit: Optional[int] = None) -> int:
        """How many steps to take now (0 when stopped); at most ``limit``, the rest stay owed."""
        if not self.running:
            return 0
        owed = math.floor((self.clock() - self._t0) * self.pace + 1e-9) - self._done
        if owed > self.max_burst:
            self._done += owed - self.max_burst
            owed = self.max_burst
        owed = max(owed, 0)
        if limit is not None:
            owed = min(owed, max(int(limit), 0))
        self._done += owed
        return owed

    def seconds_until_due(self) -> float:
        """How long until the next step is due (0 when one is due now; inf when stopped)."""
        if not self.running or self.pace <= 0:
            return math.inf
        return max(0.0, (self._done + 1) / self.pace - (self.clock() - self._t0))
