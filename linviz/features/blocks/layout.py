"""``layout``: the image averaged down to a coarse grid of RGB cells."""

from __future__ import annotations

from linviz.errors import LinvizError
from linviz.features.blocks.base import BlockType, EvidenceMap, Param, WeightPictures
from linviz.features.color import color_layout


class ColorLayout(BlockType):
    name = "layout"
    title = "Color layout"
    summary = "the image averaged to grid x grid RGB cells"
    kind = "layout"
    aliases = ("color_layout",)
    pixel_like = True
    params = (Param("grid", int, 4, "cells a side", 1, 256),)

    def shape(self, params, image_shape):
        h, w = image_shape
        g = params["grid"]
        if g > h or g > w:
            raise LinvizError(f"feature spec: layout:grid={g} is larger than the {h}x{w} images")
        return (g, g, 3)

    def extract(self, block, images, out, state=None):
        out[...] = color_layout(images, block.params["grid"])

    def evidence_map(self, block, parts, state=None):
        return EvidenceMap(parts.reshape(block.shape).sum(axis=2), over_image=True)

    def weight_pictures(self, block, weights, image_shape, state=None):
        return WeightPictures("rgb", [weights[:, c].reshape(block.shape) for c in range(weights.shape[1])],
                              per_class=True)

    def short_name(self, block):
        grid = block.params["grid"]
        return f"layout {grid}x{grid}"

    def reading(self, block):
        return "color layout: the coarse color grid, stretched per class"


BLOCK = ColorLayout()
