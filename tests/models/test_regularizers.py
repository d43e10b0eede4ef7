"""The table of the penalties: complete, and its properties say what R(W) is."""

import dataclasses

import numpy as np
import pytest

from linviz.models.regularizers import REG_CODES, REG_TYPES, RegularizerSpec, regularization, regularizer_named


def test_every_penalty_has_every_field():
    assert list(REG_TYPES) == ["l2", "l1", "elastic"]
    for name, spec in REG_TYPES.items():
        assert spec.name == name
        for field in dataclasses.fields(RegularizerSpec):
            value = getattr(spec, field.name)
            assert value is not None and (not isinstance(value, str) or value.strip()), (name, field.name)
    assert sorted(REG_CODES.values()) == list(range(len(REG_TYPES)))


@pytest.mark.parametrize("name", list(REG_TYPES))
def test_the_properties_rebuild_the_penalty(name):
    spec = REG_TYPES[name]
    W = np.random.default_rng(0).standard_normal((6, 3))
    beta = 0.7
    expected = ((beta if spec.uses_beta else 1.0) * np.sum(W ** 2) * spec.squares
                + np.sum(np.abs(W)) * spec.absolute_values)
    value, _ = regularization(W, 2.0, name, beta)
    assert value == pytest.approx(2.0 * expected, rel=1e-12)


def test_an_unknown_penalty_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="choose from l2, l1, elastic"):
        regularizer_named("l3")
