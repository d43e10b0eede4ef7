"""The CLI's progress bar: quiet for quick steps, erased or dropped when an error ends the command."""

from __future__ import annotations

import io

import pytest

from linviz.cli import progress_bar as cli
from linviz.cli.progress_bar import ProgressBar


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Stream(io.StringIO):
    def __init__(self, tty: bool):
        super().__init__()
        self._tty = tty

    def isatty(self):
        return self._tty


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(cli.time, "perf_counter", clock)
    return clock


def lines_of(stream):
    return [line for line in stream.getvalue().replace("\r", "\n").splitlines() if line.strip()]


def test_log_stream_writes_nothing_before_the_interval(clock):
    stream = Stream(tty=False)
    bar = ProgressBar("loading", stream=stream)
    bar(0, 10)
    clock.now += 1.0
    bar(5, 10)
    assert stream.getvalue() == ""
    clock.now += 5.0
    bar(6, 10)
    assert len(lines_of(stream)) == 1 and "60%" in stream.getvalue()


def test_log_stream_final_line_only_when_the_step_succeeds(clock):
    stream = Stream(tty=False)
    with pytest.raises(RuntimeError):
        with ProgressBar("loading", stream=stream) as bar:
            bar(0, 10)
            bar(10, 10)
            raise RuntimeError("no readable images")
    assert stream.getvalue() == ""

    with ProgressBar("loading", stream=stream) as bar:
        bar(0, 10)
        bar(10, 10)
        bar(10, 10)
    assert lines_of(stream) == [lines_of(stream)[0]] and "100%" in stream.getvalue()


def test_log_stream_success_writes_the_newest_state_once(clock):
    stream = Stream(tty=False)
    with ProgressBar("training", stream=stream) as bar:
        bar(3, 10)  # stopped early: never reaches the total
    assert len(lines_of(stream)) == 1 and "training" in stream.getvalue() and "30%" in stream.getvalue()


def test_unknown_total_does_not_write_a_line_per_call(clock):
    stream = Stream(tty=False)
    bar = ProgressBar("loading", stream=stream)
    for i in range(100):
        bar(i, 0)
    assert stream.getvalue() == ""
    clock.now += 6.0
    for i in range(100):
        bar(i, 0)
    assert len(lines_of(stream)) == 1
    bar.close(error=True)
    assert len(lines_of(stream)) == 1


def test_terminal_bar_is_erased_when_an_error_ends_the_command(clock):
    stream = Stream(tty=True)
    with pytest.raises(RuntimeError):
        with ProgressBar("loading", stream=stream) as bar:
            clock.now += 0.5
            bar(5, 10)
            assert "50%" in stream.getvalue()
            raise RuntimeError("boom")
    assert stream.getvalue().endswith("\r\033[K") and "\n" not in stream.getvalue()


def test_terminal_bar_ends_its_line_on_success(clock):
    stream = Stream(tty=True)
    with ProgressBar("loading", stream=stream) as bar:
        bar(0, 10)  # within the interval: not drawn yet
        assert stream.getvalue() == ""
        bar(10, 10)
    assert stream.getvalue().endswith("\n") and "100%" in stream.getvalue()
