"""A run inside the worker (linviz.workbench.worker.training.run_request, here in this
process): while the window's warm-up child still compiles the minibatch loop, the run steps
one by one, and its weights are those of the compiled loop's run."""

from __future__ import annotations

import dataclasses
import multiprocessing
import os

import numpy as np
import pytest

from linviz.training import loop as training_loop
from linviz.training import train, warmup
from linviz.training.loop import run_to_end
from linviz.workbench import SplitSettings, jobs
from linviz.workbench.worker.board import BoardLayout, create_board
from linviz.workbench.worker.protocol import TrainingRequest
from linviz.workbench.worker.remote_job import kernels_to_come
from linviz.workbench.worker.shared_files import SharedFiles
from linviz.workbench.worker.training import PublishingControl, run_request

SETTINGS = {"loss": "softmax", "epochs": 3, "batch_size": 50, "learning_rate": 0.05, "reg": 1e-3, "seed": 3}


@pytest.fixture
def fresh_parts():
    warmup.forget()
    yield
    warmup.forget()


@pytest.fixture(scope="module")
def data():
    prepared = jobs.prepare_splits(jobs.demo_dataset(), SplitSettings(val_size=60))
    return prepared, jobs.extract_features(prepared, "hog+hue", jobs.QuietContext())


@pytest.fixture
def files():
    shared = SharedFiles()
    yield shared
    shared.close()


def _request(files, data, compiling=()):
    prepared, features = data
    C, D = len(prepared.class_names), features.dim
    layout = BoardLayout(D, C, len(prepared.val.labels), 1)
    board = files.new_path("board", layout.nbytes)
    create_board(board, layout)
    return TrainingRequest(1, board, layout, os.path.dirname(board), "run", files.share(features.X_train, "x"),
                           files.share(features.X_val, "xv"), np.asarray(prepared.train.labels),
                           np.asarray(prepared.val.labels), C, SETTINGS, None, compiling=compiling)


def test_the_worker_steps_one_by_one_while_the_window_compiles_the_loop(monkeypatch, fresh_parts, files, data):
    prepared, features = data
    headless = run_to_end(train(features.X_train, prepared.train.labels, features.X_val, prepared.val.labels,
                                jobs.make_training_config(SETTINGS), n_classes=len(prepared.class_names)))
    chunks = []
    real = training_loop.run_minibatches
    monkeypatch.setattr(training_loop, "run_minibatches", lambda *a: chunks.append(a[5]) or real(*a))
    monkeypatch.setattr(warmup.kernel_cache, "is_warm", lambda key: key != "training loop")  # no mark yet
    lock = multiprocessing.Lock()

    final = run_request(_request(files, data, compiling=("training loop",)), PublishingControl(), lock)
    assert not chunks
    np.testing.assert_array_equal(final.kept_W, headless.best_W)

    final = run_request(dataclasses.replace(_request(files, data), log_stem="again"), PublishingControl(), lock)
    assert chunks  # the next request no longer names the loop: the compiled loop again
    np.testing.assert_array_equal(final.kept_W, headless.best_W)


def test_the_window_names_the_parts_its_children_still_compile(fresh_parts):
    assert kernels_to_come(jobs.QuietContext()) == ()
    loop = warmup._parts["training loop"] = warmup._Part("training loop", warmup.training_loop_part())
    assert kernels_to_come(jobs.QuietContext()) == ("training loop",)
    loop.done.set()
    assert kernels_to_come(jobs.QuietContext()) == ()


def _read_all(request, lock):
    from linviz.workbench.worker.board import SEQUENCE, BoardReader

    reader = BoardReader(request.board_path, request.layout, lock)
    view = reader.read(wait=True)
    return view, int(reader._seen[SEQUENCE])


@pytest.mark.parametrize("interval", [0.0, 1e9])
def test_the_board_ends_with_the_whole_run_however_seldom_it_is_published(monkeypatch, files, data, interval):
    """Every snapshot published (interval 0) or only the first and the last (an interval no run
    reaches): the window reads the same run at its end, every loss and every epoch."""
    from linviz.workbench.worker import training as worker_training

    monkeypatch.setattr(worker_training, "PUBLISH_INTERVAL_S", interval)
    notes = []
    real_note = worker_training.Publisher.note
    monkeypatch.setattr(worker_training.Publisher, "note", lambda self, *a: notes.append(1) or real_note(self, *a))
    request = dataclasses.replace(_request(files, data), log_stem=f"every-{interval:g}")
    lock = multiprocessing.Lock()
    final = run_request(request, PublishingControl(), lock)
    view, publications = _read_all(request, lock)
    iterations = final.snapshot.iteration
    assert view.state["iteration"] == iterations and view.state["done"]
    assert len(view.logs["losses"]) == iterations and len(view.logs["accuracies"]) == SETTINGS["epochs"]
    np.testing.assert_array_equal(view.weights, final.snapshot.W)
    assert view.evaluation is not None and view.templates is not None and view.best_weights is not None
    assert publications == (2 if interval else len(notes)), (publications, len(notes))
    assert len(notes) > 2


class _Board:
    def __init__(self):
        self.published, self.flushed, self.logs = [], [], {name: _Log() for name in
                                                           ("losses", "smoothed_losses", "per_snapshot")}

    def publish(self, state, **parts):
        self.published.append((state, parts))
        return True

    def flush(self, wait=True):
        self.flushed.append(wait)
        return True


class _Log:
    def sync(self, values):
        self.synced = values


def test_a_snapshot_skipped_between_publications_still_brings_what_it_changed():
    """New weights, an evaluation or the best epoch's weights that came with a snapshot that was
    not published go with the next publication; a paused run publishes its newest snapshot."""
    from types import SimpleNamespace

    from linviz.workbench.live_run import Followed
    from linviz.workbench.worker.training import Publisher

    now = [0.0]
    board = _Board()
    live = SimpleNamespace(W="W", evaluation="evaluation", templates="templates")
    publisher = Publisher(board, live, clock=lambda: now[0])

    def snapshot(done=False):
        return SimpleNamespace(done=done, losses=[], smoothed_losses=[], per_snapshot=[])

    publisher.note(snapshot(), Followed(weights=True), {"iteration": 1}, None)  # the first goes out at once
    publisher.note(snapshot(), Followed(weights=True, evaluation=True), {"iteration": 2}, "best")
    publisher.note(snapshot(), Followed(), {"iteration": 3}, None)
    assert [state["iteration"] for state, _ in board.published] == [1]
    now[0] = 1.0
    publisher.note(snapshot(), Followed(), {"iteration": 4}, None)
    state, parts = board.published[-1]
    assert state == {"iteration": 4}
    assert parts["weights"] == "W" and parts["evaluation"] == "evaluation" and parts["best_weights"] == "best"
    assert parts["templates"] is None
    publisher.note(snapshot(), Followed(templates=True), {"iteration": 5}, None)
    assert publisher.before_grant(wait=False) and board.flushed == [False]  # full speed: nothing new goes
    assert len(board.published) == 2
    assert publisher.before_grant(wait=True)  # paused: the newest step shows
    state, parts = board.published[-1]
    assert state == {"iteration": 5} and parts["templates"] == "templates" and parts["weights"] is None
    publisher.note(snapshot(), Followed(), {"iteration": 6}, None)  # held back (an epoch's end, say) ...
    assert board.published[-1][0] == {"iteration": 5}
    now[0] = 2.0
    assert publisher.before_grant(wait=False)  # ... goes with the loop's next call once the interval passed
    assert board.published[-1][0] == {"iteration": 6}
    publisher.note(snapshot(done=True), Followed(), {"iteration": 7}, None)
    assert board.published[-1][0] == {"iteration": 7}  # the end always
