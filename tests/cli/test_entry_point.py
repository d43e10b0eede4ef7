"""``python main.py``: which argument lists start the desktop app and which run a command."""

from __future__ import annotations

import sys
import types

import pytest

from linviz.cli import app_argv, main


@pytest.mark.parametrize("argv,expected", [
    ([], []),
    (["--data", "demo"], ["--data", "demo"]),
    (["--data=demo"], ["--data=demo"]),
    (["--size", "800x600"], ["--size", "800x600"]),
    (["--size", "800x600", "--data", "demo"], ["--size", "800x600", "--data", "demo"]),
    (["gui", "--size", "800x600"], ["--size", "800x600"]),
    (["info", "demo"], None),
    (["--help"], None),
    (["-h"], None),
    (["train", "--size", "3"], None),
])
def test_app_or_command(argv, expected):
    assert app_argv(argv) == expected


@pytest.fixture
def fake_app(monkeypatch):
    calls = []
    module = types.ModuleType("linviz.gui.app")
    module.run_app = lambda argv=None: calls.append(list(argv)) or 0
    monkeypatch.setitem(sys.modules, "linviz.gui.app", module)
    return calls


def test_app_options_start_the_app(fake_app):
    assert main(["--size", "800x600"]) == 0
    assert main(["--data", "demo", "--size", "800x600"]) == 0
    assert fake_app == [["--size", "800x600"], ["--data", "demo", "--size", "800x600"]]


def test_help_lists_the_commands_and_the_app_options(fake_app, capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for word in ("info", "features", "train", "predict", "bench", "--data", "--size"):
        assert word in out
    assert fake_app == []
