"""CIFAR-10's official python batches: written here in the exact format, then read back.

Includes hostile files: a pickle that would run a command must be refused without running.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from data_testfiles import batch_bytes, official_pickle, write_batches, write_tarball
from linviz.data import CIFAR10_CLASSES, find_cifar10, load_dataset
from linviz.data.cifar10 import unpickle_batch
from linviz.errors import DatasetError

def expected_images(n: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed)
    rows.integers(0, 10, n)
    data = rows.integers(0, 256, (n, 3072), dtype=np.uint8)
    return data.reshape(n, 3, 32, 32).transpose(0, 2, 3, 1)


def test_folder_is_read_with_rgb_planes_to_hwc(tmp_path):
    folder = write_batches(tmp_path / "cifar-10-batches-py")
    dataset = load_dataset(folder)
    assert dataset.class_names == CIFAR10_CLASSES
    assert len(dataset.train) == 60 and len(dataset.test) == 12
    assert dataset.train.images.shape == (60, 32, 32, 3) and dataset.train.images.flags.c_contiguous
    assert np.array_equal(dataset.train.images[:12], expected_images(12, 0))
    assert np.array_equal(dataset.test.images, expected_images(12, 5))
    # the parent folder works too
    assert load_dataset(tmp_path).key == dataset.key


def test_official_pickle_style_is_what_the_test_writes():
    data = batch_bytes(2, 0)
    assert b"numpy.core.multiarray" in data and b"_codecs" not in data


def test_protocol_4_batches_are_read_too(tmp_path):
    batch = {b"labels": [1, 2], b"data": np.zeros((2, 3072), np.uint8)}
    assert unpickle_batch(pickle.dumps(batch, protocol=4), "p4")[b"labels"] == [1, 2]


def test_tarball_read_in_place(tmp_path):
    archive = write_tarball(tmp_path / "cifar-10-python.tar.gz")
    before = set(tmp_path.iterdir())
    dataset = load_dataset(archive, image_size=16)
    assert set(tmp_path.iterdir()) == before  # nothing extracted
    assert dataset.train.images.shape == (60, 16, 16, 3) and len(dataset.test) == 12
    renamed = tmp_path / "my-copy.tar.gz"
    renamed.write_bytes(archive.read_bytes())
    assert load_dataset(renamed).class_names == CIFAR10_CLASSES  # recognized by content


class RunsACommand:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class CallsEval:
    def __reduce__(self):
        return (eval, ("open('/tmp/linviz-pwned', 'w')",))


def test_malicious_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    evil = official_pickle({b"data": RunsACommand(marker), b"labels": [0]})
    # Control: the same kind of payload really does run under a plain pickle.loads.
    control = tmp_path / "control"
    pickle.loads(official_pickle({b"data": RunsACommand(control), b"labels": [0]}))
    assert control.exists()
    folder = write_batches(tmp_path / "cifar-10-batches-py", overrides={"data_batch_3": evil})
    with pytest.raises(DatasetError) as info:
        load_dataset(folder)
    message = str(info.value)
    assert "data_batch_3" in message and "refused" in message and "system" in message
    assert not marker.exists()
    with pytest.raises(DatasetError, match="refused.*eval"):
        unpickle_batch(pickle.dumps(CallsEval()), "evil")
    assert not Path("/tmp/linviz-pwned").exists()


@pytest.mark.parametrize("override,match", [
    ({"data_batch_2": None}, "missing CIFAR-10 file.*data_batch_2"),
    ({"batches.meta": None, "test_batch": None}, "missing.*batches.meta, test_batch"),
    ({"data_batch_4": batch_bytes(12, 4)[:300]}, "data_batch_4: truncated"),
    ({"data_batch_1": batch_bytes(12, 1, columns=3000)}, "data_batch_1: wrong data shape"),
    ({"test_batch": batch_bytes(12, 1, n_labels=11)}, "test_batch: 12 images but 11 labels"),
    ({"data_batch_5": official_pickle([1, 2, 3])}, "data_batch_5: not a CIFAR-10 batch"),
    ({"data_batch_5": b"\x00garbage" * 10}, "data_batch_5: corrupt"),
    ({"batches.meta": official_pickle({b"label_names": [b"a"]})}, "expected 10 label names"),
])
def test_bad_batches_give_clear_errors(tmp_path, override, match):
    folder = write_batches(tmp_path / "cifar-10-batches-py", overrides=override)
    with pytest.raises(DatasetError, match=match):
        load_dataset(folder)


def test_truncated_and_incomplete_tarballs(tmp_path):
    archive = write_tarball(tmp_path / "full.tar.gz")
    cut = tmp_path / "cifar-10-python.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(DatasetError, match="cifar-10-python.tar.gz: (truncated|missing)"):
        load_dataset(cut)


# --------------------------------------------------------------------------- find_cifar10


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.delenv("LINVIZ_DATA", raising=False)
    monkeypatch.setenv("LINVIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(work)
    return home, work, tmp_path / "cache"


def test_find_nothing(isolated):
    assert find_cifar10() is None
    with pytest.raises(DatasetError, match="CIFAR-10 not found"):
        load_dataset("cifar10")


@pytest.mark.parametrize("where", [
    "keras_old", "keras_new", "torchvision_data", "home_data", "cache_tarball", "env_root", "env_direct",
])
def test_find_cifar10_in_the_usual_places(isolated, monkeypatch, tmp_path, where):
    home, work, cache = isolated
    if where == "keras_old":
        expected = write_batches(home / ".keras" / "datasets" / "cifar-10-batches-py")
    elif where == "keras_new":
        expected = write_batches(home / ".keras" / "datasets" / "cifar-10-batches-py-target" / "cifar-10-batches-py")
    elif where == "torchvision_data":
        (work / "data").mkdir()
        expected = write_tarball(work / "data" / "cifar-10-python.tar.gz")
    elif where == "home_data":
        expected = write_batches(home / "data" / "cifar-10-batches-py")
    elif where == "cache_tarball":
        cache.mkdir()
        expected = write_tarball(cache / "cifar-10-python.tar.gz")
    elif where == "env_root":
        expected = write_batches(tmp_path / "elsewhere" / "cifar-10-batches-py")
        monkeypatch.setenv("LINVIZ_DATA", str(tmp_path / "elsewhere"))
    else:
        expected = write_batches(tmp_path / "x" / "cifar-10-batches-py")
        monkeypatch.setenv("LINVIZ_DATA", str(expected))
    assert find_cifar10() == expected
    dataset = load_dataset("cifar10")
    assert dataset.class_names == CIFAR10_CLASSES and len(dataset.train) == 60


def test_incomplete_copy_is_passed_over(isolated):
    home, work, _ = isolated
    write_batches(work / "data" / "cifar-10-batches-py", overrides={"data_batch_5": None})
    expected = write_batches(home / ".keras" / "datasets" / "cifar-10-batches-py")
    assert find_cifar10() == expected
