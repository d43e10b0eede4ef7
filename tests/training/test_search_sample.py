"""Random search and random local search in the training loop: every step is judged on one
fixed set of training images, so the loss they are judged on never rises."""

import numpy as np
import pytest

from linviz.training import TrainingConfig, run_to_end, train

SEARCHES = ["random_search", "random_local_search"]


def _full_losses(X, y, config):
    """The loss on ALL training rows at every snapshot that carries weights."""
    f = config.loss_function(X.shape[1])
    return np.array([f(s.W, X, y)[0] for s in train(X, y, config=config) if s.W is not None])


@pytest.mark.parametrize("optimizer", SEARCHES)
@pytest.mark.parametrize("loss", ["svm", "softmax"])
def test_judged_on_all_training_images_the_training_loss_never_rises(make_blobs, optimizer, loss):
    # Weak, noisy classes: a step that suits one 200-image minibatch often hurts the rest
    # (a loop that keeps such steps sees its full training loss rise).
    X, y = make_blobs(n=3000, d=40, c=10, seed=1, spread=0.15)
    config = TrainingConfig(loss=loss, optimizer=optimizer, epochs=3, search_sample=0,
                            snapshot_every=1, weights_interval=0.0)
    full = _full_losses(X, y, config)
    assert len(full) > 40
    assert np.all(np.diff(full) <= 1e-6 * full[0]), np.diff(full).max()
    assert full[-1] < full[0]


@pytest.mark.parametrize("optimizer", SEARCHES)
def test_a_fixed_sample_is_chosen_once_from_the_seed_and_stated(make_blobs, optimizer):
    X, y = make_blobs(n=3000, d=20, c=4, seed=2, spread=0.5)
    config = TrainingConfig(optimizer=optimizer, epochs=2, search_sample=500, seed=3)
    runs = [list(train(X, y, config=config)) for _ in range(2)]
    final = runs[0][-1]
    # the reported loss is the loss on the sample: it only ever goes down
    assert np.all(np.diff(final.losses) <= 0)
    assert final.losses[-1] < final.initial_loss
    assert final.search_sample == 500 and all(s.search_sample == 500 for s in runs[0])
    assert final.search_note == "every step judged on the same 500 of the 3,000 training images (seed 3)"
    assert final.stop_reason == (f"finished 2 epochs; {final.search_note}; "
                                 "no validation data: kept the last weights")
    np.testing.assert_array_equal(final.losses, runs[1][-1].losses)  # same seed, same sample
    # the initial loss is that of W0 on the sample, before any step
    f = config.loss_function(X.shape[1])
    W0 = (config.init_scale * np.random.default_rng(3).standard_normal((4, 20))).astype(np.float32).T
    from linviz.training.loop import _search_rows
    rows, _ = _search_rows(config, len(y))
    assert final.initial_loss == pytest.approx(f(W0, X[rows], y[rows])[0], rel=1e-5)


def test_all_images_when_asked_or_when_the_set_is_small(make_blobs):
    X, y = make_blobs(n=600, d=10, c=3, seed=4)
    for sample in (0, 600, 5000):
        final = run_to_end(train(X, y, config=TrainingConfig(optimizer="random_local_search", epochs=1,
                                                             search_sample=sample)))
        assert final.search_sample == 600
        assert final.search_note == "every step judged on all 600 training images"
    gradient = run_to_end(train(X, y, config=TrainingConfig(epochs=1)))
    assert gradient.search_sample == 0 and gradient.search_note is None
    assert gradient.stop_reason == "finished 1 epoch; no validation data: kept the last weights"
    with pytest.raises(ValueError, match="search_sample"):
        TrainingConfig(search_sample=-1)


@pytest.mark.parametrize("optimizer", SEARCHES)
@pytest.mark.parametrize("loss", ["svm", "softmax"])
def test_with_the_recommended_settings_the_training_loss_never_rises(make_blobs, optimizer, loss):
    # the CLI's (and the app's) defaults for the searches: judged on all training images
    from linviz.training import recommended_settings

    X, y = make_blobs(n=3000, d=40, c=10, seed=5, spread=0.15)
    settings = recommended_settings("hog+hue", loss, optimizer)
    config = TrainingConfig(loss=loss, optimizer=optimizer, snapshot_every=1, weights_interval=0.0,
                            **settings)
    full = _full_losses(X, y, config)
    assert len(full) > 10
    assert np.all(np.diff(full) <= 1e-6 * full[0]), np.diff(full).max()
    assert full[-1] < full[0]
