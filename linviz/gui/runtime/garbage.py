"""Python's cyclic garbage collector runs on the GUI thread only.

The collector runs in whichever thread happens to allocate when a generation fills up. If
that is a worker (a compile in Numba, a training job) and the garbage holds a Qt object in a
reference cycle (a closed window, a pyqtgraph menu), its C++ destructor runs on the worker:
seen here as a deadlock (Shiboken waiting for the GIL inside a QMenu destructor on the compute
thread while the GUI thread waited for the compute thread). So automatic collection is turned
off and a timer on the GUI thread collects instead (pyqtgraph's GarbageCollector, made for
this), which also keeps collections out of the training loop.

A full collection holds the GIL while it scans every tracked object, and the window alone is
hundreds of thousands of them (modules, Qt wrappers, pyqtgraph items): each one stalled the
GUI and the training thread alike. Once the window is built, :func:`freeze_survivors` moves
everything alive into the permanent generation that collections skip (in the GUI bench:
training in the window 64% -> 72% of headless on raw pixels).
"""

from __future__ import annotations

import gc

from pyqtgraph.util.garbage_collector import GarbageCollector

_collector = None


def collect_on_gui_thread(interval_s: float = 1.0) -> GarbageCollector:
    """Turn automatic collection off; collect from a GUI-thread timer. Call once, after the
    QApplication exists, from the GUI thread. Idempotent."""
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=interval_s)
    gc.disable()  # again: something may have turned it back on since the first call
    return _collector


def freeze_survivors() -> None:
    """Collect once, then exempt every object alive now from future collections (gc.freeze).

    Call when the window is built: what exists then (modules, the window and its views) lives
    until the app exits, so scanning it at every full collection is wasted time under the GIL.
    Objects made later are collected as usual."""
    gc.collect()
    gc.freeze()


def collect_now() -> int:
    """A full collection, here and now (on the GUI thread: after closing windows in tests)."""
    return gc.collect()
