"""The dataset cache read as hostile input: crafted entries rejected (no segfault), damage
anywhere caught, replaced sources never served stale, leftovers of dead writers removed,
Ctrl+C during a write clean, an unusable cache folder only a warning."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import tarfile
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from data_testfiles import class_folders, write_batches
from linviz.data import CIFAR10_CLASSES, cache, load_dataset
from linviz.data.dataset import Dataset, Split


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LINVIZ_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def parse_entry(entry):
    """(prefix struct, header dict, header start, header length, data start) of an entry."""
    data = entry.read_bytes()
    version = struct.unpack_from("<I", data, 8)[0]
    prefix = struct.Struct("<IQI" if version >= 2 else "<IQ")
    header_len = prefix.unpack_from(data, 8)[1]
    start = 8 + prefix.size
    data_start = start + header_len
    data_start += -data_start % 64
    return prefix, json.loads(data[start:start + header_len]), start, header_len, data_start


def rewrite_header(entry, change):
    """Apply ``change(header_text) -> header_text`` (same length), fixing the header checksum."""
    data = bytearray(entry.read_bytes())
    prefix, _, start, length, _ = parse_entry(entry)
    text = change(bytes(data[start:start + length]).decode())
    assert len(text.encode()) == length
    data[start:start + length] = text.encode()
    if prefix.size == 16:
        struct.pack_into("<I", data, 8 + 12, zlib.crc32(text.encode()))
    entry.write_bytes(bytes(data))


@pytest.fixture
def cifar_folder(tmp_path):
    return write_batches(tmp_path / "cifar-10-batches-py", n=120)


def first_entry(folder):
    first = load_dataset(folder)
    cache.wait_for_pending_writes()
    entry = cache.entry_path(folder, 32)
    assert entry.is_file()
    return first, entry


def test_a_crafted_object_dtype_never_reaches_numpy(private_cache, cifar_folder, run_cli):
    _, entry = first_entry(cifar_folder)
    rewrite_header(entry, lambda text: text.replace('"dtype": "|u1"', '"dtype": "|O8"', 1))
    result = run_cli("info", cifar_folder, "--json", env={"LINVIZ_CACHE_DIR": str(private_cache)})
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])  # -11 was a segfault
    assert json.loads(result.stdout)["splits"] == {"train": 600, "test": 120}


@pytest.mark.parametrize("field,value", [
    ("shape", lambda h: h["arrays"][0]["shape"][:1] + [h["image_size"] + 1] * 2 + [3]),
    ("offset", lambda h: 8),
])
def test_a_crafted_layout_is_rebuilt(private_cache, cifar_folder, field, value):
    first, entry = first_entry(cifar_folder)
    _, header, *_ = parse_entry(entry)
    old = json.dumps(header["arrays"][0][field])
    new = json.dumps(value(header))
    rewrite_header(entry, lambda text: text.replace(f'"{field}": {old}', f'"{field}": {new}'.ljust(
        len(f'"{field}": {old}')), 1))
    again = load_dataset(cifar_folder)
    assert not cache.was_cache_hit(again) and np.array_equal(again.train.images, first.train.images)


def test_damage_to_any_image_is_caught(private_cache, cifar_folder):
    first, entry = first_entry(cifar_folder)
    n = len(first.train)
    sampled = set(np.unique(np.linspace(0, n - 1, min(512, n)).astype(np.int64)).tolist())
    victim = next(i for i in range(n) if i not in sampled)  # an image a sampling check never reads
    *_, data_start = parse_entry(entry)
    data = bytearray(entry.read_bytes())
    data[data_start + victim * 32 * 32 * 3 + 100] ^= 0xFF
    entry.write_bytes(bytes(data))
    again = load_dataset(cifar_folder)
    assert not cache.was_cache_hit(again)
    assert np.array_equal(again.train.images, first.train.images)


def test_damage_to_the_class_names_is_caught(private_cache, cifar_folder):
    first, entry = first_entry(cifar_folder)
    data = entry.read_bytes()
    entry.write_bytes(data.replace(b'"airplane"', b'"airplanf"', 1))
    again = load_dataset(cifar_folder)
    assert not cache.was_cache_hit(again) and again.class_names == CIFAR10_CLASSES


def test_labels_out_of_range_are_not_served(private_cache, tmp_path):
    source = tmp_path / "fake-source"
    source.write_bytes(b"x")
    images = np.zeros((2, 32, 32, 3), np.uint8)
    dataset = Dataset(class_names=["a"], train=Split(images, np.array([0, 5])), test=None)
    fingerprint = cache.source_fingerprint(source)
    assert cache.store(dataset, source, fingerprint, 32) is not None
    assert cache.load(source, fingerprint, 32) is None


def _bmp_tar(path, seed):
    """An uncompressed tar of two BMPs: its size does not depend on the pixels."""
    with tarfile.open(path, "w") as tar:
        for cls in ("a", "b"):
            image = path.parent / f"{cls}.bmp"
            Image.fromarray(np.full((16, 16, 3), seed * 40 + (cls == "b") * 100, np.uint8)).save(image)
            tar.add(image, arcname=f"{cls}/x.bmp")
            image.unlink()
    return path


@pytest.mark.parametrize("how", ["replaced", "rewritten in place"])
def test_a_source_changed_with_the_same_size_and_mtime_is_not_served_stale(private_cache, tmp_path, how):
    archive = _bmp_tar(tmp_path / "pics.tar", 1)
    first = load_dataset(archive)
    cache.wait_for_pending_writes()
    stat = archive.stat()
    other = _bmp_tar(tmp_path / "other.tar", 2)
    assert other.stat().st_size == stat.st_size
    if how == "replaced":
        os.replace(other, archive)
    else:
        archive.write_bytes(other.read_bytes())
    os.utime(archive, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    again = load_dataset(archive)
    assert not cache.was_cache_hit(again)
    assert not np.array_equal(again.train.images, first.train.images)


def test_leftovers_of_a_killed_writer_are_removed_on_the_next_start(private_cache, tmp_path, run_python):
    folder = private_cache / "datasets"
    folder.mkdir(parents=True)
    dead = folder / ".tmp-999999999-x7.tmp"
    dead.write_bytes(b"\0" * 1000)
    source = class_folders(tmp_path / "pics", n=1, size=8)
    result = run_python(f"""
        from linviz.data import load_dataset
        load_dataset({str(source)!r})
    """, env={"LINVIZ_CACHE_DIR": str(private_cache)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert not dead.exists()
    assert [p.suffix for p in folder.iterdir()] == [".lvds"]


def test_ctrl_c_during_the_background_cache_write(private_cache, tmp_path):
    """The command's output is printed, the write is aborted and its temporary file removed,
    exit 130 and one line, no threading traceback."""
    source = class_folders(tmp_path / "pics", n=4, size=32)
    script = f"""
import sys, time
from linviz.data import cache
real_chunks = cache._chunks
def slow_chunks(array):
    for chunk in real_chunks(array):
        time.sleep(0.05)
        yield chunk
cache._chunks = slow_chunks
cache._CHUNK = 512
from linviz.cli import main
sys.exit(main(["info", {str(source)!r}]))
"""
    env = dict(os.environ, LINVIZ_CACHE_DIR=str(private_cache))
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env)
    try:
        folder = private_cache / "datasets"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (folder.is_dir() and any(
                p.name.startswith(".tmp-") for p in folder.iterdir())):
            time.sleep(0.02)
        assert folder.is_dir() and any(p.name.startswith(".tmp-") for p in folder.iterdir()), "no write started"
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, (child.returncode, err)
    assert "Traceback" not in err and err.strip().splitlines()[-1] == "interrupted"
    assert "classes:     2 (a, b)" in out
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("where", ["LINVIZ_CACHE_DIR is a device", "~/.cache is a file"])
def test_an_unusable_cache_folder_means_no_cache_and_a_warning(tmp_path, run_cli, private_null_device, where):
    source = class_folders(tmp_path / "pics", n=1, size=8)
    home = tmp_path / "home"
    home.mkdir()
    (home / ".cache").write_text("not a folder")
    env = {"HOME": str(home), "LINVIZ_CACHE_DIR": str(private_null_device) if "DIR" in where else "",
           "XDG_CACHE_HOME": ""}
    result = run_cli("info", source, env=env, cwd=None)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("warning: cache folder") and lines[-1].endswith("running without the cache")
    assert "Traceback" not in result.stderr
    result = run_cli("info", "cifar10", env=dict(env, LINVIZ_DATA=""), cwd=tmp_path)
    assert result.returncode == 2 and "CIFAR-10 not found" in result.stderr and "Traceback" not in result.stderr


def test_the_reason_for_no_cache_goes_once_the_cache_is_usable_again(tmp_path, monkeypatch):
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("x")
    monkeypatch.setenv("LINVIZ_CACHE_DIR", str(not_a_folder))
    assert cache._datasets_dir() is None and "a-file" in cache.unavailable_reason()
    monkeypatch.setenv("LINVIZ_CACHE_DIR", str(tmp_path / "fine"))
    assert cache._datasets_dir() is not None
    assert cache.unavailable_reason() is None


def test_a_background_write_goes_where_the_cache_was_when_it_was_asked_for(tmp_path, monkeypatch):
    """The destination is resolved when the write is requested: a later change of the cache
    folder (another test, another LINVIZ_CACHE_DIR) must not receive the entry."""
    import threading

    first, second = tmp_path / "first", tmp_path / "second"
    monkeypatch.setenv("LINVIZ_CACHE_DIR", str(first))
    split = Split(np.zeros((4, 8, 8, 3), np.uint8), np.array([0, 1, 0, 1]))
    dataset = Dataset(["a", "b"], split, None, [], "src", "key")
    release = threading.Event()
    real_arrays_of = cache._arrays_of

    def slow_arrays_of(ds):
        release.wait(10)
        return real_arrays_of(ds)

    monkeypatch.setattr(cache, "_arrays_of", slow_arrays_of)
    thread = cache.store_in_background(dataset, tmp_path / "src", {"path": "src"}, 8)
    monkeypatch.setenv("LINVIZ_CACHE_DIR", str(second))
    release.set()
    thread.join(10)
    assert [p.suffix for p in (first / "datasets").iterdir()] == [".lvds"]
    assert not (second / "datasets").exists() or not any((second / "datasets").iterdir())


def test_a_link_in_place_of_the_cache_s_own_folder_is_never_followed(tmp_path, monkeypatch):
    """The cache moves finished entries into <cache>/datasets: a link there (to anywhere) means
    no cache, with the reason, and nothing written where it points."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    root = tmp_path / "cache"
    root.mkdir()
    (root / "datasets").symlink_to(elsewhere)
    monkeypatch.setenv("LINVIZ_CACHE_DIR", str(root))
    source = class_folders(tmp_path / "pics", n=2, size=8)
    load_dataset(source)
    cache.wait_for_pending_writes()
    assert list(elsewhere.iterdir()) == []
    assert "symbolic link" in cache.unavailable_reason()
