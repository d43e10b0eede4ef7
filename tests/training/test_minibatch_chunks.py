"""The chunked training path (several minibatches per compiled call) equals the step-by-step one."""

from dataclasses import replace

import numpy as np
import pytest

from linviz.training import TrainingConfig, TrainingControl, train, warmup
from linviz.training.loop import run_to_end


@pytest.fixture(autouse=True)
def loop_kernel_ready():
    """Chunked runs here, not one step at a time: no warm-up of another test still compiling
    the loop's kernel (a run then steps one by one until it is ready)."""
    warmup.wait(["training loop"])


def _data(n=600, d=31, c=4, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n)
    centers = rng.standard_normal((c, d - 1)).astype(np.float32)
    X = centers[y] + rng.standard_normal((n, d - 1)).astype(np.float32)
    X = np.hstack([X, np.ones((n, 1), np.float32)]).astype(np.float32)
    return X, y


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adam"])
@pytest.mark.parametrize("loss", ["svm", "softmax"])
def test_chunked_run_equals_step_by_step(loss, optimizer):
    X, y = _data()
    base = TrainingConfig(loss=loss, optimizer=optimizer, learning_rate=1e-2, batch_size=50, epochs=3,
                          reg=1e-3, seed=3)
    step = run_to_end(train(X[:500], y[:500], X[500:], y[500:], replace(base, chunk_seconds=0)))
    chunk = run_to_end(train(X[:500], y[:500], X[500:], y[500:], replace(base, chunk_seconds=1.0)))
    assert step.iteration == chunk.iteration == 30
    np.testing.assert_array_equal(step.losses, chunk.losses)
    np.testing.assert_allclose(step.smoothed_losses, chunk.smoothed_losses, rtol=1e-6)
    np.testing.assert_array_equal(step.best_W, chunk.best_W)
    assert step.val_accuracies == chunk.val_accuracies


def test_chunked_run_stops_at_divergence_with_the_same_reason():
    X, y = _data()
    X *= 100
    base = TrainingConfig(loss="softmax", learning_rate=1e3, batch_size=50, epochs=5, seed=1)
    step = run_to_end(train(X, y, config=replace(base, chunk_seconds=0)))
    chunk = run_to_end(train(X, y, config=replace(base, chunk_seconds=1.0)))
    assert step.stop_reason.startswith("diverged") and chunk.stop_reason == step.stop_reason
    assert chunk.iteration == step.iteration
    assert np.isfinite(chunk.best_W).all()


def test_chunks_still_stop_promptly():
    X, y = _data(n=2000)
    control = TrainingControl()
    config = TrainingConfig(batch_size=20, epochs=1000, chunk_seconds=0.002)
    seen = 0
    for snap in train(X, y, config=config, control=control):
        seen += 1
        if snap.iteration >= 500 and not control.stopped:
            control.stop()
            stopped_at = snap.iteration
    assert snap.done and snap.stop_reason.startswith("stopped")
    # one chunk at most after the stop request (a chunk is ~2 ms of work)
    assert snap.iteration - stopped_at < 100_000
    assert snap.iteration < 1000 * 100
