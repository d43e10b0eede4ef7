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
