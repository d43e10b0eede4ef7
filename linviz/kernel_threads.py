"""Whole-batch kernels on every core: a serial kernel on pieces of the batch, from Python
threads.

Why not Numba's ``parallel=True``: a parallel kernel is a compile of its own on top of the
serial kernel it runs, and the dearest of all (the ``prange`` wrapper of the HOG + hue
kernel cost more to compile than everything inside it; docs/benchmarks.md, "Compiling the
kernels"), to save nothing at run time: a kernel compiled with ``nogil=True`` releases the GIL for its whole call, so
plain threads, each calling the serial kernel on its own piece, keep every core busy.
Threads also leave alone what a parallel kernel needs: a thread-safe threading layer
(Numba's default one aborts the process when two threads enter a parallel kernel at
once) and a second thread pool beside NumPy's BLAS one (two pools on two cores fight).

Pieces have a fixed size, never one derived from the number of threads, so a result never
depends on it: a reduction keeps one partial result per piece and sums them in piece order.
"""

from __future__ import annotations

import threading
from typing import Callable

import numba

#: Threads a whole-batch call runs on: ``$NUMBA_NUM_THREADS``, by default the cores.
THREADS: int = max(1, int(numba.config.NUMBA_NUM_THREADS))


def pieces(n: int, size: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``range(n)`` in pieces of ``size`` (the last may be
    shorter)."""
    size = max(1, int(size))
    return [(start, min(n, start + size)) for start in range(0, n, size)]


def run_pieces(parts: list[tuple[int, int]], work: Callable[[int, int, int], None], *,
               threads: int | None = None) -> None:
    """``work(k, start, stop)`` for every piece ``k`` of ``parts``, on up to ``threads``
    threads (the calling one included) that each take the next piece in turn. An exception
    in any thread stops the others from taking more and is raised here."""
    threads = THREADS if threads is None else max(1, int(threads))
    if threads == 1 or len(parts) <= 1:
        for k, (start, stop) in enumerate(parts):
            work(k, start, stop)
        return
    lock = threading.Lock()
    state = {"next": 0, "error": None}

    def worker() -> None:
        while True:
            with lock:
                k = state["next"]
                if state["error"] is not None or k >= len(parts):
                    return
                state["next"] = k + 1
            try:
                work(k, *parts[k])
            except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
                with lock:
                    if state["error"] is None:
                        state["error"] = exc
                return

    helpers = [threading.Thread(target=worker, name=f"linviz-piece-{i}", daemon=True)
               for i in range(min(threads, len(parts)) - 1)]
    for helper in helpers:
        helper.start()
    worker()
    for helper in helpers:
        helper.join()
    if state["error"] is not None:
        raise state["error"]


def run_rows(n: int, size: int, run_range: Callable[[int, int], None], parallel: bool | None = None) -> None:
    """``run_range(start, stop)`` over ``range(n)``: in pieces of ``size`` on every core
    when ``parallel`` (None: when there is more than one piece), else in one call on the
    calling thread."""
    if n <= 0:
        return
    if parallel is False or (parallel is None and n <= size):
        run_range(0, n)
        return
    run_pieces(pieces(n, size), lambda k, start, stop: run_range(start, stop))
