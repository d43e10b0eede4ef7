"""Feature blocks as plug-ins: the declarations, the parser and the pipeline reading them,
the existing blocks' output unchanged, and a new block working from its module alone."""

import numpy as np
import pytest

from linviz.errors import LinvizError
from linviz.features import (PRESETS, FeaturePipeline, color_layout, hog, hue_histogram, parse_feature_spec,
                             raw_pixels, saturation_histogram, value_histogram)
from linviz.features import blocks as blocks_module
from linviz.features.blocks import BlockType, EvidenceMap, Param, WeightPictures, block_type, block_types


def test_every_block_declares_itself():
    names, aliases = set(), set()
    for kind in block_types():
        assert kind.name and kind.title and kind.summary and kind.kind
        assert kind.name not in names and not set(kind.aliases) & (names | aliases)
        names.add(kind.name)
        aliases.update(kind.aliases)
        for p in kind.params:
            assert p.help and (p.kind is str or p.low <= p.default <= p.high)
            assert p.name in kind.describe()
    assert {"raw", "hog", "hue", "sat", "val", "layout"} <= names


@pytest.mark.parametrize("kind", block_types(), ids=lambda k: k.name)
def test_the_parser_reads_each_declaration(kind):
    defaults = parse_feature_spec(kind.name).items[0]
    assert [k for k, _ in defaults.params] == [p.name for p in kind.params]  # the canonical order
    assert dict(defaults.params) == {p.name: p.default for p in kind.params}
    for p in kind.params:
        if p.kind is int:
            with pytest.raises(LinvizError, match="between"):
                parse_feature_spec(f"{kind.name}:{p.name}={p.high + 1}")
            assert parse_feature_spec(f"{kind.name}:{p.name}={p.low}").items[0].param(p.name) == p.low
        else:
            with pytest.raises(LinvizError, match="one of"):
                parse_feature_spec(f"{kind.name}:{p.name}=nonsense")
        for alias in p.aliases:
            assert parse_feature_spec(f"{kind.name}:{alias}={p.default}") == parse_feature_spec(kind.name)


def _each_block_alone(spec: str, images: np.ndarray) -> np.ndarray:
    """The features as the public functions compute each block on its own."""
    functions = {"hue": hue_histogram, "sat": saturation_histogram, "val": value_histogram}
    parts = []
    for item in parse_feature_spec(spec).items:
        p = dict(item.params)
        if item.name == "raw":
            out = raw_pixels(images, grayscale=bool(p["gray"]), size=p["size"] or None)
        elif item.name == "hog":
            out = hog(images, p["orient"], p["cell"], p["block"], p["norm"], channel_max=p["color"] == "max")
        elif item.name == "layout":
            out = color_layout(images, p["grid"])
        else:
            out = functions[item.name](images, p["bins"])
        parts.append(np.sqrt(out) if p.get("sqrt") else out)
    return np.concatenate(parts, axis=1)


@pytest.mark.parametrize("spec", [name for name in PRESETS if not name.startswith("words")]
                         + ["raw:gray=1:size=8,hog:cell=4:block=2:sqrt=1,sat:bins=5:sqrt=1,val,layout:grid=2",
                            "hue:bins=7,hog:color=max:orient=6,hog:norm=none,hue:bins=3:sqrt=1"])
def test_the_existing_blocks_come_out_as_their_functions_compute_them(spec, real_images):
    images = np.ascontiguousarray(np.concatenate([real_images, real_images[:, ::-1]]))
    np.testing.assert_array_equal(FeaturePipeline(spec).extract(images), _each_block_alone(spec, images))


class _Brightness(BlockType):
    """A block that exists only in this test: the mean of each image row."""

    name = "rows"
    title = "Row brightness"
    summary = "each row's mean brightness"
    kind = "rows"
    params = (Param("scale", int, 1, "multiply by this", 1, 9),)

    def shape(self, params, image_shape):
        return (image_shape[0],)

    def extract(self, block, images, out, state=None):
        out[...] = images.mean(axis=(2, 3)) * block.params["scale"] / 255.0

    def evidence_map(self, block, parts, state=None):
        return EvidenceMap(np.repeat(parts[:, None], 4, axis=1), over_image=True)

    def weight_pictures(self, block, weights, image_shape, state=None):
        return WeightPictures("map", [np.repeat(weights[:, c:c + 1], 4, axis=1) for c in range(weights.shape[1])])


def test_a_new_block_needs_only_its_own_module(monkeypatch, real_images):
    from linviz.explore.evidence import evidence
    from linviz.training.defaults import recommended_settings
    from linviz.workbench.template_pictures import template_rows

    registry = blocks_module._REGISTRY
    monkeypatch.setitem(registry.types, "rows", _Brightness())
    monkeypatch.setitem(registry.aliases, "row_means", "rows")
    spec = parse_feature_spec("row_means:scale=2,hue")
    assert str(spec) == "rows:scale=2,hue:bins=10:sqrt=0" and block_type("rows").title == "Row brightness"
    pipeline = FeaturePipeline(spec)
    X = pipeline.fit_transform(real_images)
    assert X.shape == (len(real_images), 32 + 10 + 1)
    W = np.random.default_rng(0).normal(size=(X.shape[1], 3))
    ev = evidence(W[:, 0], X[0], pipeline)
    assert ev.blocks[0].values.shape == (32, 4) and ev.score == pytest.approx(float(X[0] @ W[:, 0]))
    rows = template_rows(W, pipeline)
    assert [name for name, _ in rows] == ["rows", "hue"] and rows[0][1][0].shape == (64, 64, 3)
    assert recommended_settings(spec)["learning_rate"] > 0


class _MeanImage(BlockType):
    """A fitted block that exists only in this test: gray pixels minus the mean gray image of
    a random half of the training images (so the seed matters)."""

    name = "centered"
    title = "Centered gray"
    summary = "gray pixels minus the training mean"
    kind = "raw"
    fitted = True
    params = (Param("size", int, 8, "side of the centered crop", 1, 32),)
    fits = 0

    def shape(self, params, image_shape):
        return (params["size"], params["size"])

    def fit(self, block, images, seed, progress=None, cancel=None):
        type(self).fits += 1
        chosen = np.random.default_rng(seed).permutation(len(images))[:max(1, len(images) // 2)]
        s = block.params["size"]
        return {"mean": images[chosen, :s, :s].mean(axis=(0, 3)).astype(np.float32)}

    def extract(self, block, images, out, state=None):
        s = block.params["size"]
        out[...] = (images[:, :s, :s].mean(axis=3) - state["mean"]).reshape(len(images), -1)

    def state_layout(self, block):
        s = block.params["size"]
        return {"mean": ("f", (s, s))}

    def check_state(self, block, state):
        mean = state["mean"]
        if not (np.isfinite(mean).all() and np.abs(mean).max() <= 255):
            raise LinvizError("the mean image must be finite values in [-255, 255]")
        return {"mean": mean.astype(np.float32)}


@pytest.fixture()
def mean_image_block(monkeypatch):
    from linviz.features.pipeline import FITTED_STATE_CACHE

    monkeypatch.setitem(blocks_module._REGISTRY.types, "centered", _MeanImage())
    FITTED_STATE_CACHE.clear()
    _MeanImage.fits = 0
    yield
    FITTED_STATE_CACHE.clear()


def test_a_fitted_block_learns_from_the_training_images_only(mean_image_block, real_images):
    train, test = real_images[:16], real_images[16:]
    p = FeaturePipeline("centered,hue")
    with pytest.raises(LinvizError, match="fit it first"):
        p.extract(train)
    Z = p.fit_transform(train)
    assert _MeanImage.fits == 1 and Z.shape == (16, 64 + 10 + 1)
    before = p.state_of(p.blocks[0])["mean"].copy()
    p.transform(test)  # other splits change nothing, and nothing is refitted
    np.testing.assert_array_equal(p.state_of(p.blocks[0])["mean"], before)
    assert _MeanImage.fits == 1 and p.state_of(p.blocks[1]) is None
    # deterministic from the seed; another seed draws another half
    same = FeaturePipeline("centered,hue", seed=0).fit_blocks(train).state_of(p.blocks[0])["mean"]
    other = FeaturePipeline("centered,hue", seed=5).fit_blocks(train).state_of(p.blocks[0])["mean"]
    np.testing.assert_array_equal(same, before)
    assert not np.array_equal(other, before)
    with pytest.raises(LinvizError, match="seed"):
        FeaturePipeline("centered", seed=-1)


def test_fitted_states_and_their_features_are_cached(mean_image_block, real_images):
    from linviz.features import FEATURE_CACHE

    FEATURE_CACHE.clear()
    a = FeaturePipeline("centered").fit_blocks(real_images, cache_key="ds/train")
    b = FeaturePipeline("centered").fit_blocks(real_images, cache_key="ds/train")
    assert _MeanImage.fits == 1 and b.state_of(b.blocks[0]) is a.state_of(a.blocks[0])
    FeaturePipeline("centered", seed=1).fit_blocks(real_images, cache_key="ds/train")
    FeaturePipeline("centered:size=4").fit_blocks(real_images, cache_key="ds/train")
    assert _MeanImage.fits == 3
    Xa = a.extract(real_images, cache_key="ds/train")
    assert b.extract(real_images, cache_key="ds/train") is Xa
    c = FeaturePipeline("centered", seed=1).fit_blocks(real_images, cache_key="ds/train")
    assert c.extract(real_images, cache_key="ds/train") is not Xa  # another state: other features


def test_a_fitted_state_is_saved_and_loaded_without_refitting(mean_image_block, real_images, tmp_path):
    from linviz.errors import ModelFileError
    from linviz.models.model_file import load_model, save_model

    p = FeaturePipeline("hue,centered:size=6")
    X = p.fit_transform(real_images)
    W = np.random.default_rng(0).normal(size=(p.dim + 1, 3)).astype(np.float32)
    path = save_model(tmp_path / "m.npz", W=W, class_names=["a", "b", "c"], pipeline=p, loss="softmax")
    fits = _MeanImage.fits
    loaded = load_model(path).pipeline
    assert _MeanImage.fits == fits
    np.testing.assert_array_equal(loaded.state_of(loaded.blocks[1])["mean"], p.state_of(p.blocks[1])["mean"])
    np.testing.assert_array_equal(loaded.transform(real_images), X)

    def rewrite(name, **changes):
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
        arrays.update(changes)
        for key in [k for k, v in changes.items() if v is None]:
            del arrays[key]
        target = tmp_path / name
        np.savez(target, **arrays)
        return target

    key = "feature_block1_mean"
    bad = np.full((6, 6), np.nan, np.float32)
    with pytest.raises(ModelFileError, match="refused"):
        load_model(rewrite("nan.npz", **{key: bad}))
    with pytest.raises(ModelFileError, match=r"needs \(6, 6\)"):
        load_model(rewrite("shape.npz", **{key: np.zeros((600, 600), np.float32)}))
    with pytest.raises(ModelFileError, match="missing"):
        load_model(rewrite("missing.npz", **{key: None}))
    with pytest.raises(ModelFileError, match="unknown feature pipeline array"):
        load_model(rewrite("stray.npz", feature_block0_mean=np.zeros((6, 6), np.float32)))
    with pytest.raises(ModelFileError, match="numbers"):
        load_model(rewrite("text.npz", **{key: np.array(["x"] * 36).reshape(6, 6)}))
