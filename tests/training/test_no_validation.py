"""Without validation data nothing chooses among the weights: the result is the last ones."""


import numpy as np

from linviz.training import TrainingConfig, TrainingControl, run_to_end, train


def test_without_validation_the_last_weights_are_kept_and_said(data):
    X, y, _, _ = data
    final = run_to_end(train(X, y, config=TrainingConfig(epochs=3, batch_size=100)))
    np.testing.assert_array_equal(final.best_W, final.W)
    assert final.best_val_accuracy is None and final.best_epoch is None and final.val_accuracies == ()
    assert final.stop_reason == "finished 3 epochs; no validation data: kept the last weights"
    assert final.kept == "the last weights (no validation data)"


def test_stopped_without_validation_keeps_the_weights_at_the_stop(data):
    # Weights in snapshots are throttled (none after the first here): the result must still
    # be the weights at the moment of the stop, not the last ones a snapshot happened to carry.
    X, y, _, _ = data
    control = TrainingControl()
    gen = train(X, y, config=TrainingConfig(epochs=50, batch_size=10, weights_interval=1e9,
                                            chunk_seconds=0), control=control)
    seen = []
    for snap in gen:
        seen.append(snap)
        if snap.iteration >= 60:
            control.stop()
    final = seen[-1]
    assert final.stop_reason.startswith("stopped by the user")
    assert final.stop_reason.endswith("; no validation data: kept the last weights")
    np.testing.assert_array_equal(final.best_W, final.W)
    first_W = seen[0].W
    assert not np.array_equal(final.best_W, first_W)


def test_with_validation_the_best_epoch_is_kept_and_said(data):
    X, y, Xv, yv = data
    final = run_to_end(train(X, y, Xv, yv, TrainingConfig(loss="svm", epochs=4, learning_rate=0.05)))
    assert final.stop_reason == "finished 4 epochs"
    assert final.kept == (f"the weights of epoch {final.best_epoch}, the best validation accuracy "
                          f"({final.best_val_accuracy:.1%})")
