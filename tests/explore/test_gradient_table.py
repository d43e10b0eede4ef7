"""The gradient-check table: the lecture's centered difference, tiny errors for the softmax at
a good step, kinks only where the loss has them, and the V of the error against h."""

import numpy as np
import pytest

from linviz.errors import Cancelled
from linviz.explore.gradient_table import HISTOGRAM_EDGES, gradient_sweep, gradient_table, log_histogram, verdict
from linviz.models import reference_losses as ref


def _data(seed=0, n=300, d=20, c=5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    X[:, -1] = 1
    return X, rng.integers(0, c, n), 0.01 * rng.standard_normal((d, c)).astype(np.float32)


def test_softmax_relative_errors_below_1e6():
    X, y, W = _data()
    table = gradient_table(W, X, y, loss="softmax", reg=1e-2, num_checks=60, batch_size=100, n_reg_rows=19)
    assert table.result.max_rel_error < 1e-6
    assert len(table.rows) == 60
    assert all(r.verdict in ("fine", "zero") for r in table.rows)
    assert table.counts.sum() == 60


def test_svm_kinks_are_flagged_not_errors():
    X, y, W = _data(seed=1)
    # margins spread around 0 (large weights) and a large step: many steps cross a hinge kink
    table = gradient_table(30 * W, X, y, loss="svm", reg=1e-3, num_checks=100, h=0.05, batch_size=50)
    kinks = [r for r in table.rows if r.verdict == "kink"]
    assert kinks
    assert table.result.n_kinks == len(kinks)
    assert table.result.max_rel_error_smooth < 1e-6
    assert all(r.verdict in ("fine", "zero", "kink") for r in table.rows)


def test_wrong_gradients_would_be_caught():
    assert verdict(0.5) == "wrong"
    assert verdict(1e-5) == "acceptable"
    assert verdict(1e-5, smooth=True) == "suspect"
    assert verdict(1e-3) == "suspect"
    assert verdict(1e-9) == "fine"
    assert verdict(0.5, kink=True) == "kink"
    assert verdict(0.5, zero=True) == "zero"


def test_histogram_and_cancel():
    counts = log_histogram(np.array([0.0, 1e-20, 1e-9, 1e-9, 0.5, 3.0]))
    assert counts.sum() == 6 and counts[0] == 2 and counts[-1] == 2
    assert counts[int(-9 - HISTOGRAM_EDGES[0])] == 2
    X, y, W = _data()
    with pytest.raises(Cancelled):
        gradient_table(W, X, y, cancel=lambda: True)
    with pytest.raises(ValueError):
        gradient_table(W, X, y, h=0.0)


def test_the_numerical_column_is_the_plain_centered_difference():
    X, y, W = _data(seed=2)
    h = 1e-3
    table = gradient_table(W, X, y, loss="softmax", reg=1e-2, num_checks=8, h=h, batch_size=300, n_reg_rows=19)
    X64, W64 = X.astype(np.float64), W.astype(np.float64)

    def f(w):  # the NumPy reference loss, independent of the kernels
        return ref.softmax_loss_vectorized(w, X64, y, 1e-2, n_reg_rows=19)[0]
    for row in table.rows:
        plus, minus = W64.copy(), W64.copy()
        plus[row.feature, row.cls] += h
        minus[row.feature, row.cls] -= h
        # the kernels and NumPy round the loss differently (~1e-16 |f| each way, see
        # tests/models/test_losses.py): divided by 2h that is ~1e-13 on derivatives ~1e-3
        assert row.numeric == pytest.approx((f(plus) - f(minus)) / (2 * h), rel=1e-9, abs=1e-13)
        # Richardson is its own column, and much closer at this step
        assert row.richardson_rel_error < row.rel_error


@pytest.mark.parametrize("h", [1e-1, 1e-2, 1e-5])
def test_a_smooth_loss_never_shows_a_kink(h):
    X, y, W = _data(seed=3)
    table = gradient_table(30 * W, X, y, loss="softmax", reg=1e-2, num_checks=100, h=h, batch_size=100)
    assert table.result.n_kinks == 0
    assert table.verdict_counts()["kink"] == 0


def test_the_error_grows_with_h_on_the_softmax():
    # truncation: g(h) - f' ~ h^2 f'''/6, so at h = 1e-2 the error is orders above 1e-5's
    X, y, W = _data(seed=4)
    kw = dict(loss="softmax", reg=1e-2, num_checks=100, batch_size=200, n_reg_rows=19)
    coarse = gradient_table(W * 30, X, y, h=1e-2, **kw).result.median_rel_error
    fine = gradient_table(W * 30, X, y, h=1e-5, **kw).result.median_rel_error
    assert coarse > 100 * fine, (coarse, fine)


def test_the_step_sweep_is_a_v():
    X, y, W = _data(seed=5)
    kw = dict(loss="softmax", reg=1e-2, num_checks=60, batch_size=200, n_reg_rows=19)
    sweep = gradient_sweep(30 * W, X, y, **kw)
    steps = list(sweep.steps)
    assert steps == [10.0 ** -k for k in range(1, 11)]
    med = dict(zip(steps, sweep.median_rel_error))
    # truncation on the right (falling like h^2), rounding on the left (rising like 1/h)
    assert med[1e-1] > 10 * med[1e-3] > 100 * med[1e-5]
    assert med[1e-10] > 100 * med[1e-6]
    assert 1e-6 <= sweep.best_step <= 1e-4
    assert (sweep.n_kinks == 0).all() and (sweep.n_compared == 60).all()
    # the same weights and minibatch as the table: the sweep's point at h is the table's median
    table = gradient_table(30 * W, X, y, h=1e-3, **kw)
    assert med[1e-3] == pytest.approx(table.result.median_rel_error, rel=1e-12)


def test_the_svm_sweep_counts_the_kinks_it_leaves_out():
    X, y, W = _data(seed=6)
    sweep = gradient_sweep(30 * W, X, y, loss="svm", reg=1e-3, num_checks=50, batch_size=50)
    assert sweep.n_kinks[0] > sweep.n_kinks[-1] == 0  # large steps cross hinges, tiny ones do not
    assert ((sweep.n_kinks + sweep.n_compared) <= 50).all()
    with pytest.raises(ValueError):
        gradient_sweep(W, X, y, steps=(1e-2, -1.0))
