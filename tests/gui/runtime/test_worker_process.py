"""The window's worker process: runs train in it, a killed worker is said and replaced, and
closing the window (training or not) leaves no process behind."""

from __future__ import annotations

import os
import signal
import time

import pytest


def _settings(window, epochs=200):
    panel = window.training_panel
    panel.epochs_spin.setValue(epochs)
    panel.batch_spin.setValue(100)
    panel.lr_slider.setValue(1e-2)
    window.training_panel.pace.set_pace(200.0)  # slow enough to be caught running


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] == "Z"
    except OSError:
        return False


def _training_frames(qtbot, window, iterations=5):
    qtbot.waitUntil(lambda: window.workbench.frame is not None
                    and window.workbench.frame.snapshot.iteration >= iterations, timeout=120_000)


def test_a_run_trains_in_the_worker_process(qtbot, make_window, wait_idle):
    window = make_window("demo")
    _settings(window, epochs=2)
    window.training_panel.pace.set_pace(None)
    window.training_controller.train()
    wait_idle(window)
    runner = window.job_runner
    assert runner.trains_in_worker and runner.worker_process.alive
    assert runner.worker_process.pid != os.getpid()
    frame = window.workbench.frame
    assert frame.final and frame.snapshot.done and window.workbench.model is frame.model
    assert window.workbench.runs.current_id is not None  # the run was recorded
    assert not window.error_messages


@pytest.mark.skipif(os.name != "posix", reason="kills by signal")
def test_a_killed_worker_is_said_and_the_window_trains_again(qtbot, make_window, wait_idle):
    window = make_window("demo")
    _settings(window)
    window.training_controller.train()
    qtbot.waitUntil(lambda: window.workbench.frame is not None and window.workbench.frame.snapshot.epochs_done >= 2,
                    timeout=120_000)
    process = window.job_runner.worker_process
    pid = process.pid
    recorded = len(window.workbench.runs.store.load().records)
    os.kill(pid, signal.SIGKILL)
    wait_idle(window)
    assert any("stopped unexpectedly" in m and "SIGKILL" in m and "kept the weights of epoch" in m
               for m in window.error_messages)
    model, frame = window.workbench.model, window.workbench.frame
    assert model is frame.model  # the best epoch so far is the model, judged as the run judges it
    assert model.evaluation.accuracy == pytest.approx(max(frame.snapshot.val_accuracies))
    records = window.workbench.runs.store.load().records
    assert len(records) == recorded + 1  # the run is in the history, with what happened to it
    record = max(records, key=lambda r: r.id)
    assert "SIGKILL" in record.stop_reason and "kept the weights of epoch" in record.kept
    assert record.best_epoch == frame.snapshot.best_epoch and window.workbench.runs.current_id == record.id
    assert not window.training_controller.running
    assert window.training_panel.train_button.isEnabled()
    window.training_panel.pace.set_pace(None)
    window.training_panel.epochs_spin.setValue(2)
    window.training_controller.train()
    wait_idle(window)
    assert process.pid != pid and process.alive
    assert window.workbench.frame.final and window.workbench.frame.snapshot.done


@pytest.mark.skipif(os.name != "posix", reason="looks for the process by its pid")
def test_closing_the_window_mid_training_leaves_no_process(qtbot, make_window):
    window = make_window("demo")
    _settings(window)
    window.training_controller.train()
    _training_frames(qtbot, window)
    process = window.job_runner.worker_process
    pid = process.pid
    folders = list(window.job_runner.shared_files._folders.values())
    assert folders
    recorded = len(window.workbench.runs.store.load().records)
    window.close()
    assert not window.job_runner.processes_running() and not window.job_runner.threads_running()
    from linviz.workbench.worker.client import CLOSE_GRACE_S

    assert process.stop_grace_s == CLOSE_GRACE_S  # a stuck worker would keep it open that long, no more
    deadline = time.monotonic() + 30
    while not _gone(pid):  # a wait for the kernel to finish with it, not a timing
        assert time.monotonic() < deadline, "the worker process outlived its window"
        time.sleep(0.05)
    assert not any(os.path.exists(folder) for folder in folders)  # the shared files went with it
    assert len(window.workbench.runs.store.load().records) == recorded + 1  # the stopped run was recorded


def test_the_warm_up_starts_the_worker_and_loads_its_kernels(qtbot, make_window, wait_idle):
    window = make_window("demo")
    window.job_queue.warmup_state = "waiting"
    window.job_queue.start_warmup()
    wait_idle(window)
    assert window.job_queue.warmup_state == "done"
    assert window.job_runner.worker_process.alive


def test_training_in_the_window_thread_is_still_there_on_request(qtbot, make_window, wait_idle, monkeypatch):
    monkeypatch.setenv("LINVIZ_TRAINING_IN_WINDOW", "1")
    window = make_window("demo")
    _settings(window, epochs=2)
    window.training_panel.pace.set_pace(None)
    window.training_controller.train()
    wait_idle(window)
    assert not window.job_runner.worker_process.alive  # never started
    assert window.workbench.frame.final and window.workbench.frame.snapshot.done


def test_a_worker_that_cannot_start_leaves_training_in_the_window(qtbot, make_window, wait_idle, monkeypatch):
    from linviz.errors import LinvizError

    window = make_window("demo")
    _settings(window, epochs=2)
    window.training_panel.pace.set_pace(None)

    def refuse():
        raise LinvizError("could not start the worker process: no interpreter")

    monkeypatch.setattr(window.job_runner.worker_process, "start", refuse)
    window.training_controller.train()
    wait_idle(window)
    assert window.workbench.frame.final and window.workbench.frame.snapshot.done
    assert any("could not start the worker process" in m for m in window.error_messages)


def test_a_worker_that_cannot_start_leaves_the_warm_up_done_and_says_so(qtbot, make_window, wait_idle, monkeypatch):
    from linviz.errors import LinvizError

    window = make_window("demo")

    def refuse():
        raise LinvizError("could not start the worker process: no interpreter")

    monkeypatch.setattr(window.job_runner.worker_process, "start", refuse)
    window.job_queue.warmup_state = "waiting"
    window.job_queue.start_warmup()
    wait_idle(window)
    assert window.job_queue.warmup_state == "done"  # this process's kernels are ready all the same
    assert not window.job_runner.busy  # and no warm-up after warm-up
    assert any("window's own process" in m and "no interpreter" in m for m in window.error_messages)


@pytest.mark.skipif(os.name != "posix", reason="kills by signal")
def test_a_worker_that_dies_before_it_answers_leaves_training_in_the_window(qtbot, make_window, wait_idle,
                                                                            monkeypatch):
    window = make_window("demo")
    process = window.job_runner.worker_process
    warm_up = process.warm_up

    def dying_warm_up(cancel=None):
        process.start()
        os.kill(process.pid, signal.SIGKILL)  # before its interpreter could say a word
        return warm_up(cancel)

    monkeypatch.setattr(process, "warm_up", dying_warm_up)
    window.job_queue.warmup_state = "waiting"
    window.job_queue.start_warmup()
    wait_idle(window)
    assert window.job_queue.warmup_state == "done" and not window.job_runner.busy
    assert any("could not start" in m and "SIGKILL" in m for m in window.error_messages)
    _settings(window, epochs=2)
    window.training_panel.pace.set_pace(None)
    window.training_controller.train()
    wait_idle(window)
    assert not process.alive  # not started again: the run trained in the window
    assert window.workbench.frame.final and window.workbench.frame.snapshot.done


def test_training_in_the_window_is_asked_for_in_words_too(monkeypatch):
    from linviz.gui.runtime.worker import trains_in_worker

    for text, expected in (("", True), ("0", True), ("false", True), ("1", False), ("yes", False)):
        monkeypatch.setenv("LINVIZ_TRAINING_IN_WINDOW", text)
        assert trains_in_worker() is expected, text
