"""The decoded-dataset cache: hits, stale entries after a change, corrupt entries rebuilt."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from data_testfiles import gradient
from linviz.data import cache, load_dataset


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LINVIZ_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "pics"
    for cls in ("a", "b"):
        (root / cls).mkdir(parents=True)
        for i in range(4):
            Image.fromarray(gradient(20, 20, hash((cls, i)) % 1000)).save(root / cls / f"{i}.png")
    return root


def entry_of(folder, size=32):
    return cache.entry_path(folder, size)


def test_second_load_is_a_hit_with_identical_content(private_cache, folder):
    first = load_dataset(folder)
    cache.wait_for_pending_writes()
    assert not cache.was_cache_hit(first) and entry_of(folder).is_file()
    second = load_dataset(folder)
    assert cache.was_cache_hit(second)
    assert np.array_equal(first.train.images, second.train.images)
    assert np.array_equal(first.train.labels, second.train.labels)
    assert (first.class_names, first.key, first.skipped, first.source) == (
        second.class_names, second.key, second.skipped, second.source)
    assert second.test is None


def test_image_size_is_part_of_the_key(private_cache, folder):
    load_dataset(folder)
    other = load_dataset(folder, image_size=16)
    assert not cache.was_cache_hit(other) and other.train.images.shape[1:] == (16, 16, 3)


def test_changed_source_makes_the_entry_stale(private_cache, folder):
    load_dataset(folder)
    target = folder / "a" / "0.png"
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(target)
    stat = target.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    reloaded = load_dataset(folder)
    assert not cache.was_cache_hit(reloaded)
    assert reloaded.train.images[0].max() == 0  # the new picture, not the cached one
    assert cache.was_cache_hit(load_dataset(folder))


def test_touched_archive_is_stale(private_cache, folder, tmp_path):
    import tarfile

    archive = tmp_path / "pics.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(folder, arcname="pics")
    load_dataset(archive)
    assert cache.was_cache_hit(load_dataset(archive))
    stat = archive.stat()
    os.utime(archive, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert not cache.was_cache_hit(load_dataset(archive))


@pytest.mark.parametrize("damage", ["truncate", "flip_pixels", "garbage_header", "empty"])
def test_corrupt_entry_is_rebuilt_never_trusted(private_cache, folder, damage):
    original = load_dataset(folder)
    cache.wait_for_pending_writes()
    entry = entry_of(folder)
    data = bytearray(entry.read_bytes())
    if damage == "truncate":
        data = data[: len(data) - 100]
    elif damage == "flip_pixels":
        data[-200:-100] = bytes(255 - b for b in data[-200:-100])  # inside the last image
    elif damage == "garbage_header":
        data[10:40] = b"\xff" * 30
    else:
        data = bytearray()
    entry.write_bytes(bytes(data))
    rebuilt = load_dataset(folder)
    assert not cache.was_cache_hit(rebuilt)
    assert np.array_equal(rebuilt.train.images, original.train.images)
    assert cache.was_cache_hit(load_dataset(folder))


def test_unwritable_cache_does_not_fail_the_load(tmp_path, monkeypatch, folder):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setattr(cache, "cache_dir", lambda: blocker)
    dataset = load_dataset(folder)
    assert len(dataset.train) == 8


@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_hit_reports_the_path_as_given_this_time(private_cache, folder, tmp_path, monkeypatch, kind):
    import zipfile

    (folder / "a" / "broken.png").write_bytes(b"not a png")
    source = folder
    if kind == "zip":
        source = tmp_path / "pics.zip"
        with zipfile.ZipFile(source, "w") as z:
            for f in sorted(folder.rglob("*")):
                if f.is_file():
                    z.write(f, f.relative_to(folder).as_posix())
    monkeypatch.chdir(source.parent)
    first = load_dataset(source.name)
    cache.wait_for_pending_writes()
    assert first.source == source.name and first.skipped[0][0] == f"{source.name}/a/broken.png"
    monkeypatch.chdir("/")
    spelled = str(source).lstrip("/")
    second = load_dataset(spelled)
    assert cache.was_cache_hit(second)
    assert second.source == spelled
    assert second.skipped == [(f"{spelled}/a/broken.png", first.skipped[0][1])]
    assert second.key == first.key
