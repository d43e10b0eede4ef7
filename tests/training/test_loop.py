"""The training generator: snapshots, control from another thread, divergence, best weights."""

import threading

import numpy as np
import pytest

from linviz.training import TrainingConfig, TrainingControl, accuracy, run_to_end, train


def test_snapshots_and_sanity_check(data):
    X, y, Xv, yv = data
    snaps = list(train(X, y, Xv, yv, TrainingConfig(loss="softmax", epochs=3, batch_size=100)))
    first, final = snaps[0], snaps[-1]
    assert first.iteration == 1 and first.W is not None and first.W.shape == (20, 4)
    assert first.expected_initial_loss == pytest.approx(np.log(4))
    assert first.initial_loss == pytest.approx(np.log(4), rel=0.05)
    assert "as expected" in first.sanity_check
    assert final.done and final.stop_reason == "finished 3 epochs"
    assert final.iteration == 30 and final.epochs_done == 3 and final.epoch == 3.0
    assert len(final.losses) == 30 and len(final.val_accuracies) == 3 == len(final.train_accuracies)
    assert final.smoothed_losses[-1] < first.batch_loss
    assert final.val_accuracies[-1] > 0.9
    assert final.samples_per_second > 0 and final.iterations_per_second > 0
    # Snapshots are immutable: the loss arrays are read-only and never change afterwards.
    assert not first.losses.flags.writeable
    assert first.losses[0] == final.losses[0]
    with pytest.raises(ValueError):
        first.losses[0] = 0
    # Epoch-end snapshots carry W; iterations are increasing.
    assert all(b.iteration >= a.iteration for a, b in zip(snaps, snaps[1:]))


def test_weights_are_throttled(data):
    X, y, Xv, yv = data
    snaps = list(train(X, y, Xv, yv, TrainingConfig(epochs=2, batch_size=50, snapshot_every=2,
                                                    weights_interval=1e9, chunk_seconds=0)))
    with_W = [s for s in snaps if s.W is not None]
    # the first snapshot, the two epoch ends and the final one
    assert len(with_W) == 4 and len(snaps) > 20


def test_reproducible_with_a_seed(data):
    X, y, Xv, yv = data
    cfg = TrainingConfig(loss="svm", optimizer="momentum", epochs=2, seed=7)
    a = run_to_end(train(X, y, Xv, yv, cfg))
    b = run_to_end(train(X, y, Xv, yv, cfg))
    c = run_to_end(train(X, y, Xv, yv, TrainingConfig(loss="svm", optimizer="momentum", epochs=2, seed=8)))
    np.testing.assert_array_equal(a.losses, b.losses)
    np.testing.assert_array_equal(a.W, b.W)
    assert not np.array_equal(a.losses, c.losses)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adam", "gd",
                                       "random_search", "random_local_search"])
@pytest.mark.parametrize("loss", ["svm", "softmax"])
def test_every_optimizer_trains(data, optimizer, loss):
    X, y, Xv, yv = data
    lr = {"gd": 0.5, "adam": 1e-2}.get(optimizer, 1e-2)
    final = run_to_end(train(X, y, Xv, yv, TrainingConfig(loss=loss, optimizer=optimizer, epochs=3,
                                                          learning_rate=lr)))
    assert final.stop_reason.startswith("finished")
    assert final.smoothed_loss < final.initial_loss
    if optimizer == "gd":
        assert final.iteration == 3  # one full-batch step per epoch
    if not optimizer.startswith("random"):
        assert final.best_val_accuracy > 0.9


def test_divergence_stops_and_keeps_finite_best_weights(data):
    X, y, Xv, yv = data
    final = run_to_end(train(X, y, Xv, yv, TrainingConfig(loss="svm", learning_rate=1e6, epochs=5)))
    assert final.done and final.stop_reason.startswith("diverged")
    assert "smaller learning rate" in final.stop_reason
    assert final.best_W is not None and np.isfinite(final.best_W).all()


def test_nan_loss_is_divergence(data):
    X, y, Xv, yv = data
    X = X.copy()
    X[5:, 3] = np.inf  # every batch but possibly the first holds an inf feature
    final = run_to_end(train(X, y, Xv, yv, TrainingConfig(loss="softmax", epochs=2, seed=1)))
    assert "diverged" in final.stop_reason and ("NaN" in final.stop_reason or "infinite" in final.stop_reason)
    assert np.isfinite(final.best_W).all()


def test_best_validation_weights_are_kept(data):
    X, y, Xv, yv = data
    final = run_to_end(train(X, y, Xv, yv, TrainingConfig(loss="svm", epochs=6, learning_rate=0.05)))
    assert final.best_val_accuracy == max(final.val_accuracies)
    # of equal accuracies the latest: the first epoch does not win a tie over better-trained ones
    last_best = max(k for k, a in enumerate(final.val_accuracies) if a == final.best_val_accuracy)
    assert final.best_epoch == 1 + last_best
    assert accuracy(Xv, yv, final.best_W) == final.best_val_accuracy


def test_a_tie_keeps_the_later_weights_and_early_stopping_waits_for_better(data):
    X, y, Xv, yv = data
    few = slice(0, 4)  # four validation images: the accuracy ties from the first epoch on
    final = run_to_end(train(X, y, Xv[few], yv[few], TrainingConfig(loss="softmax", epochs=6, learning_rate=0.05)))
    assert len(set(final.val_accuracies)) == 1
    assert final.best_epoch == 6 and "the weights of epoch 6" in final.kept
    np.testing.assert_array_equal(final.best_W, final.W)
    stopped = run_to_end(train(X, y, Xv[few], yv[few], TrainingConfig(loss="softmax", epochs=10, learning_rate=0.05,
                                                                     early_stopping=2)))
    assert stopped.epochs_done == 3 and stopped.best_epoch == 3
    assert "no better validation accuracy for 2 epochs; best 1.0000 since epoch 1" in stopped.stop_reason


def test_early_stopping(data):
    X, y, Xv, yv = data
    # A learning rate of 0 never improves on epoch 1: stop after 1 + patience epochs.
    final = run_to_end(train(X, y, Xv, yv, TrainingConfig(learning_rate=0.0, epochs=10, early_stopping=2)))
    assert final.epochs_done == 3
    assert final.stop_reason.startswith("early stopping after epoch 3")


def test_pause_resume_and_stop_from_another_thread(data):
    X, y, Xv, yv = data
    control = TrainingControl()
    gen = train(X, y, Xv, yv, TrainingConfig(epochs=50, batch_size=10), control=control)
    first = next(gen)
    results = []
    control.pause()
    assert control.paused
    worker = threading.Thread(target=lambda: results.append(next(gen)))
    worker.start()
    worker.join(timeout=0.3)
    assert worker.is_alive() and not results  # blocked between minibatches while paused
    threading.Thread(target=control.resume).start()
    worker.join(timeout=30)
    assert results and results[0].iteration > first.iteration
    stopper = threading.Thread(target=control.stop)
    stopper.start()
    stopper.join()
    rest = list(gen)
    final = rest[-1]
    assert final.done and final.stop_reason.startswith("stopped by the user")
    assert final.iteration <= results[0].iteration + 1
    assert final.best_W is not None and np.isfinite(final.best_W).all()


def test_stop_while_paused(data):
    X, y, Xv, yv = data
    control = TrainingControl()
    gen = train(X, y, Xv, yv, TrainingConfig(epochs=5), control=control)
    next(gen)
    control.pause()
    control.stop()
    assert run_to_end(gen).stop_reason.startswith("stopped by the user")


def test_initial_weights_and_bad_config(data):
    X, y, Xv, yv = data
    W0 = np.zeros((20, 4), np.float32)
    first = next(train(X, y, Xv, yv, TrainingConfig(loss="svm", reg=0.0), W0=W0))
    assert first.initial_loss == pytest.approx(3.0)  # every margin exactly delta
    with pytest.raises(ValueError, match="W0"):
        next(train(X, y, Xv, yv, TrainingConfig(), W0=np.zeros((3, 3))))
    with pytest.raises(ValueError, match="learning_rate"):
        TrainingConfig(learning_rate=-1)
    with pytest.raises(ValueError, match="unknown loss"):
        TrainingConfig(loss="hinge")


@pytest.mark.parametrize("chunk_seconds", [0.0, 0.01])
def test_loss_history_grows_with_the_run_not_with_the_planned_epochs(data, chunk_seconds):
    """10**6 planned epochs at batch 1 would need gigabytes if preallocated; stop early."""
    X, y, Xv, yv = data
    control = TrainingControl()
    cfg = TrainingConfig(epochs=10**6, batch_size=1, learning_rate=1e-3, chunk_seconds=chunk_seconds)
    snaps = []
    for snap in train(X, y, Xv, yv, cfg, control=control):
        snaps.append(snap)
        if snap.iteration >= 3000:
            control.stop()
    final = snaps[-1]
    assert final.stop_reason.startswith("stopped by the user") and final.iteration >= 3000
    assert len(final.losses) == final.iteration and np.isfinite(final.losses).all()
    assert final.losses.base is not None and final.losses.base.nbytes <= 8 * 4 * final.iteration + 64 * 1024


@pytest.mark.parametrize("chunk_seconds", [0.0, 0.01])
def test_snapshots_keep_their_losses_while_the_history_grows(data, chunk_seconds):
    X, y, Xv, yv = data
    cfg = TrainingConfig(epochs=30, batch_size=5, snapshot_every=7, chunk_seconds=chunk_seconds)
    snaps, copies = [], []
    for snap in train(X, y, Xv, yv, cfg):
        snaps.append(snap)
        copies.append((snap.losses.copy(), snap.smoothed_losses.copy()))
    final = snaps[-1]
    assert final.iteration == 30 * 200 and len(final.losses) == 6000
    assert len({id(s.losses.base) for s in snaps}) > 1  # the history did grow
    for snap, (losses, smoothed) in zip(snaps, copies):
        assert not snap.losses.flags.writeable and not snap.smoothed_losses.flags.writeable
        np.testing.assert_array_equal(snap.losses, losses)  # never changed afterwards
        np.testing.assert_array_equal(snap.smoothed_losses, smoothed)
        np.testing.assert_array_equal(final.losses[:snap.iteration], losses)
        np.testing.assert_array_equal(final.smoothed_losses[:snap.iteration], smoothed)


def test_sanity_check_names_the_svm_margin(data):
    X, y, Xv, yv = data
    C = int(y.max()) + 1
    first = next(train(X, y, Xv, yv, TrainingConfig(loss="svm", delta=2.0, epochs=1)))
    assert "(C - 1) x delta" in first.sanity_check and "as expected" in first.sanity_check
    assert first.expected_initial_loss == pytest.approx(2.0 * (C - 1))
    plain = next(train(X, y, Xv, yv, TrainingConfig(loss="svm", epochs=1)))
    assert f"C - 1 = {C - 1}" in plain.sanity_check
