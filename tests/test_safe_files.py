"""linviz.safe_files, linviz.text, linviz.limits: reading only regular files, writing only where
a regular file may go, names escaped for a terminal, bounds from the machine's memory."""

from __future__ import annotations

import os
import time

import pytest

from linviz import limits
from linviz.safe_files import (FileRefusedError, atomic_write, check_write_target, open_regular, read_regular,
                               remove_stale_temporaries)
from linviz.text import printable


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.jpg"
    os.mkfifo(path)
    return path


def test_a_fifo_is_refused_without_blocking(fifo, call_near_fifo):
    with pytest.raises(FileRefusedError) as info:
        call_near_fifo(fifo, read_regular, fifo)
    assert info.value.reason == "not a regular file but a named pipe (FIFO)"
    assert str(info.value) == f"{fifo}: not a regular file but a named pipe (FIFO)"
    assert isinstance(info.value, OSError)  # code that catches read errors catches it too


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/null"])
def test_devices_and_links_to_them_are_refused_unread(tmp_path, target):
    link = tmp_path / "photo.jpg"
    link.symlink_to(target)
    for path in (target, link):
        start = time.perf_counter()
        with pytest.raises(FileRefusedError, match="character device"):
            read_regular(path)
        assert time.perf_counter() - start < 1
    with pytest.raises(FileRefusedError, match="a folder"):
        read_regular(tmp_path)


def test_the_byte_cap(tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * 1000)
    assert read_regular(path, 1000) == b"x" * 1000
    with pytest.raises(FileRefusedError, match="too large"):
        read_regular(path, 999)
    with open_regular(path, None) as f:
        assert f.read() == b"x" * 1000
    with pytest.raises(FileNotFoundError):
        read_regular(tmp_path / "missing")


@pytest.mark.parametrize("kind", ["device", "link to a device", "fifo", "proc", "folder", "under a file"])
def test_write_targets_that_are_refused(tmp_path, fifo, kind):
    (tmp_path / "notes.txt").write_text("x")
    link = tmp_path / "null-link"
    link.symlink_to("/dev/null")
    target, word = {
        "device": ("/dev/null", "character device"),
        "link to a device": (link, "symbolic link"),
        "fifo": (fifo, "named pipe"),
        "proc": ("/proc/linviz-model.npz", "cannot create files in /proc"),
        "folder": (tmp_path, "is a folder"),
        "under a file": (tmp_path / "notes.txt" / "m.npz", "is a file, not a folder"),
    }[kind]
    with pytest.raises(FileRefusedError, match=word):
        check_write_target(target)
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")


def test_write_targets_that_are_fine(tmp_path):
    assert check_write_target(tmp_path / "m.npz") == tmp_path / "m.npz"
    assert check_write_target(tmp_path / "new" / "deeper" / "m.npz")
    (tmp_path / "old.npz").write_bytes(b"old")
    check_write_target(tmp_path / "old.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.npz"]  # the probes left nothing behind


def test_atomic_write_replaces_only_when_complete(tmp_path, fifo):
    target = tmp_path / "sub" / "out.bin"
    with atomic_write(target) as f:
        f.write(b"one")
    assert target.read_bytes() == b"one"
    with pytest.raises(RuntimeError):
        with atomic_write(target) as f:
            f.write(b"half")
            raise RuntimeError("interrupted")
    assert target.read_bytes() == b"one" and sorted(os.listdir(target.parent)) == ["out.bin"]
    with pytest.raises(FileRefusedError):
        with atomic_write(fifo) as f:
            f.write(b"x")
    assert os.path.exists(fifo) and not fifo.is_file()


def test_stale_temporaries_of_dead_writers_are_removed(tmp_path):
    dead = tmp_path / ".tmp-999999999-abc.tmp"   # no such pid
    alive = tmp_path / f".tmp-{os.getpid()}-def.tmp"
    old_alive = tmp_path / f".tmp-{os.getpid()}-old.tmp"
    legacy_old, legacy_new = tmp_path / ".tmp-x1y2.lvds", tmp_path / ".tmp-z3.lvds"
    other = tmp_path / "keep.lvds"
    for path in (dead, alive, old_alive, legacy_old, legacy_new, other):
        path.write_bytes(b"x")
    two_days = time.time() - 2 * 24 * 3600
    for path in (old_alive, legacy_old):
        os.utime(path, (two_days, two_days))
    assert remove_stale_temporaries(tmp_path, ".tmp-") == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, legacy_new.name, other.name])


def test_printable_escapes_what_a_terminal_would_obey():
    assert printable("cat") == "cat" and printable("café 猫") == "café 猫"
    assert printable("a\x1b]0;owned\x07b") == "a\\x1b]0;owned\\x07b"
    assert printable("photo\u202egpj.exe") == "photo\\u202egpj.exe"
    assert printable("line\nbreak\ttab\x9b") == "line\\x0abreak\\x09tab\\x9b"
    assert printable(os.fsdecode(b"caf\xe9")) == "caf\\xe9"  # a non-UTF-8 name
    assert printable(os.fsdecode(b"caf\xe9")).encode("utf-8")  # printable on a strict UTF-8 stream


def test_memory_bounds_follow_the_address_space_limit(run_python):
    result = run_python("""
        from linviz import limits
        print(limits.machine_memory(), limits.memory_limit())
    """, memory_gb=3)
    total, half = map(int, result.stdout.split())
    assert total <= 3 * 2**30 and half == total // 2
    assert limits.format_bytes(2.5 * 2**40) == "2.5 TiB" and limits.format_bytes(512) == "512 bytes"


def test_atomic_write_gives_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "model.npz") as f:
            f.write(b"x")
    finally:
        os.umask(umask)
    assert os.stat(tmp_path / "model.npz").st_mode & 0o777 == 0o644  # as open() made it; mkstemp: 0600


# --------------------------------------------------------------------------- one way to write a file


@pytest.mark.parametrize("points_to", ["file", "device"])
def test_a_link_at_the_target_is_never_written_through(tmp_path, private_null_device, points_to):
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    aimed = target if points_to == "file" else private_null_device
    link = tmp_path / "out.npz"
    link.symlink_to(aimed)
    with pytest.raises(FileRefusedError, match="symbolic link"):
        check_write_target(link)
    with pytest.raises(FileRefusedError, match="symbolic link"):
        with atomic_write(link) as f:
            f.write(b"new")
    assert link.is_symlink() and os.readlink(link) == str(aimed)
    assert target.read_text() == "keep me"
    assert os.path.exists(private_null_device) and not os.path.isfile(private_null_device)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["precious.txt", "out.npz", "null-device"])


def test_a_writer_killed_mid_write_leaves_nothing_after_the_next_write(tmp_path, run_python):
    model = tmp_path / "model.npz"
    model.write_bytes(b"old model")
    result = run_python(f"""
        import os, signal
        from linviz.safe_files import atomic_write
        with atomic_write({str(model)!r}) as f:
            f.write(b"half of a new model")
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    assert result.returncode == -9
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "model.npz"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".model.npz.") and leftovers[0].endswith(".tmp")
    assert model.read_bytes() == b"old model"  # the old model is intact
    (tmp_path / ".model.npz.12-notours.tmp").write_bytes(b"x")  # not linviz's naming: kept
    (tmp_path / ".linviz-adding-999999999-0123abcd.tmp").write_bytes(b"x")  # another prefix, a dead writer
    (tmp_path / "notes.txt").write_text("x")
    with atomic_write(tmp_path / "other.npz") as f:  # any later write to the folder cleans up
        f.write(b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".model.npz.12-notours.tmp", "model.npz", "notes.txt",
                                                          "other.npz"]


def test_folders_linviz_moves_things_into_are_real_folders(tmp_path):
    from linviz.safe_files import move_into, own_folder

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "aside"
    link.symlink_to(elsewhere)
    thing = tmp_path / "bad-run"
    thing.mkdir()
    with pytest.raises(FileRefusedError, match="symbolic link"):
        own_folder(link)
    with pytest.raises(FileRefusedError, match="symbolic link"):
        move_into(thing, link, "bad-run")
    assert thing.is_dir() and list(elsewhere.iterdir()) == []
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(FileRefusedError, match="regular file, not a folder"):
        own_folder(tmp_path / "a-file")
    moved = move_into(thing, tmp_path / "real" / "aside", "bad-run-1")
    assert moved == tmp_path / "real" / "aside" / "bad-run-1" and moved.is_dir() and not thing.exists()
