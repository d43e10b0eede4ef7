"""linviz.features: Numba kernels turning images into feature matrices, and the pipeline.

No Qt here (the GUI draws what these functions return). See docs/interfaces.md.
"""

from linviz.features.color import (
    color_layout,
    hue_histogram,
    saturation_histogram,
    value_histogram,
)
from linviz.features.glyphs import hog_cells, hog_glyphs
from linviz.features.hog_cell_histograms import BLOCK_NORMS, HOG_NORMS
from linviz.features.hog_descriptor import LUMA_WEIGHTS, hog, hog_grid, hog_length, rgb_to_gray
from linviz.features.pipeline import FEATURE_CACHE, FeatureBlock, FeaturePipeline
from linviz.features.raw import raw_pixels
from linviz.features.spec import PRESETS, FeatureItem, FeatureSpec, parse_feature_spec

__all__ = [
    "BLOCK_NORMS",
    "HOG_NORMS",
    "FEATURE_CACHE",
    "FeatureBlock",
    "FeatureItem",
    "FeaturePipeline",
    "FeatureSpec",
    "PRESETS",
    "parse_feature_spec",
    "LUMA_WEIGHTS",
    "color_layout",
    "hog",
    "hog_cells",
    "hog_glyphs",
    "hog_grid",
    "hog_length",
    "hue_histogram",
    "raw_pixels",
    "rgb_to_gray",
    "saturation_histogram",
    "value_histogram",
]
