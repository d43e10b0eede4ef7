"""The run history as the window shares it: every recorded run, which one is current, and the
jobs that read and write the store. No Qt in here (psygnal signals, like the workbench).

The workbench holds one :class:`RunHistory` (``bench.runs``). Every training run of the window
is recorded when it ends (the training job runs :meth:`RunHistory.record_job` after its loop,
still on the heavy lane), every run of a search by the search job itself; the Runs and Tuning labs show
the records, load curves and models through the jobs here, and ask for a re-run through
:attr:`RunHistory.rerun_requested` (the training controller listens). Disk work happens in
the jobs, off the GUI thread; the methods that change the list run on the GUI thread.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from typing import TYPE_CHECKING, Callable, Optional

import numpy as np
from psygnal import Signal

if TYPE_CHECKING:  # the training layer is imported when the history is first used, not with the window
    from linviz.training.records import RunRecord
    from linviz.training.run_store import RunStore

KEEP_WEIGHTS = 30  # runs whose weights stay in memory (restore and compare without reading files)


class RunHistory:
    changed = Signal()                 # runs added, renamed, deleted or loaded
    current_changed = Signal(object)   # the id of the run whose weights are the model, or None
    rerun_requested = Signal(object)   # a RunRecord to train again with its settings

    def __init__(self, post: Optional[Callable[[str, bool], None]] = None, store: Optional["RunStore"] = None):
        self._store = store
        self.records: list[RunRecord] = []   # newest first
        self.loaded = False
        self.loading = False
        self.current_id: Optional[str] = None
        self.messages: list[str] = []        # what the store said (set aside, pruned, unavailable)
        self._post = post or (lambda text, error=False: None)
        self._weights: OrderedDict[str, tuple] = OrderedDict()  # id -> (W, pipeline)
        self._restored = 0
        self.current_W = None  # the weights of the current run (a model with other weights is no run's)

    @property
    def store(self) -> "RunStore":
        if self._store is None:
            from linviz.training.run_store import RunStore

            self._store = RunStore()
        return self._store

    def current_for(self, model) -> Optional[str]:
        """The id of the run whose weights ``model`` has, or None."""
        if model is None or self.current_id is None or model.W is not self.current_W:
            return None
        return self.current_id

    # ------------------------------------------------------------------ reading
    def get(self, run_id: Optional[str]) -> Optional["RunRecord"]:
        return next((r for r in self.records if r.id == run_id), None)

    def weights(self, run_id: str) -> Optional[tuple]:
        """(W, pipeline) of a run, when in memory."""
        return self._weights.get(run_id)

    def load_job(self):
        store = self.store

        def job(ctx):
            return store.load()

        return job

    def on_loaded(self, outcome) -> None:
        self.loading = False
        if outcome.error:
            self._say(f"Run history: {outcome.error}", error=True)
            self.loaded = True
            return
        if not outcome.ok:
            return
        contents = outcome.result
        known = {r.id for r in self.records}
        merged = self.records + [r for r in contents.records if r.id not in known]
        self.records = sorted(merged, key=lambda r: r.id, reverse=True)
        self.loaded = True
        for message in contents.messages:
            self._say(message, error="set aside" in message or "could not" in message)
        self.changed.emit()

    def curves_job(self, records: list):
        """Load the curves of ``records`` (those without them); result: records with curves, and
        the problems as (record, message)."""
        store = self.store

        def job(ctx):
            done, problems = [], []
            for record in records:
                if ctx.cancelled():
                    break
                try:
                    done.append(store.load_curves(record))
                except Exception as exc:  # noqa: BLE001 - one unreadable run never stops the others
                    problems.append((record, f"run {record.title}: its curves cannot be read: {exc}"))
            return done, problems

        return job

    def model_job(self, run_id: str):
        """Read a run's model file (checked); result: (W, pipeline, saved model)."""
        store = self.store

        def job(ctx):
            saved = store.load_model(run_id)
            return np.asarray(saved.W, dtype=np.float32), saved.pipeline, saved

        return job

    def can_restore_in_place(self, record, features, data) -> bool:
        """Whether ``features`` (the workbench's) are the very features the run was trained on:
        same spec, same data, same split. Then its weights read them as they are."""
        if features is None or data is None or features.spec_text != record.features:
            return False
        if features.data_key != data.key():
            return False
        # a record names the number held out; one made before "auto" named the size asked
        return (record.dataset.get("key") == getattr(data.dataset, "key", None)
                and record.dataset.get("split") in (data.split_record, dataclasses.asdict(data.settings)))

    def restore_job(self, record, features, data, W=None):
        """Make a run the current model on the workbench's features (:meth:`can_restore_in_place`
        must hold). Result: the TrainingFrame to show (its curves, the model with evaluation and
        templates), and W. The weights come from memory, else from the run's model file."""
        from linviz.workbench import jobs
        from linviz.workbench.state import Model, TrainingFrame
        from linviz.training.records import snapshot_of

        store = self.store
        known = W if W is not None else (self.weights(record.id) or (None,))[0]
        self._restored += 1
        run = -self._restored  # restored runs never collide with the window's training runs

        def job(ctx):
            weights = known
            if weights is None:
                weights = np.asarray(store.load_model(record.id).W, dtype=np.float32)
            if weights.shape[0] != features.dim:
                raise ValueError(f"run {record.title}: its weights have {weights.shape[0]} rows, "
                                 f"the features {features.dim} columns")
            model = Model(weights, record.loss, dict(record.settings), features, jobs.evaluate(features, data, weights),
                          jobs.template_rows(weights, features.pipeline))
            try:
                with_curves = store.load_curves(record)
            except Exception:  # noqa: BLE001 - the weights are restored without their curves
                return None, model, record, data.key()
            frame = TrainingFrame(snapshot_of(with_curves), model, run, data_key=data.key(), final=True,
                                  wall_seconds=record.wall_seconds)
            return frame, model, with_curves, data.key()

        return job

    def apply_restored(self, workbench, outcome, what: str = "") -> bool:
        """Show a restored run (the result of :meth:`restore_job`) on the workbench; True if done."""
        if outcome.error:
            workbench.post_message(f"{what or 'Restore'}: {outcome.error}", True)
            return False
        if not outcome.ok:
            return False
        frame, model, record, data_key = outcome.result
        if not workbench.is_current(data_key):
            return False
        workbench.clear_model()
        if frame is not None:
            workbench.set_frame(frame)
        else:
            workbench.set_model(model)
        self.replace(record)
        self.remember_weights(record.id, model.W, model.features.pipeline)
        self.set_current(record.id, model.W)
        return True

    # ------------------------------------------------------------------ writing
    def record_job(self, frame, data, *, pace: Optional[float] = None):
        """The record of a finished training frame (its model's weights are the kept ones), written
        to the store; result: (record, W, pipeline, messages) for :meth:`record_finished`."""
        from linviz.workbench.jobs import make_training_config
        from linviz.training import accuracy
        from linviz.training.records import dataset_summary, make_record

        store = self.store
        model, snap = frame.model, frame.snapshot
        settings = dict(model.settings)
        features = model.features
        summary = dataset_summary(data.dataset, n_train=len(data.train.labels), n_val=len(data.val.labels),
                                  n_test=len(data.test.labels) if data.test is not None else 0,
                                  split=data.split_record)
        y_train, y_val = data.train.labels, data.val.labels
        class_names = data.class_names

        def job(ctx):
            W = model.W
            config = make_training_config(settings)
            record = make_record(snap, config, features=features.spec_text, dataset=summary, origin="app",
                                 train_accuracy=accuracy(features.X_train, y_train, W),
                                 val_accuracy=accuracy(features.X_val, y_val, W) if len(y_val) else None,
                                 wall_seconds=frame.wall_seconds, pace=pace)
            messages = store.add(record, W=W, class_names=class_names, pipeline=features.pipeline)
            return record, W, features.pipeline, messages

        return job

    def record_finished(self, result, error: Optional[str] = None, *, current: bool = False) -> None:
        """The result of a :meth:`record_job` (GUI thread): the run joins the list, or the error is said."""
        if error:
            self._say(f"This run was not recorded: {error}", error=True)
            return
        if result is None:
            return
        record, W, pipeline, messages = result
        self.add(record, W, pipeline, messages)
        if current:
            self.set_current(record.id, W)

    def add(self, record: "RunRecord", W=None, pipeline=None, messages=()) -> None:
        """A run just recorded (GUI thread)."""
        self.records = sorted([record] + [r for r in self.records if r.id != record.id], key=lambda r: r.id,
                              reverse=True)
        keep = self.store.keep
        if len(self.records) > keep:
            for old in self.records[keep:]:
                self._weights.pop(old.id, None)
            del self.records[keep:]
        if W is not None:
            self.remember_weights(record.id, W, pipeline)
        for message in messages:
            self._say(message)
        self.changed.emit()

    def replace(self, record: "RunRecord") -> None:
        """A record with its curves loaded, or renamed (no signal for curves: nothing listed changes)."""
        old = self.get(record.id)
        self.records = [record if r.id == record.id else r for r in self.records]
        if old is None or old.name != record.name:
            self.changed.emit()

    def remove(self, run_id: str) -> None:
        self.records = [r for r in self.records if r.id != run_id]
        self._weights.pop(run_id, None)
        if self.current_id == run_id:
            self.set_current(None, None)
        self.changed.emit()

    def remember_weights(self, run_id: str, W, pipeline) -> None:
        self._weights[run_id] = (W, pipeline)
        self._weights.move_to_end(run_id)
        while len(self._weights) > KEEP_WEIGHTS:
            self._weights.popitem(last=False)

    def set_current(self, run_id: Optional[str], W=None) -> None:
        """The run whose weights ``W`` the model now has (None: no run's)."""
        changed = run_id != self.current_id or W is not self.current_W
        self.current_id, self.current_W = run_id, W
        if changed:
            self.current_changed.emit(run_id)

    def request_rerun(self, record: "RunRecord") -> None:
        self.rerun_requested.emit(record)

    def _say(self, text: str, error: bool = False) -> None:
        self.messages.append(text)
        del self.messages[:-20]
        self._post(text, error)


def restore_run(workbench, submit, run_heavy, record) -> None:
    """Make ``record`` the current model (a lab's action; ``submit`` its quick-lane submit,
    ``run_heavy`` its JobQueue.run): in place when the workbench holds the features it was
    trained on, else through its model file, re-expressing the data with its own pipeline."""
    from linviz.workbench import jobs as gui_jobs

    history = workbench.runs
    what = f"Restore {record.title}"
    if workbench.data is None:
        workbench.post_message("Load a dataset first", True)
        return
    if list(record.dataset.get("classes", [])) != workbench.class_names:
        workbench.post_message(f"{record.title} was trained on other classes ({record.dataset.get('source', '?')}): "
                           "load that data first", True)
        return
    if history.can_restore_in_place(record, workbench.features, workbench.data):
        submit("restore", history.restore_job(record, workbench.features, workbench.data),
               lambda outcome: history.apply_restored(workbench, outcome, what))
        return
    path = str(history.store.model_path(record.id))

    def loaded(outcome) -> None:
        if outcome.error:
            workbench.post_message(f"{what}: {outcome.error}", True)
            return
        if not outcome.ok or not workbench.is_current(outcome.result.features.data_key):
            return
        model = outcome.result
        submit("restore", history.restore_job(record, model.features, workbench.data, W=model.W),
               lambda done: history.apply_restored(workbench, done, what))

    run_heavy("model", gui_jobs.load_model_job(path, workbench.data), f"Restoring {record.title}", on_done=loaded)
