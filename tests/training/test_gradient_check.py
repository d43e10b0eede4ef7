"""gradient_check: coordinates whose derivative is zero within rounding are not errors."""

import numpy as np
import pytest

from linviz.models import svm_loss
from linviz.training import gradient_check


def _balanced_svm_problem(n_per_class=20, d=6, c=4, seed=0):
    """Small random weights (every margin active) and balanced classes: the derivative of the
    loss along each class's bias, (N - C n_j) / N, is exactly zero."""
    rng = np.random.default_rng(seed)
    X = np.c_[rng.standard_normal((n_per_class * c, d)), np.ones(n_per_class * c)]
    y = np.repeat(np.arange(c), n_per_class)
    W = 1e-3 * rng.standard_normal((d + 1, c))
    return W, X, y


def test_a_zero_derivative_is_zero_within_rounding_not_an_error():
    W, X, y = _balanced_svm_problem()
    f = lambda w: svm_loss(w, X, y, 0.1, n_reg_rows=W.shape[0] - 1)  # noqa: E731 (bias free)
    result = gradient_check(f, W, num_checks=W.size)
    bias = np.array([ix[0] == W.shape[0] - 1 for ix in result.coordinates])
    assert bias.sum() == W.shape[1]
    # the true derivative is 0: both estimates are rounding noise (|numeric| ~ eps |f| / h)
    assert np.all(np.abs(result.numeric[bias]) < 1e-9)
    assert np.all(np.abs(result.analytic[bias]) < 1e-12)
    assert result.zero_within_rounding[bias].all()
    assert not result.zero_within_rounding[~bias].any()
    assert np.all(result.rel_errors[bias] == 0)
    assert result.max_rel_error < 1e-7, result.summary()
    assert "zero within rounding" in result.summary()


@pytest.mark.parametrize("n_per_class", [5, pytest.param(2000, marks=pytest.mark.slow)])
def test_the_rounding_bound_follows_the_noise_of_long_sums(n_per_class):
    # With 20,000 images the loss's own rounding is ~150 eps |f|: the measured spread of the
    # two step sizes widens the bound, which stays far below every real derivative.
    W, X, y = _balanced_svm_problem(n_per_class=n_per_class, d=30, c=10, seed=3)
    f = lambda w: svm_loss(w, X, y, 0.1, n_reg_rows=W.shape[0] - 1)  # noqa: E731
    result = gradient_check(f, W, num_checks=W.size)
    unit = np.finfo(np.float64).eps * f(W)[0] / 1e-4
    assert np.all(result.rounding_noise >= 64 * unit)
    bias = np.array([ix[0] == W.shape[0] - 1 for ix in result.coordinates])
    assert result.zero_within_rounding[bias].all(), result.summary()
    assert not result.zero_within_rounding[~bias].any()
    assert np.all(result.rounding_noise[~bias] < 1e-3 * np.abs(result.analytic[~bias]))
    assert result.max_rel_error < 1e-4, result.summary()  # small derivatives carry the noise too


def test_a_small_but_real_derivative_is_still_checked():
    # A derivative far below 1 but far above the rounding noise is compared as usual: a wrong
    # one is caught.
    W, X, y = _balanced_svm_problem(seed=2)

    def wrong(w):
        loss, dW = svm_loss(w, X, y, 1e-4, n_reg_rows=W.shape[0] - 1)
        dW = dW.copy()
        dW[:-1] *= 1.01
        return loss, dW
    result = gradient_check(wrong, W, num_checks=W.size)
    assert result.max_rel_error > 1e-3
    assert result.zero_within_rounding.sum() <= W.shape[1]
