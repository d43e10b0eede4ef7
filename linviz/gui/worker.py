"""The single compute worker: loading, extraction and training run here, one job at a time.

A job is a plain Python callable ``job(ctx) -> result`` that knows nothing about Qt: it
reports with ``ctx.progress(done, total)``, checks ``ctx.cancelled()`` (or passes
``ctx.cancel`` to the core functions), and hands live results to the GUI with
``ctx.publish(value)``.

Why published values are not signals: a training loop produces snapshots far faster than
anyone can look at them. ``publish`` only replaces the newest value in a locked box
(:class:`LatestValue`); the GUI's display timer takes it when it redraws. The compute rate
and the redraw rate stay independent and the GUI thread's event queue never floods.

The worker QObject lives in one long-lived QThread. Its signals are connected only to
``@Slot`` methods of :class:`ComputeRunner`, which lives in the GUI thread, so Qt queues
them across threads (a lambda would run in the worker thread and touch widgets there).
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Optional

from PySide6.QtCore import QObject, QThread, Signal, Slot

from linviz.errors import Cancelled, LinvizError


GUI_SWITCH_INTERVAL_S = 0.001


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


class _JobWorker(QObject):
    """Lives in the compute thread; runs one job per ``run`` call."""

    progressed = Signal(object, object)
    messaged = Signal(str)
    ended = Signal(object)  # JobOutcome

    @Slot(object)
    def run(self, request) -> None:
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
            outcome = JobOutcome(name, error=f"{type(exc).__name__}: {exc}", details=traceback.format_exc())
        outcome = JobOutcome(**{**outcome.__dict__, "seconds": time.perf_counter() - start})
        self.ended.emit(outcome)


class ComputeRunner(QObject):
    """Owns the compute thread; starts one job at a time, forwards its progress and end.

    Lives in the GUI thread. ``busy`` is True from ``start`` until ``finished`` is emitted.
    """

    started = Signal(str)  # job name
    progressed = Signal(str, object, object)  # job name, done, total
    messaged = Signal(str, str)
    finished = Signal(object)  # JobOutcome
    _submit = Signal(object)

    def __init__(self, parent: Optional[QObject] = None):
        super().__init__(parent)
        # Python references to both, for the whole life of the window (pitfall 8).
        self._thread = QThread()
        self._thread.setObjectName("linvizCompute")
        self._worker = _JobWorker()
        self._worker.moveToThread(self._thread)
        self._submit.connect(self._worker.run)
        self._worker.progressed.connect(self._on_progress)
        self._worker.messaged.connect(self._on_message)
        self._worker.ended.connect(self._on_ended)
        # A compute loop of short nogil kernels holds the GIL between calls; every return
        # from C++ into Python on the GUI thread (each pyqtgraph paint()) then waits up to
        # the switch interval. 5 ms (the default) x dozens of such calls per frame made
        # 100+ ms stalls; 1 ms keeps a frame well under 50 ms.
        if sys.getswitchinterval() > GUI_SWITCH_INTERVAL_S:
            sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
        self._thread.start()
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

    def start(self, name: str, job: Callable[[JobContext], Any], on_cancel: Optional[Callable[[], None]] = None) -> bool:
        """Queue ``job`` on the compute thread; False (and nothing started) when busy."""
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

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Cancel, let the job return, stop the thread. Never terminate()."""
        self.cancel()
        self._thread.quit()
        if self._thread.wait(timeout_ms):
            return True
        # A job that ignores its cancel flag for this long is inside one long call. Waiting
        # on is the only safe choice: destroying a running QThread aborts the process.
        print(f"linviz: waiting for the {self._name or 'background'} job to finish...", file=sys.stderr, flush=True)
        return bool(self._thread.wait())

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
