"""The heavy lane as the user meets it: one job at a time, a status strip with Cancel,
requests that wait their turn, and the Numba warm-up when nothing else runs.

A request that cannot start now either waits (behind the warm-up, which gives way, or behind
a job that is being stopped) or is refused with a message ("Busy with ..."): the user decides
whether to cancel what runs. A data change is special: it stops what runs and waits, because
a job keeps working on the data it was given and the data must never change under it.

Live results: a job hands them over with ``ctx.publish(value)`` (newest wins); with
``run(..., on_publish=callback)`` the queue takes the newest value from a display timer
(:data:`PUBLISH_INTERVAL_MS`) and calls ``callback(value)`` on the GUI thread, and a value
published just before the job ended is delivered before ``on_done``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable, Optional

from PySide6.QtCore import QObject, QTimer, Slot

from linviz.errors import LinvizError
from linviz.workbench import jobs
from linviz.gui.widgets.job_status import JobStatus
from linviz.gui.widgets.status_line import StatusLine
from linviz.gui.runtime.worker import JobOutcome, JobRunner

PUBLISH_INTERVAL_MS = 100  # how often a job's newest published value is handed to ``on_publish``


DATA_JOBS = ("load", "split", "download")  # jobs whose end brings new data


@dataclass
class _Handlers:
    on_done: Optional[Callable[[JobOutcome], None]]
    on_progress: Optional[Callable[[int, int], None]]
    on_start: Optional[Callable[[], None]]
    on_publish: Optional[Callable[[object], None]] = None


class JobQueue(QObject):
    def __init__(self, runner: JobRunner, status: StatusLine, strip: JobStatus, parent=None):
        super().__init__(parent)
        self.runner = runner
        self.status = status
        self.strip = strip
        # Requests that wait for the worker, in order, as (kind, request); each request
        # re-reads the state it needs when it runs.
        self.pending: deque[tuple[str, Callable[[], None]]] = deque()
        self._handlers: Optional[_Handlers] = None
        self.warmup_state = "waiting"  # waiting -> running -> done
        self.closing = False
        self.can_warm_up: Callable[[], bool] = lambda: True  # the window: "am I visible?"
        self.warmup_spec: Callable[[], str] = lambda: "hog+hue"  # the window: its features panel's spec
        runner.started.connect(self._on_started)
        runner.progressed.connect(self._on_progress)
        runner.messaged.connect(self._on_message)
        runner.finished.connect(self._on_finished)
        strip.cancelRequested.connect(self.cancel)
        self._publish_timer = QTimer(self)
        self._publish_timer.setInterval(PUBLISH_INTERVAL_MS)
        self._publish_timer.timeout.connect(self._deliver_published)

    # ------------------------------------------------------------------ requests
    def run(self, name: str, job, text: str, *, on_done=None, on_progress=None, on_cancel=None,
            on_start=None, on_publish=None) -> bool:
        """Start ``job`` on the heavy lane. A warm-up in progress gives way (the job waits for
        it); while another job runs the user is told to wait or cancel it. True when the job
        started or waits its turn. ``on_start`` runs when the job really starts; ``on_done``
        gets its JobOutcome; ``on_publish`` gets the job's newest published value a few times
        a second (see the module docstring)."""
        def retry() -> None:
            self.run(name, job, text, on_done=on_done, on_progress=on_progress, on_cancel=on_cancel, on_start=on_start,
                     on_publish=on_publish)

        if not self.free_for(name, retry):
            return self.runner.job_name == "warmup" or self.runner.cancelling
        self.strip.set_running(text)
        self._handlers = _Handlers(on_done, on_progress, on_start, on_publish)
        started = self.runner.start(name, job, on_cancel=on_cancel)
        if started and on_publish is not None:
            self._publish_timer.start()
        return started

    def free_for(self, kind: str, request: Callable[[], None]) -> bool:
        """True when the heavy lane is free now. Otherwise ``request`` waits its turn when the
        lane is about to be free (the warm-up gives way; a job is being stopped), once per
        kind; while any other job runs it is refused with a message."""
        if not self.runner.busy:
            return True
        if self.runner.job_name == "warmup" or self.runner.cancelling:
            for k, (queued_kind, _) in enumerate(self.pending):
                if queued_kind == kind:
                    self.pending[k] = (kind, request)
                    break
            else:
                self.pending.append((kind, request))
            if self.runner.job_name == "warmup":
                self.runner.cancel()
            return False
        self.status.show_message(f"Busy with {self.runner.job_name}: cancel it first (or wait)", error=True,
                                 transient=True)
        return False

    def data_can_change(self, kind: str, request: Callable[[], None]) -> bool:
        """True when nothing runs. Otherwise the running job is stopped (training) or
        cancelled, ``request`` waits for the lane, and requests queued for the old data go."""
        if not self.runner.busy:
            return True
        running = self.runner.job_name
        self.pending.clear()
        self.pending.append((kind, request))
        if running == "train":
            self.status.show_message("Stopping the training to switch the data...", transient=True)
        elif running != "warmup":
            self.status.show_message(f"Cancelling {running} to switch the data...", transient=True)
        self.runner.cancel()
        return False

    def waits_for_data(self, kind: str, request: Callable[[], None]) -> bool:
        """While data loads (or its splits are prepared), ``request`` waits for it: True. It
        then runs with the new data; it is dropped if the load fails (see drop_pending)."""
        if not (self.runner.busy and self.runner.job_name in DATA_JOBS and not self.runner.cancelling):
            return False
        self.pending = deque((k, r) for k, r in self.pending if k != kind)
        self.pending.append((kind, request))
        return True

    def drop_pending(self, kinds: tuple[str, ...]) -> None:
        self.pending = deque((k, r) for k, r in self.pending if k not in kinds)

    @property
    def quick(self):
        """The quick lane (short jobs beside the heavy one; see linviz.gui.runtime.worker)."""
        return self.runner.quick

    @Slot()
    def cancel(self) -> None:
        """Cancel (or stop: a training job's ``on_cancel`` stops its loop) the running job."""
        self.runner.cancel()

    def show_progress(self, done: int, total: int) -> None:
        self.strip.set_progress(done, total)

    def prepare_kernels(self) -> None:
        """Start getting the kernels of a first training ready in the background (compiled in
        other processes on a first run: the window stays free); the warm-up job then shows
        it in the strip."""
        if self.warmup_state == "waiting" and not self.closing:
            jobs.prepare_kernels(self.warmup_spec())

    def start_warmup(self) -> None:
        """Wait for the kernels in the background, saying so in the strip, and prepare those
        of the other presets; only when nothing else runs."""
        if self.warmup_state != "waiting" or self.closing or self.runner.busy:
            return  # a busy lane retries when its job ends
        self.warmup_state = "running"
        self.strip.set_running(jobs.WARM_UP_MESSAGE)
        self._handlers = _Handlers(self._warmup_done, None, None)
        self.runner.start("warmup", self._warmup_job())

    def _warmup_job(self):
        """This process's kernels, and the worker process's: started first, it loads its
        interpreter and its kernels on another core meanwhile."""
        warm_here = jobs.warmup_job(self.warmup_spec())
        runner = self.runner

        def job(ctx) -> tuple[float, Optional[str]]:
            """This process's warm-up seconds, and why the worker cannot train (or None)."""
            problem = None
            if runner.trains_in_worker:
                try:
                    runner.worker_process.start()
                except LinvizError as exc:
                    problem = str(exc)
            seconds = warm_here(ctx)
            if runner.trains_in_worker and problem is None:
                try:
                    runner.worker_process.warm_up(ctx.cancel)
                except LinvizError as exc:  # it died: runs train here if it cannot start again
                    problem = runner.worker_process.unusable or str(exc)
            return seconds, problem

        return job

    def _warmup_done(self, outcome: JobOutcome) -> None:
        # Cancelled: again when the lane is free; failed: not again (the first run compiles).
        self.warmup_state = "waiting" if outcome.cancelled else "done"
        if outcome.error:
            self.status.show_error("Warm-up", outcome.error, outcome.details)
        elif outcome.ok and outcome.result[1] and not self.closing:
            self.status.show_message(f"Training runs in the window's own process: {outcome.result[1]}", error=True)

    # ------------------------------------------------------------------ the runner's signals
    @Slot(str)
    def _on_started(self, name: str) -> None:
        if name != "warmup":
            self.status.show_message("")
        handlers = self._handlers
        if handlers is not None and handlers.on_start is not None:
            on_start, handlers.on_start = handlers.on_start, None
            on_start()

    @Slot(str, object, object)
    def _on_progress(self, name: str, done, total) -> None:
        self.strip.set_progress(done, total)
        if self._handlers is not None and self._handlers.on_progress is not None:
            self._handlers.on_progress(done, total)

    @Slot(str, str)
    def _on_message(self, name: str, text: str) -> None:
        self.strip.label.setText(text)

    @Slot()
    def _deliver_published(self) -> None:
        handlers = self._handlers
        if handlers is None or handlers.on_publish is None:
            self._publish_timer.stop()
            return
        value = self.runner.latest.take()
        if value is not None:
            handlers.on_publish(value)

    @Slot(object)
    def _on_finished(self, outcome: JobOutcome) -> None:
        if self._publish_timer.isActive():
            self._deliver_published()  # the last value published before the end
            self._publish_timer.stop()
        self.strip.set_idle()
        self.status.clear_transient()  # "Paused", "Busy with ...": about the job that just ended
        handlers, self._handlers = self._handlers, None
        if handlers is not None and handlers.on_done is not None:
            try:
                handlers.on_done(outcome)
            except Exception as exc:  # a result the window could not take: said, never silent
                import traceback

                self.status.show_error(f"{outcome.name.capitalize()}", f"{type(exc).__name__}: {exc}",
                                       traceback.format_exc())
        while self.pending and not self.runner.busy and not self.closing:
            _, request = self.pending.popleft()
            request()
        if not self.runner.busy and self.warmup_state == "waiting" and self.can_warm_up():
            QTimer.singleShot(0, self.start_warmup)
