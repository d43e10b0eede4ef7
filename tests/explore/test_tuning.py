"""The learning rate x regularization search: plans, parallel runs equal serial ones, cancel
keeps the finished runs, a diverged run is a result."""

import threading

import numpy as np
import pytest

from linviz.explore.tuning import SearchPlan, best_result, log_range, parse_values, run_search, train_one
from linviz.training import TrainingConfig


def _data(n=500, d=16, c=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n)
    centers = 0.7 * rng.standard_normal((c, d - 1)).astype(np.float32)
    X = np.hstack([centers[y] + rng.standard_normal((n, d - 1)).astype(np.float32), np.ones((n, 1), np.float32)])
    return X[:400], y[:400], X[400:], y[400:]


BASE = TrainingConfig(loss="softmax", batch_size=50, epochs=3, lr_decay=0.9, seed=4)


def test_values_and_ranges():
    assert parse_values("1e-3, 1e-2,0.1", "--lr") == [1e-3, 1e-2, 0.1]
    assert parse_values("1e-4:1e-1:4", "--reg") == [1e-4, 1e-3, 1e-2, 1e-1]
    assert parse_values("0,1e-3", "--reg", allow_zero=True) == [0.0, 1e-3]
    assert log_range(1e-3, 1e-1, 5) == [0.001, 0.00316, 0.01, 0.0316, 0.1]
    for text, reason in [("", "no values"), ("1e-3,abc", "'abc' is not a number"), ("nan", "not a finite"),
                         ("0", "not > 0"), ("-1", "not > 0"), ("1:0.1:3", "0 < LOW < HIGH"),
                         ("1e-3:1e-1", "LOW:HIGH:COUNT"), ("1e-3:1e-1:0", "COUNT"), ("1e-3:1e-1:x", "COUNT"),
                         ("1,1", "1 is given twice"), (",".join(str(k + 1) for k in range(101)), "at most 100")]:
        with pytest.raises(ValueError, match=reason):
            parse_values(text, "--lr")


def test_plans():
    grid = SearchPlan([0.1, 0.01], [1e-3, 1e-2, 1e-1])
    assert grid.points() == [(0.1, 1e-3), (0.1, 1e-2), (0.1, 1e-1), (0.01, 1e-3), (0.01, 1e-2), (0.01, 1e-1)]
    assert grid.cell(4) == (1, 1) and grid.n_runs == 6
    random = SearchPlan([1e-3, 1e-1], [1e-4, 1e-2], mode="random", trials=20, seed=3)
    points = random.points()
    assert points == SearchPlan([1e-3, 1e-1], [1e-4, 1e-2], mode="random", trials=20, seed=3).points()
    assert len(set(points)) == 20 and random.cell(0) is None
    assert all(1e-3 <= a <= 1e-1 and 1e-4 <= b <= 1e-2 for a, b in points)
    for bad in (dict(mode="random", trials=0), dict(mode="sometimes")):
        with pytest.raises(ValueError):
            SearchPlan([1e-3, 1e-1], [1e-4, 1e-2], **bad)
    with pytest.raises(ValueError, match="> 0"):
        SearchPlan([1e-3], [0, 1e-2], mode="random", trials=3)


def test_two_workers_give_the_results_of_one():
    X, y, Xv, yv = _data()
    plan = SearchPlan([0.3, 0.03, 0.003], [1e-4, 1e-1])
    seen = []
    serial = run_search(X, y, Xv, yv, BASE, plan, n_classes=3, workers=1, on_result=seen.append)
    parallel = run_search(X, y, Xv, yv, BASE, plan, n_classes=3, workers=2)
    assert [r.index for r in serial] == list(range(6)) == sorted(r.index for r in seen)
    for a, b in zip(serial, parallel):
        assert (a.learning_rate, a.reg) == (b.learning_rate, b.reg) == plan.points()[a.index]
        assert a.val_accuracy == b.val_accuracy and a.train_accuracy == b.train_accuracy
        np.testing.assert_array_equal(a.final.best_W, b.final.best_W)
    # each run is the plain training run of its settings
    one = train_one(X, y, Xv, yv, BASE.__class__(**{**BASE.__dict__, "learning_rate": 0.03, "reg": 0.1}), n_classes=3)
    np.testing.assert_array_equal(one.final.best_W, serial[3].final.best_W)
    best = best_result(serial)
    assert best.val_accuracy == max(r.val_accuracy for r in serial)
    assert best.index == min(r.index for r in serial if r.val_accuracy == best.val_accuracy)
    assert set(best.as_json()) == {"learning_rate", "reg", "train_accuracy", "val_accuracy", "seconds", "stop_reason"}


def test_a_diverged_run_is_a_result():
    X, y, Xv, yv = _data()
    results = run_search(X * 50, y, Xv * 50, yv, BASE, SearchPlan([1e3, 1e-2], [1e-3]), n_classes=3)
    assert len(results) == 2
    assert results[0].diverged and results[0].stop_reason.startswith("diverged")
    assert results[0].val_accuracy is not None and not results[1].diverged


@pytest.mark.parametrize("workers", [1, 2])
def test_cancel_keeps_the_finished_runs(workers):
    X, y, Xv, yv = _data()
    long = TrainingConfig(**{**BASE.__dict__, "epochs": 400, "batch_size": 10})
    plan = SearchPlan([0.01, 0.02, 0.03, 0.04], [1e-3, 1e-2])
    cancel = threading.Event()
    finished, started = [], []

    def on_result(result):
        finished.append(result)
        cancel.set()  # Cancel as soon as the first run is in: the others are mid-way or waiting

    results = run_search(X, y, Xv, yv, long, plan, n_classes=3, workers=workers, cancel=cancel,
                         on_result=on_result, on_start=started.append)
    assert 1 <= len(results) == len(finished) < plan.n_runs
    assert len(started) == workers  # nothing started after the cancel
    for r in results:  # every kept run ran to its end
        assert r.stop_reason.startswith("finished") and r.final.epochs_done == 400
