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
