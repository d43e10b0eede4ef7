"""Pace and Step: when minibatches run changes, what they compute does not."""

import threading

import numpy as np
import pytest

from linviz.models.regularizers import regularization
from linviz.training import TrainingConfig, TrainingControl, train
from linviz.training.loop import run_to_end


class FakeClock:
    """A clock that moves only when the pacer sleeps: no test here times anything."""

    def __init__(self):
        self.now = 1000.0
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


def _data(n=700, d=21, c=4, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n)
    centers = rng.standard_normal((c, d - 1)).astype(np.float32)
    X = np.hstack([centers[y] + rng.standard_normal((n, d - 1)).astype(np.float32), np.ones((n, 1), np.float32)])
    return X[:600], y[:600], X[600:], y[600:]


CONFIG = TrainingConfig(loss="softmax", learning_rate=0.05, batch_size=40, epochs=4, reg=1e-2, seed=7)


@pytest.mark.parametrize("pace", [3.0, 40.0, 1000.0])
def test_paced_and_unpaced_runs_give_identical_weights(pace):
    X, y, Xv, yv = _data()
    unpaced = run_to_end(train(X, y, Xv, yv, CONFIG))
    clock = FakeClock()
    control = TrainingControl(pace=pace, clock=clock, sleep=clock.sleep)
    paced = run_to_end(train(X, y, Xv, yv, CONFIG, control=control))
    assert paced.iteration == unpaced.iteration == 60
    np.testing.assert_array_equal(paced.best_W, unpaced.best_W)
    np.testing.assert_array_equal(paced.losses, unpaced.losses)
    assert paced.val_accuracies == unpaced.val_accuracies
    # the fake clock moved about one second per `pace` iterations (the first one is free)
    assert clock.slept == pytest.approx(59 / pace, rel=0.05, abs=0.5 / pace)


def test_a_paced_run_never_runs_ahead_of_its_pace_and_shows_every_call():
    X, y, Xv, yv = _data()
    clock = FakeClock()
    control = TrainingControl(pace=20.0, clock=clock, sleep=clock.sleep)
    start = clock()
    iterations = []
    for snap in train(X, y, Xv, yv, CONFIG, control=control):
        assert snap.iteration <= 1 + 20.0 * (clock() - start) + 1e-6
        iterations.append(snap.iteration)
    # a snapshot after every compiled call: at 20 it/s (bursts of at most 2) no gaps of 10
    assert max(np.diff(sorted(set(iterations)))) <= 2


def test_step_advances_exactly_one_minibatch_then_an_epoch():
    X, y, Xv, yv = _data()
    control = TrainingControl()
    control.pause()
    run = train(X, y, Xv, yv, CONFIG, control=control)
    control.step()
    first = next(run)
    assert first.iteration == 1 and first.W is not None
    control.step("minibatch")
    second = next(run)
    assert second.iteration == 2 and second.W is not None
    np.testing.assert_array_equal(second.losses[:1], first.losses)
    assert control.paused and not control.stepping
    control.step("epoch")
    snaps = []
    while not snaps or snaps[-1].epochs_done < 1:
        snaps.append(next(run))
    per_epoch = 600 // 40
    assert [s.iteration for s in snaps[:-1]] == list(range(3, per_epoch + 1))  # one at a time
    assert snaps[-1].iteration == per_epoch and snaps[-1].epochs_done == 1
    assert control.paused and not control.stepping
    control.resume()
    final = run_to_end(run)
    unpaced = run_to_end(train(X, y, Xv, yv, CONFIG))
    np.testing.assert_array_equal(final.best_W, unpaced.best_W)
    np.testing.assert_array_equal(final.losses, unpaced.losses)


def test_stop_wakes_a_paused_or_pacing_run():
    X, y, Xv, yv = _data()
    for control in (TrainingControl(), TrainingControl(pace=0.001)):
        if control.pace is None:
            control.pause()
        else:
            control.step()  # the paced one: pause, then one granted step, then wait for the pace
            control.resume()
        result = {}
        thread = threading.Thread(target=lambda c=control, r=result: r.setdefault("final", run_to_end(
            train(X, y, Xv, yv, CONFIG, control=c))))
        thread.start()
        thread.join(0.2)
        assert thread.is_alive()  # waiting
        control.stop()
        thread.join(10)
        assert not thread.is_alive()
        assert result["final"].stop_reason.startswith("stopped by the user")


def test_bad_paces_and_step_units_are_refused():
    control = TrainingControl()
    for pace in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            control.set_pace(pace)
    with pytest.raises(ValueError):
        control.step("week")
    control.set_pace(5)
    assert control.pace == 5.0
    control.set_pace(None)
    assert control.pace is None


@pytest.mark.parametrize("reg_type", ["l2", "l1", "elastic"])
def test_snapshots_record_data_loss_regularization_and_weight_norm(reg_type):
    X, y, Xv, yv = _data()
    config = TrainingConfig(loss="svm", learning_rate=0.05, batch_size=40, epochs=2, reg=0.05, reg_type=reg_type,
                            seed=1, chunk_seconds=0, weights_interval=0)
    snaps = list(train(X, y, Xv, yv, config))
    final = snaps[-1]
    table = final.per_snapshot
    assert table.shape[1] == 4 and not table.flags.writeable
    assert np.all(np.diff(final.snapshot_iterations) > 0)  # one row per iteration
    for snap in snaps:
        row = snap.per_snapshot[-1]
        assert row[0] == snap.iteration
        # data + regularization = the newest minibatch loss
        assert row[1] + row[2] == pytest.approx(snap.batch_loss, rel=1e-9, abs=1e-9)
        # at the weights of the snapshot, without the bias row
        reg, _ = regularization(snap.W[:-1].astype(np.float64), 0.05, reg_type)
        assert row[2] == pytest.approx(reg, rel=1e-5)
        assert row[3] == pytest.approx(np.linalg.norm(snap.W[:-1].astype(np.float64)), rel=1e-5)
    # earlier views are never written again
    np.testing.assert_array_equal(snaps[3].per_snapshot, final.per_snapshot[:len(snaps[3].per_snapshot)])
    if reg_type == "l2":  # stronger weight decay, smaller weights
        strong = run_to_end(train(X, y, Xv, yv, TrainingConfig(**{**config.__dict__, "reg": 1.0})))
        assert strong.weight_norms[-1] < 0.8 * final.weight_norms[-1]


def test_a_grant_that_waits_for_a_resume_says_so_once_before_waiting():
    """about_to_wait runs once, without the control's lock (it may take long: the worker shows
    the paused run's last state), and a resume that came meanwhile is not waited for."""
    calls = []

    class Announcing(TrainingControl):
        def about_to_wait(self):
            calls.append(self._cond.acquire(blocking=False))  # the lock is free
            self._cond.release()

    control = Announcing()
    control.pause()
    thread = threading.Thread(target=lambda: calls.append(control.grant(5, 10).count))
    thread.start()
    thread.join(0.2)
    assert thread.is_alive() and calls == [True]  # said once, then waiting
    control.resume()
    thread.join(10)
    assert calls == [True, 5]

    class ResumingMeanwhile(TrainingControl):
        def about_to_wait(self):
            self.resume()

    resumed = ResumingMeanwhile()
    resumed.pause()
    assert resumed.grant(3, 10).count == 3  # not waiting for a resume that already came
