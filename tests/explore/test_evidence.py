"""Evidence maps add up to the score exactly, and each block sums back onto what it describes."""

from __future__ import annotations

import numpy as np
import pytest

from linviz.data import make_demo_dataset
from linviz.explore.evidence import evidence
from linviz.explore.evidence import contributions
from linviz.features import FeaturePipeline


@pytest.fixture(scope="module")
def demo():
    return make_demo_dataset(n_train_per_class=20, n_test_per_class=2)


@pytest.mark.parametrize("spec", ["raw", "hog:cell=8:block=2,hue:bins=12", "best", "raw:gray=1:size=16,layout:grid=4"])
def test_maps_plus_bias_equal_the_score(demo, spec):
    pipeline = FeaturePipeline(spec)
    X = pipeline.fit_transform(demo.train.images)
    rng = np.random.default_rng(0)
    W = rng.normal(size=(X.shape[1], 3)).astype(np.float32)
    for i in (0, 7):
        x = X[i]
        for c in range(3):
            ev = evidence(W[:, c], x, pipeline)
            exact = float(np.dot(W[:, c].astype(np.float64), x.astype(np.float64)))
            assert ev.score == pytest.approx(exact, rel=1e-9, abs=1e-9)
            assert sum(float(b.values.sum()) for b in ev.blocks) + ev.bias == pytest.approx(exact, rel=1e-9, abs=1e-9)
            assert [b.name for b in ev.blocks] == [b.name for b in pipeline.blocks]


def test_block_maps_have_the_shapes_of_what_they_describe(demo):
    pipeline = FeaturePipeline("raw,hog:cell=4:block=2,hue:bins=10,layout:grid=4")
    X = pipeline.fit_transform(demo.train.images)
    w = np.ones(X.shape[1], dtype=np.float32)
    ev = evidence(w, X[0], pipeline)
    shapes = {b.kind: b.values.shape for b in ev.blocks}
    assert shapes == {"raw": (32, 32), "hog": (8, 8), "hist": (10,), "layout": (4, 4)}


def test_an_absent_feature_contributes_nothing():
    """The mean is folded into the bias: a raw feature f = 0 has no evidence, whatever its weight."""
    mean, scale = np.array([0.5, 0.2]), np.array([2.0, 0.5])
    f = np.array([0.0, 0.4])
    x = np.append((f - mean) / scale, 1.0)
    w = np.array([3.0, -1.0, 0.25])
    parts, bias = contributions(w, x, mean, scale)
    np.testing.assert_allclose(parts, [0.0, -1.0 * 0.4 / 0.5])
    assert parts.sum() + bias == pytest.approx(np.dot(w, x))


def test_hog_cells_collect_every_block_that_contains_them(demo):
    """With 2x2 blocks a middle cell sits in four blocks; its evidence is the sum of all four."""
    pipeline = FeaturePipeline("hog:cell=8:block=2:orient=9")
    X = pipeline.fit_transform(demo.train.images)
    block = pipeline.blocks[0]
    w = np.zeros(X.shape[1], dtype=np.float64)
    parts_shape = block.shape  # (3, 3, 2, 2, 9) for 4x4 cells
    marked = np.zeros(parts_shape)
    marked[0, 0, 1, 1, :] = 1.0  # block (0,0), its cell (1,1) -> cell (1,1)
    marked[1, 1, 0, 0, :] = 1.0  # block (1,1), its cell (0,0) -> cell (1,1)
    w[block.start:block.stop] = marked.ravel()
    x = np.zeros(X.shape[1])
    x[:-1] = 1.0 - pipeline.mean_ / pipeline.scale_  # f / scale == 1 for every feature
    x[-1] = 1.0
    cells = evidence(w, x, pipeline).blocks[0].values
    expected = np.zeros((4, 4))
    expected[1, 1] = 2 * 9 * (1.0 * pipeline.scale_[0]) / pipeline.scale_[0]
    np.testing.assert_allclose(cells, expected, atol=1e-9)


@pytest.mark.parametrize("spec", ["hog:cell=8:block=2,hue:bins=12", "best"])
def test_relative_to_the_average_training_image(demo, spec):
    """Relative to the average training image: the bias term is what the classifier scores the
    average image (its features' mean), each block's total is what this image's block adds
    compared with it, w_block · (x_block − mean of the training x_block); all of it adds up
    to the score. Checked against the raw features and their mean, computed here."""
    from linviz.explore.evidence import AVERAGE_IMAGE

    pipeline = FeaturePipeline(spec)
    X = pipeline.fit_transform(demo.train.images).astype(np.float64)
    raw = pipeline.extract(demo.train.images).astype(np.float64)  # before standardization
    average = raw.mean(axis=0)  # the average training image's features
    rng = np.random.default_rng(1)
    w = rng.normal(size=X.shape[1])
    for i in (3, 11):
        ev = evidence(w, X[i], pipeline, relative_to=AVERAGE_IMAGE)
        score = float(w @ X[i])
        average_score = float(w[:-1] @ ((average - pipeline.mean_) / pipeline.scale_) + w[-1])
        assert ev.score == pytest.approx(score, abs=1e-7)
        # the pipeline's mean is float32: agreement to float32 rounding of the means
        assert ev.bias == pytest.approx(average_score, rel=1e-5, abs=1e-5)
        for b, block in zip(ev.blocks, pipeline.blocks):
            cut = slice(block.start, block.stop)
            added = float(w[cut] @ ((raw[i, cut] - average[cut]) / pipeline.scale_[cut]))
            assert b.total == pytest.approx(added, rel=1e-5, abs=1e-5)
            assert float(b.values.sum()) == pytest.approx(b.total, abs=1e-6)
        assert sum(b.total for b in ev.blocks) + ev.bias == pytest.approx(score, abs=1e-7)
    # the default is the folded form: an absent feature contributes nothing
    folded = evidence(w, X[3], pipeline)
    assert folded.bias != pytest.approx(evidence(w, X[3], pipeline, relative_to=AVERAGE_IMAGE).bias)
