"""The kNN lab's computations: CV snapshots fold by fold, the mean, spread and best k, the
features kNN measures on, one image's neighbours and vote, test accuracy and the linear
comparison."""

import threading

import numpy as np
import pytest

from linviz.data import make_demo_dataset
from linviz.errors import Cancelled, LinvizError
from linviz.explore.knn import (CrossValidation, cross_validation, knn_test, linear_test, neighbors_of, parse_ks,
                                prepare_knn, run_cross_validation, training_subset)
from linviz.features import FeaturePipeline, raw_pixels
from linviz.models.knn import cross_validate_knn


@pytest.fixture(scope="module")
def demo():
    return make_demo_dataset()


def test_parse_ks():
    assert parse_ks("1, 3,5 8") == (1, 3, 5, 8)
    assert parse_ks("5,1,5") == (5, 1)
    for bad, message in (("", "at least one"), ("1,x", "'x'"), ("0", "at least 1"), ("-3", "at least 1")):
        with pytest.raises(LinvizError, match=message):
            parse_ks(bad)


def test_cross_validation_fills_in_fold_by_fold_and_ends_as_the_core_does():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 6)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    ks = (1, 3, 7, 15)
    snapshots = list(cross_validation(X, y, ks, folds=4, metric="l1", seed=3))
    assert [s.folds_done for s in snapshots] == [1, 2, 3, 4] and snapshots[-1].done
    assert np.isnan(snapshots[0].fold_accuracies[1:]).all() and not np.isnan(snapshots[0].fold_accuracies[0]).any()
    np.testing.assert_array_equal(snapshots[1].fold_accuracies[:2], snapshots[-1].fold_accuracies[:2])
    final = snapshots[-1]
    core = cross_validate_knn(X, y, ks, folds=4, seed=3, metric="l1")
    np.testing.assert_array_equal(final.fold_accuracies, np.array([core[k] for k in ks]).T)
    np.testing.assert_allclose(final.mean, [np.mean(core[k]) for k in ks])
    np.testing.assert_allclose(final.std, [np.std(core[k]) for k in ks])
    assert final.best_k == ks[int(np.argmax(final.mean))]
    assert not final.fold_accuracies.flags.writeable
    doc = final.as_json()
    assert doc["k"] == list(ks) and doc["best_k"] == final.best_k
    assert doc["fold_accuracies"] == [list(core[k]) for k in ks]
    assert snapshots[0].std.tolist() == [0.0] * 4  # one fold: no spread yet


def test_the_best_k_of_equal_means_is_the_smaller_k():
    accuracies = np.array([[0.5, 0.6, 0.6], [0.7, 0.6, 0.6]])
    cv = CrossValidation((20, 5, 3), 2, "l2", 100, accuracies)  # means 0.6 for every k
    assert cv.best_k == 3 and cv.best_index == 2
    empty = CrossValidation((1, 3), 5, "l2", 100, np.full((5, 2), np.nan))
    assert empty.best_k is None and np.isnan(empty.mean).all() and empty.folds_done == 0


def test_cross_validation_refuses_bad_arguments_before_working():
    X, y = np.zeros((50, 3), np.float32), np.arange(50) % 2
    with pytest.raises(LinvizError, match="folds"):
        next(cross_validation(X, y, (1,), folds=1))
    with pytest.raises(LinvizError, match="k must be between 1 and 40"):
        next(cross_validation(X, y, (1, 41), folds=5))
    with pytest.raises(LinvizError, match="distance"):
        next(cross_validation(X, y, (1,), metric="l3"))


def test_pixels_are_unstandardized_other_features_standardized_without_the_bias(demo):
    setup = prepare_knn(demo.train.images, demo.train.labels, spec="raw", train_size=500, seed=1)
    assert len(setup.subset) == 500 and (np.diff(setup.subset) > 0).all()
    np.testing.assert_array_equal(setup.subset, training_subset(len(demo.train.labels), 500, 1))
    np.testing.assert_array_equal(setup.X, raw_pixels(demo.train.images[setup.subset]))
    np.testing.assert_array_equal(setup.y, demo.train.labels[setup.subset])
    assert setup.n_classes == 6 and not setup.features.standardized

    hog = prepare_knn(demo.train.images, demo.train.labels, spec="hog+hue", train_size=500, seed=1)
    pipeline = FeaturePipeline("hog+hue")
    expected = pipeline.fit_transform(demo.train.images[hog.subset])[:, :-1]
    np.testing.assert_allclose(hog.X, expected, atol=1e-6)
    assert hog.features.standardized and hog.X.shape[1] == pipeline.dim
    np.testing.assert_allclose(hog.X.mean(axis=0), 0, atol=1e-4)
    one = hog.features.transform(demo.test.images[:1])
    np.testing.assert_allclose(one, pipeline.transform(demo.test.images[:1])[:, :-1], atol=1e-6)
    np.testing.assert_allclose(hog.features.linear_rows(one), pipeline.transform(demo.test.images[:1]), atol=1e-6)
    assert prepare_knn(demo.train.images, demo.train.labels, train_size=None).X.shape[0] == len(demo.train.labels)


def test_neighbours_of_an_image_and_their_vote(demo):
    setup = prepare_knn(demo.train.images, demo.train.labels, spec="raw16", metric="l1", train_size=800)
    query = setup.features.transform(demo.test.images[3:4])[0]
    found = neighbors_of(setup, query, 7)
    d = np.abs(setup.X.astype(np.float64) - query).sum(1)
    order = np.argsort(d, kind="stable")[:7]
    np.testing.assert_array_equal(found.positions, order)
    np.testing.assert_array_equal(found.indices, setup.subset[order])
    np.testing.assert_allclose(found.distances, d[order], rtol=1e-12)
    np.testing.assert_array_equal(found.labels, demo.train.labels[setup.subset[order]])
    assert found.votes.sum() == 7 and len(found.votes) == 6
    assert found.predicted == int(np.argmax(found.votes))  # argmax: the smaller class on equal votes
    # a training image among the kNN images leaves itself out
    own = int(setup.subset[10])
    alone = neighbors_of(setup, setup.X[10], 3, exclude=own)
    assert own not in alone.indices and neighbors_of(setup, setup.X[10], 1).indices[0] == own
    with pytest.raises(LinvizError, match="k must be between 1 and 800"):
        neighbors_of(setup, query, 801)


def test_test_accuracy_and_the_linear_comparison(demo):
    setup = prepare_knn(demo.train.images, demo.train.labels, spec="hog+hue", metric="cosine", train_size=600)
    X_test = setup.features.transform(demo.test.images)
    predicted, timing = knn_test(setup, X_test, demo.test.labels, 5)
    np.testing.assert_array_equal(predicted, setup.model.predict_from_neighbors(
        setup.model.kneighbors(X_test, 5)[1], 5))
    assert timing.accuracy == pytest.approx(np.mean(predicted == demo.test.labels))
    assert timing.n_train == 600 and timing.n_test == len(demo.test.labels) and timing.predict_us_per_image > 0

    Xl, Xl_test = setup.features.linear_rows(setup.X), setup.features.linear_rows(X_test)
    rng = np.random.default_rng(0)
    W = rng.standard_normal((Xl.shape[1], 6)).astype(np.float32)
    given = linear_test(Xl, setup.y, Xl_test, demo.test.labels, n_classes=6, W=W, train_seconds=2.0, n_train=999)
    assert given.accuracy == pytest.approx(np.mean(np.argmax(Xl_test @ W, axis=1) == demo.test.labels))
    assert given.train_seconds == 2.0 and given.train_us_per_image == pytest.approx(2e6 / 999)
    trained = linear_test(Xl, setup.y, Xl_test, demo.test.labels, n_classes=6)
    assert trained.accuracy > 0.5 and trained.train_seconds > 0 and trained.n_train == 600
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        linear_test(Xl, setup.y, Xl_test, demo.test.labels, n_classes=6, cancel=cancel)


def test_with_metric_refits_only_the_search(demo):
    setup = prepare_knn(demo.train.images, demo.train.labels, train_size=300)
    other = setup.with_metric("cosine")
    assert other.X is setup.X and other.metric == "cosine" and setup.metric == "l2"
    assert setup.with_metric("l2") is setup
    assert run_cross_validation(other.X, other.y, (1, 3), folds=3, metric="cosine").done
