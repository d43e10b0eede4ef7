"""The 2-D loss surface (101 x 101 grid, 10,000 images) vs the NumPy reference loss at each grid
point, and training in the window with the loss landscape live."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Optional

import numpy as np

from linviz.bench.common import Say, verdict
from linviz.data import load_dataset, subsample_per_class
from linviz.explore.loss_surface import grid, loss_surface, random_directions
from linviz.features import FeaturePipeline
from linviz.models.reference_losses import softmax_loss_vectorized, svm_loss_vectorized
from linviz.training import TrainingConfig, recommended_settings, run_to_end, train


def _numpy_loss_only(W, X, y, loss: str, reg: float) -> float:
    """The total loss in plain NumPy with no gradient (float32 scores, bias row unregularized):
    the leanest per-point reference for the loss surface."""
    scores = X @ W
    n = X.shape[0]
    correct = scores[np.arange(n), y][:, None]
    if loss == "svm":
        margins = np.maximum(0.0, scores - correct + 1.0)
        data = (margins.sum() - n) / n  # the true class's own margin is exactly 1
    else:
        top = scores.max(axis=1, keepdims=True)
        data = float(np.mean(np.log(np.exp(scores - top).sum(axis=1)) + top[:, 0] - correct[:, 0]))
    return float(data + reg * np.sum(W[:-1].astype(np.float64) ** 2))


def bench_landscape(archive: Optional[Path], quick: bool, say: Say) -> dict:
    """The 2-D loss surface (101 x 101 grid, 10,000 images, hog+hue and raw pixels, SVM and
    softmax) vs the NumPy reference loss evaluated at each grid point (timed on a sample of
    grid points and scaled to the grid). Targets: under 0.5 s, and >= 20x."""
    n, steps, sample = (2_000, 51, 8) if quick else (10_000, 101, 24)
    if archive is not None:
        dataset = load_dataset(archive)
        split = subsample_per_class(dataset.train, n // len(dataset.class_names), seed=0)
        sets = [(spec, FeaturePipeline(spec).fit_transform(split.images), split.labels) for spec in ("hog+hue", "raw")]
        origin = f"CIFAR-10, {len(split):,} training images"
    else:
        rng = np.random.default_rng(0)
        y = rng.integers(0, 10, n)
        sets = [(spec, np.c_[rng.standard_normal((n, d)), np.ones(n)].astype(np.float32), y)
                for spec, d in (("hog+hue", 154), ("raw", 3072))]
        origin = "random N(0, 1) data (shared archive not found)"
    say(f"{steps} x {steps} grid over a, b in [-1, 1], random directions scaled to W per class; {origin}; "
        f"W: 2 epochs of SGD with the recommended settings; reference: NumPy's loss at {sample} random grid "
        "points, scaled")
    results = {}
    for spec, X, y in sets:
        for loss in ("svm", "softmax"):
            results[f"{spec} {loss}"] = _surface_vs_numpy(spec, X, y, loss, grid(1.0, steps), sample, quick, say)
    results["gui"] = _landscape_gui(archive, quick, say)
    return results


def _surface_vs_numpy(spec: str, X, y, loss: str, alphas, sample: int, quick: bool, say: Say) -> dict:
    """A model trained briefly, its surface over the grid ``alphas`` x ``alphas`` (parallel
    and serial), and the NumPy reference at ``sample`` random grid points, scaled to the grid."""
    betas = alphas
    steps = len(alphas)
    settings = {**recommended_settings(spec, loss), "epochs": 2}
    W = run_to_end(train(X, y, config=TrainingConfig(loss=loss, **settings), n_classes=10)).best_W
    options = dict(loss=loss, reg=settings["reg"], n_reg_rows=W.shape[0] - 1)
    dirs = [d.astype(np.float32) for d in random_directions(W, 2, seed=1)]
    loss_surface(W, X[:64], y[:64], dirs, alphas[:9], betas[:9], **options)  # compile / load
    loss_surface(W, X[:64], y[:64], dirs, alphas[:9], betas[:9], parallel=False, **options)
    times, serial = [], []
    for _ in range(1 if quick else 3):
        start = time.perf_counter()
        surface = loss_surface(W, X, y, dirs, alphas, betas, **options)
        times.append(time.perf_counter() - start)
        start = time.perf_counter()
        loss_surface(W, X, y, dirs, alphas, betas, parallel=False, **options)
        serial.append(time.perf_counter() - start)
    reference = svm_loss_vectorized if loss == "svm" else softmax_loss_vectorized
    picks = np.random.default_rng(2).choice(steps * steps, sample, replace=False)
    points = [divmod(int(p), steps) for p in picks]
    start = time.perf_counter()
    worst = 0.0
    for k, m in points:
        Wp = W + alphas[m] * dirs[0] + betas[k] * dirs[1]
        value = reference(Wp, X, y, settings["reg"], n_reg_rows=W.shape[0] - 1)[0]
        worst = max(worst, abs(value - surface.total[k, m]) / abs(value))
    numpy_grid = (time.perf_counter() - start) / sample * steps * steps
    start = time.perf_counter()
    for k, m in points:
        _numpy_loss_only(W + alphas[m] * dirs[0] + betas[k] * dirs[1], X, y, loss, settings["reg"])
    lean_grid = (time.perf_counter() - start) / sample * steps * steps
    best = statistics.median(times)
    ratio, lean_ratio = numpy_grid / best, lean_grid / best
    say(f"  {spec:8s} {loss:7s}: linviz {best:.3f} s (serial {statistics.median(serial):.3f} s); the NumPy "
        f"reference (loss and gradient) {numpy_grid:,.0f} s for the grid = {ratio:,.0f}x, NumPy loss only "
        f"(float32 scores, no gradient) {lean_grid:,.0f} s = {lean_ratio:,.0f}x; largest difference "
        f"{worst:.1e}; targets < 0.5 s: {verdict(best < 0.5)}, >= 20x: {verdict(min(ratio, lean_ratio) >= 20)}")
    return {"seconds": best, "serial_seconds": statistics.median(serial), "numpy_reference_seconds": numpy_grid,
            "numpy_loss_only_seconds": lean_grid, "ratio": ratio, "loss_only_ratio": lean_ratio,
            "max_rel_diff": worst}


def _landscape_gui(archive: Optional[Path], quick: bool, say: Say) -> dict:
    """Training in the window with the loss landscape live (a coarse surface a second)."""
    try:
        from linviz.gui.devtools.training_bench import prepare_bench_data
        from linviz.gui.devtools.landscape_bench import run_landscape_gui_bench  # Qt only in here
    except ImportError as exc:
        say(f"skipped the GUI part: the GUI needs PySide6 and pyqtgraph ({exc})")
        return {"skipped": str(exc)}
    out = {}
    for spec in ("hog+hue", "raw"):
        say(f"-- training in the window with the loss landscape live, features {spec}")
        prepared, features = prepare_bench_data(archive, quick, spec=spec)
        r = run_landscape_gui_bench(prepared, features, seconds=2.0 if quick else 5.0, repeats=3, say=say)
        say(f"the live surface's own cost: following {r['live_samples_per_second']:,.0f} samples/s vs not following "
            f"{r['still_samples_per_second']:,.0f} = {r['live_vs_still']:.0%} (median of the rounds' ratios; target "
            f">= 90%: {verdict(r['live_vs_still'] >= 0.9)}); vs headless {r['headless_samples_per_second']:,.0f}: "
            f"{r['throughput_ratio']:.0%}; {r['surfaces_per_second']:.2f} coarse surfaces/s")
        say(f"GUI thread, following: longest stall {r['max_stall_ms']:.0f} ms (median over runs "
            f"{r['median_max_stall_ms']:.0f} ms; not following {r['still_max_stall_ms']:.0f} ms; idle "
            f"{r['idle_max_stall_ms']:.0f} ms; target <= 50 ms: {verdict(r['max_stall_ms'] <= 50)})")
        out[spec] = r
    return out
