"""score_breakdown reproduces the lecture's worked examples and agrees with the loss functions."""

from __future__ import annotations

import numpy as np
import pytest

from linviz.explore.score_breakdown import score_breakdown
from linviz.models import softmax_loss, svm_loss


def lecture_cat():
    """The lecture's 4-pixel cat image: W rows are the classes cat, dog, ship."""
    W_rows = np.array([[0.2, -0.5, 0.1, 2.0], [1.5, 1.3, 2.1, 0.0], [0.0, 0.25, 0.2, -0.3]])
    b = np.array([1.1, 3.2, -1.2])
    W = np.vstack([W_rows.T, b])  # (D + 1, C), the bias as the last row
    x = np.array([56.0, 231.0, 24.0, 2.0, 1.0])
    return W, x


def scores_as_weights(scores):
    """A W and x whose scores are exactly ``scores`` (x = [1], W = one row)."""
    return np.asarray(scores, dtype=np.float64)[None, :], np.array([1.0])


def test_the_four_pixel_cat_scores():
    W, x = lecture_cat()
    result = score_breakdown(W, x, 0, loss="svm")
    np.testing.assert_allclose(result.scores, [-96.8, 437.9, 60.75], rtol=0, atol=1e-9)
    # The lecture's figure prints 61.95 for the ship: that is the score without its bias -1.2.
    assert result.scores[2] - W[-1, 2] == pytest.approx(61.95)


def test_the_cat_car_frog_svm_and_softmax_losses():
    W, x = scores_as_weights([3.2, 5.1, -1.7])
    svm = score_breakdown(W, x, 0, loss="svm")
    assert svm.data_loss == pytest.approx(2.9, abs=1e-12)  # 2.8999999999999995 in floating point
    np.testing.assert_allclose(svm.margins, [1.0, 2.9, -3.9])
    np.testing.assert_allclose(svm.hinge, [0.0, 2.9, 0.0])
    soft = score_breakdown(W, x, 0, loss="softmax")
    assert soft.data_loss == pytest.approx(2.04, abs=0.005)  # natural logarithm
    np.testing.assert_allclose(soft.probabilities.sum(), 1.0)
    np.testing.assert_allclose(soft.neg_log_probabilities, -np.log(soft.probabilities))
    np.testing.assert_allclose(soft.exp_shifted, np.exp([3.2 - 5.1, 0.0, -1.7 - 5.1]))


def test_no_overflow_for_huge_scores():
    W, x = scores_as_weights([1000.0, 0.0, -1000.0])
    result = score_breakdown(W, x, 1, loss="softmax")
    assert np.all(np.isfinite(result.exp_shifted)) and result.data_loss == pytest.approx(1000.0)


@pytest.mark.parametrize("reg_type", ["l2", "l1", "elastic"])
@pytest.mark.parametrize("n_reg_rows", [None, 6])
def test_losses_of_one_image_equal_the_loss_functions(reg_type, n_reg_rows):
    rng = np.random.default_rng(3)
    W = rng.normal(size=(7, 4))
    x = np.append(rng.normal(size=6), 1.0)
    kw = dict(reg=0.05, reg_type=reg_type, elastic_beta=0.5, n_reg_rows=n_reg_rows)
    svm = score_breakdown(W, x, 2, loss="svm", delta=2.0, **kw)
    ref, _ = svm_loss(W, x[None], np.array([2]), 0.05, 2.0, reg_type=reg_type, elastic_beta=0.5,
                      n_reg_rows=n_reg_rows)
    assert svm.total == pytest.approx(ref, rel=1e-9)
    squared = score_breakdown(W, x, 2, loss="svm", delta=2.0, squared=True, **kw)
    ref, _ = svm_loss(W, x[None], np.array([2]), 0.05, 2.0, squared=True, reg_type=reg_type, elastic_beta=0.5,
                      n_reg_rows=n_reg_rows)
    assert squared.total == pytest.approx(ref, rel=1e-9)
    soft = score_breakdown(W, x, 2, loss="softmax", **kw)
    ref, _ = softmax_loss(W, x[None], np.array([2]), 0.05, reg_type=reg_type, elastic_beta=0.5,
                          n_reg_rows=n_reg_rows)
    assert soft.total == pytest.approx(ref, rel=1e-9)


def test_bad_arguments_are_refused():
    W, x = scores_as_weights([1.0, 2.0])
    with pytest.raises(ValueError, match="loss"):
        score_breakdown(W, x, 0, loss="hinge")
    with pytest.raises(ValueError, match="true class"):
        score_breakdown(W, x, 5, loss="svm")
    with pytest.raises(ValueError, match="shape"):
        score_breakdown(W, np.ones(3), 0, loss="svm")
