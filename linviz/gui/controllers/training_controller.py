"""Training: Train / Pause / Stop / Reset, pace and Step, and the display timer that moves the
newest frame of the running job into the workbench.

A run trains in the worker process (:mod:`linviz.workbench.worker`) and publishes its state
on a board in shared memory; the display timer (25 Hz) reads the newest frame from it and
hands it to the workbench, whose views redraw what changed. The compute rate and the redraw
rate stay independent, and the window's redraws never take the training's interpreter.
With ``LINVIZ_TRAINING_IN_WINDOW=1`` a run trains in the heavy lane's thread instead (sharing
the GIL with the views; the GUI bench measures both ways), as it does when the worker process
cannot start.

The model and its views are replaced when a run's first iteration arrives: a run refused,
still waiting or stopped before any update leaves the current model alone.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable, Optional

from PySide6.QtCore import QObject, QTimer, Slot

from linviz.errors import LinvizError
from linviz.workbench import jobs
from linviz.gui.controllers.data_controller import DataController
from linviz.gui.runtime.job_queue import JobQueue
from linviz.workbench import TrainingFrame, Workbench

DISPLAY_HZ = 25
PROGRESS_INTERVAL_S = 0.25  # the status strip's epoch progress


class _LatestOfRunner:
    """The frames of a run trained in the heavy lane's thread: the runner's one-slot box."""

    def __init__(self, runner):
        self.runner = runner

    def take(self):
        return self.runner.latest.take()


class TrainingController(QObject):
    def __init__(self, workbench: Workbench, job_queue: JobQueue, data_controller: DataController, panel, parent=None):
        super().__init__(parent)
        self.workbench = workbench
        self.job_queue = job_queue
        self.data_controller = data_controller
        self.panel = panel
        self.control = None  # TrainingControl (or RemoteControl) of the running training job
        self._live = None  # where the running job's frames come from: .take() -> newest frame or None
        self.before_train: Optional[Callable[[], None]] = None  # called first by every train request
        self.redraw_count = 0  # frames drawn by the display timer (the GUI bench counts them)
        self._run = 0  # the newest run started; frames of older runs are not drawn
        self._fresh = False  # the newest run has not drawn its first frame yet
        self._planned_epochs = 0
        self._progress_at = 0.0
        panel.trainRequested.connect(self.train)
        panel.pauseToggled.connect(self.set_paused)
        panel.stopRequested.connect(self.stop)
        panel.resetRequested.connect(self.reset_model)
        panel.pace.paceChanged.connect(self.set_pace)
        panel.pace.stepRequested.connect(self.step)
        workbench.runs.rerun_requested.connect(self.rerun)
        self._pace_at_start = None
        panel.scoreTestRequested.connect(self.score_on_test)
        # The recommended settings follow the features Train would use.
        data_controller.features_panel.specChanged.connect(panel.set_features)
        panel.set_features(data_controller.features_panel.spec_text())
        self.display_timer = QTimer(self)
        self.display_timer.setInterval(int(1000 / DISPLAY_HZ))
        self.display_timer.timeout.connect(self._on_display_tick)
        self.display_timer.start()

    @property
    def running(self) -> bool:
        return self.job_queue.runner.job_name == "train"

    # ------------------------------------------------------------------ requests
    @Slot()
    def train(self, step: Optional[str] = None, settings: Optional[dict] = None) -> None:
        """One click from any state: features are extracted first when missing or stale.
        ``step`` ("minibatch" | "epoch"): start paused and take that step. ``settings``: these
        (TrainingConfig fields) instead of the panel's."""
        runner = self.job_queue.runner
        if runner.busy and runner.job_name == "train" and not runner.cancelling:
            return
        if self.before_train is not None:  # e.g. a project whose files changed is loaded again
            self.before_train()
        if self.job_queue.waits_for_data("train", lambda: self.train(step, settings)):
            self.job_queue.status.show_message("The data is loading: training starts when it is ready")
            return
        if self.workbench.data is None:
            self.job_queue.status.show_message("Load a dataset first", error=True)
            return
        problem = self.data_controller.why_untrainable()
        if problem:
            self.job_queue.status.show_message(problem, error=True)
            return
        spec = self.data_controller.valid_spec()
        if spec is None:
            return
        settings = dict(settings) if settings is not None else self.panel.settings()
        if self.job_queue.free_for("train", lambda: self._start(spec, settings, step)):
            self._start(spec, settings, step)

    def _start(self, spec: str, settings: dict, step: Optional[str] = None) -> None:
        if self.workbench.data is None:
            return
        run = self._run + 1
        runner = self.job_queue.runner
        in_worker, note = runner.trains_in_worker, None
        if in_worker:
            try:
                runner.worker_process.start()  # at once when it runs (the start-up warm-up started it)
            except LinvizError as exc:
                in_worker, note = False, f"Training in the window's own process: {exc}"
        if not in_worker:
            from linviz.training import TrainingControl

            control = TrainingControl(pace=self.panel.pace.pace())
            training = jobs.train_job(self.workbench.data, self.workbench.features, spec, settings, control, run)
            live = _LatestOfRunner(runner)
        else:
            from linviz.workbench.worker.client import RemoteControl
            from linviz.workbench.worker.remote_job import RemoteTrainingJob

            control = RemoteControl(pace=self.panel.pace.pace())
            training = live = RemoteTrainingJob(runner.worker_process, runner.shared_files, self.workbench.data,
                                                self.workbench.features, spec, settings, control, run)
        if step is not None:
            control.step(step)
        pace = control.pace
        job = self._recorded(training, self.workbench.data, pace)

        def started() -> None:
            self.control = control
            self._live = live
            if note:
                self.job_queue.status.show_message(note, error=True)
            self._run, self._fresh = run, True
            self._planned_epochs = int(settings.get("epochs", 0))
            self._pace_at_start = pace
            self.workbench.set_training(True)
            if control.paused:
                self.panel.set_running(True, True)

        self.job_queue.run("train", job, "Training", on_done=self._finished, on_cancel=control.stop, on_start=started,
                       on_progress=self._extraction_progress)

    def _extraction_progress(self, done: int, total: int) -> None:
        """A training job reports progress only while it extracts its features."""
        self.data_controller.features_panel.show_progress(done, total)

    @Slot(bool)
    def set_paused(self, paused: bool) -> None:
        if self.control is None:
            return
        if paused:
            self.control.pause()
            self.job_queue.status.show_message("Paused", transient=True)
        else:
            self.control.resume()
            self.job_queue.status.show_message("")
        self.panel.set_running(True, paused)

    @Slot(object)
    def set_pace(self, pace) -> None:
        """Iterations per second, or None (as fast as possible); a running run follows at once."""
        if self.control is not None:
            self.control.set_pace(pace)

    @Slot(str)
    def step(self, unit: str) -> None:
        """Pause and run one minibatch (or the rest of the epoch); with no run, start one paused."""
        if self.control is None:
            if not self.running:
                self.train(step=unit)
            return
        self.control.step(unit)
        self.panel.set_running(True, True)
        what = "one minibatch" if unit == "minibatch" else "the rest of this epoch"
        self.job_queue.status.show_message(f"Paused after {what}: Step again, or Resume", transient=True)

    def rerun(self, record) -> None:
        """Train again with a recorded run's features and every one of its settings."""
        if self.workbench.data is None:
            return
        if list(record.dataset.get("classes", [])) != self.workbench.class_names:
            self.job_queue.status.show_message(f"Re-run: {record.title} was trained on other classes "
                                           f"({record.dataset.get('source', '?')}); load that data first", error=True)
            return
        if self.running:
            self.job_queue.status.show_message("Re-run: a training run is going on; stop it first", error=True)
            return
        self.panel.apply_settings(record.settings)
        self.data_controller.features_panel.set_spec_text(record.features)
        note = "" if record.dataset.get("key") == getattr(self.workbench.data.dataset, "key", None) else \
            f" (it ran on {record.dataset.get('source', '?')}; these data differ)"
        self.job_queue.status.show_message(f"Re-running {record.title}{note}", transient=True)
        self.train(settings=record.settings)

    @Slot()
    def stop(self) -> None:
        """Stop the run, also in its feature-extraction phase (the job's cancel flag)."""
        if self.control is not None:
            self.control.stop()  # wakes a paused loop, too
        if self.running:
            self.job_queue.runner.cancel()

    @Slot()
    def reset_model(self) -> None:
        if not self.running:
            self.workbench.clear_model()

    @Slot()
    def score_on_test(self) -> None:
        """The current model's accuracy on the test split, computed off the GUI thread: the
        only place the app scores test images (nothing is ever chosen on them)."""
        model, data = self.workbench.model, self.workbench.data
        if model is None:
            self.job_queue.status.show_message("Train or load a model first", error=True)
            return
        X_test = model.features.X_test
        if data is None or data.test is None or X_test is None or not len(data.test.labels):
            self.job_queue.status.show_message("This dataset has no test split", error=True)
            return
        labels = data.test.labels

        def job(ctx):
            return jobs.test_predictions(model, X_test, labels)

        self.job_queue.status.show_message("Scoring the test split...")
        self.job_queue.quick.submit("score-test", job, lambda outcome: self._scored(model, outcome))

    def _scored(self, model, outcome) -> None:
        if not outcome.ok:
            if outcome.error:
                self.job_queue.status.show_error("Score on test", outcome.error, outcome.details)
            return
        if self.workbench.model is not model:
            self.job_queue.status.show_message("The model changed while the test split was scored: score it again")
            return
        predictions, accuracy = outcome.result
        self.workbench.set_model(dataclasses.replace(model, test_predictions=predictions, test_accuracy=accuracy))
        self.job_queue.status.show_message(f"Test accuracy {accuracy:.1%} on {len(predictions):,} test images "
                                       "(scored on request; nothing was chosen on them)")

    # ------------------------------------------------------------------ frames
    @Slot()
    def _on_display_tick(self) -> None:
        """Draw the newest frame (if one arrived since the last tick) and nothing else."""
        frame = self._live.take() if self.running and self._live is not None else None
        if frame is not None and self._apply(frame):
            self.redraw_count += 1
            now = time.perf_counter()
            if self._planned_epochs and now - self._progress_at >= PROGRESS_INTERVAL_S:
                self._progress_at = now
                self.job_queue.show_progress(int(1000 * float(frame.snapshot.epoch)), 1000 * self._planned_epochs)

    def _apply(self, frame: Optional[TrainingFrame]) -> bool:
        if frame is None or frame.run != self._run or not self.workbench.is_current(frame.data_key):
            return False
        if self._fresh:  # the run's first iteration: now the new model replaces the old
            self._fresh = False
            self.workbench.clear_model()
        self.workbench.set_frame(frame)
        return True

    def _recorded(self, job, data, pace):
        """The training job, then its run recorded in the run history (still off the GUI thread;
        a failure to record is said, never a failed run). Result: (frame, recorded, problem,
        death): ``death`` says how the worker process died under the run, whose last frame
        (with the weights it kept so far) is then the one recorded."""
        from linviz.workbench.worker.client import WorkerDied

        history = self.workbench.runs

        def recorded(ctx):
            death = None
            try:
                frame = job(ctx)
            except WorkerDied as exc:
                if exc.frame is None:
                    raise
                frame, death = exc.frame, str(exc)
            if frame.model is None:
                return frame, None, None, death
            try:
                return frame, history.record_job(frame, data, pace=pace)(ctx), None, death
            except Exception as exc:  # noqa: BLE001 - the run itself is fine
                return frame, None, f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc), death

        return recorded

    def _finished(self, outcome) -> None:
        self.control = None
        self.data_controller.features_panel.progress.setVisible(False)
        live, self._live = self._live, None
        frame = live.take() if live is not None else None  # what a run that failed published last
        recorded = problem = death = None
        if outcome.ok:
            frame, recorded, problem, death = outcome.result
        self._apply(frame)
        if recorded is not None or problem is not None:
            # the run is current while the model still has its weights
            current = frame is not None and self.workbench.model is frame.model
            self.workbench.runs.record_finished(recorded, problem, current=current)
        self.workbench.set_training(False)  # views still pacing their redraws draw the last frame now
        if self._fresh:  # not one iteration was drawn: the model and its views stay
            self._fresh = False
            if outcome.cancelled:
                self.job_queue.status.show_message("Stopped before the first iteration: the model is unchanged")
        elif outcome.cancelled:
            self.job_queue.status.show_message("Training cancelled")
        if outcome.error:
            self.job_queue.status.show_error("Training", outcome.error, outcome.details)
        elif death:
            self.job_queue.status.show_error("Training", death)
