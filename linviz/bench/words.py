"""The bag of visual words: the codebook fit against scikit-learn's ``MiniBatchKMeans`` and the
NumPy reference (same patches, same iterations: time and k-means loss), the encoding of all
of CIFAR-10 against the NumPy reference (alternating rounds), the GFLOP/s of the distance
products, the memory the encoding needs beyond its output, and ``train --features
words-quick`` / ``words`` end to end from process start (test accuracy and time)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import numpy as np

from linviz.bench.common import NO_ARCHIVE, REPOSITORY, Say, load_shared, peak_memory, verdict
from linviz.features import visual_words as vw
from linviz.features import visual_words_reference as reference

NOT_INSTALLED = "not installed (pip install -e '.[bench]')"
ENCODE_TARGET = 1.5  # x the NumPy reference
MEMORY_TARGET = 3 * 2**30  # bytes beyond the output features
# (preset, target test accuracy, target seconds from process start)
END_TO_END = (("words-quick", 0.67, 90.0), ("words", 0.72, 300.0))


def bench_words(archive: Optional[Path], quick: bool, say: Say) -> dict:
    dataset = load_shared(archive)
    if dataset is None:
        say(NO_ARCHIVE)
        return {"skipped": "no archive"}
    k = 400 if quick else 1600
    samples = 50_000 if quick else 200_000
    iterations = 3 if quick else 10
    result = {"k": k, "samples": samples, "iterations": iterations}
    patches = vw.sample_patches(dataset.train.images, samples, 6, seed=0)
    mean, whitening = vw.fit_whitening(patches)
    white = (patches - mean) @ whitening
    result["codebook"] = _codebook(white, k, iterations, quick, say)
    codebook = vw.Codebook(6, mean, whitening, result["codebook"].pop("centroids"),
                           np.zeros(k, np.int64), np.zeros(1))
    images = np.concatenate([dataset.train.images, dataset.test.images]) if dataset.test is not None \
        else dataset.train.images
    if quick:
        images = images[:5000]
    result["encoding"] = _encoding(images, codebook, quick, say)
    result["end_to_end"] = _end_to_end(archive, quick, say)
    return result


def _codebook(white: np.ndarray, k: int, iterations: int, quick: bool, say: Say) -> dict:
    """linviz's k-means, scikit-learn's MiniBatchKMeans and the NumPy reference on the same
    whitened patches for the same number of passes: seconds and the final k-means loss (mean
    squared distance to the nearest word, computed the same way for all three)."""
    n, d = white.shape
    flops = 2.0 * n * k * d * iterations  # the distance products
    vw.kmeans(white[:5000], 16, 1, seed=0)  # compile or load the kernels
    start = time.perf_counter()
    centroids, _, _ = vw.kmeans(white, k, iterations, seed=1)
    seconds = time.perf_counter() - start
    out = {"patches": n, "linviz_s": seconds, "linviz_gflops": flops / seconds / 1e9,
           "linviz_loss": _loss(white, centroids), "centroids": centroids}
    say(f"codebook: k-means, {k:,} words, {n:,} whitened 6x6 patches, {iterations} passes")
    say(f"  linviz (Lloyd, BLAS + Numba, 2 threads): {seconds:.2f} s, {out['linviz_gflops']:.0f} GFLOP/s in the "
        f"distance products, loss {out['linviz_loss']:.4f}")
    try:
        from sklearn.cluster import MiniBatchKMeans
    except ImportError:
        say(f"  skipped scikit-learn MiniBatchKMeans: {NOT_INSTALLED}")
        out["sklearn"] = NOT_INSTALLED
    else:
        start = time.perf_counter()
        model = MiniBatchKMeans(n_clusters=k, max_iter=iterations, n_init=1, random_state=0, tol=0.0,
                                max_no_improvement=None).fit(white)
        out["sklearn_s"] = time.perf_counter() - start
        out["sklearn_loss"] = _loss(white, model.cluster_centers_.astype(np.float32))
        out["sklearn_passes"] = int(model.n_iter_)
        ratio = out["sklearn_s"] / seconds
        out["speedup_vs_sklearn"] = ratio
        say(f"  scikit-learn MiniBatchKMeans (batch {model.batch_size}, {out['sklearn_passes']} passes, "
            f"k-means++ start): {out['sklearn_s']:.2f} s, loss {out['sklearn_loss']:.4f}")
        say(f"  -> linviz {ratio:.2f}x as fast (target >= 1: {verdict(ratio >= 1)}), loss "
            f"{out['linviz_loss']:.4f} vs {out['sklearn_loss']:.4f} (target no worse: "
            f"{verdict(out['linviz_loss'] <= out['sklearn_loss'])})")
    # the NumPy reference: the same algorithm, timed on a few passes and scaled
    passes = 1 if quick else 2
    start = time.perf_counter()
    reference.kmeans(white, k, passes, seed=1)
    out["reference_s_scaled"] = (time.perf_counter() - start) * iterations / passes
    out["speedup_vs_reference"] = out["reference_s_scaled"] / seconds
    say(f"  NumPy reference (same algorithm; {passes} pass(es) timed, scaled to {iterations}): "
        f"{out['reference_s_scaled']:.1f} s -> linviz {out['speedup_vs_reference']:.1f}x")
    return out


def _loss(white: np.ndarray, centroids: np.ndarray) -> float:
    """Mean squared distance of each row to its nearest centroid (float64 sums)."""
    cc = np.einsum("kd,kd->k", centroids, centroids, dtype=np.float64)
    total = 0.0
    for lo in range(0, len(white), 8192):
        x = white[lo:lo + 8192]
        d = cc - 2.0 * (x @ centroids.T).astype(np.float64)
        total += float(np.sum(np.einsum("nd,nd->n", x, x, dtype=np.float64) + d.min(axis=1)))
    return total / len(white)


def _encoding(images: np.ndarray, codebook, quick: bool, say: Say) -> dict:
    """All images with linviz against the NumPy reference on a sample, alternating rounds."""
    k, d = codebook.k, codebook.dim
    per_image_flops = 2.0 * 27 * 27 * k * d
    sample = images[:500 if quick else 2000]
    vw.encode(images[:64], codebook, 1, 2)  # compile or load the kernels
    reference.encode(sample[:16], codebook, 1, 2)
    rounds = 1 if quick else 3
    ours, theirs = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        vw.encode(images, codebook, 1, 2)
        ours.append((time.perf_counter() - start) / len(images))
        start = time.perf_counter()
        reference.encode(sample, codebook, 1, 2)
        theirs.append((time.perf_counter() - start) / len(sample))
    linviz_s, reference_s = statistics.median(ours), statistics.median(theirs)
    ratio = reference_s / linviz_s
    out = {"images": len(images), "rounds": rounds, "linviz_ms_per_image": 1e3 * linviz_s,
           "reference_ms_per_image": 1e3 * reference_s, "reference_sample": len(sample),
           "speedup_vs_reference": ratio, "round_ratios": [t / o for o, t in zip(ours, theirs)],
           "linviz_gflops": per_image_flops / linviz_s / 1e9, "reference_gflops": per_image_flops / reference_s / 1e9}
    say(f"encoding: 6x6 patches at stride 1, {k:,} words, 2x2 pooling ({4 * k:,} features an image)")
    say(f"  linviz, {len(images):,} images: {out['linviz_ms_per_image']:.3f} ms/image, "
        f"{len(images) * linviz_s:.1f} s in all, {out['linviz_gflops']:.0f} GFLOP/s in the distance products "
        f"(median of {rounds} rounds)")
    say(f"  NumPy reference, {len(sample):,} images: {out['reference_ms_per_image']:.3f} ms/image "
        f"({out['reference_gflops']:.0f} GFLOP/s)")
    say(f"  -> linviz {ratio:.2f}x faster (rounds {', '.join(f'{r:.2f}' for r in out['round_ratios'])}; "
        f"target >= {ENCODE_TARGET}x: {verdict(ratio >= ENCODE_TARGET)})")
    output, traced, rss = peak_memory(lambda: vw.encode(images, codebook, 1, 2))
    beyond = max(traced, rss or 0) - output.nbytes
    out.update(output_bytes=output.nbytes, traced_peak_bytes=traced, rss_peak_above_start_bytes=rss,
               beyond_output_bytes=beyond)
    del output
    say(f"  memory: output {out['output_bytes'] / 2**30:.2f} GB, peak {traced / 2**20:,.0f} MB traced"
        + (f", {rss / 2**20:,.0f} MB RSS above the start" if rss is not None else "")
        + f" -> {beyond / 2**20:,.0f} MB beyond the output (target < 3 GB: {verdict(beyond < MEMORY_TARGET)})")
    return out


def _end_to_end(archive: Path, quick: bool, say: Say) -> dict:
    """``train <archive> --features PRESET --json`` in a fresh process: wall time from process
    start to exit, test accuracy, the stages; and the model file's size."""
    out = {}
    for preset, accuracy_target, seconds_target in END_TO_END[:1] if quick else END_TO_END:
        with tempfile.TemporaryDirectory(prefix="linviz-bench-words-") as tmp:
            model = Path(tmp) / "model.npz"
            argv = [sys.executable, str(REPOSITORY / "main.py"), "train", str(archive), "--features", preset,
                    "--json", "--out", str(model)]
            start = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, text=True)
            wall = time.perf_counter() - start
            if done.returncode != 0:
                say(f"  train --features {preset} failed: {done.stderr.strip().splitlines()[-1:]}")
                out[preset] = {"failed": done.returncode}
                continue
            report = json.loads(done.stdout)
            size = model.stat().st_size
        out[preset] = {"wall_s": wall, "test_accuracy": report["test_accuracy"], "val_accuracy": report["val_accuracy"],
                       "model_bytes": size, "timings": report["timings"]}
        stages = ", ".join(f"{name} {report['timings'][name]:.1f} s" for name in
                           ("dataset", "learning", "features", "training") if report["timings"].get(name) is not None)
        say(f"train --features {preset}, from process start: test accuracy {report['test_accuracy']:.4f} "
            f"(target >= {accuracy_target}: {verdict(report['test_accuracy'] >= accuracy_target)}), "
            f"{wall:.1f} s (target < {seconds_target:.0f} s: {verdict(wall < seconds_target)}); {stages}; "
            f"model file {size / 2**20:.2f} MB")
    return out
