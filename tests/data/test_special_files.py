"""FIFOs, devices and unreadable folders: listed with a reason or refused, never opened, never a hang."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from data_testfiles import class_folders, write_batches
from linviz.data import image_files_in, load_dataset, read_image
from linviz.errors import DatasetError

FIFO_REASON = "not a regular file but a named pipe (FIFO)"


@pytest.fixture
def folder_with_specials(tmp_path):
    """Two classes of real images, a FIFO named pipe.jpg and a link to /dev/zero named zero.png."""
    root = class_folders(tmp_path / "pics")
    os.mkfifo(root / "a" / "pipe.jpg")
    (root / "b" / "zero.png").symlink_to("/dev/zero")
    return root


def test_a_fifo_and_a_device_in_an_image_folder_are_skipped_and_listed(folder_with_specials, call_near_fifo):
    root = folder_with_specials
    start = time.perf_counter()
    dataset = call_near_fifo(root / "a" / "pipe.jpg", load_dataset, root)
    assert time.perf_counter() - start < 10
    assert len(dataset.train) == 6 and dataset.class_names == ["a", "b"]
    reasons = dict(dataset.skipped)
    assert reasons[f"{root}/a/pipe.jpg"] == FIFO_REASON
    assert reasons[f"{root}/b/zero.png"] == "not a regular file but a character device"


@pytest.mark.parametrize("kind", ["fifo", "device", "link to a device"])
def test_a_special_file_as_the_dataset_is_refused(tmp_path, call_near_fifo, kind):
    fifo = tmp_path / "data.tar.gz"
    os.mkfifo(fifo)
    link = tmp_path / "cifar-10-python.tar.gz"
    link.symlink_to("/dev/zero")
    source = {"fifo": fifo, "device": "/dev/zero", "link to a device": link}[kind]
    with pytest.raises(DatasetError, match="not a regular file but a (named pipe|character device)"):
        call_near_fifo(fifo, load_dataset, source)


def test_cifar_batch_that_is_a_fifo_is_named(tmp_path, call_near_fifo):
    folder = write_batches(tmp_path / "cifar-10-batches-py", overrides={"data_batch_2": None})
    os.mkfifo(folder / "data_batch_2")
    with pytest.raises(DatasetError, match="data_batch_2: not a regular file but a named pipe"):
        call_near_fifo(folder / "data_batch_2", load_dataset, folder)


def test_dropped_fifos_and_devices_are_skipped_not_opened(folder_with_specials, tmp_path, call_near_fifo):
    root = folder_with_specials
    lone_fifo = tmp_path / "lone.png"
    os.mkfifo(lone_fifo)
    files, skipped = image_files_in([root, lone_fifo, "/dev/zero"])
    assert [f.name for f in files] == ["0.png", "1.png", "2.png"] * 2
    reasons = dict(skipped)
    assert reasons[str(root / "a" / "pipe.jpg")] == FIFO_REASON
    assert reasons[str(lone_fifo)] == FIFO_REASON
    assert reasons["/dev/zero"] == "not a regular file but a character device"
    for path in (lone_fifo, root / "b" / "zero.png"):
        with pytest.raises(DatasetError, match=f"{path}: not a regular file"):
            call_near_fifo(lone_fifo, read_image, path)


def test_read_images_is_the_safe_batch_reader(folder_with_specials, call_near_fifo):
    from linviz.data import read_images

    root = folder_with_specials
    (root / "a" / "broken.png").write_bytes(b"not a png")
    calls = []
    names, images, skipped = call_near_fifo(
        root / "a" / "pipe.jpg", lambda: read_images([root], 16, progress=lambda d, t: calls.append((d, t))))
    assert [os.path.basename(n) for n in names] == ["0.png", "1.png", "2.png"] * 2
    assert images.shape == (6, 16, 16, 3) and images.dtype == np.uint8
    assert np.array_equal(images[0], read_image(names[0], 16))
    reasons = dict(skipped)
    assert reasons[str(root / "a" / "pipe.jpg")] == FIFO_REASON
    assert "not an image" in reasons[str(root / "a" / "broken.png")]
    assert calls[-1] == (7, 7)
    names, images, skipped = read_images([root], 16, max_files=2)
    assert len(names) == 2 and any("only the first 2" in r for _, r in skipped)
    from linviz.errors import Cancelled

    with pytest.raises(Cancelled):
        read_images([root], 16, cancel=lambda: True)


def test_read_images_refuses_more_than_half_the_memory(folder_with_specials, monkeypatch):
    import linviz.data.images as images_module
    from linviz.data import read_images

    monkeypatch.setattr(images_module, "memory_limit", lambda: 5 * 16 * 16 * 3)
    with pytest.raises(DatasetError, match="6 images of 16x16 need 4.5 KiB, more than half"):
        read_images([folder_with_specials], 16)


def test_an_unreadable_sub_folder_is_listed(folder_with_specials, monkeypatch):
    root = folder_with_specials
    os.unlink(root / "a" / "pipe.jpg")
    (root / "c").mkdir()
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path) == str(root / "c"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    dataset = load_dataset(root)
    assert (str(root / "c"), "cannot read folder (Permission denied)") in dataset.skipped
    _, skipped = image_files_in([root])
    assert (str(root / "c"), "cannot read folder (Permission denied)") in skipped
