"""``raw``: the pixels themselves in [0, 1], optionally gray and/or averaged down."""

from __future__ import annotations


from linviz.errors import LinvizError
from linviz.features.blocks.base import BlockType, EvidenceMap, Param, WeightPictures
from linviz.features.raw import raw_pixels


class RawPixels(BlockType):
    name = "raw"
    title = "Raw pixels"
    summary = "raw pixels in [0, 1]"
    kind = "raw"
    aliases = ("pixels",)
    pixel_like = True
    params = (
        Param("gray", int, 0, "BT.601 luma instead of RGB", 0, 1, aliases=("grayscale",)),
        Param("size", int, 0, "average down to size x size first; 0 = keep", 0, 1024),
    )

    def shape(self, params, image_shape):
        h, w = image_shape
        size = params["size"]
        if size and (size > h or size > w):
            raise LinvizError(f"feature spec: raw:size={size} is larger than the {h}x{w} images")
        hh, ww = (size, size) if size else (h, w)
        return (hh, ww) if params["gray"] else (hh, ww, 3)

    def extract(self, block, images, out, state=None):
        p = block.params
        out[...] = raw_pixels(images, grayscale=bool(p["gray"]), size=p["size"] or None)

    def evidence_map(self, block, parts, state=None):
        values = parts.reshape(block.shape)
        return EvidenceMap(values.sum(axis=2) if values.ndim == 3 else values, over_image=True)

    def weight_pictures(self, block, weights, image_shape, state=None):
        style = "rgb" if len(block.shape) == 3 else "map"
        return WeightPictures(style, [weights[:, c].reshape(block.shape) for c in range(weights.shape[1])],
                              per_class=True)

    def short_name(self, block):
        return "raw"

    def reading(self, block):
        if len(block.shape) == 3:
            return "raw pixels: the RGB template, stretched per class"
        return "raw pixels: red = evidence for the class, blue = against"


BLOCK = RawPixels()
