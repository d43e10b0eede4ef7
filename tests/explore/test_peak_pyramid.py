"""The block minima and maxima of a growing series equal the ones computed from scratch, and a
view at w columns is O(w) points holding the range's whole band."""

import numpy as np
import pytest

from linviz.explore.peak_pyramid import PeakPyramid


def _series(n, seed=0, holes=True):
    rng = np.random.default_rng(seed)
    values = (2.0 * np.exp(-np.arange(n) / 5000) + rng.random(n)).astype(np.float32)
    if holes:  # a diverged run's inf and nan, alone and in runs longer than a block
        values[rng.integers(0, n, n // 50)] = np.inf
        values[rng.integers(0, n, n // 50)] = np.nan
        values[n // 3:n // 3 + 40] = np.nan
    return values


def _brute(values, start, stop):
    part = np.asarray(values[start:stop], dtype=np.float64)
    part = part[np.isfinite(part)]
    return (part.min(), part.max()) if len(part) else (np.nan, np.nan)


def _assert_levels_exact(pyramid, values):
    n = len(values)
    for level, count in enumerate(pyramid._counts):
        size = 2 << level
        assert count == n // size
        for b in range(count):
            low, high = _brute(values, b * size, (b + 1) * size)
            np.testing.assert_equal((pyramid._lows[level][b], pyramid._highs[level][b]), (low, high))
    assert len(pyramid._counts) == max(0, int(np.log2(n)) if n else 0)


def test_a_series_grown_in_chunks_equals_the_series_computed_at_once():
    values = _series(3000)
    rng = np.random.default_rng(1)
    grown, n = PeakPyramid(), 0
    while n < len(values):
        n = min(len(values), n + int(rng.integers(1, 300)))
        grown.update(values[:n])  # growth found by itself
    _assert_levels_exact(grown, values)
    whole = PeakPyramid()
    whole.update(values)
    for level in range(len(whole._counts)):
        np.testing.assert_array_equal(grown._lows[level][:grown._counts[level]],
                                      whole._lows[level][:whole._counts[level]])


def test_a_changed_tail_is_recomputed_from_where_it_changed():
    values = _series(1000, holes=False).astype(np.float64)
    pyramid = PeakPyramid()
    buffer = values.copy()
    pyramid.update(buffer[:600])
    buffer[590:700] = -1.0 - np.arange(110)  # the newest points changed in place, then more came
    pyramid.update(buffer[:700], changed_from=590)
    _assert_levels_exact(pyramid, buffer[:700])


def test_another_series_or_a_shorter_one_is_followed_afresh():
    pyramid = PeakPyramid()
    pyramid.update(_series(900, seed=1))
    other = _series(1300, seed=2)
    pyramid.update(other)
    _assert_levels_exact(pyramid, other)
    pyramid.update(other[:200])
    _assert_levels_exact(pyramid, other[:200])
    pyramid.reset()
    assert len(pyramid) == 0 and pyramid.view(0, 10, 100)[0].size == 0


@pytest.mark.parametrize("n", [1, 2, 3, 17, 1024, 4099])
def test_the_extremes_of_any_range(n):
    values = _series(n, seed=n)
    pyramid = PeakPyramid()
    pyramid.update(values)
    rng = np.random.default_rng(n)
    for _ in range(60):
        start, stop = sorted(rng.integers(0, n + 1, 2))
        np.testing.assert_equal(pyramid.extremes(start, stop + 1), _brute(values, start, stop + 1))
    np.testing.assert_equal(pyramid.extremes(), _brute(values, 0, n))


def test_a_view_is_a_few_points_per_column_holding_the_whole_band():
    values = _series(200_000, holes=False)
    pyramid = PeakPyramid()
    pyramid.update(values)
    for start, stop, columns in ((0, 200_000, 640), (10_000, 60_000, 300), (150_000, 260_000, 500)):
        x, y = pyramid.view(start, stop, columns)
        assert 0 < len(x) <= 2 * columns + 4 and len(x) == len(y)
        assert np.all(np.diff(x) >= 0)
        # the band reaches within a column of the plot's edges and holds every value between
        column = (stop - start) / columns
        assert x[0] - start < column and min(stop, len(values)) - x[-1] < column
        low, high = _brute(values, max(start, 0), min(stop, len(values)))
        assert y.min() <= low and y.max() >= high
        assert y.min() >= values.min() and y.max() <= values.max()


def test_a_few_points_are_drawn_as_they_are():
    values = _series(300, holes=False)
    values[7] = np.inf
    pyramid = PeakPyramid()
    pyramid.update(values)
    x, y = pyramid.view(0, 300, 640)
    keep = np.isfinite(values)
    np.testing.assert_array_equal(x, np.arange(300)[keep])
    np.testing.assert_array_equal(y, values[keep])
