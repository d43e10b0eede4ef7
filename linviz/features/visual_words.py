"""Bag of visual words, after Coates, Lee & Ng (2011), "An Analysis of Single-Layer Networks
in Unsupervised Feature Learning": features learned from the training images.

1. **Patches.** Random ``patch`` x ``patch`` x 3 patches of the training images, each
   normalized for brightness and contrast: ``(p - mean(p)) / sqrt(var(p) + 10)`` over its
   values (0-255 scale; the 10 keeps flat patches from being blown up into noise).
2. **Whitening (ZCA).** ``x -> (x - m) W`` with ``W = V diag(1 / sqrt(l + 0.1)) V^T`` from the
   eigen-decomposition of the patches' covariance: neighbouring pixels are strongly
   correlated, and without whitening k-means finds little but smooth blobs.
3. **Codebook.** k-means on the whitened patches (Lloyd's algorithm from k random patches;
   a word that loses all its patches is re-seeded with a random patch): k "visual words".
4. **Encoding.** Every patch of an image at ``stride`` is normalized and whitened, its
   distance z_k = ||x - c_k|| to every word computed, and the "triangle" activation
   ``f_k = max(0, mean_j(z_j) - z_k)`` taken: a word fires when the patch is closer to it than
   to the average word. The activations are summed over a ``pool`` x ``pool`` grid of image
   regions (the four quadrants by default): k x pool^2 features per image.

How it runs. The two heavy steps are matrix products (whitening: patches x D x D; distances:
patches x D x k, about 250 MFLOP per 32x32 image at k = 1,600), done by BLAS in float32; the
patch gathering and normalization, and the triangle activation with the pooling, are Numba
kernels that pass over the data once. Two Python threads each take whole images (or whole
k-means chunks) and call single-threaded BLAS and GIL-free kernels on them: two thread pools
on two cores (multi-threaded BLAS beside parallel Numba) fight and ran at a third of the
speed. The work is cut into fixed pieces (whole images; fixed ranges of patches), so the
result does not depend on which thread took which piece.

Results are deterministic on a given machine. Across CPUs, BLAS's float32 products (and the
eigen-decomposition) may differ in their last bits, and a patch almost equidistant from two
words may then go to the other one during the codebook fit.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from linviz.errors import LinvizError
from linviz.numba_setup import kernel
from linviz.progress import check_cancelled, report

NORMALIZE_EPS = 10.0  # added to each patch's variance (pixel values 0-255)
WHITEN_EPS = 0.1  # added to each eigenvalue of the whitened patches' covariance
GEMM_ROWS = 2048  # patches per matrix product when encoding (whole images up to this)
KMEANS_ROWS = 512  # patches per distance product in k-means (its distances stay in L2 cache)
THREADS = 2


@dataclass(frozen=True)
class Codebook:
    """A fitted codebook: the patch normalization's output is whitened with ``mean`` and
    ``whitening`` and compared with ``centroids`` (k, D), D = patch * patch * 3 in (row,
    column, channel) order. ``counts``: training patches nearest to each word at the end of
    the fit; ``losses``: the k-means loss (mean squared distance to the nearest word) after
    each iteration."""

    patch: int
    mean: np.ndarray
    whitening: np.ndarray
    centroids: np.ndarray
    counts: np.ndarray
    losses: np.ndarray

    @property
    def k(self) -> int:
        return int(self.centroids.shape[0])

    @property
    def dim(self) -> int:
        return int(self.centroids.shape[1])


def patch_grid(image_shape, patch: int, stride: int) -> tuple[int, int]:
    """(rows, cols) of patch positions in an image of ``image_shape`` (H, W)."""
    h, w = int(image_shape[0]), int(image_shape[1])
    if patch > h or patch > w:
        raise LinvizError(f"words: {patch}x{patch} patches do not fit {h}x{w} images")
    return (h - patch) // stride + 1, (w - patch) // stride + 1


# --------------------------------------------------------------------------- kernels


@kernel
def _normalize_patch(buf, out, mean):
    """out = (buf - mean(buf)) / sqrt(var(buf) + NORMALIZE_EPS) - mean, var with D - 1."""
    d = buf.shape[0]
    s = 0.0
    for k in range(d):
        s += buf[k]
    m = s / d
    q = 0.0
    for k in range(d):
        t = buf[k] - m
        q += t * t
    inv = 1.0 / np.sqrt(q / (d - 1) + 10.0)
    for k in range(d):
        out[k] = np.float32((buf[k] - m) * inv) - mean[k]


@kernel
def _sample_patches(images, which, ys, xs, patch, out):
    """Normalized patches at (image, y, x) into out's rows (no whitening: mean 0 here)."""
    d = out.shape[1]
    buf = np.empty(d, np.float64)
    zero = np.zeros(d, np.float32)
    for r in range(out.shape[0]):
        i, y0, x0 = which[r], ys[r], xs[r]
        k = 0
        for y in range(patch):
            for x in range(patch):
                for c in range(3):
                    buf[k] = images[i, y0 + y, x0 + x, c]
                    k += 1
        _normalize_patch(buf, out[r], zero)


@kernel
def _image_patches(images, first, count, patch, stride, cols, mean, out):
    """The normalized patches of positions ``first .. first + count`` (image by image, row by
    row) minus the whitening mean, into out's first ``count`` rows."""
    per_image = ((images.shape[1] - patch) // stride + 1) * cols
    d = out.shape[1]
    buf = np.empty(d, np.float64)
    for r in range(count):
        position = first + r
        i = position // per_image
        a = (position % per_image) // cols
        b = position % cols
        k = 0
        for y in range(patch):
            for x in range(patch):
                for c in range(3):
                    buf[k] = images[i, a * stride + y, b * stride + x, c]
                    k += 1
        _normalize_patch(buf, out[r], mean)


@kernel
def _distances_in_place(g, cc, xx):
    """g[k] (holding -2 x.c_k) -> z_k = ||x - c_k|| (rounding below 0 clipped)."""
    zero = np.float32(0.0)
    for k in range(g.shape[0]):
        g[k] = np.sqrt(max(xx + cc[k] + g[k], zero))


@kernel
def _sum_by_lanes(g):
    """Sum in 16 fixed lanes, then the lanes in a fixed tree: the same bits on any CPU."""
    n = g.shape[0]
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = np.float32(0.0)
    a8 = a9 = a10 = a11 = a12 = a13 = a14 = a15 = np.float32(0.0)
    blocks = n // 16
    for blk in range(blocks):
        o = blk * 16
        a0 += g[o]
        a1 += g[o + 1]
        a2 += g[o + 2]
        a3 += g[o + 3]
        a4 += g[o + 4]
        a5 += g[o + 5]
        a6 += g[o + 6]
        a7 += g[o + 7]
        a8 += g[o + 8]
        a9 += g[o + 9]
        a10 += g[o + 10]
        a11 += g[o + 11]
        a12 += g[o + 12]
        a13 += g[o + 13]
        a14 += g[o + 14]
        a15 += g[o + 15]
    tail = np.float32(0.0)
    for k in range(blocks * 16, n):
        tail += g[k]
    return ((((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)))
            + (((a8 + a9) + (a10 + a11)) + ((a12 + a13) + (a14 + a15)))) + tail


@kernel
def _add_triangle(o, g, mu):
    zero = np.float32(0.0)
    for k in range(g.shape[0]):
        o[k] += max(mu - g[k], zero)


@kernel
def _squared_norm(x):
    s = np.float32(0.0)
    for k in range(x.shape[0]):
        s += x[k] * x[k]
    return s


@kernel
def _triangle_pool(G, X, cc, first, count, patch, stride, image_shape, cols, pool, first_image, out):
    """For patches ``first .. first + count`` (rows of G = -2 X C^T and of the whitened X):
    the triangle activations, summed into ``out[image - first_image, region, :]``."""
    k_words = G.shape[1]
    rows = (image_shape[0] - patch) // stride + 1
    per_image = rows * cols
    inv_k = np.float32(1.0) / np.float32(k_words)
    for r in range(count):
        position = first + r
        i = position // per_image
        a = (position % per_image) // cols
        b = position % cols
        region = (a * pool // rows) * pool + (b * pool // cols)
        g = G[r]
        _distances_in_place(g, cc, _squared_norm(X[r]))
        mu = _sum_by_lanes(g) * inv_k
        base = region * k_words
        _add_triangle(out[i - first_image, base:base + k_words], g, mu)


@kernel
def _activation_maps(G, X, cc, maps):
    """Triangle activations of every patch (rows of G) into maps (patches, k), no pooling."""
    k_words = G.shape[1]
    inv_k = np.float32(1.0) / np.float32(k_words)
    for r in range(G.shape[0]):
        g = G[r]
        _distances_in_place(g, cc, _squared_norm(X[r]))
        mu = _sum_by_lanes(g) * inv_k
        zero = np.float32(0.0)
        for k in range(k_words):
            maps[r, k] = max(mu - g[k], zero)


@kernel
def _nearest(G, cc, labels, best):
    """Per row: the word minimizing ||c||^2 - 2 x.c (G holds -2 x.c; lowest index on ties)."""
    for r in range(G.shape[0]):
        g = G[r]
        j = 0
        v = cc[0] + g[0]
        for k in range(1, g.shape[0]):
            t = cc[k] + g[k]
            if t < v:
                v = t
                j = k
        labels[r] = j
        best[r] = v


@kernel
def _cluster_sums(X, labels, sums, counts):
    """Per-word sums (float64) and counts of the patches assigned to it, in row order."""
    sums[:] = 0.0
    counts[:] = 0
    d = X.shape[1]
    for r in range(X.shape[0]):
        j = labels[r]
        counts[j] += 1
        for k in range(d):
            sums[j, k] += X[r, k]


@kernel
def _row_squared_norms(X, out):
    for r in range(X.shape[0]):
        s = 0.0
        for k in range(X.shape[1]):
            s += np.float64(X[r, k]) * X[r, k]
        out[r] = s


# --------------------------------------------------------------------------- threads


_BLAS_LOCK = threading.Lock()


@contextmanager
def single_threaded_blas():
    """BLAS on one thread per caller while the block's own two threads run (docs/pitfalls.md,
    "Two thread pools on two cores fight"); without threadpoolctl, BLAS keeps its threads and the
    work runs on one Python thread."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield False
        return
    with _BLAS_LOCK, threadpool_limits(limits=1, user_api="blas"):
        yield True


def run_pieces(pieces: int, work: Callable[[int], None], cancel=None, progress: Optional[Callable] = None,
               threads: int = THREADS) -> None:
    """``work(piece)`` for every piece, on up to ``threads`` Python threads taking the next
    piece in turn; ``cancel`` checked before each piece, ``progress(done)`` after each (from
    the calling thread's pieces only when there are threads). An exception in any thread
    stops the others and is raised here."""
    if pieces <= 0:
        return
    if threads <= 1 or pieces == 1:
        for piece in range(pieces):
            check_cancelled(cancel)
            work(piece)
            if progress is not None:
                progress(piece + 1)
        return
    with single_threaded_blas() as limited:
        if not limited:
            run_pieces(pieces, work, cancel, progress, threads=1)
            return
        lock = threading.Lock()
        state = {"next": 0, "done": 0, "error": None}

        def take() -> int:
            with lock:
                if state["error"] is not None:
                    return -1
                piece = state["next"]
                state["next"] += 1
                return piece if piece < pieces else -1

        def worker(report_progress: bool) -> None:
            try:
                while True:
                    check_cancelled(cancel)
                    piece = take()
                    if piece < 0:
                        return
                    work(piece)
                    with lock:
                        state["done"] += 1
                        done = state["done"]
                    if report_progress and progress is not None:
                        progress(done)
            except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
                with lock:
                    if state["error"] is None:
                        state["error"] = exc

        helpers = [threading.Thread(target=worker, args=(False,), name=f"words-{k}", daemon=True)
                   for k in range(threads - 1)]
        for t in helpers:
            t.start()
        worker(True)
        for t in helpers:
            t.join()
        if state["error"] is not None:
            raise state["error"]
        if progress is not None:
            progress(pieces)


# --------------------------------------------------------------------------- codebook


def sample_patches(images: np.ndarray, count: int, patch: int, seed: int) -> np.ndarray:
    """``count`` normalized random patches (float32 (count, patch * patch * 3)) of uint8 RGB
    images, positions drawn from ``seed``."""
    n, h, w = images.shape[:3]
    patch_grid((h, w), patch, 1)
    rng = np.random.default_rng(seed)
    which = rng.integers(0, n, count)
    ys = rng.integers(0, h - patch + 1, count)
    xs = rng.integers(0, w - patch + 1, count)
    out = np.empty((count, patch * patch * 3), dtype=np.float32)
    _sample_patches(images, which, ys, xs, patch, out)
    return out


def fit_whitening(patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean (D,), ZCA matrix (D, D)) of normalized patches, float32 (statistics in float64)."""
    X = np.asarray(patches, dtype=np.float64)
    mean = X.mean(axis=0)
    centered = X - mean
    covariance = centered.T @ centered / max(1, len(X) - 1)
    values, vectors = np.linalg.eigh(covariance)
    values = np.maximum(values, 0.0)
    whitening = (vectors * (1.0 / np.sqrt(values + WHITEN_EPS))) @ vectors.T
    return mean.astype(np.float32), whitening.astype(np.float32)


def kmeans(X: np.ndarray, k: int, iterations: int, seed: int, progress=None, cancel=None,
           threads: int = THREADS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lloyd's k-means on the rows of float32 ``X``: (centroids (k, D) float32, counts (k,),
    loss after each iteration (mean squared distance to the nearest centroid)).

    Starts from k distinct random rows; a centroid left without rows is re-seeded with a
    random row. Distances by BLAS in chunks of rows on ``threads`` threads, the assignments
    and sums by Numba kernels; deterministic from ``seed`` on a given machine.
    ``progress(iteration, iterations)``; ``cancel`` checked between chunks.
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    n, d = X.shape
    if not 1 <= k <= n:
        raise LinvizError(f"k-means: {k} clusters need at least as many patches, got {n}")
    rng = np.random.default_rng(seed)
    centroids = X[np.sort(rng.choice(n, k, replace=False))].copy()
    norms = np.empty(n, dtype=np.float64)
    _row_squared_norms(X, norms)
    labels = np.empty(n, dtype=np.int64)
    best = np.empty(n, dtype=np.float32)
    sums = np.empty((k, d), dtype=np.float64)
    counts = np.zeros(k, dtype=np.int64)
    losses = []
    chunks = -(-n // KMEANS_ROWS)
    scratch = threading.local()
    report(progress, 0, iterations)
    for iteration in range(iterations):
        minus_two_ct = np.ascontiguousarray(-2.0 * centroids.T, dtype=np.float32)
        cc = np.einsum("kd,kd->k", centroids, centroids, dtype=np.float32)

        def assign(piece, minus_two_ct=minus_two_ct, cc=cc):
            lo, hi = piece * KMEANS_ROWS, min(n, (piece + 1) * KMEANS_ROWS)
            G = getattr(scratch, "G", None)
            if G is None or G.shape != (KMEANS_ROWS, k):
                G = scratch.G = np.empty((KMEANS_ROWS, k), dtype=np.float32)
            np.matmul(X[lo:hi], minus_two_ct, out=G[:hi - lo])
            _nearest(G[:hi - lo], cc, labels[lo:hi], best[lo:hi])

        run_pieces(chunks, assign, cancel, threads=threads)
        losses.append(float(np.sum(norms + best.astype(np.float64))) / n)
        _cluster_sums(X, labels, sums, counts)
        empty = np.flatnonzero(counts == 0)
        centroids = (sums / np.maximum(counts, 1)[:, None]).astype(np.float32)
        if len(empty):
            centroids[empty] = X[rng.choice(n, len(empty), replace=False)]
        report(progress, iteration + 1, iterations)
    return centroids, counts, np.asarray(losses)


def fit_codebook(images: np.ndarray, k: int, patch: int, samples: int, iterations: int, seed: int,
                 whiten: bool = True, progress=None, cancel=None, threads: int = THREADS) -> Codebook:
    """Sample ``samples`` patches of the (training) images, whiten them, run k-means."""
    if samples < k:
        raise LinvizError(f"words: {samples:,} patches cannot make {k:,} words; sample at least k patches")
    check_cancelled(cancel)
    patches = sample_patches(images, samples, patch, seed)
    d = patches.shape[1]
    if whiten:
        mean, whitening = fit_whitening(patches)
        white = patches - mean
        np.matmul(white, whitening, out=white)
    else:
        mean, whitening, white = np.zeros(d, np.float32), np.eye(d, dtype=np.float32), patches
    check_cancelled(cancel)
    centroids, counts, losses = kmeans(white, k, iterations, seed + 1, progress, cancel, threads)
    return Codebook(patch, mean, whitening, centroids, counts, losses)


def unwhitened_patches(codebook: Codebook) -> np.ndarray:
    """The words as normalized patches (k, patch, patch, 3): the whitening undone
    (``c W^-1 + m``), what a patch looks like when it is nearest to the word."""
    inverse = np.linalg.pinv(codebook.whitening.astype(np.float64))
    patches = codebook.centroids.astype(np.float64) @ inverse + codebook.mean
    return patches.reshape(codebook.k, codebook.patch, codebook.patch, 3)


# --------------------------------------------------------------------------- encoding


class _Encoder:
    """The state shared by the threads of one encoding: the codebook in the shape the
    products need, and per-thread scratch matrices."""

    def __init__(self, codebook: Codebook, stride: int, pool: int, image_shape):
        self.codebook = codebook
        self.patch, self.stride, self.pool = codebook.patch, int(stride), int(pool)
        self.image_shape = np.array(image_shape[:2], dtype=np.int64)
        self.rows, self.cols = patch_grid(image_shape, self.patch, self.stride)
        if pool > min(self.rows, self.cols):
            raise LinvizError(f"words: a {pool}x{pool} pooling grid needs at least {pool} patch positions a side, "
                              f"these images have {self.rows}x{self.cols}")
        self.per_image = self.rows * self.cols
        self.mean = np.ascontiguousarray(codebook.mean, dtype=np.float32)
        self.whitening = np.ascontiguousarray(codebook.whitening, dtype=np.float32)
        centroids = codebook.centroids.astype(np.float32)
        self.minus_two_ct = np.ascontiguousarray(-2.0 * centroids.T, dtype=np.float32)
        self.cc = np.einsum("kd,kd->k", centroids, centroids, dtype=np.float32)
        self.k, self.d = codebook.k, codebook.dim
        # whole images per product up to GEMM_ROWS patches; a larger image in bands of rows
        self.images_per_piece = max(1, GEMM_ROWS // self.per_image)
        self.band = min(self.per_image, max(self.cols, (GEMM_ROWS // self.cols) * self.cols))
        self._scratch = threading.local()

    def scratch(self):
        s = self._scratch
        if getattr(s, "P", None) is None:
            rows = max(self.band, self.images_per_piece * self.per_image if self.per_image <= GEMM_ROWS else 0)
            s.P = np.empty((rows, self.d), dtype=np.float32)
            s.X = np.empty((rows, self.d), dtype=np.float32)
            s.G = np.empty((rows, self.k), dtype=np.float32)
        return s.P, s.X, s.G

    def products(self, images, first, count):
        """(G, X) of positions first .. first + count: whitened patches and -2 X C^T."""
        P, X, G = self.scratch()
        _image_patches(images, first, count, self.patch, self.stride, self.cols, self.mean, P[:count])
        np.matmul(P[:count], self.whitening, out=X[:count])
        np.matmul(X[:count], self.minus_two_ct, out=G[:count])
        return G[:count], X[:count]

    def encode_images(self, images, lo, hi, out) -> None:
        """Pooled activations of images lo .. hi into out[lo:hi] (zeroed first)."""
        out[lo:hi] = 0.0
        if self.per_image <= GEMM_ROWS:
            spans = [(lo * self.per_image, (hi - lo) * self.per_image)]
        else:
            spans = [(i * self.per_image + s, min(self.band, self.per_image - s))
                     for i in range(lo, hi) for s in range(0, self.per_image, self.band)]
        for first, count in spans:
            G, X = self.products(images, first, count)
            _triangle_pool(G, X, self.cc, first, count, self.patch, self.stride, self.image_shape, self.cols,
                           self.pool, lo, out[lo:hi])


def encode(images: np.ndarray, codebook: Codebook, stride: int, pool: int, out: Optional[np.ndarray] = None,
           cancel=None, progress=None, threads: int = THREADS) -> np.ndarray:
    """Pooled triangle activations of uint8 RGB images: float32 (N, pool * pool * k), the
    regions row-major, each region's k words together. ``out``: an (N, pool * pool * k)
    float32 array (a column slice of a larger matrix is fine). ``progress(done, total)``."""
    images = np.ascontiguousarray(images)
    n = images.shape[0]
    encoder = _Encoder(codebook, stride, pool, images.shape[1:3])
    size = pool * pool * codebook.k
    if out is None:
        out = np.empty((n, size), dtype=np.float32)
    elif out.shape != (n, size) or out.dtype != np.float32:
        raise ValueError(f"encode: out must be float32 {(n, size)}, got {out.dtype} {out.shape}")
    step = encoder.images_per_piece
    pieces = -(-n // step)

    def work(piece):
        lo = piece * step
        encoder.encode_images(images, lo, min(n, lo + step), out)

    def done(pieces_done):
        report(progress, min(n, pieces_done * step), n)

    run_pieces(pieces, work, cancel, done if progress is not None else None, threads=threads if pieces > 1 else 1)
    return out


def activation_maps(image: np.ndarray, codebook: Codebook, stride: int) -> np.ndarray:
    """Where each word fires in one uint8 RGB image: (rows, cols, k) triangle activations of
    every patch position, before pooling."""
    images = np.ascontiguousarray(np.asarray(image)[None])
    encoder = _Encoder(codebook, stride, 1, images.shape[1:3])
    maps = np.empty((encoder.per_image, encoder.k), dtype=np.float32)
    for first in range(0, encoder.per_image, encoder.band):
        count = min(encoder.band, encoder.per_image - first)
        G, X = encoder.products(images, first, count)
        _activation_maps(G, X, encoder.cc, maps[first:first + count])
    return maps.reshape(encoder.rows, encoder.cols, encoder.k)
