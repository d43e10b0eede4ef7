"""Centred smoothing stays inside the raw curve; the incremental smoother equals the whole one."""

import numpy as np
import pytest

from linviz.explore.curves import (CurveSmoother, DEFAULT_SMOOTHING, FollowingRange, following_range, half_width,
                                   log_ticks, smooth_curve, tick_label, window_half_width)
from linviz.training import TrainingConfig, train
from linviz.training.loop import run_to_end


def _brute_force(values, h):
    n = len(values)
    out = []
    for i in range(n):
        k = min(h, i, n - 1 - i)
        out.append(np.mean(values[i - k:i + k + 1]))
    return np.array(out)


@pytest.mark.parametrize("smoothing", [0.0, 0.3, DEFAULT_SMOOTHING, 0.9, 0.99])
def test_smoothing_is_a_centred_mean(smoothing):
    rng = np.random.default_rng(1)
    values = np.cumsum(rng.standard_normal(400))
    h = window_half_width(smoothing, len(values))
    assert h == min(half_width(smoothing), 19)  # a window of at most 40 of the 400 points
    np.testing.assert_allclose(smooth_curve(values, smoothing), _brute_force(values, h),
                               rtol=1e-9, atol=1e-9)


def test_half_widths_and_bad_weights():
    assert [half_width(s) for s in (0, 0.5, 0.6, 0.9, 0.99)] == [0, 1, 2, 9, 99]
    for bad in (-0.1, 1.0, float("nan")):
        with pytest.raises(ValueError):
            half_width(bad)


def test_the_default_stays_inside_the_band_of_full_batch_gradient_descent():
    """The issue's case: on full-batch GD the old moving average ended above the loss."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 2000)
    X = np.hstack([rng.standard_normal((2000, 30)).astype(np.float32) + 0.3 * y[:, None], np.ones((2000, 1))])
    final = run_to_end(train(X, y, config=TrainingConfig(optimizer="gd", learning_rate=0.05, epochs=100,
                                                          lr_decay=1.0)))
    raw = final.losses.astype(np.float64)
    assert np.all(np.diff(raw) < 0)  # a descending curve without noise
    old = final.smoothed_losses  # the loop's causal moving average (0.95): lags above
    assert old[-1] > raw[-1] + 0.05 * (raw[0] - raw[-1])
    smoothed = smooth_curve(raw)
    assert smoothed[-1] == raw[-1]
    h = half_width(DEFAULT_SMOOTHING)
    for i in range(len(raw)):  # inside the raw curve's band: within its window's extremes
        window = raw[max(0, i - h):i + h + 1]
        assert window.min() - 1e-12 <= smoothed[i] <= window.max() + 1e-12
    # past the first sharp drop, a centred mean is a hair above the convex loss: no lag
    assert np.max(np.abs(smoothed - raw)[10:]) < 0.01 * (raw[0] - raw[-1])


def test_a_short_run_is_drawn_nearly_as_it_is():
    """Twenty minibatches of a small project: a first loss far above the rest no longer pulls
    the smoothed line above every raw point near it; the window grows with the run."""
    losses = np.array([0.69, 0.10, 0.12, 0.08, 0.13, 0.06, 0.07, 0.05, 0.06, 0.04] * 2)
    np.testing.assert_array_equal(smooth_curve(losses[:10]), losses[:10])
    assert [window_half_width(DEFAULT_SMOOTHING, n) for n in (10, 29, 30, 50, 89, 90, 10_000)] == [0, 0, 1, 2, 3, 4, 4]
    smoother = CurveSmoother()
    for n in range(1, 120):  # the incremental smoother follows the growing window
        series = np.concatenate([losses, np.linspace(0.05, 0.02, 100)])[:n]
        np.testing.assert_allclose(smoother.update(series), smooth_curve(series), rtol=1e-6)


def test_the_incremental_smoother_equals_the_whole_computation():
    rng = np.random.default_rng(2)
    values = rng.standard_normal(5000).astype(np.float32) + np.linspace(3, 1, 5000, dtype=np.float32)
    smoother = CurveSmoother(0.9)
    n, weight = 0, 0.9
    for step in [1, 2, 5, 17, 300, 1, 1, 2000, 2673]:
        n += step
        np.testing.assert_allclose(smoother.update(values[:n]), smooth_curve(values[:n], weight), rtol=1e-5,
                                   atol=1e-5)
        if n == 2327:  # a new weight: everything is recomputed
            weight = 0.5
            smoother.set_smoothing(weight)
            np.testing.assert_allclose(smoother.update(values[:n]), smooth_curve(values[:n], weight), rtol=1e-5,
                                       atol=1e-5)
    other = rng.standard_normal(100)  # another series altogether: recomputed in full
    np.testing.assert_allclose(smoother.update(other), smooth_curve(other, 0.5), rtol=1e-5, atol=1e-5)
    smoother.set_smoothing(0)
    np.testing.assert_array_equal(smoother.update(other), other.astype(np.float32))


def test_log_ticks_always_label_something():
    inside = log_ticks(1.5, 2.3)
    assert len(inside) >= 2 and all(1.5 <= t <= 2.3 for t in inside)
    assert log_ticks(1.9, 2.05)  # a tenth of a decade
    assert log_ticks(0.01, 10) == [0.01, 0.1, 1, 10]
    assert log_ticks(0.3, 7) == [0.5, 1, 2, 5]
    assert log_ticks(1, 1) == [] and log_ticks(-1, 2) == []
    assert [tick_label(v) for v in (0.001, 2.0, 1.5, 1e4)] == ["0.001", "2", "1.5", "1e+04"]


def test_the_x_range_follows_the_run():
    for n in (1, 11, 99, 100, 101, 245, 1234, 2450, 99_999, 123_456):
        hi = following_range(n)
        assert n <= hi <= max(10, 1.1 * n)
    assert following_range(2450) == 2500 and following_range(1234) == 1300


def _follow(axis, per_frame, frames, fps=25):
    """(moves, n) after ``frames`` redraws of a run making ``per_frame`` points a redraw."""
    moves, n = 0, 0
    for frame in range(frames):
        n += per_frame
        moves += axis.update(n, now=frame / fps) is not None
        rate = per_frame * fps
        assert n <= axis.right <= 1.1 * following_range(int(n + min(rate * axis.interval, n / 2)) + per_frame)
    return moves, n


def test_a_fast_run_moves_the_x_axis_a_few_times_a_second_and_never_hides_a_point():
    moves, _ = _follow(FollowingRange(interval=0.5), per_frame=680, frames=125)  # 17,000 a second, 5 s
    assert moves <= 3 * 5  # a few more while the run is young (half as far again is not far)
    assert sum(following_range(k * 680) != following_range((k - 1) * 680) for k in range(2, 126)) > 60  # the plain rule


def test_a_paced_run_moves_the_x_axis_a_few_times_a_second_too():
    moves, n = _follow(FollowingRange(interval=0.5), per_frame=1, frames=250)  # 25 steps a second, 10 s
    assert moves <= 3 * 10
    assert sum(following_range(k) != following_range(k - 1) for k in range(2, 251)) > 90  # the plain rule


def test_another_series_is_followed_afresh():
    axis = FollowingRange()
    assert axis.update(2_450, now=0.0) == following_range(2_450)
    assert axis.update(2_450, now=1.0) is None  # unchanged
    assert axis.update(37, now=1.1) == following_range(37)  # fewer points: another series


def test_a_finished_run_gets_the_plain_range():
    axis = FollowingRange(interval=0.5)
    for frame in range(1, 20):
        axis.update(680 * frame, now=frame / 25)
    assert axis.right > following_range(680 * 19)  # looking ahead while it grows
    assert axis.update(680 * 19, now=1.0, final=True) == following_range(680 * 19)
    assert axis.update(680 * 19, now=1.1, final=True) is None
