"""linviz.settings_file: the window's saved settings as a file of linviz's own, read and written
like any hostile file (a link, a FIFO or a device there: a message and the defaults, never a
hang or a write elsewhere)."""

from __future__ import annotations

import json
import os

import pytest

from linviz.settings_file import MAX_SETTINGS_BYTES, SettingsFile


def test_values_round_trip(tmp_path):
    path = tmp_path / "config" / "settings.json"
    settings = SettingsFile(path)
    assert settings.problem is None and settings.value("missing", 7) == 7
    settings.setValue("window/geometry", b"\x00\x01binary")
    settings.setValue("loss/log", True)
    settings.setValue("data/val_size", 1000)
    settings.setValue("features/spec", "hog+hue")
    settings.setValue("projects/recent", ["/a", "/b"])
    settings.sync()
    again = SettingsFile(path)
    assert again.problem is None
    assert again.value("window/geometry") == b"\x00\x01binary"
    assert again.value("loss/log") is True and again.value("data/val_size") == 1000
    assert again.value("features/spec") == "hog+hue" and again.fileName() == str(path)
    assert again.value("projects/recent") == ["/a", "/b"]


@pytest.mark.parametrize("content, word", [
    (b"[1, 2]", "not a JSON object"),
    (b"{" * 5000, "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    (b'{"a": {"base64": "!!"}}', None),  # one bad value: that value's default, not the whole file's
    (b'{"a": [[1], {"b": 2}]}', None),
])
def test_a_corrupt_file_gives_the_defaults_and_is_rewritten(tmp_path, content, word):
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    settings = SettingsFile(path)
    if word is None:
        assert settings.problem is None and settings.value("a", "default") == "default"
    else:
        assert word in settings.problem and str(path) in settings.problem
    settings.setValue("k", 1)
    settings.sync()
    assert json.loads(path.read_bytes())["k"] == 1


def test_a_huge_file_is_not_read(tmp_path):
    path = tmp_path / "settings.json"
    path.write_bytes(b" " * (MAX_SETTINGS_BYTES + 1))
    assert "too large" in SettingsFile(path).problem


@pytest.mark.parametrize("kind", ["link to a file", "link to a device", "fifo", "device", "folder"])
def test_anything_but_a_regular_file_gives_the_defaults_and_is_never_written(tmp_path, private_null_device,
                                                                            call_near_fifo, kind):
    target = tmp_path / "precious.txt"
    target.write_text('{"k": "keep me"}')
    path = tmp_path / "settings.json"
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    if kind == "link to a file":
        path.symlink_to(target)
    elif kind == "link to a device":
        path.symlink_to(private_null_device)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path = private_null_device
    else:
        path.mkdir()
    settings = call_near_fifo(path if kind == "fifo" else fifo, SettingsFile, path)
    word = {"link to a file": "symbolic link", "link to a device": "symbolic link", "fifo": "named pipe",
            "device": "character device", "folder": "folder"}[kind]
    assert word in settings.problem and "defaults" in settings.problem and "not saved" in settings.problem
    assert settings.value("k", "default") == "default"
    settings.setValue("k", "new")
    settings.sync()
    assert target.read_text() == '{"k": "keep me"}'
    assert os.path.exists(private_null_device) and not os.path.isfile(private_null_device)
    assert os.path.lexists(path) and not (os.path.isfile(path) and not os.path.islink(path))


def test_the_default_place_follows_xdg_config_home(tmp_path, monkeypatch):
    from linviz.paths import config_root

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_root() == tmp_path / "linviz"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert config_root() == tmp_path / "home" / ".config" / "linviz"
