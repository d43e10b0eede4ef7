"""Optimizer updates against their textbook formulas, and the gradient-free strawmen."""

import numpy as np
import pytest

from linviz.models import softmax_loss
from linviz.training import (SGD, Adam, Momentum, Nesterov, make_optimizer, random_local_search,
                             random_search)


def arrays(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((7, 3)).astype(np.float32), rng.standard_normal((7, 3)).astype(np.float32)


def test_sgd():
    W, g = arrays()
    expected = W - 0.1 * g
    SGD(0.1).step(W, g)
    np.testing.assert_allclose(W, expected, rtol=1e-6)


def test_momentum_two_steps():
    W, g = arrays()
    opt = Momentum(0.1, 0.9)
    v = np.zeros_like(W)
    expected = W.copy()
    for _ in range(2):
        v = 0.9 * v - 0.1 * g
        expected += v
        opt.step(W, g)
    np.testing.assert_allclose(W, expected, rtol=1e-6)


def test_nesterov_two_steps():
    W, g = arrays()
    opt = Nesterov(0.1, 0.9)
    v = np.zeros_like(W)
    expected = W.copy()
    for _ in range(2):
        v_prev = v
        v = 0.9 * v - 0.1 * g
        expected += -0.9 * v_prev + 1.9 * v
        opt.step(W, g)
    np.testing.assert_allclose(W, expected, rtol=1e-5, atol=1e-6)


def test_adam_three_steps():
    W, g = arrays()
    W64 = W.astype(np.float64)
    opt = Adam(0.01)
    m = np.zeros_like(W64)
    v = np.zeros_like(W64)
    for t in range(1, 4):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g.astype(np.float64) ** 2
        W64 -= 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        opt.step(W, g)
    np.testing.assert_allclose(W, W64, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adam", "gd"])
def test_every_optimizer_descends_a_real_loss(name):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((100, 8)).astype(np.float32)
    y = rng.integers(0, 3, 100)
    W = np.zeros((8, 3), np.float32)
    opt = make_optimizer(name, learning_rate=0.05)
    first = softmax_loss(W, X, y, 1e-3)[0]
    for _ in range(50):
        _, dW = softmax_loss(W, X, y, 1e-3)
        opt.step(W, dW)
    assert softmax_loss(W, X, y, 1e-3)[0] < first - 0.05


def test_unknown_optimizer():
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer("lbfgs", learning_rate=1.0)


def test_random_searches_never_get_worse_and_local_search_wins():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((200, 10))
    y = (X[:, 0] > 0).astype(int)

    def loss(W):
        return softmax_loss(W, X, y, 0.0)[0]

    W0 = np.zeros((10, 2))
    _, hist_rs = random_search(loss, W0, iterations=200, scale=0.1, seed=0)
    W_ls, hist_ls = random_local_search(loss, W0, iterations=200, step_size=0.1, seed=0)
    for hist in (hist_rs, hist_ls):
        assert np.all(np.diff(hist) <= 0) and hist[-1] < np.log(2)
    assert hist_ls[-1] < hist_rs[-1]
    assert loss(W_ls) == pytest.approx(hist_ls[-1])


# ---------------------------------------------------------------------------- the table of optimizers
def test_every_optimizer_has_every_field_and_is_made_from_the_table():
    import dataclasses

    from linviz.training import OPTIMIZERS, OptimizerSpec, TrainingConfig

    config_fields = {f.name for f in dataclasses.fields(TrainingConfig)}
    for name, spec in OPTIMIZERS.items():
        assert spec.name == name and spec.label.strip() and spec.help.strip()
        assert set(spec.settings) <= config_fields, name
        made = make_optimizer(name, learning_rate=0.1)
        assert made.gradient_free == spec.gradient_free
        # a setting is listed exactly when the optimizer reads it
        assert ("learning_rate" in spec.settings) == (not spec.gradient_free)
        assert ("batch_size" in spec.settings) == (not spec.gradient_free and not spec.full_batch)
        assert ("momentum" in spec.settings) == isinstance(made, Momentum)
        assert ("adam_beta1" in spec.settings) == isinstance(made, Adam)
        for field in dataclasses.fields(OptimizerSpec):
            assert getattr(spec, field.name) is not None
    assert [n for n, s in OPTIMIZERS.items() if s.full_batch] == ["gd"]


def test_an_unknown_optimizer_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="choose from sgd, momentum"):
        make_optimizer("lbfgs", learning_rate=0.1)
