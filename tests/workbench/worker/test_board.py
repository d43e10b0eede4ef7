"""The board: what the worker publishes is what the window reads, whole, and the logs the
window holds views of never change under it."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from linviz.errors import LinvizError
from linviz.workbench.live_run import MAX_TRAJECTORY
from linviz.workbench.worker.board import BoardLayout, BoardReader, BoardWriter, LogWriter, create_board
from linviz.workbench.worker.training import _add_to_trajectory

LIMITS = {"losses": 100_000, "smoothed_losses": 100_000, "per_snapshot": 100_000, "accuracies": 100,
          "trajectory": MAX_TRAJECTORY + 1}


@pytest.fixture
def board(tmp_path):
    layout = BoardLayout(n_features=5, n_classes=3, n_val=4, feature_blocks=1)
    path = str(tmp_path / "board")
    create_board(path, layout)
    lock = threading.Lock()
    writer = BoardWriter(path, layout, lock, str(tmp_path), "run1", LIMITS)
    reader = BoardReader(path, layout, lock)
    return writer, reader


def test_a_publication_is_read_once_and_whole(board):
    writer, reader = board
    assert reader.read() is None  # nothing published yet
    W = np.arange(15, dtype=np.float32).reshape(5, 3)
    writer.logs["losses"].extend(np.array([2.3, 2.1], np.float32))
    templates = [("raw", [np.zeros((64, 64, 3), np.uint8)] * 3)]
    assert writer.publish({"iteration": 2}, weights=W, evaluation=(np.array([0, 1, 2, 0]), np.eye(3, dtype=np.int64)),
                          templates=templates)
    view = reader.read()
    assert view.state["iteration"] == 2
    np.testing.assert_array_equal(view.weights, W)
    np.testing.assert_array_equal(view.evaluation[0], [0, 1, 2, 0])
    assert view.templates[0][0] == "raw" and len(view.templates[0][1]) == 3
    np.testing.assert_array_equal(view.logs["losses"], np.array([2.3, 2.1], np.float32))
    assert not view.logs["losses"].flags.writeable
    assert reader.read() is None  # nothing new
    writer.publish({"iteration": 3})
    view = reader.read()
    assert view.state["iteration"] == 3
    assert view.weights is None and view.evaluation is None and view.templates is None  # unchanged: not copied


def test_log_views_stay_as_they_were_while_the_log_grows_into_new_files(board):
    writer, reader = board
    losses = writer.logs["losses"]
    first = np.arange(LogWriter.FIRST_ROWS, dtype=np.float32)
    losses.extend(first)
    writer.publish({})
    early = reader.read().logs["losses"]
    first_file = losses.path
    losses.extend(np.full(10, -1, np.float32))  # full: a second generation, twice the size
    assert losses.path != first_file and os.path.exists(first_file)  # until the next publication
    writer.publish({})
    assert not os.path.exists(first_file)
    later = reader.read().logs["losses"]
    np.testing.assert_array_equal(early, first)  # the old view is intact
    np.testing.assert_array_equal(later, np.concatenate([first, np.full(10, -1, np.float32)]))


def test_a_log_never_grows_beyond_what_the_run_can_make(tmp_path):
    log = LogWriter(str(tmp_path), "small", np.float32, (), limit=5)
    log.extend(np.ones(5, np.float32))
    with pytest.raises(LinvizError, match="more than the run can make"):
        log.extend(np.ones(1, np.float32))


def test_a_full_trajectory_keeps_every_other_entry(tmp_path):
    log = LogWriter(str(tmp_path), "trajectory", np.float32, (2, 2), limit=MAX_TRAJECTORY + 1)
    path = []
    for k in range(MAX_TRAJECTORY + 3):
        W = np.full((2, 2), k, np.float32)
        _add_to_trajectory(log, W)
        path = (path[::2] if len(path) >= MAX_TRAJECTORY else path) + [W]  # the thread job's rule
    assert log.count == len(path)
    np.testing.assert_array_equal(log.rows[:log.count], np.stack(path))


def test_the_reader_skips_a_redraw_rather_than_wait_for_the_lock(board):
    writer, reader = board
    writer.publish({"iteration": 1})
    held = threading.Event()
    release = threading.Event()

    def hold():
        with writer.lock:
            held.set()
            release.wait()

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait()
    try:
        assert reader.read() is None
    finally:
        release.set()
        thread.join()
    assert reader.read().state["iteration"] == 1


def test_a_publication_that_finds_the_lock_taken_goes_out_with_the_next_flush(board):
    writer, reader = board
    W = np.ones((5, 3), np.float32)
    with writer.lock:  # the window is copying
        assert not writer.publish({"iteration": 7}, weights=W, wait=False)
    assert writer.skipped == 1 and reader.read() is None
    assert writer.publish({"iteration": 8}, wait=False)  # the weights of the skipped one go too
    view = reader.read()
    assert view.state["iteration"] == 8
    np.testing.assert_array_equal(view.weights, W)
    assert writer.flush()  # nothing pending: nothing to do
