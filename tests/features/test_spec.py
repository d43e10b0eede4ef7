"""Feature spec parsing: canonical form, presets, round trips, bad specs."""

import json

import pytest

from linviz.errors import LinvizError
from linviz.features import PRESETS, FeatureSpec, parse_feature_spec


def test_defaults_are_spelled_out_in_canonical_order():
    spec = parse_feature_spec("hue, hog:block=2:cell=4")
    assert str(spec) == "hue:bins=10:sqrt=0,hog:orient=9:cell=4:block=2:norm=L2-Hys:color=gray:sqrt=0"
    assert parse_feature_spec("hog,hue") == parse_feature_spec("hog:cell=8:block=1,hue:bins=10")


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_round_trip(name):
    spec = parse_feature_spec(name)
    assert isinstance(spec, FeatureSpec)
    assert parse_feature_spec(str(spec)) == spec
    assert FeatureSpec.from_json(spec.to_json()) == spec
    assert json.loads(spec.to_json()) == str(spec)
    assert hash(spec) == hash(parse_feature_spec(str(spec)))


def test_required_presets_exist():
    assert {"raw", "hog+hue", "best"} <= set(PRESETS)
    hh = parse_feature_spec("hog+hue")
    assert [i.name for i in hh.items] == ["hog", "hue"]
    assert hh.items[0].param("orient") == 9 and hh.items[0].param("cell") == 8 and hh.items[1].param("bins") == 10


def test_aliases_and_case():
    assert parse_feature_spec("HOG:Orientations=8:norm=l1") == parse_feature_spec("hog:orient=8:norm=L1")
    assert parse_feature_spec("saturation,value") == parse_feature_spec("sat,val")


def test_spec_is_immutable():
    spec = parse_feature_spec("hog")
    with pytest.raises(AttributeError):  # a frozen dataclass's FrozenInstanceError is one
        spec.items = ()


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("sift", "unknown feature"),
        ("hog:cell", "key=value"),
        ("hog:cell=x", "whole number"),
        ("hog:cell=0", "between"),
        ("hog:norm=L3", "one of"),
        ("hog:size=3", "no parameter"),
        ("hog,,hue", "empty item"),
        ("hog,hog", "twice"),
        ("hog:cell=4:cell=8", "twice"),
    ],
)
def test_bad_specs(text, message):
    with pytest.raises(LinvizError, match=message):
        parse_feature_spec(text)
