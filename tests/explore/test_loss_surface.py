"""The loss surface against the loss evaluated directly at every grid point."""

import numpy as np
import pytest

from linviz.errors import Cancelled, LinvizError
from linviz.explore.loss_surface import (gradient_direction, grid, loss_slices, loss_surface, orthogonal_random,
                                         random_directions, trajectory_plane)
from linviz.models import softmax_loss, svm_loss


def _problem(seed=0, n=240, d=12, c=4, scale=0.4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    X[:, -1] = 1.0  # a bias column
    y = rng.integers(0, c, n)
    W = scale * rng.standard_normal((d, c))
    return X, y, W


def _direct(W, X, y, dirs, alphas, betas, loss, **options):
    fn = svm_loss if loss == "svm" else softmax_loss
    rows = [0.0] if betas is None else betas
    out = np.empty((len(rows), len(alphas)))
    for k, b in enumerate(rows):
        for m, a in enumerate(alphas):
            Wp = W + a * dirs[0] + (b * dirs[1] if betas is not None else 0.0)
            out[k, m] = fn(Wp, X, y, **options)[0]
    return out if betas is not None else out[0]


CASES = [
    ("svm", dict(reg=0.05, delta=1.0)),
    ("svm", dict(reg=0.05, delta=1.0, squared=True)),
    ("svm", dict(reg=0.02, delta=2.0, reg_type="l1", n_reg_rows=11)),
    ("softmax", dict(reg=0.05)),
    ("softmax", dict(reg=0.03, reg_type="elastic", elastic_beta=0.5, n_reg_rows=11)),
]


@pytest.mark.parametrize("parallel", [True, False])
@pytest.mark.parametrize("loss,options", CASES)
def test_2d_surface_equals_the_loss_at_every_grid_point(loss, options, parallel):
    X, y, W = _problem()
    dirs = random_directions(W, 2, seed=3)
    alphas, betas = grid(1.5, 17), grid(1.0, 9)
    surface = loss_surface(W, X, y, dirs, alphas, betas, loss=loss, parallel=parallel, **options)
    reference = _direct(W, X, y, dirs, alphas, betas, loss, **options)
    assert surface.total.shape == (9, 17)
    # not the same arithmetic: the surface's scores are S0 + a S1 + b S2 (the model is linear),
    # the reference's X (W + a D1 + b D2) afresh, in a CPU-dependent summation order (BLAS,
    # the kernels' vector lanes); equal up to rounding (~1e-14 here in float64), and 1e-6 is
    # the bound the app's float32 features need as well
    np.testing.assert_allclose(surface.total, reference, rtol=1e-6)
    data_only = {k: v for k, v in options.items() if k != "reg"}
    np.testing.assert_allclose(surface.data, _direct(W, X, y, dirs, alphas, betas, loss, reg=0.0, **data_only),
                               rtol=1e-6)
    np.testing.assert_allclose(surface.reg, surface.total - surface.data, rtol=1e-9, atol=1e-12)


# one softmax block per row, several, alpha by alpha; rows too short for blocks
@pytest.mark.parametrize("span, steps", [(0.05, 41), (3.0, 41), (400.0, 41), (1e-3, 3), (0.5, 2)])
@pytest.mark.parametrize("loss", ["svm", "softmax"])
def test_every_kernel_path_is_exact(loss, span, steps):
    X, y, W = _problem(seed=1, scale=2.0)
    dirs = random_directions(W, 2, seed=4)
    alphas, betas = grid(span, steps), grid(span / 2, 5)
    surface = loss_surface(W, X, y, dirs, alphas, betas, loss=loss, reg=0.01)
    np.testing.assert_allclose(surface.total, _direct(W, X, y, dirs, alphas, betas, loss, reg=0.01), rtol=1e-6)


@pytest.mark.parametrize("loss", ["svm", "softmax"])
def test_unevenly_spaced_alphas(loss):
    X, y, W = _problem(seed=2)
    dirs = random_directions(W, 1, seed=5)
    alphas = np.array([-2.0, -1.1, -0.3, 0.0, 0.05, 0.7, 2.5])
    surface = loss_surface(W, X, y, dirs, alphas, loss=loss, reg=0.1)
    np.testing.assert_allclose(surface.total, _direct(W, X, y, dirs, alphas, None, loss, reg=0.1), rtol=1e-6)


@pytest.mark.parametrize("loss", ["svm", "softmax"])
def test_center_is_the_current_loss(loss):
    X, y, W = _problem(seed=3)
    fn = svm_loss if loss == "svm" else softmax_loss
    current = fn(W, X, y, 0.05, n_reg_rows=11)[0]
    dirs = random_directions(W, 2, seed=6)
    surface = loss_surface(W, X, y, dirs, grid(1.0, 21), grid(1.0, 11), loss=loss, reg=0.05, n_reg_rows=11)
    assert surface.total[5, 10] == pytest.approx(current, rel=1e-9)
    line = loss_surface(W, X, y, dirs[:1], grid(2.0, 41), loss=loss, reg=0.05, n_reg_rows=11)
    assert line.total[20] == pytest.approx(current, rel=1e-9)
    assert line.value_at(0.0)[4] == pytest.approx(current, rel=1e-9)


def test_float32_features_give_the_float32_loss():
    X, y, W = _problem(seed=4)
    X32, W32 = X.astype(np.float32), W.astype(np.float32)
    surface = loss_surface(W32, X32, y, random_directions(W32, 1, seed=0), grid(1.0, 11), loss="softmax", reg=0.01)
    assert surface.total[5] == pytest.approx(softmax_loss(W32, X32, y, 0.01)[0], rel=1e-5)


def test_svm_data_slice_is_piecewise_linear_and_l2_bends_it():
    X, y, W = _problem(seed=5, n=60)
    d = random_directions(W, 1, seed=7)
    alphas = grid(2.0, 1001)
    surface = loss_surface(W, X, y, d, alphas, loss="svm", reg=0.5)
    h = alphas[1] - alphas[0]
    second = np.abs(np.diff(surface.data, 2)) / h ** 2
    # Kinks: where some margin u + a v crosses 0 between the three points of a difference.
    from linviz.explore.loss_surface import scores_along

    S0, S1 = scores_along(W, X, d)
    margins = []
    for i in range(len(y)):
        for j in range(W.shape[1]):
            if j != y[i]:
                u = S0[i, j] - S0[i, y[i]] + 1.0
                v = S1[i, j] - S1[i, y[i]]
                if v != 0:
                    margins.append(-u / v)
    kinks = np.array(margins)
    near = np.array([np.any((kinks > alphas[m] - 1e-12) & (kinks < alphas[m + 2] + 1e-12))
                     for m in range(len(alphas) - 2)])
    assert near.sum() < len(near) * 0.9  # most triples see no kink
    assert np.max(second[~near]) < 1e-6  # linear between kinks
    assert np.max(second[near]) > 1.0  # and kinked at them
    total_second = np.diff(surface.total, 2) / h ** 2
    reg_second = 2 * 0.5 * float(np.sum(d[0] ** 2))  # reg * |D|^2 * 2: the parabola's curvature
    np.testing.assert_allclose(total_second[~near], reg_second, rtol=1e-4)
    assert reg_second > 1.0


def test_loss_slices_share_one_product():
    X, y, W = _problem(seed=6)
    dirs = random_directions(W, 3, seed=1)
    slices = loss_slices(W, X, y, dirs, grid(1.0, 9), loss="svm", reg=0.1)
    for d, s in zip(dirs, slices):
        np.testing.assert_allclose(s.total, _direct(W, X, y, [d], grid(1.0, 9), None, "svm", reg=0.1), rtol=1e-6)


def test_random_directions_follow_the_class_norms():
    _, _, W = _problem(seed=7)
    W[:, 2] *= 10
    d1, d2 = random_directions(W, 2, seed=0)
    np.testing.assert_allclose(np.linalg.norm(d1, axis=0), np.linalg.norm(W, axis=0))
    assert not np.allclose(d1, d2)
    again = random_directions(W, 2, seed=0)
    np.testing.assert_array_equal(again[0], d1)
    zero = random_directions(np.zeros((5, 3)), 1)[0]
    np.testing.assert_allclose(np.linalg.norm(zero, axis=0), 1.0)


def test_gradient_direction_is_downhill():
    X, y, W = _problem(seed=8)
    g = gradient_direction(W, X, y, loss="softmax", reg=0.01)
    assert np.linalg.norm(g) == pytest.approx(np.linalg.norm(W))
    line = loss_surface(W, X, y, [g], np.array([-1e-3, 0.0, 1e-3]), loss="softmax", reg=0.01)
    assert line.total[2] < line.total[1] < line.total[0]
    other = orthogonal_random(g, W, seed=1)
    assert abs(np.sum(other * g)) < 1e-9 * np.linalg.norm(g) ** 2
    assert np.linalg.norm(other) == pytest.approx(np.linalg.norm(g))


def test_trajectory_plane_projects_the_path():
    rng = np.random.default_rng(9)
    W = rng.standard_normal((6, 3))
    e1, e2, e3 = (rng.standard_normal((6, 3)) for _ in range(3))
    path = [W + t * e1 + t * t * e2 + 0.01 * np.sin(7 * t) * e3 for t in np.linspace(-1, 0, 8)]
    plane = trajectory_plane(path, W)
    D1, D2 = plane.directions
    assert abs(np.sum(D1 * D2)) < 1e-9
    assert np.linalg.norm(D1) == pytest.approx(np.linalg.norm(W))
    for point, (a, b), dist in zip(path, plane.coordinates, plane.distances):
        residual = point - W - a * D1 - b * D2
        assert np.linalg.norm(residual) / np.linalg.norm(W) == pytest.approx(dist, abs=1e-9)
    assert plane.coordinates[0, 0] < 0  # the path starts on the negative side
    assert plane.coordinates[-1] == pytest.approx([0.0, 0.0], abs=1e-12)  # it ends at W
    assert 0.99 < plane.explained <= 1.0
    assert 0 < plane.max_distance < 0.05
    with pytest.raises(LinvizError):
        trajectory_plane([W], W)
    with pytest.raises(LinvizError):
        trajectory_plane([W + e1, W + 2 * e1], W)


def test_bad_input_and_cancel():
    X, y, W = _problem(seed=10)
    dirs = random_directions(W, 2)
    with pytest.raises(ValueError, match="two directions"):
        loss_surface(W, X, y, dirs[:1], grid(1, 5), grid(1, 5))
    with pytest.raises(ValueError, match="increasing"):
        loss_surface(W, X, y, dirs[:1], np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="shape"):
        loss_surface(W, X, y, [np.zeros((2, 2))], grid(1, 5))
    with pytest.raises(ValueError):
        grid(0.0, 5)
    with pytest.raises(ValueError):
        grid(1.0, 1)
    with pytest.raises(Cancelled):
        loss_surface(W, X, y, dirs, grid(1, 5), grid(1, 5), cancel=lambda: True)
    seen = []
    loss_surface(W, X, y, dirs, grid(1, 5), grid(1, 40), progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (40, 40)


def test_to_json():
    X, y, W = _problem(seed=11)
    s = loss_surface(W, X, y, random_directions(W, 2), grid(1, 3), grid(1, 2), loss="svm")
    data = s.to_json()
    assert set(data) == {"alphas", "betas", "data", "reg", "total"}
    assert len(data["total"]) == 2 and len(data["total"][0]) == 3
