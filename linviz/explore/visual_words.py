"""The visual words lab's computations (no Qt): the codebook as pictures, its order, and where
each word fires in one image.

The codebook of a ``words`` feature block (:mod:`linviz.features.visual_words`) holds k
whitened patches; undoing the whitening shows each word as the patch it stands for. A word
*fires* on a patch when the patch is nearer to it than to the average word (the triangle
activation ``max(0, mean_j z_j - z_k)`` is then positive); an image's feature for the word is
that activation summed over each pooling region.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from linviz.features.blocks.words import codebook_of, patch_pictures
from linviz.features.visual_words import activation_maps

# How the codebook can be ordered: key -> what the order means
ORDERS = {
    "activation": "fires most on the training images first (mean activation per image)",
    "count": "nearest to the most training patches first (k-means cluster size)",
    "index": "in codebook order",
}


@dataclass(frozen=True)
class CodebookPictures:
    """A fitted words block's codebook, ready to draw and sort."""

    block: object  # the FeatureBlock
    pictures: np.ndarray  # uint8 (k, patch, patch, 3), each word stretched to 0..255
    counts: np.ndarray  # (k,) training patches nearest to each word in the fit
    mean_activation: Optional[np.ndarray]  # (k,) mean over training images of the summed activation
    losses: np.ndarray  # the k-means loss after each iteration

    @property
    def k(self) -> int:
        return int(self.pictures.shape[0])

    def order(self, by: str = "activation") -> np.ndarray:
        """Word indices in the order ``by`` (a key of :data:`ORDERS`), ties by index."""
        if by not in ORDERS:
            raise ValueError(f"unknown order {by!r}; choose from {', '.join(ORDERS)}")
        if by == "index" or (by == "activation" and self.mean_activation is None):
            return np.arange(self.k)
        values = self.counts if by == "count" else self.mean_activation
        return np.argsort(-np.asarray(values, dtype=np.float64), kind="stable")

    def describe(self, word: int) -> str:
        """'word 12: nearest to 0.41% of the training patches, fires 3.2 per image'."""
        total = max(1, int(self.counts.sum()))
        text = f"word {word}: nearest to {100.0 * self.counts[word] / total:.2f}% of the training patches"
        if self.mean_activation is not None:
            text += f"; activation {self.mean_activation[word]:.3g} per training image"
        return text


def words_blocks(pipeline) -> list:
    """The fitted words blocks of a pipeline (empty when it has none or is not fitted)."""
    if pipeline is None or getattr(pipeline, "_blocks", None) is None:
        return []
    return [b for b in pipeline.blocks if b.feature == "words" and pipeline.state_of(b) is not None]


def codebook_pictures(pipeline, block) -> CodebookPictures:
    """The codebook of ``block`` (a fitted words block of ``pipeline``) as pictures; the mean
    activations come from the standardization's means (the training images' mean features)."""
    state = pipeline.state_of(block)
    codebook = codebook_of(state, block.params["patch"])
    mean_activation = None
    if getattr(pipeline, "mean_", None) is not None:
        mean_activation = np.asarray(pipeline.mean_[block.start:block.stop], dtype=np.float64) \
            .reshape(block.shape).sum(axis=(0, 1))
    return CodebookPictures(block, patch_pictures(codebook), np.asarray(codebook.counts),
                            mean_activation, np.asarray(codebook.losses))


@dataclass(frozen=True)
class WordFiring:
    """Where every word fires in one image."""

    maps: np.ndarray  # (rows, cols, k) triangle activation at each patch position
    totals: np.ndarray  # (k,) the image's activation of each word, summed over the positions
    patch: int
    stride: int

    @property
    def strongest(self) -> np.ndarray:
        """Word indices, the image's strongest first."""
        return np.argsort(-self.totals, kind="stable")

    def pixel_map(self, word: int, image_shape) -> np.ndarray:
        """(H, W) float32: the word's activation at each pixel, averaged over the patches that
        cover it (pixels no patch covers are 0)."""
        h, w = int(image_shape[0]), int(image_shape[1])
        rows, cols = self.maps.shape[:2]
        total = np.zeros((h, w), dtype=np.float64)
        covered = np.zeros((h, w), dtype=np.float64)
        values = self.maps[:, :, word].astype(np.float64)
        for dy in range(self.patch):
            for dx in range(self.patch):
                ys = slice(dy, dy + rows * self.stride, self.stride)
                xs = slice(dx, dx + cols * self.stride, self.stride)
                total[ys, xs] += values
                covered[ys, xs] += 1.0
        return (total / np.maximum(covered, 1.0)).astype(np.float32)


def where_words_fire(image: np.ndarray, pipeline, block) -> WordFiring:
    """Every word's activation at every patch position of one uint8 RGB image."""
    state = pipeline.state_of(block)
    p = block.params
    maps = activation_maps(image, codebook_of(state, p["patch"]), p["stride"])
    return WordFiring(maps, maps.sum(axis=(0, 1)), int(p["patch"]), int(p["stride"]))


def firing_picture(image: np.ndarray, values: np.ndarray, peak: Optional[float] = None) -> np.ndarray:
    """The image dimmed where the word is quiet and lit in orange where it fires: uint8 RGB."""
    peak = float(np.max(values)) if peak is None else float(peak)
    strength = np.clip(np.asarray(values, dtype=np.float32) / (peak if peak > 0 else 1.0), 0.0, 1.0)[..., None]
    gray = np.asarray(image, dtype=np.float32).mean(axis=2, keepdims=True)
    dim = 0.35 * gray + 0.65 * 255.0 * 0.15
    lit = (1.0 - 0.6 * strength) * np.asarray(image, dtype=np.float32) + 0.6 * strength * np.array([255, 140, 0])
    return np.clip(np.round(dim * (1.0 - strength) + lit * strength), 0, 255).astype(np.uint8)
