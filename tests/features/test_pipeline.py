"""FeaturePipeline: extraction, blocks, standardization on train only, state, cancel, cache."""

import threading

import numpy as np
import pytest

from linviz.errors import Cancelled, LinvizError, ModelFileError
from linviz.features import FEATURE_CACHE, FeaturePipeline, hog, hue_histogram
from linviz.features import pipeline as pipeline_module


@pytest.fixture()
def images(real_images):
    return np.ascontiguousarray(np.concatenate([real_images, real_images[:, :, ::-1]]))  # 48


def test_extract_concatenates_the_blocks(images):
    p = FeaturePipeline("hog+hue")
    X = p.extract(images)
    assert X.dtype == np.float32 and X.shape == (len(images), 154)
    np.testing.assert_array_equal(X[:, :144], hog(images, 9, 8, 1, "none"))
    np.testing.assert_array_equal(X[:, 144:], hue_histogram(images, 10))
    hog_block, hue_block = p.blocks
    assert (hog_block.kind, hog_block.start, hog_block.stop, hog_block.shape) == ("hog", 0, 144, (4, 4, 1, 1, 9))
    assert hog_block.params["cells"] == (4, 4) and hog_block.params["orient"] == 9
    assert (hue_block.kind, hue_block.shape, hue_block.params["channel"]) == ("hist", (10,), "hue")


def test_block_shapes_for_every_kind():
    p = FeaturePipeline("raw,raw:gray=1:size=8,hog:cell=4:block=2,sat:bins=5,layout:grid=2")
    shapes = [(b.kind, b.shape) for b in p.blocks_for((32, 32))]
    assert shapes == [
        ("raw", (32, 32, 3)),
        ("raw", (8, 8)),
        ("hog", (7, 7, 2, 2, 9)),
        ("hist", (5,)),
        ("layout", (2, 2, 3)),
    ]
    blocks = p.blocks_for((32, 32))
    assert all(b.stop - b.start == int(np.prod(b.shape)) for b in blocks)
    assert all(a.stop == b.start for a, b in zip(blocks, blocks[1:]))


def test_standardization_is_fitted_on_train_only(images):
    p = FeaturePipeline("best")
    train, test = images[:30], images[30:]
    Ftr = p.extract(train)
    Z = p.fit(Ftr).transform_features(Ftr)
    assert Z.shape == (30, p.dim + 1)
    np.testing.assert_array_equal(Z[:, -1], 1.0)  # bias last
    np.testing.assert_allclose(Z[:, :-1].mean(axis=0), 0.0, atol=1e-4)
    mean_before = p.mean_.copy()
    p.transform(test)  # transforming another split changes nothing
    np.testing.assert_array_equal(p.mean_, mean_before)
    np.testing.assert_allclose(p.mean_, Ftr.mean(axis=0), atol=1e-5)
    # one scale per block: each block has unit average variance on train
    for block in p.blocks:
        cols = Z[:, block.start : block.stop]
        assert np.ptp(p.scale_[block.start : block.stop]) == 0
        if cols.std() > 0:
            assert np.mean(cols.var(axis=0)) == pytest.approx(1.0, rel=1e-3)


def test_column_scaling_option(images):
    p = FeaturePipeline("hog+hue", scaling="column")
    Z = p.fit_transform(images)
    std = Z[:, :-1].std(axis=0)
    assert np.allclose(std[std > 0], 1.0, atol=1e-3)


def test_single_image_equals_its_batch_row(images):
    p = FeaturePipeline("best")
    p.fit(p.extract(images))
    batch = p.transform(images)
    np.testing.assert_allclose(p.transform(images[7]), batch[7:8], atol=1e-6)


def test_state_round_trip(images, tmp_path):
    p = FeaturePipeline("hog:cell=4:block=2,hue,layout")
    Z = p.fit_transform(images)
    path = tmp_path / "state.npz"
    np.savez(path, **p.state())
    with np.load(path, allow_pickle=False) as f:
        q = FeaturePipeline.from_state(dict(f))
    assert str(q.spec) == str(p.spec) and q.scaling == p.scaling and q.image_shape == (32, 32)
    np.testing.assert_array_equal(q.transform(images), Z)
    state = p.state()
    state["feature_mean"] = state["feature_mean"][:-1]
    with pytest.raises(ModelFileError):
        FeaturePipeline.from_state(state)
    del state["feature_spec"]
    with pytest.raises(ModelFileError):
        FeaturePipeline.from_state(state)


def test_progress_and_cancel(images, monkeypatch):
    monkeypatch.setattr(pipeline_module, "CHUNK_IMAGES", 10)
    calls = []
    FeaturePipeline("hog").extract(images, progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, 48) and calls[-1] == (48, 48) and len(calls) == 6
    stop = threading.Event()

    def progress(done, total):
        if done >= 20:
            stop.set()

    with pytest.raises(Cancelled):
        FeaturePipeline("hog").extract(images, progress=progress, cancel=stop)
    with pytest.raises(Cancelled):
        FeaturePipeline("hog").extract(images, cancel=lambda: True)


def test_cache_by_key_and_spec(images):
    FEATURE_CACHE.clear()
    a = FeaturePipeline("hog").extract(images, cache_key="ds/train")
    b = FeaturePipeline("hog").extract(images, cache_key="ds/train")
    assert b is a and not a.flags.writeable
    c = FeaturePipeline("hog:cell=4").extract(images, cache_key="ds/train")
    assert c.shape != a.shape
    d = FeaturePipeline("hog").extract(images, cache_key="ds/test")
    assert d is not a


def test_errors(images):
    p = FeaturePipeline("hog")
    with pytest.raises(LinvizError, match="blocks"):
        _ = p.blocks
    with pytest.raises(LinvizError, match="not fitted"):
        p.transform(images)
    p.fit(p.extract(images))
    with pytest.raises(LinvizError, match="16x16"):
        p.transform(np.zeros((1, 16, 16, 3), np.uint8))
    with pytest.raises(LinvizError, match="scaling"):
        FeaturePipeline("hog", scaling="minmax")


def test_no_qt_in_features():
    from pathlib import Path

    import linviz.features

    root = Path(linviz.features.__file__).parent
    for path in root.glob("*.py"):
        text = path.read_text()
        assert "PySide" not in text and "pyqtgraph" not in text and "PyQt" not in text, path


def test_fused_hog_hue_extraction_matches_the_separate_features(images):
    # specs with a luma HOG and a hue histogram take the fused path; sqrt, order and
    # extra features must come out as if each feature were computed alone
    p = FeaturePipeline("hue:bins=7:sqrt=1,layout:grid=2,hog:cell=4:block=2:sqrt=1")
    X = p.extract(images)
    np.testing.assert_array_equal(X[:, :7], np.sqrt(hue_histogram(images, 7)))
    np.testing.assert_array_equal(X[:, 19:], np.sqrt(hog(images, 9, 4, 2, "L2-Hys")))
    q = FeaturePipeline("hog:color=max,hue")
    np.testing.assert_array_equal(q.extract(images)[:, :144], hog(images, 9, 8, 1, "L2-Hys", channel_max=True))


def test_strongest_channel_hog_at_several_cell_sizes_in_one_pass(images, odd_sized_images):
    # the best preset's three channel-max HOG items share one gradient pass per image; each
    # must come out as hog(..., channel_max=True) computes it alone, in its own columns
    spec = ("hog:cell=4:block=2:norm=L1-sqrt:color=max,layout:grid=2,hog:cell=8:block=2:norm=L1-sqrt:color=max,"
            "hog:orient=6:cell=16:block=1:color=max:sqrt=1,hog:cell=5:block=3:norm=L2:color=max")
    for imgs in (images, odd_sized_images[(37, 29)]):
        p = FeaturePipeline(spec)
        X = p.extract(imgs)
        b = p.blocks
        np.testing.assert_array_equal(X[:, b[0].start:b[0].stop], hog(imgs, 9, 4, 2, "L1-sqrt", channel_max=True))
        np.testing.assert_array_equal(X[:, b[2].start:b[2].stop], hog(imgs, 9, 8, 2, "L1-sqrt", channel_max=True))
        np.testing.assert_array_equal(X[:, b[3].start:b[3].stop], np.sqrt(hog(imgs, 6, 16, 1, channel_max=True)))
        np.testing.assert_array_equal(X[:, b[4].start:b[4].stop], hog(imgs, 9, 5, 3, "L2", channel_max=True))


def test_hog_max_scales_writes_only_its_columns(images):
    from linviz.features.hog_descriptor import hog_max_scales

    out = np.full((len(images), 2 + 1764 + 3 + 36), -7.0, np.float32)
    hog_max_scales(images, out, [(2, 4, 2, "L1-sqrt"), (2 + 1764 + 3, 16, 2, "L2-Hys")])
    np.testing.assert_array_equal(out[:, 2:1766], hog(images, 9, 4, 2, "L1-sqrt", channel_max=True))
    np.testing.assert_array_equal(out[:, -36:], hog(images, 9, 16, 2, "L2-Hys", channel_max=True))
    assert np.all(out[:, :2] == -7) and np.all(out[:, 1766:1769] == -7)
    with pytest.raises(ValueError, match="do not fit"):
        hog_max_scales(images, out, [(100, 4, 2, "L1")])


def test_fit_transform_in_place_equals_fit_then_transform_features(images):
    p = FeaturePipeline("best")
    Z = p.fit_transform(images)
    q = FeaturePipeline("best")
    F = q.extract(images)
    Z2 = q.fit(F).transform_features(F)
    np.testing.assert_array_equal(p.mean_, q.mean_)
    np.testing.assert_array_equal(p.scale_, q.scale_)
    np.testing.assert_array_equal(Z, Z2)
    np.testing.assert_array_equal(p.transform(images[:5]), q.transform_features(F[:5]))
    # the same arithmetic as the NumPy expression, bit for bit
    np.testing.assert_array_equal(Z2[:, :-1], (F - q.mean_) * (np.float32(1) / q.scale_))


def test_column_moments_match_numpy_in_float64():
    from linviz.features.standardize import column_moments

    rng = np.random.default_rng(0)
    # a column with a large mean and a small spread: E[x^2] - E[x]^2 would lose it all
    X = np.c_[rng.standard_normal((5000, 7)) * [1, 2, 3, 0, 1e-3, 5, 1] + [0, 1, -3, 4, 1e4, 0, 2],
              np.ones(5000)].astype(np.float32)
    mean, var = column_moments(X, 7)
    np.testing.assert_allclose(mean, X[:, :7].astype(np.float64).mean(0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(var, X[:, :7].astype(np.float64).var(0), rtol=1e-9, atol=1e-15)
    assert var[3] == 0
