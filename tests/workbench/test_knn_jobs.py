"""The Nearest neighbors lab's jobs, without a window: a setup is reused for its own key and
refitted only in its distance when nothing else changed; cross-validation publishes each fold
and equals the core's; the test's predictions and one image's neighbours are a brute force's."""

from __future__ import annotations

import numpy as np
import pytest

from linviz.workbench import SplitSettings, jobs
from linviz.workbench.knn_jobs import KnnTestResult, SetupKey, cv_job, index_job, knn_test_job, neighbors_job


class Recording(jobs.QuietContext):
    def __init__(self):
        self.published = []
        self.messages = []

    def publish(self, value) -> None:
        self.published.append(value)

    def message(self, text) -> None:
        self.messages.append(text)


@pytest.fixture(scope="module")
def prepared():
    from linviz.data import make_demo_dataset

    dataset = make_demo_dataset(n_train_per_class=20, n_test_per_class=4)
    return jobs.prepare_splits(dataset, SplitSettings(val_size=30))


def key_of(prepared, metric="l2", size=60):
    return SetupKey(prepared.key(), "raw16", size, metric)


def brute_force(X, y, x, k, metric):
    X, x = np.asarray(X, dtype=np.float64), np.asarray(x, dtype=np.float64)
    d = np.abs(X - x).sum(1) if metric == "l1" else ((X - x) ** 2).sum(1)
    order = np.argsort(d, kind="stable")[:k]
    return order, int(np.argmax(np.bincount(y[order], minlength=y.max() + 1)))


def test_a_setup_is_reused_for_its_key_and_refitted_for_another_distance(prepared):
    key = key_of(prepared)
    ctx = Recording()
    keyed = index_job(key, prepared, None)(ctx)
    assert keyed.key == key and len(keyed.value.y) == 60 and ctx.messages  # indexed: it said so
    ctx = Recording()
    assert index_job(key, prepared, keyed)(ctx) is keyed and not ctx.messages
    l1 = index_job(key_of(prepared, "l1"), prepared, keyed)(ctx)
    assert l1.value.metric == "l1" and not ctx.messages  # the same features, no new indexing
    np.testing.assert_array_equal(l1.value.X, keyed.value.X)
    other = index_job(key_of(prepared, size=40), prepared, keyed)(ctx)
    assert len(other.value.y) == 40 and ctx.messages


def test_cross_validation_publishes_every_fold_and_equals_the_core(prepared):
    from linviz.explore.knn import run_cross_validation

    ctx = Recording()
    keyed, final = cv_job(key_of(prepared), prepared, None, (1, 3), 3)(ctx)
    assert [cv.folds_done for _, cv in ctx.published] == [1, 2, 3]
    assert all(setup is keyed for setup, _ in ctx.published)
    core = run_cross_validation(keyed.value.X, keyed.value.y, (1, 3), folds=3, metric="l2")
    np.testing.assert_array_equal(final.fold_accuracies, core.fold_accuracies)


@pytest.mark.parametrize("metric", ["l2", "l1"])
def test_the_test_and_the_neighbours_are_a_brute_forces(prepared, metric):
    keyed = index_job(key_of(prepared, metric), prepared, None)(Recording())
    keyed_again, result = knn_test_job(keyed.key, prepared, keyed, 3, "test", {})(Recording())
    assert keyed_again is keyed and isinstance(result, KnnTestResult)
    X_test = keyed.value.features.transform(prepared.test.images)
    expected = [brute_force(keyed.value.X, keyed.value.y, x, 3, metric)[1] for x in X_test]
    np.testing.assert_array_equal(result.predicted, expected)
    assert result.knn.accuracy == pytest.approx(np.mean(np.asarray(expected) == prepared.test.labels))
    assert result.linear.name.startswith("linear")
    found = neighbors_job(keyed, prepared.test.images[0], 5, None)(Recording())
    order, vote = brute_force(keyed.value.X, keyed.value.y, X_test[0], 5, metric)
    np.testing.assert_array_equal(found.positions, order)
    assert found.predicted == vote
