"""The job runner: two lanes of work off the GUI thread.

* The **heavy lane** runs one job at a time: loading, extraction, training, and the labs' long
  jobs (a tuning search, a race, cross-validation). It owns the compute cores.
* The **quick lane** runs short, cancellable computations (a score table, a coarse loss
  surface: tens of milliseconds) while a heavy job runs. Its thread has a lower scheduling
  priority, runs one job at a time in submission order, and a newer request of the same
  *kind* replaces a pending one and cancels a running one: only the newest answer matters.

A job is a plain Python callable ``job(ctx) -> result`` that knows nothing about Qt: it
reports with ``ctx.progress(done, total)``, checks ``ctx.cancelled()`` (or passes
``ctx.cancel`` to the core functions), and hands live results to the GUI with
``ctx.publish(value)``.

Why published values are not signals: a training loop produces snapshots far faster than
anyone can look at them. ``publish`` only replaces the newest value in a locked box
(:class:`LatestValue`); the GUI's display timer takes it when it redraws. The compute rate
and the redraw rate stay independent and the GUI thread's event queue never floods.

Each lane's worker QObject lives in one long-lived QThread. Its signals are connected only
to ``@Slot`` methods of :class:`JobRunner` / :class:`QuickLane`, which live in the GUI
thread, so Qt queues them across threads (a lambda would run in the worker thread and touch
widgets there); a quick job's ``on_done`` is called from such a slot, on the GUI thread.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import OrderedDict
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Optional

from PySide6.QtCore import QObject, QThread, Signal, Slot

from linviz.errors import Cancelled, LinvizError
from linviz.gui.runtime.blas_threads import blas_threads_for_gui


GUI_SWITCH_INTERVAL_S = 0.001
# Set to 1: training runs in the heavy lane's thread, inside the window's process, sharing the
# GIL with the views (the GUI bench measures both ways).
IN_WINDOW_VARIABLE = "LINVIZ_TRAINING_IN_WINDOW"


def trains_in_worker() -> bool:
    """Training runs in the worker process unless ``$LINVIZ_TRAINING_IN_WINDOW`` says yes."""
    from linviz import environment

    return not environment.flag(IN_WINDOW_VARIABLE, False)


class LatestValue:
    """A one-slot mailbox: ``put`` replaces, ``take`` empties. Thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._value: Any = None
        self._full = False

    def put(self, value: Any) -> None:
        with self._lock:
            self._value = value
            self._full = True

    def take(self) -> Any:
        """The newest value since the last take, or None."""
        with self._lock:
            value, self._value, self._full = self._value, None, False
            return value


class JobContext:
    """What a job sees: progress, cancellation and the live-value box. No Qt inside."""

    def __init__(self, worker: "_JobWorker", cancel_event: threading.Event, latest: LatestValue):
        self._worker = worker
        self.cancel = cancel_event  # an Event: the core functions accept it as ``cancel``
        self.latest = latest
        self._last_progress = 0.0

    def cancelled(self) -> bool:
        return self.cancel.is_set()

    def progress(self, done: int, total: int) -> None:
        """Throttled to ~20 updates/s so a fast loop cannot flood the GUI event queue."""
        now = time.perf_counter()
        if now - self._last_progress < 0.05 and done < total:
            return
        self._last_progress = now
        # object, not int: Signal(int) is a 32-bit C++ int.
        self._worker.progressed.emit(done, total)

    def message(self, text: str) -> None:
        self._worker.messaged.emit(text)

    def publish(self, value: Any) -> None:
        self.latest.put(value)


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended: exactly one of result / error / cancelled is meaningful."""

    name: str
    result: Any = None
    error: Optional[str] = None  # one-line message for the user
    details: Optional[str] = None  # traceback for bugs (not for LinvizError)
    cancelled: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and not self.cancelled


QUICK_LANE_NICENESS = 5  # the quick lane yields the CPU to training and to the GUI thread


class _JobWorker(QObject):
    """Lives in a lane's thread; runs one job per ``run`` call."""

    progressed = Signal(object, object)
    messaged = Signal(str)
    ended = Signal(object)  # JobOutcome

    def __init__(self, niceness: int = 0):
        super().__init__()
        self._niceness = niceness

    def _lower_priority_once(self) -> None:
        """Linux schedules threads as tasks: a positive niceness for this one thread only."""
        if self._niceness and hasattr(os, "setpriority"):
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self._niceness)
            except OSError:
                pass
        self._niceness = 0

    @Slot(object)
    def run(self, request) -> None:
        self._lower_priority_once()
        name, job, cancel_event, latest = request
        ctx = JobContext(self, cancel_event, latest)
        start = time.perf_counter()
        try:
            result = job(ctx)
            outcome = JobOutcome(name, result=result)
        except Cancelled:
            outcome = JobOutcome(name, cancelled=True)
        except LinvizError as exc:
            outcome = JobOutcome(name, error=str(exc))
        except MemoryError:
            outcome = JobOutcome(name, error="out of memory: try a smaller subsample or fewer features")
        except Exception as exc:  # a bug: keep its traceback for the dialog, never crash the app
            remote = getattr(exc, "details", None)  # a bug in the worker process: its own traceback
            outcome = JobOutcome(name, error=str(exc) if remote else f"{type(exc).__name__}: {exc}",
                                 details=remote or traceback.format_exc())
        outcome = JobOutcome(**{**outcome.__dict__, "seconds": time.perf_counter() - start})
        self.ended.emit(outcome)


def _start_thread(name: str, worker: _JobWorker) -> QThread:
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    thread.start()
    return thread


def _stop_thread(thread: QThread, what: str, timeout_ms: int) -> bool:
    thread.quit()
    if thread.wait(timeout_ms):
        return True
    # A job that ignores its cancel flag for this long is inside one long call. Waiting
    # on is the only safe choice: destroying a running QThread aborts the process.
    print(f"linviz: waiting for the {what} job to finish...", file=sys.stderr, flush=True)
    return bool(thread.wait())


@dataclass
class _QuickRequest:
    kind: str
    job: Callable[[JobContext], Any]
    on_done: Callable[[JobOutcome], None]
    cancel: threading.Event


class QuickLane(QObject):
    """Short computations beside the heavy lane (see the module docstring). Lives in the GUI
    thread; ``on_done(outcome)`` is called on the GUI thread, only for the newest request of
    its kind."""

    _submit = Signal(object)

    def __init__(self, parent: Optional[QObject] = None):
        super().__init__(parent)
        self._worker = _JobWorker(niceness=QUICK_LANE_NICENESS)
        self._thread = _start_thread("linvizQuick", self._worker)
        self._submit.connect(self._worker.run)
        self._worker.ended.connect(self._on_ended)
        self._pending: OrderedDict[str, _QuickRequest] = OrderedDict()
        self._running: Optional[_QuickRequest] = None
        self._newest: dict[str, _QuickRequest] = {}
        self._latest = LatestValue()  # quick jobs do not publish; JobContext wants a box
        self._closed = False
        self.completed = 0  # outcomes delivered (tests and the GUI bench count them)

    @property
    def busy(self) -> bool:
        return self._running is not None or bool(self._pending)

    def submit(self, kind: str, job: Callable[[JobContext], Any], on_done: Callable[[JobOutcome], None]) -> None:
        """Queue ``job``; replaces a pending request of ``kind`` and cancels a running one."""
        if self._closed:
            return
        request = _QuickRequest(kind, job, on_done, threading.Event())
        self._newest[kind] = request
        self._pending.pop(kind, None)
        self._pending[kind] = request
        if self._running is not None and self._running.kind == kind:
            self._running.cancel.set()
        self._run_next()

    def cancel(self, kind: str) -> None:
        """Drop the pending request of ``kind`` and stop a running one; no ``on_done`` follows."""
        self._pending.pop(kind, None)
        self._newest.pop(kind, None)
        if self._running is not None and self._running.kind == kind:
            self._running.cancel.set()

    def _run_next(self) -> None:
        if self._running is not None or not self._pending or self._closed:
            return
        _, request = self._pending.popitem(last=False)
        self._running = request
        self._submit.emit((request.kind, request.job, request.cancel, self._latest))

    @Slot(object)
    def _on_ended(self, outcome: JobOutcome) -> None:
        request, self._running = self._running, None
        if request is not None and self._newest.get(request.kind) is request and not self._closed:
            del self._newest[request.kind]
            self.completed += 1
            request.on_done(outcome)
        self._run_next()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        self._closed = True
        self._pending.clear()
        if self._running is not None:
            self._running.cancel.set()
        return _stop_thread(self._thread, "quick", timeout_ms)


class JobRunner(QObject):
    """The heavy lane (one job at a time, as below) and :attr:`quick`, the quick lane.

    Lives in the GUI thread. ``busy`` is True from ``start`` until ``finished`` is emitted.
    Training runs of the heavy lane train in :attr:`worker_process` (started on first use,
    kept for the window's life; the lane's thread waits for it), on features the window made
    in :attr:`shared_files` (see :mod:`linviz.workbench.worker`).
    """

    started = Signal(str)  # job name
    progressed = Signal(str, object, object)  # job name, done, total
    messaged = Signal(str, str)
    finished = Signal(object)  # JobOutcome
    _submit = Signal(object)

    def __init__(self, parent: Optional[QObject] = None):
        super().__init__(parent)
        # Python references to threads and workers, for the whole life of the window (a dropped
        # running QThread aborts; docs/pitfalls.md, 'Compiled loops ignore interrupts').
        self._worker = _JobWorker()
        self._thread = _start_thread("linvizCompute", self._worker)
        self._submit.connect(self._worker.run)
        self._worker.progressed.connect(self._on_progress)
        self._worker.messaged.connect(self._on_message)
        self._worker.ended.connect(self._on_ended)
        self.quick = QuickLane(self)
        self._shared_files = None  # made on first use: the window opens without importing them
        self._worker_process = None
        # A compute loop of short nogil kernels holds the GIL between calls; every return
        # from C++ into Python on the GUI thread (each pyqtgraph paint()) then waits up to
        # the switch interval. 5 ms (the default) x dozens of such calls per frame made
        # 100+ ms stalls; 1 ms keeps a frame well under 50 ms.
        if sys.getswitchinterval() > GUI_SWITCH_INTERVAL_S:
            sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
        self._name: Optional[str] = None
        self._cancel: Optional[threading.Event] = None
        self._on_cancel: Optional[Callable[[], None]] = None
        self.latest = LatestValue()

    @property
    def busy(self) -> bool:
        return self._name is not None

    @property
    def job_name(self) -> Optional[str]:
        return self._name

    @property
    def cancelling(self) -> bool:
        """True while the running job has been asked to stop and has not ended yet."""
        return self._cancel is not None and self._cancel.is_set()

    def start(self, name: str, job: Callable[[JobContext], Any],
              on_cancel: Optional[Callable[[], None]] = None) -> bool:
        """Queue ``job`` on the heavy lane; False (and nothing started) when busy."""
        if self.busy:
            return False
        self._name = name
        self._cancel = threading.Event()
        self._on_cancel = on_cancel
        self.latest.take()
        self.started.emit(name)
        self._submit.emit((name, job, self._cancel, self.latest))
        return True

    def cancel(self) -> None:
        """Ask the running job to stop at its next check; its end arrives via ``finished``."""
        if self._cancel is not None:
            self._cancel.set()
        if self._on_cancel is not None:
            self._on_cancel()

    def threads_running(self) -> bool:
        return self._thread.isRunning() or self.quick._thread.isRunning()

    @property
    def shared_files(self):
        """The app's shared memory (:class:`~linviz.workbench.worker.shared_files.SharedFiles`)."""
        if self._shared_files is None:
            from linviz.workbench.worker.shared_files import SharedFiles

            self._shared_files = SharedFiles()
        return self._shared_files

    @property
    def worker_process(self):
        """The worker process (:class:`~linviz.workbench.worker.client.WorkerProcess`), started
        by the start-up warm-up or the first run."""
        if self._worker_process is None:
            from linviz.workbench.worker.client import WorkerProcess

            self._worker_process = WorkerProcess(blas_threads=blas_threads_for_gui())
        return self._worker_process

    @property
    def trains_in_worker(self) -> bool:
        """Training runs in :attr:`worker_process` (unless the environment asks otherwise)."""
        return trains_in_worker()

    def processes_running(self) -> bool:
        return self._worker_process is not None and self._worker_process.alive

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Cancel, let the jobs return, stop both threads (never terminate() a thread), then end
        the worker process and remove the shared files. A training run that is stopped here
        ends (and is recorded) as when the user stops it; a worker that does not stop within
        a couple of seconds is ended."""
        if self._worker_process is not None:
            self._worker_process.closing()
        self.cancel()
        quick = self.quick.shutdown(timeout_ms)
        heavy = _stop_thread(self._thread, self._name or "background", timeout_ms)
        process = self._worker_process.shutdown() if self._worker_process is not None else True
        if self._shared_files is not None:
            self._shared_files.close()
        return heavy and quick and process

    @Slot(object, object)
    def _on_progress(self, done, total) -> None:
        if self._name is not None:
            self.progressed.emit(self._name, done, total)

    @Slot(str)
    def _on_message(self, text: str) -> None:
        if self._name is not None:
            self.messaged.emit(self._name, text)

    @Slot(object)
    def _on_ended(self, outcome: JobOutcome) -> None:
        self._name = None
        self._cancel = None
        self._on_cancel = None
        self.finished.emit(outcome)
