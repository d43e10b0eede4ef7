"""``words``: a bag of visual words learned from the training images (Coates, Lee & Ng 2011;
the algorithm is :mod:`linviz.features.visual_words`).

The block is *fitted*: its codebook (k words, each a whitened patch) and the whitening come
from random patches of the training split, are saved in the model file, and are checked on
load like any array there. Its features are each word's triangle activation summed over the
cells of a ``pool`` x ``pool`` grid of the image, and with ``sqrt`` (the default) the square
root of each sum: ``(pool, pool, k)``. The square root is the power normalization of
bag-of-words features (Perronnin, Sanchez & Mensink 2010): a word that fires all over an image
counts for less than its raw sum, one that fires in a few places for more; on CIFAR-10 it
gains about half a point of test accuracy (docs/benchmarks.md, "Visual words").
"""

from __future__ import annotations

import numpy as np

from linviz.errors import LinvizError
from linviz.features.blocks.base import BlockType, EvidenceMap, Param, WeightPictures, for_and_against_mosaic
from linviz.features.visual_words import Codebook, encode, fit_codebook, patch_grid, unwhitened_patches

# What a genuine state can hold: normalized patches are within +-sqrt(D) ~ 28 of zero and the
# whitening scales by at most 1 / sqrt(0.1); far larger values can only come from a forged
# file (and would overflow the float32 distances).
MAX_STATE_VALUE = 1e4
WORDS_PER_SIDE = 4  # a class's template: 4 x 4 words, the 8 strongest for it above the 8 against


def codebook_of(state: dict, patch: int) -> Codebook:
    """The :class:`Codebook` of a words block's state."""
    return Codebook(patch, state["mean"], state["whitening"], state["codebook"], state["counts"], state["losses"])


def patch_pictures(codebook: Codebook) -> np.ndarray:
    """The words as uint8 RGB patches (k, patch, patch, 3), each stretched to 0..255."""
    patches = unwhitened_patches(codebook)
    lo = patches.min(axis=(1, 2, 3), keepdims=True)
    hi = patches.max(axis=(1, 2, 3), keepdims=True)
    return np.round((patches - lo) / np.where(hi > lo, hi - lo, 1.0) * 255).astype(np.uint8)


class VisualWords(BlockType):
    name = "words"
    title = "Visual words"
    summary = ("bag of visual words (Coates, Lee & Ng 2011): k-means words of whitened patches, "
               "triangle activations pooled over a grid")
    kind = "words"
    aliases = ("visual_words", "bow")
    fitted = True
    column_scaled = True  # the words fire at very different rates: each column on its own scale
    chunk_images = 1024  # about a second a chunk at k = 1,600: progress and Cancel respond
    params = (
        Param("k", int, 1600, "codebook size (words)", 2, 8192),
        Param("patch", int, 6, "patch side in pixels", 2, 16),
        Param("stride", int, 1, "pixels between patches when encoding", 1, 16),
        Param("pool", int, 2, "pooling grid a side (2 = the four quadrants)", 1, 8),
        Param("samples", int, 400_000, "random training patches for the codebook", 1000, 2_000_000),
        Param("iters", int, 50, "k-means iterations", 1, 200),
        Param("whiten", int, 1, "ZCA-whiten the patches", 0, 1),
        Param("sqrt", int, 1, "square root of each pooled sum (frequent words weigh less)", 0, 1),
    )

    def shape(self, params, image_shape):
        rows, cols = patch_grid(image_shape, params["patch"], params["stride"])
        if params["pool"] > min(rows, cols):
            raise LinvizError(f"feature spec: words:pool={params['pool']} needs at least that many patch "
                              f"positions a side; {image_shape[0]}x{image_shape[1]} images give {rows}x{cols}")
        if params["samples"] < params["k"]:
            raise LinvizError(f"feature spec: words:samples={params['samples']} is fewer than k={params['k']}")
        return (params["pool"], params["pool"], params["k"])

    def layout_params(self, params, image_shape):
        return {**params, "grid": patch_grid(image_shape, params["patch"], params["stride"]),
                "image_shape": tuple(image_shape)}

    def warm_up_params(self, params):
        return {**params, "k": 8, "samples": 1000, "iters": 1}

    # ----------------------------------------------------------------- fitting and state
    def fit(self, block, images, seed, progress=None, cancel=None):
        p = block.params
        book = fit_codebook(images, p["k"], p["patch"], p["samples"], p["iters"], seed, whiten=bool(p["whiten"]),
                            progress=progress, cancel=cancel)
        return {"mean": book.mean, "whitening": book.whitening, "codebook": book.centroids,
                "counts": book.counts.astype(np.int64), "losses": book.losses.astype(np.float64)}

    def state_layout(self, block):
        p = block.params
        d = p["patch"] * p["patch"] * 3
        return {"mean": ("f", (d,)), "whitening": ("f", (d, d)), "codebook": ("f", (p["k"], d)),
                "counts": ("iu", (p["k"],)), "losses": ("f", (p["iters"],))}

    def check_state(self, block, state):
        checked = {}
        for name in ("mean", "whitening", "codebook"):
            with np.errstate(over="ignore", invalid="ignore"):  # beyond float32's range: inf, refused below
                values = np.asarray(state[name], dtype=np.float32)
            if not np.isfinite(values).all():
                raise LinvizError(f"the {name} holds NaN or infinite values")
            if values.size and float(np.max(np.abs(values))) > MAX_STATE_VALUE:
                raise LinvizError(f"the {name} holds values beyond +-{MAX_STATE_VALUE:g}")
            checked[name] = np.ascontiguousarray(values)
        counts = np.asarray(state["counts"])
        # summed as floats: whole numbers near 2**63 would wrap around in an integer sum
        if counts.size and (counts.min() < 0 or counts.sum(dtype=np.float64) > block.params["samples"]):
            raise LinvizError(f"the word counts must be >= 0 and add up to at most {block.params['samples']:,}")
        losses = np.asarray(state["losses"], dtype=np.float64)
        if not (np.isfinite(losses).all() and np.all(losses >= 0)):
            raise LinvizError("the k-means losses must be finite and >= 0")
        checked["counts"], checked["losses"] = counts.astype(np.int64), losses
        return checked

    # ----------------------------------------------------------------- extraction
    def extract(self, block, images, out, state=None):
        p = block.params
        encode(images, codebook_of(state, p["patch"]), p["stride"], p["pool"], out=out)

    # ----------------------------------------------------------------- reading
    def evidence_map(self, block, parts, state=None):
        """The score's share of each pooling region (over the image), and of each word (summed
        over the regions), the largest first."""
        values = np.asarray(parts, dtype=np.float64).reshape(block.shape)
        per_word = values.sum(axis=(0, 1))
        order = np.argsort(-np.abs(per_word), kind="stable")
        return EvidenceMap(values.sum(axis=2), over_image=True,
                           parts=tuple((int(j), float(per_word[j])) for j in order))

    def weight_pictures(self, block, weights, image_shape, state=None):
        """Per class: its words with the most positive weights (summed over the regions) above,
        the most negative below, as patches."""
        if state is None:
            return WeightPictures("bars", [weights[:, c] for c in range(weights.shape[1])])
        pictures = patch_pictures(codebook_of(state, block.params["patch"]))
        per_word = np.asarray(weights, dtype=np.float64).reshape(*block.shape, -1).sum(axis=(0, 1))
        half = WORDS_PER_SIDE * WORDS_PER_SIDE // 2
        mosaics = []
        for c in range(per_word.shape[1]):
            order = np.argsort(-per_word[:, c], kind="stable")
            mosaics.append(for_and_against_mosaic(pictures, order[:half], order[::-1][:half], WORDS_PER_SIDE))
        return WeightPictures("patches", mosaics)

    def part_pictures(self, block, state=None):
        return None if state is None else patch_pictures(codebook_of(state, block.params["patch"]))

    def short_name(self, block):
        return f"words {block.params['k']}"

    def reading(self, block):
        return "visual words: each class's 8 strongest words for it (red, top) and against it (blue, bottom)"


BLOCK = VisualWords()
