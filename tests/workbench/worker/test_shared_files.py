"""Shared files: arrays two processes map, their files removed when nobody needs them."""

from __future__ import annotations

import gc
import os

import numpy as np
import pytest

from linviz.errors import LinvizError
from linviz.workbench.worker import shared_files
from linviz.workbench.worker.shared_files import FOLDER_PREFIX, SharedFiles, sweep_stale_folders


@pytest.fixture
def files(tmp_path):
    made = SharedFiles(roots=(str(tmp_path),))
    yield made
    made.close()


def test_an_array_made_here_is_read_back_through_its_file(files):
    X = files.empty((5, 3), np.float32, "features")
    X[...] = np.arange(15, dtype=np.float32).reshape(5, 3)
    described = files.share(X)
    assert described == files.describe(X) and described.shape == (5, 3)
    again = described.open()
    np.testing.assert_array_equal(again, X)
    assert not again.flags.writeable
    X[0, 0] = 42  # the same memory, not a copy
    assert again[0, 0] == 42


def test_a_private_mapping_can_be_written_without_touching_the_file(files):
    X = files.empty((4,), np.float32)
    X[...] = 1
    private = files.share(X).open_private()
    assert private.flags.writeable
    private[0] = 7
    assert X[0] == 1 and files.share(X).open()[0] == 1


def test_the_file_goes_with_its_array_and_views_keep_the_memory(files):
    X = files.empty((10,), np.int64)
    X[...] = np.arange(10)
    path = files.describe(X).path
    view = X[2:5]
    assert os.path.exists(path)
    del X
    gc.collect()
    assert not os.path.exists(path)  # nobody can open it any more...
    np.testing.assert_array_equal(view, [2, 3, 4])  # ...but the memory is there while viewed


def test_a_foreign_array_is_copied_once(files):
    X = np.random.default_rng(0).standard_normal((6, 2)).astype(np.float32)
    first = files.share(X)
    assert files.share(X) == first
    np.testing.assert_array_equal(first.open(), X)
    other = np.ones(3)
    assert files.share(other) != first


def test_no_room_is_refused_with_the_figures(tmp_path, monkeypatch):
    made = SharedFiles(roots=(str(tmp_path),))
    monkeypatch.setattr(shared_files, "_free_bytes", lambda folder: 10 * 2**20)
    with pytest.raises(LinvizError, match=r"no room for 1,024 MB of shared data \(.* has 10 MB free\)"):
        made.empty((2**28,), np.float32)
    made.close()


def test_close_removes_every_file(tmp_path):
    made = SharedFiles(roots=(str(tmp_path),))
    X = made.empty((3,), np.float32)
    folder = os.path.dirname(made.describe(X).path)
    made.close()
    assert not os.path.exists(folder)
    X[0] = 1  # the mapping outlives its file
    with pytest.raises(LinvizError, match="closing"):
        made.empty((3,), np.float32)


@pytest.mark.skipif(os.name != "posix", reason="stale folders are found by their owner's pid on POSIX")
def test_folders_of_apps_that_are_gone_are_swept(tmp_path):
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    stale = tmp_path / f"{FOLDER_PREFIX}{dead_pid}-abc"
    mine = tmp_path / f"{FOLDER_PREFIX}{os.getpid()}-def"
    other = tmp_path / "linviz-test-cache-xyz"
    for folder in (stale, mine, other):
        folder.mkdir()
        (folder / "file").write_bytes(b"x")
    assert sweep_stale_folders((str(tmp_path),)) == 1
    assert not stale.exists() and mine.exists() and other.exists()
