"""``hue``, ``sat``, ``val``: HSV histograms of the whole image (hue votes weighted by
chroma, so gray pixels do not vote)."""

from __future__ import annotations

import numpy as np

from linviz.features.blocks.base import BlockType, EvidenceMap, Param, WeightPictures
from linviz.features.color import hue_histogram, saturation_histogram, value_histogram


class Histogram(BlockType):
    kind = "hist"

    def __init__(self, name, title, summary, aliases, function):
        self.name, self.title, self.summary, self.aliases = name, title, summary, aliases
        self._function = function
        self.params = (Param("bins", int, 10, "histogram bins", 1, 360),
                       Param("sqrt", int, 0, "square root of each value (power normalization)", 0, 1))

    def shape(self, params, image_shape):
        return (params["bins"],)

    def layout_params(self, params, image_shape):
        return {**params, "channel": self.name}

    def extract(self, block, images, out, state=None):
        out[...] = self._function(images, block.params["bins"])

    def evidence_map(self, block, parts, state=None):
        return EvidenceMap(np.asarray(parts, dtype=np.float64), over_image=False,
                           colors="hue" if self.name == "hue" else None)

    def weight_pictures(self, block, weights, image_shape, state=None):
        return WeightPictures("bars", [weights[:, c] for c in range(weights.shape[1])],
                              colors="hue" if self.name == "hue" else None)


HUE = Histogram("hue", "Hue histogram", "chroma-weighted HSV hue histogram", ("hue_histogram",), hue_histogram)
SATURATION = Histogram("sat", "Saturation histogram", "HSV saturation histogram", ("saturation",),
                       saturation_histogram)
VALUE = Histogram("val", "Value histogram", "HSV value (brightness) histogram", ("value",), value_histogram)
BLOCKS = (HUE, SATURATION, VALUE)
