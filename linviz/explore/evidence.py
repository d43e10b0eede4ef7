"""Evidence maps: where a class's score comes from, drawn back onto the image.

A linear score is a sum of products, s = sum_k w_k x_k + b. The model sees standardized
features x_k = (f_k - mean_k) / scale_k. Taken literally, a black pixel (f = 0) would then
carry evidence -w_k mean_k / scale_k, which reads as nonsense on a picture. So each
feature's mean is folded into the bias:

    s = sum_k  w_k f_k / scale_k   +   (b - sum_k w_k mean_k / scale_k)
        \\_____ contribution _____/     \\_________ bias term ________/

and a feature that is absent contributes nothing. The contributions are summed back onto what
each feature block describes: pixels (over RGB), HOG cells (over orientations and over every
block that contains the cell), histogram bins, color-layout cells (over RGB). The blocks'
totals plus the bias term equal the score exactly (up to float64 rounding).

Passing a difference of two classes' weights, w_a - w_b, gives the map of "why a rather than
b" for this image.

With ``relative_to=AVERAGE_IMAGE`` the same score is split another way: the bias term is the
score of the average training image (the features' mean, which standardization subtracts),
and each contribution is what this image's feature adds compared with that average,
w_k (f_k - mean_k) / scale_k. Folded into the bias, the means of hundreds of features make a
bias of +-25 beside scores of +-3, and every block's bar is one half of a large cancelling
pair; relative to the average image the bars say what drives this image's score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BlockEvidence:
    name: str  # the block's spec, e.g. "hog:orient=9:cell=8:..."
    kind: str  # "raw" | "hog" | "hist" | "layout"
    values: np.ndarray  # the map: (H, W) pixels, (cell rows, cell cols), (bins,), or (g, g)
    total: float  # the block's share of the score


@dataclass(frozen=True)
class Evidence:
    blocks: list[BlockEvidence]
    bias: float  # the bias term with every feature mean folded in
    score: float  # sum of the block totals plus the bias: equals w . x

    def totals(self) -> dict[str, float]:
        return {b.name: b.total for b in self.blocks}


ABSENT = "absent"  # contributions against an absent feature (f = 0): every mean folded into the bias
AVERAGE_IMAGE = "average image"  # against the average training image: the bias is its score
BASELINES = (ABSENT, AVERAGE_IMAGE)


def contributions(w, x, mean, scale, relative_to: str = ABSENT) -> tuple[np.ndarray, float]:
    """Per-feature contributions (D,) and the bias term (float64): w_k f_k / scale_k and the
    bias with the means folded in, or (``relative_to=AVERAGE_IMAGE``) w_k x_k, the difference
    from the average training image, and the average image's score.

    ``w`` and ``x`` have the bias last (D + 1,); ``mean`` and ``scale`` are the pipeline's (D,).
    """
    if relative_to not in BASELINES:
        raise ValueError(f"relative_to must be one of {BASELINES}, got {relative_to!r}")
    w = np.asarray(w, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    mean = np.asarray(mean, dtype=np.float64)
    scale = np.asarray(scale, dtype=np.float64)
    d = len(mean)
    if w.shape != (d + 1,) or x.shape != (d + 1,) or scale.shape != (d,):
        raise ValueError(f"w {w.shape} and x {x.shape} need {d} features plus the bias")
    if relative_to == AVERAGE_IMAGE:  # standardized features are 0 at the training mean
        return w[:d] * x[:d], float(w[d] * x[d])
    folded = mean / scale
    parts = w[:d] * (x[:d] + folded)
    bias = float(w[d] * x[d] - np.dot(w[:d], folded))
    return parts, bias


def _block_map(block, parts: np.ndarray) -> np.ndarray:
    values = parts[block.start:block.stop].reshape(block.shape)
    if block.kind in ("raw", "layout"):
        return values.sum(axis=2) if values.ndim == 3 else values
    if block.kind == "hog":
        nbr, nbc, b, _, _ = block.shape
        ncr, ncc = block.params["cells"]
        cells = np.zeros((ncr, ncc))
        per_cell = values.sum(axis=4)  # (nbr, nbc, b, b)
        for i in range(b):
            for j in range(b):
                cells[i:i + nbr, j:j + nbc] += per_cell[:, :, i, j]
        return cells
    return values  # histograms: one value per bin


def evidence(w, x, pipeline, relative_to: str = ABSENT) -> Evidence:
    """The evidence of weights ``w`` (D + 1,) for features ``x`` (D + 1,) of ``pipeline``
    (a fitted FeaturePipeline: its blocks, ``mean_`` and ``scale_``), against an absent
    feature or the average training image (``relative_to``, see :func:`contributions`)."""
    parts, bias = contributions(w, x, pipeline.mean_, pipeline.scale_, relative_to)
    blocks = [BlockEvidence(b.name, b.kind, _block_map(b, parts), float(parts[b.start:b.stop].sum()))
              for b in pipeline.blocks]
    return Evidence(blocks, bias, float(sum(b.total for b in blocks) + bias))
