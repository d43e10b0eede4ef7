"""The quick lane: short jobs beside the heavy lane; the newest request of a kind wins."""

from __future__ import annotations

import threading

from linviz.errors import Cancelled


def test_a_quick_job_runs_while_a_heavy_job_runs(qtbot, make_window):
    window = make_window("demo")
    release, started = threading.Event(), threading.Event()

    def heavy(ctx):
        started.set()
        while not release.is_set():
            if ctx.cancel.wait(0.01):
                raise Cancelled("cancelled")

    assert window.job_runner.start("slow", heavy)
    qtbot.waitUntil(started.is_set, timeout=5000)
    results = []
    window.job_runner.quick.submit("sum", lambda ctx: 2 + 3, results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=5000)
    assert results[0].ok and results[0].result == 5
    assert window.job_runner.busy  # the heavy job is still running
    release.set()
    qtbot.waitUntil(lambda: not window.job_runner.busy, timeout=5000)


def test_the_newest_request_of_a_kind_replaces_the_older_ones(qtbot, make_window, wait_quick):
    window = make_window("demo")
    gate = threading.Event()
    seen, ran = [], []

    def blocker(ctx):
        gate.wait(5)
        return "blocker"

    def job(k):
        def run(ctx):
            ran.append(k)
            return k
        return run

    quick = window.job_runner.quick
    quick.submit("block", blocker, seen.append)
    for k in range(5):
        quick.submit("table", job(k), seen.append)  # all but the last are replaced while pending
    gate.set()
    wait_quick(window)
    assert ran == [4]
    assert [o.result for o in seen] == ["blocker", 4]


def test_a_running_job_of_the_same_kind_is_cancelled_and_its_answer_dropped(qtbot, make_window, wait_quick):
    window = make_window("demo")
    started = threading.Event()
    seen = []

    def slow(ctx):
        started.set()
        if ctx.cancel.wait(5):
            raise Cancelled("replaced")
        return "slow"

    quick = window.job_runner.quick
    quick.submit("surface", slow, seen.append)
    qtbot.waitUntil(started.is_set, timeout=5000)
    quick.submit("surface", lambda ctx: "fresh", seen.append)
    wait_quick(window)
    assert [o.result for o in seen] == ["fresh"]
