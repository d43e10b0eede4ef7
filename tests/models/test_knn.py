import numpy as np
import pytest

from linviz.models.knn import KNearestNeighbor, cross_validate_knn, pairwise_distances


def data(seed=0, n=120, d=7):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = (X[:, 0] + 0.3 * rng.standard_normal(n) > 0).astype(int) + 2 * (X[:, 1] > 0)
    return X, y


@pytest.mark.parametrize("metric", ["l1", "l2"])
def test_distances_match_brute_force_numpy(metric):
    X, _ = data()
    A, B = X[:30], X[30:]
    diff = A[:, None, :].astype(np.float64) - B[None, :, :]
    expected = np.abs(diff).sum(-1) if metric == "l1" else np.sqrt((diff ** 2).sum(-1))
    np.testing.assert_allclose(pairwise_distances(A, B, metric), expected, rtol=1e-5, atol=1e-5)


def brute_force_predict(Xtr, ytr, Xte, k, metric):
    out = []
    for x in Xte.astype(np.float64):
        d = np.abs(Xtr - x).sum(1) if metric == "l1" else np.sqrt(((Xtr - x) ** 2).sum(1))
        nearest = ytr[np.argsort(d, kind="stable")[:k]]
        out.append(np.argmax(np.bincount(nearest, minlength=ytr.max() + 1)))
    return np.array(out)


@pytest.mark.parametrize("metric", ["l1", "l2"])
@pytest.mark.parametrize("k", [1, 3, 8])
def test_predictions_match_brute_force(metric, k):
    X, y = data(seed=1)
    model = KNearestNeighbor(k=k, metric=metric).fit(X[:90], y[:90])
    np.testing.assert_array_equal(model.predict(X[90:]), brute_force_predict(X[:90], y[:90], X[90:], k, metric))


def test_deterministic_tie_breaks():
    Xtr = np.array([[1.0], [-1.0], [2.0], [-2.0]], np.float32)
    ytr = np.array([5, 3, 5, 3])
    model = KNearestNeighbor(k=2).fit(Xtr, ytr)
    # 0 is equally far from rows 0 and 1 (votes 1:1): the smaller class wins.
    assert model.predict(np.zeros((1, 1), np.float32))[0] == 3
    # k=1 and equal distances: the lower training index (row 0, class 5) wins.
    assert KNearestNeighbor(k=1).fit(Xtr, ytr).predict(np.zeros((1, 1), np.float32))[0] == 5


def test_cross_validation():
    X, y = data(seed=2, n=150)
    res = cross_validate_knn(X, y, ks=[1, 5, 15], folds=5, seed=0)
    assert sorted(res) == [1, 5, 15] and all(v.shape == (5,) for v in res.values())
    assert all(((v >= 0) & (v <= 1)).all() for v in res.values())
    assert res[5].mean() > 0.5
    again = cross_validate_knn(X, y, ks=[1, 5, 15], folds=5, seed=0)
    for k in res:
        np.testing.assert_array_equal(res[k], again[k])
    # fold 0 by hand
    parts = np.array_split(np.random.default_rng(0).permutation(len(y)), 5)
    tr = np.concatenate(parts[1:])
    manual = KNearestNeighbor(k=5).fit(X[tr], y[tr]).score(X[parts[0]], y[parts[0]])
    assert res[5][0] == pytest.approx(manual)


def test_bad_arguments():
    X, y = data()
    with pytest.raises(ValueError, match="metric"):
        KNearestNeighbor(metric="cosine").fit(X, y)
    with pytest.raises(ValueError, match="k must"):
        KNearestNeighbor(k=1000).fit(X, y).predict(X[:2])
