"""A training run inside the worker process: the loop, followed the way the window follows it
(:class:`~linviz.workbench.live_run.LiveRun`), its newest snapshot published on the run's
board at the window's pace (:class:`Publisher`).

The features are the window's own arrays, mapped read-only (no copy); the validation
evaluation and the template pictures are made here, so the window only draws.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable, Optional

import numpy as np

from linviz.errors import Cancelled, LinvizError
from linviz.training.control import Grant, TrainingControl
from linviz.workbench.live_run import MAX_TRAJECTORY, LiveRun, thinned_length
from linviz.workbench.thread_times import ThreadStopwatch
from linviz.workbench.worker.board import BoardWriter
from linviz.workbench.worker.protocol import FinalRun, TrainingRequest

# The snapshot's fields that go to the logs (or, for the weights, to their own places).
LOGGED = ("losses", "smoothed_losses", "per_snapshot", "train_accuracies", "val_accuracies", "W", "best_W")
SNAPSHOT_STATE_FIELDS: Optional[tuple] = None


def snapshot_state(snapshot) -> dict:
    """The snapshot's plain values (numbers and text), for the board's state."""
    global SNAPSHOT_STATE_FIELDS
    if SNAPSHOT_STATE_FIELDS is None:
        SNAPSHOT_STATE_FIELDS = tuple(f.name for f in dataclasses.fields(snapshot) if f.name not in LOGGED)
    return {name: getattr(snapshot, name) for name in SNAPSHOT_STATE_FIELDS}


def confusion_counts(true: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    from linviz.workbench.jobs import confusion_matrix

    return confusion_matrix(true, predicted, n_classes)


# The window redraws at most 25 times a second: two publications per frame show every frame's
# newest state, and a fast run's hundreds of snapshots a second cost the loop no more than that.
PUBLISH_INTERVAL_S = 0.02


class PublishingControl(TrainingControl):
    """A run's control in the worker: before the loop asks for its next minibatches, what the
    board has pending goes out, waiting for the lock when the loop may wait next (paused,
    paced, stopped), without waiting at full speed (it goes with a later publication)."""

    before_grant: Callable[..., object] = staticmethod(lambda wait=True: True)

    def grant(self, wanted: int, epoch_left: int) -> Grant:
        self.before_grant(wait=self.paused or self.stopped or self.pace is not None)
        return super().grant(wanted, epoch_left)

    def about_to_wait(self) -> None:
        """Paused in the middle of a grant (a pause that came after the check above)."""
        self.before_grant(wait=True)


class Publisher:
    """Puts a run's snapshots on its board at the window's pace, not the loop's.

    Every snapshot is followed (:meth:`note`): what only grows is logged at once (the
    accuracies of an epoch, the trajectory's weights), and what changed is remembered (new
    weights, an evaluation, pictures, the best epoch's weights). The newest snapshot goes on
    the board when :data:`PUBLISH_INTERVAL_S` has passed since the last publication, at the
    run's end, and before the loop may wait (:meth:`before_grant`: paused, paced, stopped), so
    a paused run shows its last step. A fast run's snapshots in between are never pickled.
    """

    def __init__(self, board: BoardWriter, live: LiveRun, clock: Callable[[], float] = time.perf_counter):
        self.board = board
        self.live = live
        self.clock = clock
        self.published_at = -float("inf")
        self._newest: Optional[tuple] = None  # (snapshot, its state) not yet on the board
        self._changed = {"weights": False, "evaluation": False, "templates": False}
        self._best: Optional[np.ndarray] = None

    def note(self, snapshot, followed, state: dict, best: Optional[np.ndarray]) -> None:
        """``snapshot`` followed (``followed``), its plain ``state``, and the best epoch's
        weights when this snapshot's epoch is the best so far."""
        self._newest = snapshot, state
        for name in self._changed:
            self._changed[name] |= getattr(followed, name)
        if best is not None:
            self._best = best
        if snapshot.done or self._due():
            self.publish(wait=snapshot.done)

    def _due(self) -> bool:
        return self.clock() - self.published_at >= PUBLISH_INTERVAL_S

    def publish(self, wait: bool = True) -> bool:
        """The newest snapshot on the board (``wait``: for the lock; else it stays pending and
        goes with a later publication); True when nothing is left pending."""
        if self._newest is None:
            return self.board.flush(wait)
        (snapshot, state), logs, live, changed = self._newest, self.board.logs, self.live, self._changed
        logs["losses"].sync(snapshot.losses)
        logs["smoothed_losses"].sync(snapshot.smoothed_losses)
        logs["per_snapshot"].sync(snapshot.per_snapshot)
        done = self.board.publish(state, weights=live.W if changed["weights"] else None,
                                  evaluation=live.evaluation if changed["evaluation"] else None,
                                  templates=live.templates if changed["templates"] else None,
                                  best_weights=self._best, wait=wait)
        self._newest, self._best = None, None
        for name in changed:
            changed[name] = False
        self.published_at = self.clock()
        return done

    def before_grant(self, wait: bool = True) -> bool:
        """Before the loop's next minibatches (every compiled call, about 10 ms apart at full
        speed): when it may wait next, the newest snapshot goes out now; at full speed, when
        the interval has passed (a snapshot held back at an epoch's end goes out with the
        next call, not with the next snapshot), without waiting for the lock."""
        if wait:
            return self.publish(wait=True)
        if self._newest is not None and self._due():
            return self.publish(wait=False)
        return self.board.flush(False)


def log_limits(settings: dict, n_train: int) -> dict[str, int]:
    """How many entries each log of a run can ever need (a bound, not an allocation)."""
    epochs = int(settings.get("epochs", 10))
    iterations = max(1, n_train) * epochs  # batches are at least one image
    return {"losses": iterations, "smoothed_losses": iterations, "per_snapshot": 2 * iterations + epochs + 2,
            "accuracies": epochs + 1, "trajectory": MAX_TRAJECTORY + 1}


def run_request(request: TrainingRequest, control, lock, started: Callable[[], None] = lambda: None) -> FinalRun:
    """Train as ``request`` says, publishing on its board; the end of a run that made a model.
    Raises Cancelled when it was stopped before its first update, LinvizError when it could
    not train (e.g. diverged at once)."""
    from linviz.training import train, warmup
    from linviz.workbench.jobs import make_training_config, template_rows

    # the minibatch loop compiling in the window's warm-up child: step one by one meanwhile
    warmup.compiling_elsewhere(request.compiling)
    X = request.X_train.open_private()
    X_val = request.X_val.open_private() if request.X_val is not None else None
    y_val = request.y_val if X_val is not None else None
    pipeline = None
    if request.pipeline_state is not None:
        from linviz.features import FeaturePipeline

        pipeline = FeaturePipeline.from_state(request.pipeline_state)
    config = make_training_config(request.settings)
    n_classes = int(request.n_classes)
    board = BoardWriter(request.board_path, request.layout, lock, request.log_folder, request.log_stem,
                        log_limits(request.settings, len(request.y_train)))

    def evaluate(W: np.ndarray):
        if X_val is None or not len(y_val):
            return None
        predictions = np.argmax(X_val @ W, axis=1)
        return predictions, confusion_counts(y_val, predictions, n_classes)

    live = LiveRun(evaluate, lambda W: template_rows(W, pipeline))
    publisher = Publisher(board, live)
    control.before_grant = publisher.before_grant
    logs = board.logs
    has_val = X_val is not None and len(y_val) > 0
    last, epochs_logged = None, 0
    started()
    loop_start = time.perf_counter()
    stopwatch = ThreadStopwatch()
    for snapshot in train(X, request.y_train, X_val, y_val, config, control=control, W0=request.W0,
                          n_classes=n_classes):
        last = snapshot
        if snapshot.iteration == 0:
            continue  # the initial random weights are no model to show
        followed = live.follow(snapshot)
        best = None
        if len(snapshot.train_accuracies) > epochs_logged:
            train_acc = snapshot.train_accuracies[epochs_logged:]
            val_acc = snapshot.val_accuracies[epochs_logged:] if has_val else (np.nan,) * len(train_acc)
            logs["accuracies"].extend(np.column_stack([train_acc, val_acc]))
            epochs_logged = len(snapshot.train_accuracies)
            if has_val and snapshot.best_epoch == epochs_logged:  # the loop kept this epoch's weights
                best = live.W
        if followed.trajectory:
            _add_to_trajectory(logs["trajectory"], live.W)
        # At full speed the loop never waits for the window (see BoardWriter); the control
        # publishes before the loop may wait (paused, paced), and the end waits.
        # the state names the loop's best epoch so far (Snapshot.best_epoch): what the window
        # keeps should this process die, with its accuracy
        kept = snapshot.best_epoch if has_val else None
        publisher.note(snapshot, followed, dict(snapshot_state(snapshot), has_validation=has_val,
                                                best_val_so_far=snapshot.val_accuracies[kept - 1] if kept else None),
                       best)
    wall, loop_times = time.perf_counter() - loop_start, stopwatch.stop()
    if last is None or last.iteration == 0 or live.W is None:
        reason = getattr(last, "stop_reason", None)
        if control.stopped or not reason:
            raise Cancelled("stopped before the first iteration")
        raise LinvizError(f"training: {reason}")
    best_W = last.best_W
    kept_is_newest = best_W is None or best_W is live.W
    kept = live.W if kept_is_newest else best_W
    stripped = dataclasses.replace(last, losses=None, smoothed_losses=None, per_snapshot=None)
    return FinalRun(stripped, kept, kept_is_newest,
                    live.evaluation if kept_is_newest else evaluate(kept),
                    live.templates if kept_is_newest else template_rows(kept, pipeline), wall, loop_times)


def _add_to_trajectory(log, W: np.ndarray) -> None:
    """Append W; a full trajectory first keeps every other entry (as LiveRun counts it)."""
    if thinned_length(log.count) != log.count:
        log.replace(log.rows[:log.count:2])
    log.extend(W[None])


def warm_up() -> None:
    """First calls of the training kernels, every loss, the plain and the chunked path (the
    chunked one when its kernel is on disk or can compile here: not while the window's
    warm-up child compiles it, :func:`linviz.training.warmup.compiling_elsewhere`)."""
    from linviz.models.losses import LOSSES
    from linviz.training import TrainingConfig, train
    from linviz.training.loop import run_to_end

    rng = np.random.default_rng(0)
    X = rng.standard_normal((65, 11)).astype(np.float32)
    y = np.arange(65) % 2
    for loss in LOSSES:
        config = TrainingConfig(loss=loss, epochs=2, batch_size=16, snapshot_every=1)
        run_to_end(train(X, y, X, y, config, n_classes=2))
