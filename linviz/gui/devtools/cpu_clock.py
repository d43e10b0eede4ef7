"""Where a thread's wall-clock time goes: on a core, waiting for one, or blocked (Linux).

The kernel counts, per thread, the time spent running and the time spent runnable but
waiting in a run queue (``/proc/PID/task/TID/schedstat``: run ns, wait ns, slices). The rest
of the wall-clock time the thread was blocked: in a lock, a sleep, a pipe read, or waiting
for Python's GIL. A training thread that never sleeps on purpose and is blocked for a third
of a run lost that third to the GIL; a second process has no such third.

Elsewhere (no ``/proc``) every reading is empty and the benches print no breakdown.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class ThreadTimes:
    """Seconds of one thread (or of several, summed) over an interval."""

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


def _read_tasks(pid: int) -> dict[int, tuple[str, int, int]]:
    """tid -> (name, ns running, ns runnable waiting), for every thread of ``pid``."""
    tasks = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return tasks
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                running, waiting = (int(v) for v in f.read().split()[:2])
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
        except (OSError, ValueError):
            continue  # the thread ended between the listing and the read
        tasks[int(tid)] = (name, running, waiting)
    return tasks


class CpuClock:
    """Readings of every thread of some processes; :meth:`since` turns two readings into
    :class:`ThreadTimes` for the threads picked by name (or the main thread)."""

    def __init__(self, *pids: int):
        self.pids = pids or (os.getpid(),)

    @staticmethod
    def available() -> bool:
        return os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/schedstat")

    def read(self) -> tuple[float, dict]:
        import time

        return time.perf_counter(), {pid: _read_tasks(pid) for pid in self.pids}

    def since(self, before: tuple[float, dict], *, pid: Optional[int] = None, name: Optional[str] = None,
              main: bool = False) -> Optional[ThreadTimes]:
        """The threads of ``pid`` (the first process by default) called ``name``, or its main
        thread, between ``before`` and now; None when nothing matched."""
        now_t, now = self.read()
        then_t, then = before
        pid = self.pids[0] if pid is None else pid
        wall = now_t - then_t
        running = waiting = 0.0
        count = 0
        for tid, (task_name, run_ns, wait_ns) in now.get(pid, {}).items():
            if main and tid != pid or name is not None and task_name != name:
                continue
            old = then.get(pid, {}).get(tid, (task_name, 0, 0))
            running += (run_ns - old[1]) / 1e9
            waiting += (wait_ns - old[2]) / 1e9
            count += 1
        if count == 0:
            return None
        running, waiting = min(running, wall * count), min(waiting, wall * count)
        return ThreadTimes(running, waiting, max(0.0, wall * count - running - waiting))

    def process_cores(self, before: tuple[float, dict], pid: Optional[int] = None) -> Optional[float]:
        """Cores a process used on average (all its threads' running time / wall time)."""
        now_t, now = self.read()
        then_t, then = before
        pid = self.pids[0] if pid is None else pid
        tasks = now.get(pid, {})
        if not tasks:
            return None
        running = sum((run - then.get(pid, {}).get(tid, (None, 0, 0))[1]) for tid, (_, run, _) in tasks.items())
        return running / 1e9 / max(now_t - then_t, 1e-9)
