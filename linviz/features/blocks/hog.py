"""``hog``: histograms of oriented gradients (Dalal-Triggs, equal to scikit-image's)."""

from __future__ import annotations

import numpy as np

from linviz.features.blocks.base import BlockType, EvidenceMap, JointExtraction, Param, WeightPictures
from linviz.features.glyphs import hog_glyphs
from linviz.features.hog_cell_histograms import HOG_NORMS
from linviz.features.hog_descriptor import hog, hog_and_hue, hog_grid, hog_max_scales

# How strong a template's strokes are drawn: 60% of the strongest stroke is full color, so
# that typical strokes show and not only the single strongest one.
GLYPH_PEAK_FRACTION = 0.6


class Hog(BlockType):
    name = "hog"
    title = "HOG"
    summary = "histograms of oriented gradients"
    kind = "hog"
    params = (
        Param("orient", int, 9, "orientation bins over 0-180 degrees", 1, 180, aliases=("orientations",)),
        Param("cell", int, 8, "cell size in pixels", 1, 256, aliases=("pixels_per_cell",)),
        Param("block", int, 1, "cells per normalization block (a side)", 1, 16, aliases=("cells_per_block",)),
        Param("norm", str, "L2-Hys", "block normalization; none = the course's unnormalized cells",
              choices=HOG_NORMS, aliases=("block_norm",)),
        Param("color", str, "gray", "gray = luma gradients, max = the strongest channel's gradient",
              choices=("gray", "max")),
        Param("sqrt", int, 0, "square root of each value (power normalization)", 0, 1),
    )

    def shape(self, params, image_shape):
        _, _, nbr, nbc = hog_grid(image_shape, params["cell"], params["block"])
        return (nbr, nbc, params["block"], params["block"], params["orient"])

    def layout_params(self, params, image_shape):
        ncr, ncc, _, _ = hog_grid(image_shape, params["cell"], params["block"])
        return {**params, "cells": (ncr, ncc), "image_shape": tuple(image_shape)}

    def extract(self, block, images, out, state=None):
        p = block.params
        out[...] = hog(images, p["orient"], p["cell"], p["block"], p["norm"], channel_max=p["color"] == "max")

    def joint_extractions(self, blocks):
        """The luma HOG and the hue histogram in one pass over each image (the first of each
        in the spec); the strongest-channel HOGs of one orientation count at every cell size
        from one gradient pass per image."""
        joint = []
        luma = next((b for b in blocks if b.feature == "hog" and b.params["color"] != "max"), None)
        hue = next((b for b in blocks if b.feature == "hue"), None)
        if luma is not None and hue is not None:
            def hog_with_hue(chunk, rows, luma=luma, hue=hue):
                p = luma.params
                hog_and_hue(chunk, rows, luma.start, hue.start, p["orient"], p["cell"], p["block"], p["norm"],
                            hue.params["bins"])
            joint.append(JointExtraction((luma, hue), hog_with_hue))
        groups: dict[int, list] = {}
        for b in blocks:
            if b.feature == "hog" and b.params["color"] == "max":
                groups.setdefault(int(b.params["orient"]), []).append(b)
        for orientations, group in groups.items():
            def max_scales(chunk, rows, group=tuple(group), orientations=orientations):
                hog_max_scales(chunk, rows, [(b.start, b.params["cell"], b.params["block"], b.params["norm"])
                                             for b in group], orientations)
            joint.append(JointExtraction(tuple(group), max_scales))
        return joint

    def evidence_map(self, block, parts, state=None):
        """Each cell's share, over its orientations and every block that contains it."""
        values = parts.reshape(block.shape)
        nbr, nbc, b, _, _ = block.shape
        ncr, ncc = block.params["cells"]
        cells = np.zeros((ncr, ncc))
        per_cell = values.sum(axis=4)  # (nbr, nbc, b, b)
        for i in range(b):
            for j in range(b):
                cells[i:i + nbr, j:j + nbc] += per_cell[:, :, i, j]
        return EvidenceMap(cells, over_image=True)

    def weight_pictures(self, block, weights, image_shape, state=None):
        """Per class: the glyphs of the positive weights minus those of the negative ones."""
        p = block.params
        kwargs = dict(image_shape=tuple(p.get("image_shape", image_shape)), orientations=int(p["orient"]),
                      pixels_per_cell=int(p["cell"]), cells_per_block=int(p["block"]))
        pictures = []
        for c in range(weights.shape[1]):
            w = weights[:, c].astype(np.float32)
            positive = np.asarray(hog_glyphs(np.maximum(w, 0), **kwargs), dtype=np.float32)
            negative = np.asarray(hog_glyphs(np.maximum(-w, 0), **kwargs), dtype=np.float32)
            pictures.append(positive - negative)
        return WeightPictures("map", pictures, peak_fraction=GLYPH_PEAK_FRACTION)

    def short_name(self, block):
        return f"hog {block.params['cell']}px"

    def reading(self, block):
        return "HOG: edge directions, red = evidence for the class, blue = against"


BLOCK = Hog()
