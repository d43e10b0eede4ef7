"""The quick lane: short jobs beside the heavy lane; the newest request of a kind wins. The
JobRunner alone: no window is needed to hold it."""

from __future__ import annotations

import threading

from linviz.errors import Cancelled


def test_a_quick_job_runs_while_a_heavy_job_runs(qtbot, job_runner):
    release, started = threading.Event(), threading.Event()

    def heavy(ctx):
        started.set()
        while not release.is_set():
            if ctx.cancel.wait(0.01):
                raise Cancelled("cancelled")

    assert job_runner.start("slow", heavy)
    qtbot.waitUntil(started.is_set, timeout=5000)
    results = []
    job_runner.quick.submit("sum", lambda ctx: 2 + 3, results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=5000)
    assert results[0].ok and results[0].result == 5
    assert job_runner.busy  # the heavy job is still running
    release.set()
    qtbot.waitUntil(lambda: not job_runner.busy, timeout=5000)


def test_the_newest_request_of_a_kind_replaces_the_older_ones(qtbot, job_runner, wait_quick_runner):
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

    quick = job_runner.quick
    quick.submit("block", blocker, seen.append)
    for k in range(5):
        quick.submit("table", job(k), seen.append)  # all but the last are replaced while pending
    gate.set()
    wait_quick_runner(job_runner)
    assert ran == [4]
    assert [o.result for o in seen] == ["blocker", 4]


def test_a_running_job_of_the_same_kind_is_cancelled_and_its_answer_dropped(qtbot, job_runner, wait_quick_runner):
    started = threading.Event()
    seen = []

    def slow(ctx):
        started.set()
        if ctx.cancel.wait(5):
            raise Cancelled("replaced")
        return "slow"

    quick = job_runner.quick
    quick.submit("surface", slow, seen.append)
    qtbot.waitUntil(started.is_set, timeout=5000)
    quick.submit("surface", lambda ctx: "fresh", seen.append)
    wait_quick_runner(job_runner)
    assert [o.result for o in seen] == ["fresh"]
