"""The heavy lane's training job when the run trains in the worker process, and the frames
the window draws from the run's board.

:class:`RemoteTrainingJob` is a job like :func:`linviz.workbench.jobs.train_job` (same
arguments, same result: the final :class:`~linviz.workbench.state.TrainingFrame`, with the
kept weights as its model). It extracts the features first when they are missing or stale,
in the lane's thread, into shared memory; then it makes the run's board, sends the request
and waits (without the GIL) for the run to end. Meanwhile the window's display timer calls
:meth:`RemoteTrainingJob.take` and draws what the worker published last.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from typing import Callable, Optional

import numpy as np

from linviz.workbench.state import Evaluation, ExtractedFeatures, Model, PreparedData, TrainingFrame
from linviz.workbench.worker.board import BoardLayout, BoardReader, BoardView, create_board
from linviz.workbench.worker.client import RemoteControl, WorkerDied, WorkerProcess
from linviz.workbench.worker.protocol import FinalRun, TrainingRequest
from linviz.workbench.worker.shared_files import SharedFiles, _unlink


class RemoteFrames:
    """TrainingFrames made from a run's board, as the window's views expect them: the model
    object stays the same until its weights, evaluation or pictures change, the logs are
    views (no copies). :meth:`take` and :meth:`final` may be called from two threads."""

    def __init__(self, reader: BoardReader, *, run: int, data_key, features: ExtractedFeatures, loss: str,
                 settings: dict):
        self.reader = reader
        self.run, self.data_key, self.features = run, data_key, features
        self.loss, self.settings = loss, dict(settings)
        self._lock = threading.Lock()
        self.state: Optional[dict] = None
        self.logs: dict[str, np.ndarray] = {}
        self.W: Optional[np.ndarray] = None
        self.evaluation: Optional[Evaluation] = None
        self.templates = None
        self.model: Optional[Model] = None
        self.best_W: Optional[np.ndarray] = None  # the best epoch's weights so far (validation accuracy)
        self._accuracies: tuple = ((), ())
        self._accuracy_rows = -1
        self._trajectory: tuple = ()
        self._trajectory_key = None

    def take(self) -> Optional[TrainingFrame]:
        """The newest frame, or None when the board has not changed since the last call."""
        with self._lock:
            view = self.reader.read()
            if view is None:
                return None
            self._apply(view)
            return self._frame(view.weights)

    def final(self, final: FinalRun) -> TrainingFrame:
        """The run's last frame: the final snapshot with the logs as published last, and the
        weights the run keeps as its model."""
        with self._lock:
            view = self.reader.read(wait=True)
            if view is not None:
                self._apply(view)
            snapshot = dataclasses.replace(final.snapshot, losses=self.logs.get("losses"),
                                           smoothed_losses=self.logs.get("smoothed_losses"),
                                           per_snapshot=self._per_snapshot())
            model = self.model
            if not final.kept_is_newest or model is None:
                evaluation = Evaluation(*final.evaluation) if final.evaluation is not None else None
                model = Model(final.kept_W, self.loss, dict(self.settings), self.features, evaluation, final.templates)
            return TrainingFrame(snapshot, model, self.run, data_key=self.data_key, final=True,
                                 wall_seconds=final.wall_seconds, trajectory=self._trajectory_now(),
                                 loop_times=final.loop_times)

    def rescue(self, evaluate: Callable, pictures: Callable, death: str) -> Optional[TrainingFrame]:
        """After the worker died (``death`` says how): the run's last frame from what it
        published, ended there, with the weights the run would have kept so far as the model
        (the best epoch's, by validation accuracy; else the newest) and its ``kept`` saying
        which. None when nothing was published."""
        with self._lock:
            view = self.reader.read(wait=True)
            if view is not None:
                self._apply(view)
            if self.state is None or self.model is None:
                return None
            frame = self._frame(None)
            best_epoch = self.state.get("best_epoch")
            best = dict(kept="kept the newest weights it published")
            model = self.model
            if self.best_W is not None and best_epoch is not None:
                best_val = float(self.state.get("best_val_so_far", float("nan")))
                model = Model(self.best_W, self.loss, dict(self.settings), self.features, evaluate(self.best_W),
                              pictures(self.best_W))
                best = dict(kept=f"kept the weights of epoch {best_epoch}, the best validation accuracy so far "
                                 f"({best_val:.4f})", best_epoch=int(best_epoch), best_val_accuracy=best_val)
            snapshot = dataclasses.replace(frame.snapshot, done=True, stop_reason=death, best_W=model.W, **best)
            return dataclasses.replace(frame, snapshot=snapshot, model=model, final=True)

    def _apply(self, view: BoardView) -> None:
        self.state, self.logs = view.state, view.logs
        if view.best_weights is not None:
            self.best_W = view.best_weights
        changed = False
        if view.weights is not None:
            self.W, changed = view.weights, True
        if view.evaluation is not None:
            self.evaluation, changed = Evaluation(*view.evaluation), True
        if view.templates is not None:
            self.templates, changed = view.templates, True
        if changed and self.W is not None:
            self.model = Model(self.W, self.loss, dict(self.settings), self.features, self.evaluation, self.templates)

    def _per_snapshot(self) -> Optional[np.ndarray]:
        rows = self.logs.get("per_snapshot")
        return rows if rows is not None and len(rows) else None

    def _accuracies_now(self) -> tuple:
        rows = self.logs.get("accuracies")
        n = 0 if rows is None else len(rows)
        if n != self._accuracy_rows:
            self._accuracy_rows = n
            train = tuple(float(v) for v in rows[:, 0]) if n else ()
            val = tuple(float(v) for v in rows[:, 1]) if n and self.state.get("has_validation") else ()
            self._accuracies = (train, val)
        return self._accuracies

    def _trajectory_now(self) -> tuple:
        rows = self.logs.get("trajectory")
        if rows is None:
            return ()
        key = (id(rows.base), len(rows))
        if key != self._trajectory_key:
            self._trajectory_key = key
            self._trajectory = tuple(rows[k] for k in range(len(rows)))
        return self._trajectory

    def _frame(self, new_weights: Optional[np.ndarray]) -> TrainingFrame:
        from linviz.training.loop import Snapshot

        state = self.state
        train_acc, val_acc = self._accuracies_now()
        fields = {f.name: state[f.name] for f in dataclasses.fields(Snapshot) if f.name in state}
        snapshot = Snapshot(**fields, losses=self.logs["losses"], smoothed_losses=self.logs["smoothed_losses"],
                            per_snapshot=self._per_snapshot(), train_accuracies=train_acc, val_accuracies=val_acc,
                            W=new_weights)
        return TrainingFrame(snapshot, self.model, self.run, data_key=self.data_key,
                             trajectory=self._trajectory_now())


class RemoteTrainingJob:
    """A training run in the worker process, as a heavy-lane job (see the module docstring)."""

    def __init__(self, process: WorkerProcess, files: SharedFiles, prepared: PreparedData,
                 features: Optional[ExtractedFeatures], spec_text: str, settings: dict, control: RemoteControl,
                 run: int, W0: Optional[np.ndarray] = None):
        self.process, self.files = process, files
        self.prepared, self.features, self.spec_text = prepared, features, spec_text
        self.settings, self.control, self.run, self.W0 = dict(settings), control, run, W0
        self.frames: Optional[RemoteFrames] = None

    def take(self) -> Optional[TrainingFrame]:
        """GUI thread: the newest frame of the run, or None (nothing new, or not started)."""
        frames = self.frames
        return frames.take() if frames is not None else None

    def __call__(self, ctx) -> TrainingFrame:
        from linviz.workbench.jobs import canonical_spec, extract_features

        prepared, feats = self.prepared, self.features
        if feats is None or feats.spec_text != canonical_spec(self.spec_text) or feats.data_key != prepared.key():
            feats = extract_features(prepared, self.spec_text, ctx, allocate=self.files.empty)
        compiling = kernels_to_come(ctx)  # (may be cancelled: before any file is made)
        C = len(prepared.class_names)
        has_val = prepared.has_validation
        blocks = len(getattr(feats.pipeline, "blocks", []) or [])
        layout = BoardLayout(feats.dim, C, len(prepared.val.labels) if has_val else 0, max(1, blocks))
        stem = f"run{self.run}-{os.getpid()}-{id(self):x}"
        board_path = self.files.new_path(f"{stem}-board", layout.nbytes)
        create_board(board_path, layout)
        X_train = self.files.share(feats.X_train, "features-train")
        X_val = self.files.share(feats.X_val, "features-val") if has_val else None
        try:
            pipeline_state = feats.pipeline.state() if feats.pipeline is not None else None
        except Exception:  # a pipeline that cannot say its state: templates fall back to bars
            pipeline_state = None
        W0 = self.W0 if (self.W0 is not None and self.W0.shape[0] == feats.dim) else None

        def request(run_id: int, controls: tuple) -> TrainingRequest:
            return TrainingRequest(run_id, board_path, layout, os.path.dirname(board_path), stem, X_train, X_val,
                                   np.asarray(prepared.train.labels),
                                   np.asarray(prepared.val.labels) if has_val else None,
                                   C, self.settings, pipeline_state, W0, controls, compiling)

        self.process.start()
        self.frames = RemoteFrames(BoardReader(board_path, layout, self.process.lock), run=self.run,
                                   data_key=prepared.key(), features=feats, loss=self.settings.get("loss", "softmax"),
                                   settings=self.settings)
        ctx.message("Training")
        try:
            final = self.process.train(request, self.control, cancel=ctx.cancel)
            return self.frames.final(final)
        except WorkerDied as exc:
            from linviz.workbench.jobs import evaluate, template_rows

            rescued = self.frames.rescue(lambda W: evaluate(feats, prepared, W),
                                         lambda W: template_rows(W, feats.pipeline), str(exc))
            if rescued is None:
                raise
            raise WorkerDied(f"{exc}; {rescued.snapshot.kept}", frame=rescued) from None
        finally:
            _remove_run_files(os.path.dirname(board_path), stem)


def kernels_to_come(ctx) -> tuple:
    """On a first run, wait for the first step's kernels (which the window's warm-up child
    compiles: the worker would compile them a second time) and name the parts still
    compiling, for the worker to do without (the minibatch loop: it steps one by one
    until the loop's kernel is on disk)."""
    from linviz.training import warmup
    from linviz.workbench.jobs import wait_for_kernels

    if warmup.pending(warmup.training_part()):
        wait_for_kernels(ctx, [warmup.training_part()])
    loop = warmup.training_loop_part()
    return (warmup.part_key(loop),) if warmup.pending(loop) else ()


def _remove_run_files(folder: str, stem: str) -> None:
    """The run's board and logs: their names go (the window's views of them stay valid)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if name.startswith(stem):
            _unlink(os.path.join(folder, name))
