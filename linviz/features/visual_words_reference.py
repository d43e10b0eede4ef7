"""The bag of visual words in plain NumPy: the same algorithm as
:mod:`linviz.features.visual_words`, written the way one would in NumPy (vectorized over a
batch of images, BLAS matrix products with NumPy's own threads, whole-array ufuncs). The tests
check the kernels against it; the benchmark times both.
"""

from __future__ import annotations

import numpy as np

from linviz.features.visual_words import NORMALIZE_EPS, WHITEN_EPS, Codebook, patch_grid

BATCH_IMAGES = 8


def normalize(patches: np.ndarray) -> np.ndarray:
    """Each row minus its mean, divided by sqrt(its variance (ddof 1) + 10); float32."""
    P = np.asarray(patches, dtype=np.float64)
    mean = P.mean(axis=1, keepdims=True)
    var = P.var(axis=1, ddof=1, keepdims=True)
    return ((P - mean) / np.sqrt(var + NORMALIZE_EPS)).astype(np.float32)


def sample_patches(images: np.ndarray, count: int, patch: int, seed: int) -> np.ndarray:
    """The same random patches as :func:`linviz.features.visual_words.sample_patches`."""
    n, h, w = images.shape[:3]
    rng = np.random.default_rng(seed)
    which = rng.integers(0, n, count)
    ys = rng.integers(0, h - patch + 1, count)
    xs = rng.integers(0, w - patch + 1, count)
    offsets = np.arange(patch)
    rows = (ys[:, None] + offsets)[:, :, None]
    cols = (xs[:, None] + offsets)[:, None, :]
    patches = images[which[:, None, None], rows, cols]  # (count, patch, patch, 3)
    return normalize(patches.reshape(count, -1))


def whiten(patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X = patches.astype(np.float64)
    mean = X.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X, rowvar=False))
    whitening = vectors @ np.diag(1.0 / np.sqrt(np.maximum(values, 0.0) + WHITEN_EPS)) @ vectors.T
    return mean.astype(np.float32), whitening.astype(np.float32)


def kmeans(X: np.ndarray, k: int, iterations: int, seed: int, chunk: int = 4096):
    """Lloyd's k-means, the same start and re-seeding as the kernels' version."""
    X = np.asarray(X, dtype=np.float32)
    n = len(X)
    rng = np.random.default_rng(seed)
    centroids = X[np.sort(rng.choice(n, k, replace=False))].copy()
    norms = np.einsum("nd,nd->n", X.astype(np.float64), X.astype(np.float64))
    losses = []
    counts = np.zeros(k, dtype=np.int64)
    for _ in range(iterations):
        cc = (centroids ** 2).sum(axis=1)
        labels = np.empty(n, dtype=np.int64)
        best = np.empty(n, dtype=np.float64)
        for lo in range(0, n, chunk):
            d = cc - 2.0 * (X[lo:lo + chunk] @ centroids.T)
            labels[lo:lo + chunk] = np.argmin(d, axis=1)
            best[lo:lo + chunk] = d[np.arange(len(d)), labels[lo:lo + chunk]]
        losses.append(float(np.sum(norms + best)) / n)
        counts = np.bincount(labels, minlength=k)
        sums = np.zeros((k, X.shape[1]))
        np.add.at(sums, labels, X)
        centroids = (sums / np.maximum(counts, 1)[:, None]).astype(np.float32)
        empty = np.flatnonzero(counts == 0)
        if len(empty):
            centroids[empty] = X[rng.choice(n, len(empty), replace=False)]
    return centroids, counts, np.asarray(losses)


def fit_codebook(images, k, patch, samples, iterations, seed) -> Codebook:
    patches = sample_patches(images, samples, patch, seed)
    mean, whitening = whiten(patches)
    centroids, counts, losses = kmeans((patches - mean) @ whitening, k, iterations, seed + 1)
    return Codebook(patch, mean, whitening, centroids, counts, losses)


def _regions(count: int, pool: int) -> list[slice]:
    """The patch rows (or columns) of each pooling cell: position a goes to a * pool // count."""
    owner = np.arange(count) * pool // count
    return [slice(int(np.argmax(owner == r)), int(count - np.argmax(owner[::-1] == r))) for r in range(pool)]


def encode(images: np.ndarray, codebook: Codebook, stride: int, pool: int,
           batch: int = BATCH_IMAGES) -> np.ndarray:
    """Pooled triangle activations, float32 (N, pool * pool * k), as ``visual_words.encode``:
    a batch of images at a time, every step one whole-array NumPy operation, in place where
    NumPy allows it."""
    images = np.asarray(images)
    n, h, w = images.shape[:3]
    p, k = codebook.patch, codebook.k
    rows, cols = patch_grid((h, w), p, stride)
    centroids = codebook.centroids.astype(np.float32)
    minus_two_ct = np.ascontiguousarray(-2.0 * centroids.T)
    cc = (centroids ** 2).sum(axis=1)
    row_cells, col_cells = _regions(rows, pool), _regions(cols, pool)
    out = np.empty((n, pool, pool, k), dtype=np.float32)
    for lo in range(0, n, batch):
        x = images[lo:lo + batch]
        m = len(x)
        windows = np.lib.stride_tricks.sliding_window_view(x, (p, p), axis=(1, 2))[:, ::stride, ::stride]
        patches = windows.transpose(0, 1, 2, 4, 5, 3).reshape(-1, p * p * 3).astype(np.float32)
        patches -= patches.mean(axis=1, keepdims=True)
        patches /= np.sqrt(patches.var(axis=1, ddof=1, keepdims=True) + np.float32(NORMALIZE_EPS))
        patches -= codebook.mean
        white = patches @ codebook.whitening
        z = white @ minus_two_ct
        z += np.einsum("nd,nd->n", white, white)[:, None]
        z += cc
        np.maximum(z, 0.0, out=z)
        np.sqrt(z, out=z)
        np.subtract(z.mean(axis=1, keepdims=True), z, out=z)
        np.maximum(z, 0.0, out=z)
        f = z.reshape(m, rows, cols, k)
        for a, row_cell in enumerate(row_cells):
            for b, col_cell in enumerate(col_cells):
                out[lo:lo + m, a, b] = f[:, row_cell, col_cell].sum(axis=(1, 2))
    return out.reshape(n, -1)
