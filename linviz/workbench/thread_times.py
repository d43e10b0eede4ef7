"""Where a thread's wall-clock time went: on a core, waiting for one, or blocked (Linux).

The kernel counts, per thread, the time it ran and the time it was runnable but waited in a
run queue (``/proc/.../schedstat``). The rest of the wall-clock time the thread was blocked:
in a lock, a sleep, a pipe read, or waiting for Python's GIL. A training loop that never
sleeps and is blocked for a tenth of its run lost that tenth to other threads of its
interpreter. Elsewhere (no ``/proc``) there is no reading.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class ThreadTimes:
    """Seconds of a thread over an interval."""

    running: float
    waiting_for_a_core: float
    blocked: float

    @property
    def wall(self) -> float:
        return self.running + self.waiting_for_a_core + self.blocked

    def shares(self) -> tuple[float, float, float]:
        wall = self.wall or 1.0
        return self.running / wall, self.waiting_for_a_core / wall, self.blocked / wall

    def text(self) -> str:
        run, queue, blocked = self.shares()
        return f"{run:.0%} running, {queue:.0%} waiting for a core, {blocked:.0%} blocked"

    @classmethod
    def of(cls, wall: float, running: float, waiting: float) -> "ThreadTimes":
        running, waiting = min(running, wall), min(waiting, wall)
        return cls(running, waiting, max(0.0, wall - running - waiting))


def schedstat(pid: int, tid: int) -> Optional[tuple[int, int]]:
    """(ns running, ns runnable waiting) of a thread, or None where the kernel does not say."""
    try:
        with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
            running, waiting = (int(v) for v in f.read().split()[:2])
    except (OSError, ValueError):
        return None
    return running, waiting


class ThreadStopwatch:
    """The calling thread's times from its creation to :meth:`stop` (None where unknown)."""

    def __init__(self):
        self._ids = (os.getpid(), threading.get_native_id())
        self._start = time.perf_counter()
        self._counts = schedstat(*self._ids)

    def stop(self) -> Optional[ThreadTimes]:
        wall = time.perf_counter() - self._start
        counts = schedstat(*self._ids)
        if self._counts is None or counts is None:
            return None
        return ThreadTimes.of(wall, (counts[0] - self._counts[0]) / 1e9, (counts[1] - self._counts[1]) / 1e9)
