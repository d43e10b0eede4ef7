"""The gradient-check table: tiny errors for the softmax, kinks flagged for the SVM."""

import numpy as np
import pytest

from linviz.errors import Cancelled
from linviz.explore.gradient_table import HISTOGRAM_EDGES, gradient_table, log_histogram, verdict


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
