"""Where the threads of some processes spent an interval (Linux; see
:mod:`linviz.workbench.thread_times`): the GUI bench reads the GUI thread with it. Elsewhere
(no ``/proc``) every reading is empty and the bench prints no breakdown."""

from __future__ import annotations

import os
from typing import Optional

from linviz.workbench.thread_times import ThreadTimes


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
        return ThreadTimes.of(wall * count, running, waiting)
