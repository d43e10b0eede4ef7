"""``python main.py`` arguments: checked before any window (or thread) exists; one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("argv, expected", [
    (["--data", "demo", "--size", "abc"], "--size"),
    (["--data", "demo", "--size", "0x900"], "--size"),
    (["--data", "demo", "--bogus"], "--bogus"),
])
def test_bad_arguments_are_one_line_and_exit_2(capsys, argv, expected):
    from linviz.gui.app import parse_args

    with pytest.raises(SystemExit) as exc:
        parse_args(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and expected in err, err


def test_size_is_parsed():
    from linviz.gui.app import parse_args

    assert parse_args(["--size", "1400x900"]).size == (1400, 900)
    assert parse_args([]).size is None


def test_main_py_with_a_bad_size_exits_2_before_building_the_window():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "main.py", "--data", "demo", "--size", "abc"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--size" in lines[0] and "QThread" not in proc.stderr, proc.stderr
