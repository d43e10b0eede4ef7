"""k-NN: neighbours and predictions equal an exact float64 brute force (ties included) for L1,
L2 and cosine, in blocks and chunks, serial and parallel; the vote's tie rule; CV equals a
manual fold split; memory stays within the block; cancel stops at the next chunk."""

import threading
import tracemalloc

import numpy as np
import pytest

from linviz.errors import Cancelled
from linviz.models import knn
from linviz.models.knn import KNearestNeighbor, cross_validate_knn, fold_parts, pairwise_distances, vote

METRICS = ["l1", "l2", "cosine"]


def data(seed=0, n=120, d=7):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = (X[:, 0] + 0.3 * rng.standard_normal(n) > 0).astype(int) + 2 * (X[:, 1] > 0)
    return X, y


def tied_data(seed=0, n_train=300, n_test=80, d=17):
    """Small whole numbers: every float64 sum is exact in any order, and distances tie often.
    Duplicated training rows, queries equal to training rows, zero rows (cosine)."""
    rng = np.random.default_rng(seed)
    Xtr = rng.integers(0, 4, (n_train, d)).astype(np.float32)
    Xtr[50:60] = Xtr[0]
    Xtr[7] = 0
    X = rng.integers(0, 4, (n_test, d)).astype(np.float32)
    X[:5] = Xtr[:5]
    X[6] = 0
    ytr = rng.integers(0, 5, n_train)
    return Xtr, ytr, X


def exact_distances(Xtr, x, metric):
    """The reference, written independently: float64, direct differences, whole rows."""
    Xtr, x = Xtr.astype(np.float64), x.astype(np.float64)
    if metric == "l1":
        return np.abs(Xtr - x).sum(1)
    if metric == "l2":
        return ((Xtr - x) ** 2).sum(1)  # ranked by the square, as documented
    na, nb = np.sqrt((x * x).sum()), np.sqrt((Xtr * Xtr).sum(1))
    cos = np.divide(Xtr @ x, nb * na, out=np.zeros(len(Xtr)), where=(nb * na) > 0)
    return np.where((nb > 0) & (na > 0), 1.0 - cos, 1.0)


def brute_force_neighbors(Xtr, X, k, metric):
    return np.array([np.argsort(exact_distances(Xtr, x, metric), kind="stable")[:k] for x in X])


def brute_force_predict(Xtr, ytr, X, k, metric):
    nearest = ytr[brute_force_neighbors(Xtr, X, k, metric)]
    return np.array([np.argmax(np.bincount(row, minlength=ytr.max() + 1)) for row in nearest])


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 16 queries and chunks of 64 training rows: every path of the blocking runs."""
    monkeypatch.setattr(knn, "BLOCK_ROWS", 16)
    monkeypatch.setattr(knn, "CHUNK_BYTES", 16 * 64 * 4)


@pytest.mark.parametrize("metric", METRICS)
def test_distances_match_brute_force_numpy(metric):
    X, _ = data()
    A, B = X[:30], X[30:]
    expected = np.array([exact_distances(B, a, metric) for a in A])
    if metric == "l2":
        expected = np.sqrt(expected)
    np.testing.assert_allclose(pairwise_distances(A, B, metric), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("k", [1, 3, 8])
def test_predictions_match_brute_force(metric, k):
    X, y = data(seed=1)
    model = KNearestNeighbor(k=k, metric=metric).fit(X[:90], y[:90])
    np.testing.assert_array_equal(model.predict(X[90:]), brute_force_predict(X[:90], y[:90], X[90:], k, metric))


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("parallel", [True, False])
def test_neighbours_with_ties_equal_the_exact_reference(metric, parallel, small_blocks):
    Xtr, ytr, X = tied_data(seed=3)
    model = KNearestNeighbor(k=9, metric=metric).fit(Xtr, ytr)
    distances, indices = model.kneighbors(X, parallel=parallel)
    expected = brute_force_neighbors(Xtr, X, 9, metric)
    np.testing.assert_array_equal(indices, expected)
    reference = np.array([exact_distances(Xtr, x, metric)[row] for x, row in zip(X, expected)])
    np.testing.assert_array_equal(distances, np.sqrt(reference) if metric == "l2" else reference)
    np.testing.assert_array_equal(model.predict(X, parallel=parallel), brute_force_predict(Xtr, ytr, X, 1, metric)
                                  if model.k == 1 else model.predict_from_neighbors(expected))
    # the duplicates of row 0 (rows 50-59) come right after it, in index order
    assert list(indices[0, :9]) == [0, 50, 51, 52, 53, 54, 55, 56, 57]


@pytest.mark.parametrize("metric", METRICS)
def test_screening_never_drops_a_neighbour_where_float32_cannot_tell_rows_apart(metric):
    """Training rows equal but for one coordinate (a different one from row to row), in steps
    of 2^-20; queries far from all of them. The distances differ by far less than float32 sums and
    products of these rows can resolve, so the screening must pass many candidates and the
    exact float64 ranking still decides."""
    rng = np.random.default_rng(5)
    base = rng.random(64, dtype=np.float32) + np.float32(0.5)
    steps = rng.permutation(400)
    Xtr = np.repeat(base[None], 400, axis=0)
    Xtr[np.arange(400), np.arange(400) % 64] += steps.astype(np.float32) * np.float32(2.0 ** -20)
    X = np.repeat(base[None], 30, axis=0) + rng.random((30, 64), dtype=np.float32)
    _, indices = KNearestNeighbor(k=5, metric=metric).fit(Xtr, np.zeros(400, int)).kneighbors(X)
    np.testing.assert_array_equal(indices, brute_force_neighbors(Xtr, X, 5, metric))


def test_a_training_subset_and_exclusions(small_blocks):
    Xtr, ytr, X = tied_data(seed=4)
    rows = np.arange(3, 300, 2)
    train = knn._Training(Xtr, rows)
    _, positions = knn._search(X, train, 6, "l2")
    np.testing.assert_array_equal(rows[positions], rows[brute_force_neighbors(Xtr[rows], X, 6, "l2")])
    # a query left out of its own neighbours
    model = KNearestNeighbor(metric="l1").fit(Xtr, ytr)
    _, with_self = model.kneighbors(Xtr[:4], 3)
    _, without = model.kneighbors(Xtr[:4], 3, exclude=np.arange(4))
    assert (with_self[:, 0] == np.arange(4)).all() and not (without == np.arange(4)[:, None]).any()
    expected = [[j for j in brute_force_neighbors(Xtr, Xtr[i:i + 1], 4, "l1")[0] if j != i][:3] for i in range(4)]
    np.testing.assert_array_equal(without, expected)


def test_deterministic_tie_breaks():
    Xtr = np.array([[1.0], [-1.0], [2.0], [-2.0]], np.float32)
    ytr = np.array([5, 3, 5, 3])
    model = KNearestNeighbor(k=2).fit(Xtr, ytr)
    # 0 is equally far from rows 0 and 1 (votes 1:1): the smaller class wins.
    assert model.predict(np.zeros((1, 1), np.float32))[0] == 3
    # k=1 and equal distances: the lower training index (row 0, class 5) wins.
    assert KNearestNeighbor(k=1).fit(Xtr, ytr).predict(np.zeros((1, 1), np.float32))[0] == 5


def test_vote_for_many_ks_at_once():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, (200, 12))
    ks = [12, 1, 4, 7]
    got = vote(labels, ks, 4)
    for t, k in enumerate(ks):
        expected = [np.argmax(np.bincount(row[:k], minlength=4)) for row in labels]  # argmax: smallest on ties
        np.testing.assert_array_equal(got[:, t], expected)


def test_cross_validation_equals_a_manual_fold_split():
    Xtr, ytr, _ = tied_data(seed=6, n_train=150)
    ks = [1, 4, 15]
    for metric in METRICS:
        res = cross_validate_knn(Xtr, ytr, ks, folds=5, seed=2, metric=metric)
        assert sorted(res) == ks and all(v.shape == (5,) for v in res.values())
        parts = np.array_split(np.random.default_rng(2).permutation(150), 5)
        for f, val in enumerate(parts):
            train = np.sort(np.concatenate([p for i, p in enumerate(parts) if i != f]))  # original order
            for k in ks:
                predicted = brute_force_predict(Xtr[train], ytr[train], Xtr[val], k, metric)
                assert res[k][f] == np.mean(predicted == ytr[val]), (metric, f, k)
    assert [list(p) for p in fold_parts(150, 5, 2)] == [sorted(p) for p in parts]


def test_cross_validation_is_seeded_and_sensible():
    X, y = data(seed=2, n=150)
    res = cross_validate_knn(X, y, ks=[1, 5, 15], folds=5, seed=0)
    assert res[5].mean() > 0.5
    again = cross_validate_knn(X, y, ks=[1, 5, 15], folds=5, seed=0)
    for k in res:
        np.testing.assert_array_equal(res[k], again[k])


def test_memory_stays_within_the_block(monkeypatch):
    """2,000 queries x 25,000 rows: the full matrix would be 200 MB in float32; the search
    may use one 8 MB chunk, the candidate lists and small per-row arrays."""
    monkeypatch.setattr(knn, "CHUNK_BYTES", 8 * 2**20)
    rng = np.random.default_rng(0)
    Xtr = rng.random((25_000, 12), dtype=np.float32)
    X = rng.random((2_000, 12), dtype=np.float32)
    model = KNearestNeighbor(k=10, metric="l2").fit(Xtr, rng.integers(0, 10, 25_000))
    model.kneighbors(X[:16])  # compile outside the measurement
    for metric in METRICS:
        model.metric = metric
        model.fit(Xtr, model.classes_[model.y_train_])
        tracemalloc.start()
        model.kneighbors(X)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        answers = 2_000 * 10 * 16
        per_row = 25_000 * 8 * 6  # screening factors, norms, positions
        candidates = knn.BLOCK_ROWS * (4 * 10 + 256) * 12  # positions and values, per query of a block
        assert peak < 8 * 2**20 + answers + per_row + candidates + 2**20, (metric, peak / 2**20)


@pytest.mark.parametrize("metric", ["l1", "l2"])
def test_cancel_stops_at_the_next_chunk(metric, small_blocks):
    rng = np.random.default_rng(0)
    Xtr = rng.random((3000, 16), dtype=np.float32)
    model = KNearestNeighbor(k=3, metric=metric).fit(Xtr, rng.integers(0, 3, 3000))
    cancel = threading.Event()
    calls = []

    def progress(done, total):
        calls.append((done, total))
        cancel.set()

    with pytest.raises(Cancelled):
        model.kneighbors(rng.random((400, 16), dtype=np.float32), progress=progress, cancel=cancel)
    assert len(calls) == 1 and calls[0][1] > 100  # one chunk of many, then it stopped


def test_bad_arguments():
    X, y = data()
    with pytest.raises(ValueError, match="metric"):
        KNearestNeighbor(metric="chebyshev").fit(X, y)
    with pytest.raises(ValueError, match="k must"):
        KNearestNeighbor(k=1000).fit(X, y).predict(X[:2])
    with pytest.raises(ValueError, match="NaN"):
        KNearestNeighbor().fit(np.full((3, 2), np.nan, np.float32), [0, 1, 0])
    with pytest.raises(ValueError, match="magnitude 1e\\+20"):
        KNearestNeighbor().fit(X, y).kneighbors(np.full((1, X.shape[1]), 1e20, np.float32))
    with pytest.raises(ValueError, match="k must be between"):
        cross_validate_knn(X, y, [1, 200], folds=5)
