"""A run in the worker process: the weights of a headless run bit for bit (paced or not),
pause / step / stop from another thread, and a worker that dies, fails or is left alone."""

from __future__ import annotations

import os
import textwrap
import threading
import time

import numpy as np
import pytest

from linviz.errors import Cancelled
from linviz.training import train
from linviz.training.loop import run_to_end
from linviz.workbench import SplitSettings, jobs
from linviz.workbench.worker.client import RemoteControl, WorkerDied, WorkerFailed, WorkerProcess
from linviz.workbench.worker.remote_job import RemoteTrainingJob
from linviz.workbench.worker.shared_files import SharedFiles

SETTINGS = {"loss": "softmax", "epochs": 3, "batch_size": 50, "learning_rate": 0.05, "reg": 1e-3, "seed": 3}


Ctx = jobs.QuietContext  # a job run here, never cancelled


@pytest.fixture(scope="module")
def data():
    prepared = jobs.prepare_splits(jobs.demo_dataset(), SplitSettings(val_size=60))
    return prepared, jobs.extract_features(prepared, "hog+hue", Ctx())


@pytest.fixture(scope="module")
def worker_process():
    process = WorkerProcess()
    files = SharedFiles()
    process.warm_up()
    yield process, files
    assert process.shutdown()
    assert not process.alive
    files.close()


def _headless(data, settings):
    prepared, features = data
    config = jobs.make_training_config(settings)
    return run_to_end(train(features.X_train, prepared.train.labels, features.X_val, prepared.val.labels, config,
                            n_classes=len(prepared.class_names)))


def _remote(worker, data, settings, control=None, run=1):
    process, files = worker
    prepared, features = data
    job = RemoteTrainingJob(process, files, prepared, features, "hog+hue", settings, control or RemoteControl(), run)
    return job, job


def _wait_until(condition, what, timeout_s=120.0):
    """Wait for an event (never a timed assert: the limit only stops a hang)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.01)


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="process priorities are POSIX")
def test_the_worker_gives_way_to_the_window(worker_process):
    """The training runs at a lower priority than the window, so that the GUI thread gets a
    core at once even when another app keeps one busy."""
    from linviz.workbench.worker.process_main import WORKER_NICENESS

    process, _ = worker_process
    expected = min(19, os.getpriority(os.PRIO_PROCESS, 0) + WORKER_NICENESS)
    assert os.getpriority(os.PRIO_PROCESS, process.pid) == expected
    autogroup = f"/proc/{process.pid}/autogroup"
    if os.path.exists(autogroup):
        with open(autogroup, encoding="ascii") as f:
            assert f.read().split()[-1] == str(expected)


def test_a_run_in_the_worker_gives_the_weights_of_a_headless_run_paced_or_not(worker_process, data):
    headless = _headless(data, SETTINGS)
    job, _ = _remote(worker_process, data, SETTINGS)
    final = job(Ctx())
    paced_job, _ = _remote(worker_process, data, SETTINGS, RemoteControl(pace=2000.0), run=2)
    paced = paced_job(Ctx())
    for frame in (final, paced):
        assert frame.final and frame.snapshot.done
        np.testing.assert_array_equal(frame.snapshot.best_W, headless.best_W)
        np.testing.assert_array_equal(frame.model.W, headless.best_W)
        np.testing.assert_array_equal(frame.snapshot.losses, headless.losses)
        np.testing.assert_array_equal(frame.snapshot.smoothed_losses, headless.smoothed_losses)
        assert frame.snapshot.val_accuracies == headless.val_accuracies
        assert frame.snapshot.train_accuracies == headless.train_accuracies
        assert frame.model.evaluation is not None and frame.model.templates
        assert len(frame.trajectory) == SETTINGS["epochs"] + 1 or len(frame.trajectory) == SETTINGS["epochs"] + 2
    assert final.model.features is data[1]  # the window's features, not a copy
    if final.loop_times is not None:  # Linux says where the loop's thread spent its time
        assert abs(sum(final.loop_times.shares()) - 1) < 1e-9 and final.loop_times.running > 0


def test_pause_step_and_resume_reach_the_worker_and_the_frames_follow(worker_process, data):
    control = RemoteControl()
    control.step("minibatch")  # starts paused, with one step
    job, _ = _remote(worker_process, data, SETTINGS, control, run=3)
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("frame", job(Ctx())))
    thread.start()
    frames = []

    def newest_iteration():
        frame = job.take()
        if frame is not None:
            frames.append(frame)
        return frames[-1].snapshot.iteration if frames else 0

    _wait_until(lambda: newest_iteration() == 1, "the first step")
    assert control.paused
    assert frames[-1].model is not None and frames[-1].snapshot.losses.shape == (1,)
    control.step("minibatch")
    _wait_until(lambda: newest_iteration() == 2, "the second step")
    control.resume()
    thread.join(120)
    assert not thread.is_alive()
    np.testing.assert_array_equal(result["frame"].snapshot.best_W, _headless(data, SETTINGS).best_W)


def test_a_stopped_run_keeps_its_best_weights(worker_process, data):
    control = RemoteControl(pace=300.0)
    settings = dict(SETTINGS, epochs=50)
    job, _ = _remote(worker_process, data, settings, control, run=4)
    ctx = Ctx()
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("frame", job(ctx)))
    thread.start()
    frames = []

    def epochs_done():
        frame = job.take()
        if frame is not None:
            frames.append(frame)
        return frames[-1].snapshot.epochs_done if frames else 0

    _wait_until(lambda: epochs_done() >= 2, "two epochs")
    control.stop()
    thread.join(120)
    final = result["frame"]
    assert final.snapshot.stop_reason.startswith("stopped by the user")
    assert final.snapshot.iteration < settings["epochs"] * 12
    np.testing.assert_array_equal(final.model.W, final.snapshot.best_W)


def test_a_bug_in_the_worker_is_reported_with_its_traceback_and_the_worker_serves_on(worker_process, data):
    job, _ = _remote(worker_process, data, dict(SETTINGS, optimizer="no such optimizer"), run=5)
    with pytest.raises(WorkerFailed) as failed:
        job(Ctx())
    assert "no such optimizer" in str(failed.value) and "Traceback" in failed.value.details
    job, _ = _remote(worker_process, data, SETTINGS, run=6)
    assert job(Ctx()).snapshot.done


def test_a_run_stopped_before_its_first_update_is_cancelled(worker_process, data):
    control = RemoteControl()
    control.stop()
    job, _ = _remote(worker_process, data, SETTINGS, control, run=7)
    with pytest.raises(Cancelled):
        job(Ctx())


def test_a_killed_worker_is_reported_and_the_next_run_starts_a_new_one(worker_process, data):
    process, _ = worker_process
    control = RemoteControl(pace=100.0)
    job, _ = _remote(worker_process, data, dict(SETTINGS, epochs=50), control, run=8)
    result = {}

    def run():
        try:
            job(Ctx())
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            result["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    _wait_until(lambda: job.take() is not None, "the first frame")
    pid = process.pid
    os.kill(pid, 9)
    thread.join(60)
    assert isinstance(result.get("error"), WorkerDied)
    assert "SIGKILL" in str(result["error"])
    job, _ = _remote(worker_process, data, SETTINGS, run=9)
    assert job(Ctx()).snapshot.done
    assert process.pid != pid and process.starts >= 2


ORPHAN_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    from linviz.workbench.worker.client import WorkerProcess

    if __name__ == "__main__":
        process = WorkerProcess()
        process.warm_up()
        print(process.pid, flush=True)
        os.kill(os.getpid(), 9)  # the window dies without a word
    """
)


@pytest.mark.skipif(os.name != "posix", reason="kills by signal")
def test_a_worker_whose_window_was_killed_leaves_by_itself(run_python):
    result = run_python(ORPHAN_SCRIPT, timeout=300)
    pid = int(result.stdout.split()[0])

    def gone():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            with open(f"/proc/{pid}/stat") as f:  # a zombie waiting to be reaped is gone too
                return f.read().split()[2] == "Z"
        except OSError:
            return False

    _wait_until(gone, "the orphaned worker to leave", timeout_s=60)


def test_a_diverged_run_in_the_worker_keeps_the_weights_a_headless_run_keeps(worker_process, data):
    diverging = dict(SETTINGS, learning_rate=5e3, epochs=6)
    headless = _headless(data, diverging)
    assert headless.stop_reason.startswith("diverged") and headless.best_W is not None
    job, _ = _remote(worker_process, data, diverging, run=10)
    frame = job(Ctx())
    assert frame.snapshot.stop_reason == headless.stop_reason
    np.testing.assert_array_equal(frame.model.W, headless.best_W)
    assert np.isfinite(frame.model.W).all()


@pytest.mark.skipif(os.name != "posix", reason="kills by signal")
def test_a_worker_killed_before_its_first_answer_could_not_start_even_when_a_send_finds_it_dead():
    import signal

    process = WorkerProcess()
    try:
        process.start()
        os.kill(process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while process._process.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        with pytest.raises(WorkerDied, match="SIGKILL"):
            for _ in range(100):  # the first write may still land in the pipe's buffer
                process.send(("warmup", process.next_id()))
        assert process.unusable and "could not start" in process.unusable and "SIGKILL" in process.unusable
    finally:
        process.shutdown()


@pytest.mark.skipif(os.name != "posix", reason="stops the worker by signal")
def test_a_worker_stuck_when_the_window_closes_is_ended_after_the_closing_grace(data):
    """A worker that does not answer (here: stopped by SIGSTOP) keeps a closing window for
    CLOSE_GRACE_S, not for the STOP_GRACE_S a run stopped by the user gets."""
    import signal

    from linviz.workbench.worker.client import CLOSE_GRACE_S, STOP_GRACE_S

    process, files = WorkerProcess(), SharedFiles()
    try:
        control = RemoteControl(pace=100.0)
        job = RemoteTrainingJob(process, files, *data, "hog+hue", dict(SETTINGS, epochs=50), control, 1)
        ctx = jobs.QuietContext()
        ctx.cancel = threading.Event()
        result = {}

        def run():
            try:
                job(ctx)
            except Exception as exc:  # noqa: BLE001 - the test looks at it
                result["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        _wait_until(lambda: job.take() is not None, "the first frame")
        os.kill(process.pid, signal.SIGSTOP)  # stuck: no answer will come
        assert process.stop_grace_s == STOP_GRACE_S
        process.closing()  # what the window's shutdown does first
        control.stop()
        ctx.cancel.set()
        thread.join(60)
        assert not thread.is_alive()
        assert isinstance(result.get("error"), WorkerDied)
        assert f"did not stop within {CLOSE_GRACE_S:g} s" in str(result["error"])
    finally:
        process.shutdown()
        files.close()
    assert not process.alive
