"""The SVM and softmax losses: textbook numbers, fused kernels == NumPy references, gradients."""

import numpy as np
import pytest

from linviz.models import LossFunction, softmax_loss, svm_loss
from linviz.models import reference_losses as ref
from linviz.models.regularizers import regularization
from linviz.training import gradient_check

# CS231n's example: one row per image (true classes cat, car, frog), one column per class.
TEXTBOOK_SCORES = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
TEXTBOOK_LABELS = np.array([0, 1, 2])
REG_CASES = [("l2", 1.0), ("l1", 1.0), ("elastic", 0.5)]
# Kernels against the NumPy references: never bit for bit. The kernels sum their dot products
# in vector lanes and fuse multiply-adds (fastmath reassoc + contract), so the order and the
# roundings follow the CPU's vector width and FMA; the references follow NumPy's and BLAS's.
# Both are within a few eps * (sum of |terms|) of the exact value: for these 29-37 terms of
# size ~1, about 1e-14 in float64 and 1e-6 in float32, so 1e-12 and 1e-5 leave room.
KERNEL_TOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}


def problem(n=37, d=29, c=10, dtype=np.float64, seed=0, scale=0.1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    y = rng.integers(0, c, n)
    W = (scale * rng.standard_normal((d, c))).astype(dtype)
    return W, X, y


def test_textbook_svm_table():
    # With W = I the scores are X itself: per-image losses 2.9, 0, 12.9.
    W = np.eye(3)
    per_image = [svm_loss(W, TEXTBOOK_SCORES[i:i + 1], TEXTBOOK_LABELS[i:i + 1], 0.0)[0] for i in range(3)]
    np.testing.assert_allclose(per_image, [2.9, 0.0, 12.9], atol=1e-12)
    loss, _ = svm_loss(W, TEXTBOOK_SCORES, TEXTBOOK_LABELS, 0.0)
    assert loss == pytest.approx(15.8 / 3) and round(loss, 2) == 5.27


@pytest.mark.parametrize("c", [3, 10])
def test_small_weights_give_c_minus_1_and_ln_c(c):
    W, X, y = problem(n=500, d=50, c=c, scale=1e-6)
    assert svm_loss(W, X, y, 0.0)[0] == pytest.approx(c - 1, rel=1e-3)
    assert softmax_loss(W, X, y, 0.0)[0] == pytest.approx(np.log(c), rel=1e-3)


def test_softmax_is_stable_for_huge_scores():
    W = np.eye(3, dtype=np.float32)
    X = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4 - 1.0]], dtype=np.float32)
    with np.errstate(all="raise"):
        loss, dW = softmax_loss(W, X, np.array([0, 2]), 0.0)
    # image 0 is certain and right (loss 0); image 1: -ln(e^-1 / (1 + e^-1)) = ln(1 + e).
    assert loss == pytest.approx(np.log1p(np.e) / 2, rel=1e-6)
    assert np.isfinite(dW).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reg_type,beta", REG_CASES)
@pytest.mark.parametrize("squared", [False, True])
@pytest.mark.parametrize("c", [10, 3])
def test_svm_kernel_matches_references(dtype, reg_type, beta, squared, c):
    W, X, y = problem(c=c, dtype=dtype)
    kwargs = dict(squared=squared, reg_type=reg_type, elastic_beta=beta)
    loss, dW = svm_loss(W, X, y, 0.3, **kwargs)
    naive = ref.svm_loss_naive(W, X, y, 0.3, **kwargs)
    vec = ref.svm_loss_vectorized(W, X, y, 0.3, **kwargs)
    tol = KERNEL_TOL[np.dtype(dtype)]
    assert dW.dtype == dtype and dW.shape == W.shape
    assert loss == pytest.approx(naive[0], rel=tol, abs=tol)
    assert vec[0] == pytest.approx(naive[0], rel=tol, abs=tol)
    np.testing.assert_allclose(dW, naive[1], rtol=0, atol=tol * 10)
    np.testing.assert_allclose(vec[1], naive[1], rtol=0, atol=tol * 10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reg_type,beta", REG_CASES)
@pytest.mark.parametrize("c", [10, 3])
def test_softmax_kernel_matches_references(dtype, reg_type, beta, c):
    W, X, y = problem(c=c, dtype=dtype, seed=1)
    kwargs = dict(reg_type=reg_type, elastic_beta=beta)
    loss, dW = softmax_loss(W, X, y, 0.3, **kwargs)
    naive = ref.softmax_loss_naive(W, X, y, 0.3, **kwargs)
    vec = ref.softmax_loss_vectorized(W, X, y, 0.3, **kwargs)
    tol = KERNEL_TOL[np.dtype(dtype)]
    assert loss == pytest.approx(naive[0], rel=tol, abs=tol)
    assert vec[0] == pytest.approx(naive[0], rel=tol, abs=tol)
    np.testing.assert_allclose(dW, naive[1], rtol=0, atol=tol * 10)
    np.testing.assert_allclose(vec[1], naive[1], rtol=0, atol=tol * 10)


def test_float32_kernel_on_raw_pixel_sized_batch_matches_float64():
    W, X, y = problem(n=203, d=3073, c=10, dtype=np.float32, seed=2, scale=0.01)
    for fn in (svm_loss, softmax_loss):
        l32, g32 = fn(W, X, y, 1e-3)
        l64, g64 = fn(W.astype(np.float64), X.astype(np.float64), y, 1e-3)
        # float32 against float64: 3,073-term dot products in float32 carry ~sqrt(3073) eps32
        assert l32 == pytest.approx(l64, rel=1e-5)
        np.testing.assert_allclose(g32, g64, atol=1e-5)


def test_unregularized_rows():
    W, X, y = problem(c=4, seed=3)
    full = svm_loss(W, X, y, 0.5)
    free_bias = svm_loss(W, X, y, 0.5, n_reg_rows=W.shape[0] - 1)
    assert full[0] - free_bias[0] == pytest.approx(0.5 * np.sum(W[-1] ** 2))
    np.testing.assert_allclose(full[1][-1] - free_bias[1][-1], 2 * 0.5 * W[-1])
    np.testing.assert_allclose(full[1][:-1], free_bias[1][:-1])


def test_regularizer_definitions():
    W = np.array([[1.0, -2.0], [0.0, 3.0]])
    assert regularization(W, 2.0, "l2")[0] == pytest.approx(2 * 14)
    assert regularization(W, 2.0, "l1")[0] == pytest.approx(2 * 6)
    assert regularization(W, 2.0, "elastic", 0.5)[0] == pytest.approx(2 * (0.5 * 14 + 6))
    np.testing.assert_allclose(regularization(W, 1.0, "l1")[1], np.sign(W))
    with pytest.raises(ValueError, match="reg_type"):
        svm_loss(W, np.ones((1, 2)), np.array([0]), 1.0, reg_type="l3")


def _kinks_of(fn: LossFunction, W, X, y):
    W0 = W.copy()
    return lambda coords, h: fn.crossed_kinks(W0, X, y, coords, h)


@pytest.mark.parametrize("reg_type,beta", REG_CASES)
def test_gradient_check_softmax(reg_type, beta):
    W, X, y = problem(n=50, d=20, c=5, seed=4)
    fn = LossFunction("softmax", 0.1, reg_type, beta)
    result = gradient_check(lambda w: fn(w, X, y), W, num_checks=40, kinks=_kinks_of(fn, W, X, y))
    # L1's kink at w = 0 is never hit by random weights: every coordinate is smooth here.
    assert result.n_kinks == 0
    # g(1e-5): truncation ~1e-10 relative, rounding ~eps |f| / (h |f'|) -- a few 1e-8 for the
    # smallest derivatives of the sample
    assert result.median_rel_error < 1e-8 and result.max_rel_error < 1e-6, result.summary()


@pytest.mark.parametrize("reg_type,beta", REG_CASES)
@pytest.mark.parametrize("squared", [False, True])
def test_gradient_check_svm(reg_type, beta, squared):
    W, X, y = problem(n=50, d=20, c=5, seed=5)
    fn = LossFunction("svm", 0.1, reg_type, beta, squared=squared)
    # piecewise linear (quadratic when squared) with a quadratic penalty: the centered
    # difference has no truncation error between kinks, so a larger step only cuts rounding
    result = gradient_check(lambda w: fn(w, X, y), W, num_checks=40, h=1e-3, kinks=_kinks_of(fn, W, X, y))
    assert result.max_rel_error_smooth < 1e-7, result.summary()


def test_gradient_check_reports_hinge_kinks():
    # A few images and a large step: some steps move a margin across zero. Those coordinates
    # are flagged, and every unflagged one still matches.
    W, X, y = problem(n=10, d=20, c=5, seed=1, scale=0.3)
    fn = LossFunction("svm")
    result = gradient_check(lambda w: fn(w, X, y), W, num_checks=100, h=0.05, kinks=_kinks_of(fn, W, X, y))
    assert result.n_kinks > 0
    assert result.max_rel_error > 1e-3          # the kinks do spoil the plain comparison...
    assert result.max_rel_error_smooth < 1e-7   # ...and only there
    assert "crossed a kink" in result.summary()


def test_kinks_are_where_the_loss_has_them():
    W, X, y = problem(n=30, d=8, c=4, seed=7)
    coords = [(d, c) for d in range(8) for c in range(4)]
    # the softmax with L2 is smooth: no step is ever flagged, however large
    for h in (1e-1, 1.0, 10.0):
        assert not LossFunction("softmax", 0.5, "l2").crossed_kinks(W, X, y, coords, h).any()
    # the squared hinge is differentiable at 0: no kink either
    assert not LossFunction("svm", squared=True).crossed_kinks(W, X, y, coords, 10.0).any()
    # L1 / elastic net: a regularized weight within h of 0, and only those
    Wz = W.copy()
    Wz[2, 1], Wz[3, 3], Wz[7, 0] = 5e-5, -2e-5, 0.0  # the others are all > 7e-4 away
    for reg_type in ("l1", "elastic"):
        flagged = LossFunction("softmax", 0.1, reg_type, n_reg_rows=7).crossed_kinks(Wz, X, y, coords, 1e-4)
        assert {coords[k] for k in np.flatnonzero(flagged)} == {(2, 1), (3, 3)}  # row 7 is not regularized
    assert not LossFunction("softmax", 0.0, "l1").crossed_kinks(Wz, X, y, coords, 1e-4).any()  # no penalty
    # the hinge: flagged exactly where a margin the step moves lies within h |x| of 0,
    # checked against a brute force over images and classes
    fn = LossFunction("svm", delta=1.0)
    h = 0.05
    scores = X @ W
    for d, c in coords:
        expected = False
        for i in range(len(y)):
            for j in range(4):
                if j == y[i]:
                    continue
                moves = c == j or c == y[i]
                margin = scores[i, j] - scores[i, y[i]] + 1.0
                expected |= moves and abs(margin) < h * abs(X[i, d])
        assert fn.crossed_kinks(W, X, y, [(d, c)], h)[0] == expected, (d, c)


def test_gradient_check_catches_a_wrong_gradient():
    W, X, y = problem(n=30, d=10, c=4, seed=6)

    def wrong(w):
        loss, dW = softmax_loss(w, X, y, 0.1)
        return loss, dW * 1.01
    assert gradient_check(wrong, W).max_rel_error > 1e-3


def test_bad_inputs_are_refused():
    W, X, y = problem(c=3)
    with pytest.raises(ValueError, match="labels"):
        svm_loss(W, X, np.full_like(y, 3), 0.0)
    with pytest.raises(ValueError, match="columns"):
        softmax_loss(W[:-1], X, y, 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernels_on_long_rows_and_partial_blocks(dtype):
    # more features than one chunk of the kernels (1024) and a batch that is not a multiple
    # of their 8-image blocks
    W, X, y = problem(n=21, d=2500, c=10, dtype=dtype, scale=0.01)
    # 2,500-term dot products, summed in a CPU-dependent order (see KERNEL_TOL): the bound
    # grows with the number of terms
    tol = 1e-9 if dtype == np.float64 else 1e-4
    for ours, reference in ((svm_loss, ref.svm_loss_vectorized), (softmax_loss, ref.softmax_loss_vectorized)):
        loss, dW = ours(W, X, y, 0.1)
        ref_loss, ref_dW = reference(W, X, y, 0.1)
        assert loss == pytest.approx(ref_loss, rel=tol, abs=tol)
        np.testing.assert_allclose(dW, ref_dW, rtol=0, atol=tol)


def test_float32_softmax_exp_is_accurate_and_keeps_nan():
    from linviz.models.loss_kernels import _exp_nonpositive_f32

    x = np.concatenate([-np.linspace(0, 86.9, 200_001), [-0.0, -1e-30, -1e-7]]).astype(np.float32)
    out = np.empty_like(x)
    _exp_nonpositive_f32(x, np.empty(len(x), np.int32), out, len(x))
    exact = np.exp(x.astype(np.float64))
    assert np.max(np.abs(out - exact) / exact) < 2 * 2.0**-24  # within 2 float32 ulps
    special = np.array([np.nan, -np.inf, -88.0, -1e4], np.float32)
    out = np.empty_like(special)
    _exp_nonpositive_f32(special, np.empty(4, np.int32), out, 4)
    assert np.isnan(out[0]) and (out[1:] == 0).all()


@pytest.mark.parametrize("loss_fn", [svm_loss, softmax_loss])
def test_float32_kernels_propagate_nan_and_inf(loss_fn):
    # divergence detection in the training loop relies on a NaN or inf loss
    W, X, y = problem(n=19, d=40, dtype=np.float32)
    W_nan = W.copy()
    W_nan[3, 2] = np.nan
    assert np.isnan(loss_fn(W_nan, X, y, 0.0)[0])
    W_inf = W.copy()
    W_inf[5, 7] = np.inf
    assert not np.isfinite(loss_fn(W_inf, X, y, 0.0)[0])


# ---------------------------------------------------------------------------- the table of losses
def test_every_loss_has_every_field():
    import dataclasses

    from linviz.explore.playground import PLAYGROUND_LOSSES
    from linviz.models.losses import LOSS_CODES, LOSSES, LossSpec

    assert list(LOSSES) == ["softmax", "svm"]  # the order the menus offer them in
    for table in (LOSSES, PLAYGROUND_LOSSES):
        for name, spec in table.items():
            assert isinstance(spec, LossSpec) and spec.name == name
            for field in dataclasses.fields(LossSpec):
                value = getattr(spec, field.name)
                if field.name == "kernel_code":
                    assert value is None or isinstance(value, int)
                elif field.type in ("str", str):
                    assert isinstance(value, str) and value.strip(), (name, field.name)
                elif field.type in ("bool", bool):
                    assert isinstance(value, bool), (name, field.name)
                else:
                    assert callable(value), (name, field.name)
            assert isinstance(spec.initial_loss_words(10, 1.0, False), str)
    # every loss the classifier trains with has its own compiled kernel
    assert sorted(LOSS_CODES.values()) == list(range(len(LOSSES)))


@pytest.mark.parametrize("c", [2, 3, 10])
@pytest.mark.parametrize("delta, squared", [(1.0, False), (2.5, False), (2.5, True)])
def test_the_tables_initial_loss_is_the_loss_at_zero_weights(c, delta, squared):
    from linviz.explore import playground as pgd
    from linviz.models.losses import LOSSES, LossFunction

    W, X, y = problem(n=20, d=6, c=c)
    for name, spec in LOSSES.items():
        loss, _ = LossFunction(name, 0.0, delta=delta, squared=squared)(np.zeros_like(W), X, y)
        assert spec.expected_initial_loss(c, delta, squared) == pytest.approx(loss, rel=1e-12)
    points = np.random.default_rng(1).standard_normal((9, 2))
    labels = np.arange(9) % c
    for name, spec in pgd.PLAYGROUND_LOSSES.items():
        loss, _, _ = pgd.playground_loss(points, labels, np.zeros((c, 2)), np.zeros(c), loss=name, delta=delta)
        assert spec.expected_initial_loss(c, delta) == pytest.approx(loss, rel=1e-12)


def test_the_initial_loss_in_words():
    from linviz.models.losses import LOSSES

    assert LOSSES["softmax"].initial_loss_words(10) == "ln 10"
    assert LOSSES["svm"].initial_loss_words(10, 1.0) == "C - 1 = 9"
    assert LOSSES["svm"].initial_loss_words(10, 2.0, True) == "(C - 1) x delta^2"


def test_the_table_says_which_loss_is_a_hinge_and_which_has_probabilities():
    from linviz.models.losses import LOSSES, LossFunction

    # a hinge is piecewise linear: along a line through a point with active margins its
    # second difference is 0 (away from kinks); the smooth softmax curves
    W, X, y = problem(n=1, d=4, c=3, scale=1.0)
    D = np.random.default_rng(5).standard_normal(W.shape)
    for name, spec in LOSSES.items():
        f = LossFunction(name, 0.0, delta=100.0)  # a wide margin: every term active, no kink nearby
        values = [f(W + t * D, X, y)[0] for t in (-1e-3, 0.0, 1e-3)]
        curvature = abs(values[0] - 2 * values[1] + values[2])
        assert (curvature < 1e-10) == spec.hinge, name
        assert spec.has_probabilities == (not spec.hinge)


def test_an_unknown_loss_is_refused_with_the_choices():
    from linviz.models.losses import LossFunction, loss_named

    with pytest.raises(ValueError, match="choose from softmax, svm"):
        loss_named("hinge")
    with pytest.raises(ValueError, match="unknown loss"):
        loss_named(["svm"])  # unhashable, from a hostile file: still a ValueError
    with pytest.raises(ValueError, match="unknown loss"):
        LossFunction("logistic")
