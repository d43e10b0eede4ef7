"""The strategy race: deterministic for a seed, every strategy within its budget."""

import numpy as np
import pytest

from linviz.errors import Cancelled
from linviz.explore.race import (LECTURE_FIGURES, STRATEGIES, RaceSettings, lecture_features, lecture_settings,
                                 race)


def _blobs(n=600, d=9, c=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n)
    centers = 2.0 * rng.standard_normal((c, d - 1))
    X = np.hstack([centers[y] + rng.standard_normal((n, d - 1)), np.ones((n, 1))]).astype(np.float32)
    return X, y


def _run(settings, **kw):
    X, y = _blobs()
    snaps = list(race(X[:500], y[:500], X[500:], y[500:], settings, **kw))
    return snaps


SETTINGS = RaceSettings(budget=20_000, batch_size=50, search_sample=100, eval_sample=200, rounds=8,
                        learning_rates=(("gd", 0.5), ("sgd", 0.1), ("momentum", 0.01), ("adam", 0.01)),
                        search_step=0.05, seed=3)


def test_race_is_deterministic_for_a_seed():
    a, b = _run(SETTINGS), _run(SETTINGS)
    assert len(a) == 9 and a[-1].done and not a[-2].done
    for ca, cb in zip(a[-1].curves, b[-1].curves):
        np.testing.assert_array_equal(ca.examples, cb.examples)
        np.testing.assert_array_equal(ca.loss, cb.loss)
        np.testing.assert_array_equal(ca.val_accuracy, cb.val_accuracy)
        np.testing.assert_array_equal(ca.W, cb.W)
    other = _run(RaceSettings(**{**SETTINGS.__dict__, "seed": 4}))
    assert not np.array_equal(other[-1].curve("sgd").loss, a[-1].curve("sgd").loss)


def test_a_strategy_does_not_depend_on_the_others():
    alone = _run(RaceSettings(**{**SETTINGS.__dict__, "strategies": ("momentum",)}))
    together = _run(SETTINGS)
    np.testing.assert_array_equal(alone[-1].curve("momentum").loss, together[-1].curve("momentum").loss)


def test_every_strategy_respects_the_budget():
    final = _run(SETTINGS)[-1]
    costs = {"random_search": 100, "random_local_search": 100, "gd": 500, "sgd": 50, "momentum": 50, "adam": 50}
    assert {c.strategy for c in final.curves} == set(STRATEGIES)
    for curve in final.curves:
        cost = costs[curve.strategy]
        assert curve.examples[-1] <= SETTINGS.budget
        assert curve.examples[-1] > SETTINGS.budget - cost  # and spends it
        assert curve.examples[-1] == curve.steps * cost
        assert np.all(np.diff(curve.examples) >= 0)
        assert curve.examples[0] == 0
    # every strategy starts from the same W0, so at 0 examples they share one loss
    assert len({float(c.loss[0]) for c in final.curves}) == 1


def test_gradient_methods_learn_and_searches_never_get_worse():
    final = _run(SETTINGS)[-1]
    for name in ("gd", "sgd", "momentum", "adam"):
        curve = final.curve(name)
        assert curve.loss[-1] < 0.5 * curve.loss[0], name
        assert curve.val_accuracy[-1] > 0.8, name
    assert final.curve("random_local_search").val_accuracy[-1] > 0.4


def test_cancel_and_settings_checks():
    X, y = _blobs()
    with pytest.raises(Cancelled):
        list(race(X, y, settings=SETTINGS, cancel=lambda: True))
    with pytest.raises(ValueError):
        RaceSettings(strategies=("nope",))
    with pytest.raises(ValueError):
        RaceSettings(budget=0)


def test_lecture_setting():
    images = np.random.default_rng(0).integers(0, 256, (20, 4, 4, 3), dtype=np.uint8)
    X = lecture_features(images)
    assert X.shape == (20, 49) and X.dtype == np.float32
    assert np.all(X[:, -1] == 1) and X[:, :-1].max() > 200
    s = lecture_settings(tries=1000, search_sample=0, n_train=49000)
    assert s.budget == 1000 * 49000 and s.loss == "svm" and s.reg == 0 and s.search_scale == 1e-4
    assert LECTURE_FIGURES == {"random_search": 0.155, "random_local_search": 0.214}
