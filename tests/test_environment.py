"""linviz.environment: environment variables are input like any other; a bad value falls back to
its default with one warning line, for every command and the app, never a traceback."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize("name", ["LINVIZ_FEATURE_CACHE_MB", "LINVIZ_DECODE_BUDGET_MB"])
@pytest.mark.parametrize("value", ["abc", "nan", "inf", "1e400", "-5", "\x1b]0;x\x07"])
def test_a_bad_number_falls_back_to_its_default_with_one_warning(run_cli, name, value):
    result = run_cli("features", "demo", "--features", "hue", "--image-size", "8", "--json", env={name: value})
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"warning: ${name}") and "using the default" in lines[0], lines
    assert "to 1,048,576; using the default, 1,024" in lines[0]  # as the docs write them
    assert "\x1b" not in result.stderr
    assert json.loads(result.stdout)["dims"] > 0


def test_numbers_within_bounds_are_taken(monkeypatch, capsys):
    from linviz import environment

    monkeypatch.setenv("LINVIZ_TEST_NUMBER", " 12.5 ")
    assert environment.number("LINVIZ_TEST_NUMBER", 1.0, 0.0, 100.0) == 12.5
    monkeypatch.setenv("LINVIZ_TEST_NUMBER", "")
    assert environment.number("LINVIZ_TEST_NUMBER", 1.0, 0.0, 100.0) == 1.0
    monkeypatch.setenv("LINVIZ_TEST_NUMBER", "1000")
    assert environment.number("LINVIZ_TEST_NUMBER", 1.0, 0.0, 100.0) == 1.0
    assert environment.number("LINVIZ_TEST_NUMBER", 1.0, 0.0, 100.0) == 1.0
    warnings = capsys.readouterr().err.splitlines()
    assert len(warnings) == 1 and "from 0 to 100" in warnings[0]  # one warning per variable and value


@pytest.mark.parametrize("text, expected", [("", False), ("0", False), ("1", True), (" yes ", True), ("No", False),
                                            ("true", True), ("FALSE", False), ("on", True), ("off", False)])
def test_a_yes_or_no_is_read_in_the_usual_words(monkeypatch, capsys, text, expected):
    from linviz import environment

    monkeypatch.setenv("LINVIZ_TEST_FLAG", text)
    assert environment.flag("LINVIZ_TEST_FLAG", False) is expected
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("text", ["maybe", "2", "\x1b]0;x\x07"])
def test_a_bad_yes_or_no_falls_back_to_its_default_with_one_warning(monkeypatch, capsys, text):
    from linviz import environment

    monkeypatch.setenv("LINVIZ_TEST_FLAG", text)
    assert environment.flag("LINVIZ_TEST_FLAG", False) is False
    assert environment.flag("LINVIZ_TEST_FLAG", False) is False
    warnings = capsys.readouterr().err.splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("warning: $LINVIZ_TEST_FLAG") and "\x1b" not in warnings[0]
    assert "using the default, no" in warnings[0]

