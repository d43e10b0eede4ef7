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


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal is POSIX")
def test_a_command_on_a_terminal_ends_with_its_last_line_not_an_escape_code(tmp_path):
    # colorama (via Numba's coloured errors) wrote "ESC[0m" after the output when stdout is a tty
    import os
    import pty
    import select
    import subprocess
    import time

    controller, terminal = pty.openpty()
    code = ("import sys\nfrom linviz.cli import main\n"
            f"sys.exit(main(['train', 'demo', '--out', {str(tmp_path / 'm.npz')!r}, '--epochs', '1']))\n")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_DISABLE_ERROR_MESSAGE_HIGHLIGHTING"}  # ours, not set
    process = subprocess.Popen([sys.executable, "-c", code], stdout=terminal, stderr=subprocess.DEVNULL, env=env)
    os.close(terminal)
    output, deadline = b"", time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if not select.select([controller], [], [], 1.0)[0]:
                continue
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal closed: the process has ended
                break
            if not chunk:
                break
            output += chunk
        else:
            pytest.fail(f"no end of output after 120 s: {output[-300:]!r}")
    finally:
        if process.poll() is None and time.monotonic() >= deadline:
            process.kill()
        os.close(controller)
    assert process.wait(timeout=30) == 0
    assert b"saved:" in output and b"\x1b[0m" not in output


@pytest.mark.parametrize("command", [None, "info", "features", "train", "tune", "predict", "knn", "landscape",
                                     "bench"])
def test_every_help_fits_an_80_column_terminal(command, monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(([command] if command else []) + ["--help"]) == 0
    lines = capsys.readouterr().out.splitlines()
    too_long = [line for line in lines if len(line) > 80]
    assert lines and not too_long, too_long
