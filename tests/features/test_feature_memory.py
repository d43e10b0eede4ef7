"""A valid but enormous feature spec is refused up front, with the figure, before any allocation."""

from __future__ import annotations

import numpy as np
import pytest

from linviz.errors import LinvizError
from linviz.features import FeaturePipeline

ENORMOUS = "hog:cell=1:block=16:orient=180"   # 13,317,120 features per 32x32 image


def test_an_enormous_spec_is_refused_with_the_figure():
    images = np.zeros((10_000, 32, 32, 3), np.uint8)   # would need 533 GB
    pipeline = FeaturePipeline(ENORMOUS)
    with pytest.raises(LinvizError) as info:
        pipeline.extract(images)
    message = str(info.value)
    assert "10,000 images x 13,317,120 features need 496.1 GiB" in message
    assert "more than half of this machine's memory" in message


def test_the_bound_is_half_of_the_memory(monkeypatch):
    import linviz.features.pipeline as pipeline_module

    images = np.zeros((10, 32, 32, 3), np.uint8)
    pipeline = FeaturePipeline("hue:bins=10")
    monkeypatch.setattr(pipeline_module, "memory_limit", lambda: 10 * 10 * 4)
    assert pipeline.extract(images).shape == (10, 10)
    monkeypatch.setattr(pipeline_module, "memory_limit", lambda: 10 * 10 * 4 - 1)
    with pytest.raises(LinvizError, match="need 400 bytes"):
        pipeline.extract(images)
