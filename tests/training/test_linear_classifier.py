import numpy as np
import pytest

from linviz.training import LinearClassifier


def blobs(n=900, d=12, c=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((c, d - 1)) * 2
    y = rng.integers(0, c, n)
    X = np.c_[centers[y] + rng.standard_normal((n, d - 1)), np.ones(n)].astype(np.float32)
    return X, np.array(["cat", "dog", "frog"])[y]


def test_sklearn_shape_and_accuracy():
    X, y = blobs()
    clf = LinearClassifier(loss="softmax", epochs=5, learning_rate=0.05)
    assert clf.get_params()["learning_rate"] == 0.05 and not hasattr(clf, "W_")
    assert clf.fit(X[:700], y[:700], X[700:800], y[700:800]) is clf
    assert clf.W_.shape == (12, 3) and list(clf.classes_) == ["cat", "dog", "frog"]
    scores = clf.decision_function(X[800:])
    assert scores.shape == (100, 3)
    np.testing.assert_array_equal(clf.predict(X[800:]), clf.classes_[scores.argmax(1)])
    proba = clf.predict_proba(X[800:])
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-6)
    np.testing.assert_array_equal(proba.argmax(1), scores.argmax(1))
    assert clf.score(X[800:], y[800:]) > 0.9
    assert clf.stop_reason_.startswith("finished") and len(clf.val_accuracies_) == 5


def test_svm_has_no_probabilities():
    X, y = blobs()
    clf = LinearClassifier(loss="svm", epochs=2).fit(X, y)
    assert not hasattr(clf, "predict_proba")
    with pytest.raises(AttributeError, match="softmax"):
        clf.predict_proba(X)


def test_bias_row_is_not_regularized():
    # Classes separated only by the bias: with strong regularization the weights shrink to ~0
    # but the biases stay free and still encode the class frequencies.
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.8).astype(int)
    X = np.c_[rng.standard_normal((2000, 3)), np.ones(2000)].astype(np.float32)
    # a slow decay: the biases must get all the way to the log-odds
    free = LinearClassifier(reg=1.0, epochs=20, learning_rate=0.1, lr_decay=0.95).fit(X, y)
    tied = LinearClassifier(reg=1.0, epochs=20, learning_rate=0.1, lr_decay=0.95, unregularized_bias=False).fit(X, y)
    assert abs(free.W_[-1, 1] - free.W_[-1, 0]) == pytest.approx(np.log(4), rel=0.1)  # log-odds of 80:20
    assert abs(tied.W_[-1, 1] - tied.W_[-1, 0]) < 0.5
    assert np.abs(free.W_[:-1]).max() < 0.05


def test_partial_fit_continues():
    X, y = blobs()
    clf = LinearClassifier(epochs=1)
    clf.partial_fit(X[:300], y[:300], classes=["cat", "dog", "frog"])
    W1 = clf.W_.copy()
    clf.partial_fit(X[300:600], y[300:600])
    assert not np.array_equal(W1, clf.W_)
    assert clf.score(X[600:], y[600:]) > 0.8
    with pytest.raises(ValueError, match="classes"):
        LinearClassifier().partial_fit(X, y)


def test_errors():
    X, y = blobs()
    with pytest.raises(AttributeError, match="not fitted"):
        LinearClassifier().predict(X)
    clf = LinearClassifier(epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="bias"):
        clf.predict(X[:, :-1])
    with pytest.raises(ValueError, match="not among"):
        clf.partial_fit(X, np.array(["bird"] * len(y)))


def test_divergence_keeps_finite_weights():
    X, y = blobs()
    clf = LinearClassifier(loss="svm", learning_rate=1e6, epochs=3).fit(X, y)
    assert clf.stop_reason_.startswith("diverged") and np.isfinite(clf.W_).all()
