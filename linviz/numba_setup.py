"""Numba configuration, applied once before any kernel is compiled.

Every module that defines kernels imports ``kernel`` (and ``prange``) from here rather than
``njit`` from numba, so the settings below are always in force first:

* ``kernel`` = ``njit(nogil=True, cache=True)``: without ``nogil`` a kernel freezes the
  GUI thread for its whole call even from a worker thread; with ``cache`` the machine code
  is kept on disk for the next process, in the folder and with the freshness stamps of
  :mod:`linviz.kernel_cache` (installed here, before the first kernel is defined).
* Every kernel argument type is another compile (float32 or float64, C-contiguous or not,
  and writable or read-only: Numba types a read-only array apart). Callers pass
  C-contiguous arrays of the kernel's one dtype, and the arrays a kernel only reads as
  read-only views (:func:`readonly`): data from a cache is read-only, data just computed
  is not, and the kernel must not care.
* ``$LINVIZ_KERNEL_LOG=FILE`` appends one JSON line per kernel compiled in this process
  (its name, signature, CPU and wall seconds of its own, callees excluded, its process and
  the Unix time it ended: a timeline of a first run): what the benchmark's ``cold`` section
  and docs/benchmarks.md's compile table are made of.
* Whole-batch work runs a serial kernel on pieces of the batch from several threads
  (:mod:`linviz.kernel_threads`); ``parallel=True`` is for the few kernels whose inner
  loops need it, and asks for the thread-safe threading layer (OpenMP or TBB): Numba's
  default "workqueue" layer aborts the process when two threads enter a ``parallel=True``
  kernel at once. When no thread-safe layer loads, parallel kernels fall back to serial
  ones (``PARALLEL`` is False) instead of crashing.
"""

from __future__ import annotations

import json
import os
import threading
import time

import numba
import numpy as np
from numba import njit, prange  # noqa: F401  (re-exported)

from linviz import kernel_cache

numba.config.THREADING_LAYER = "threadsafe"
kernel_cache.install_locator()


def _log_compiles(path: str) -> None:
    """Append a JSON line to ``path`` per function Numba compiles (own time: nested compiles,
    the kernels it calls, are their own lines)."""
    from numba.core import event

    local = threading.local()

    class CompileLog(event.Listener):
        def on_start(self, ev):
            stack = local.__dict__.setdefault("stack", [])
            stack.append([time.perf_counter(), time.thread_time(), 0.0, 0.0])

        def on_end(self, ev):
            stack = local.stack
            wall0, cpu0, child_wall, child_cpu = stack.pop()
            wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
            if stack:
                stack[-1][2] += wall
                stack[-1][3] += cpu
            func = ev.data["dispatcher"].py_func
            line = json.dumps({"kernel": f"{func.__module__}.{func.__qualname__}", "signature": str(ev.data["args"]),
                               "cpu_s": round(cpu - child_cpu, 4), "wall_s": round(wall - child_wall, 4),
                               "pid": os.getpid(), "end": round(time.time(), 3)})
            with open(path, "a", encoding="utf-8") as f:
                f.write(line + "\n")

    event.register("numba:compile", CompileLog())


if os.environ.get("LINVIZ_KERNEL_LOG"):
    _log_compiles(os.environ["LINVIZ_KERNEL_LOG"])


def _threadsafe_layer_available() -> bool:
    """True when OpenMP or TBB can back parallel kernels (checked without compiling)."""
    for module in ("numba.np.ufunc.omppool", "numba.np.ufunc.tbbpool"):
        try:
            __import__(module)
        except (ImportError, OSError):
            continue
        return True
    return False


PARALLEL: bool = _threadsafe_layer_available()


def kernel(*args, parallel: bool = False, inner: bool = False, **kwargs):
    """``njit`` with linviz's conventions: nogil, on-disk cache, optional parallel.

    Use as ``@kernel`` or ``@kernel(parallel=True)`` (parallel only for whole-dataset
    kernels, called from one thread at a time). ``inner=True`` for a kernel that only other
    kernels call: no entry point for Python is compiled for it (Numba's CPython and C
    wrappers, a good part of a small kernel's compile).
    """
    options = dict(nogil=True, cache=True, parallel=parallel and PARALLEL, fastmath=False)
    if inner:
        options.update(no_cpython_wrapper=True, no_cfunc_wrapper=True)
    options.update(kwargs)
    if args and callable(args[0]):
        return njit(**options)(args[0])
    return njit(*args, **options)


def readonly(a: np.ndarray) -> np.ndarray:
    """``a`` as a read-only array (a view when it is writable; free): the one type of a
    kernel's read-only inputs, whichever the caller had (see the module docstring)."""
    if not a.flags.writeable:
        return a
    view = a.view()
    view.flags.writeable = False
    return view
