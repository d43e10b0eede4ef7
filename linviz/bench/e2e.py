"""``python main.py train <shared CIFAR-10> --features best --json`` end to end, in a fresh
process each time, stage by stage (the timings the command reports); and the
standardization statistics against plain NumPy on the same matrix."""

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

from linviz.bench.common import NO_ARCHIVE, REPOSITORY, Say, verdict
from linviz.data import load_dataset
from linviz.features import FeaturePipeline

E2E_TARGET_S = 8.0
_E2E_STAGES = (("startup", "Python start, main.py, the CLI"), ("imports", "imports (numpy, numba, linviz)"),
               ("dataset", "dataset from linviz's cache + split"),
               ("kernels_wait", "Numba cache: waited for the warm-up"),
               ("features", "features (train, val, test)"), ("fit", "standardization statistics"),
               ("standardize", "standardization"), ("training", "training"),
               ("evaluation", "evaluation"), ("save", "save"))


def bench_e2e(archive: Optional[Path], quick: bool, say: Say) -> dict:
    """``train --features best --json`` end to end, in a fresh process each time, with its
    stages; and the standardization statistics against plain NumPy on the same matrix."""
    if archive is None:
        say(NO_ARCHIVE)
        return {"skipped": "shared archive not found"}
    main_py = REPOSITORY / "main.py"
    rounds = 1 if quick else 3
    runs = []
    with tempfile.TemporaryDirectory(prefix="linviz-bench-e2e-") as tmp:
        argv = [sys.executable, str(main_py), "train", str(archive), "--features", "best", "--json",
                "--out", str(Path(tmp) / "model.npz")]
        # one run first: a cold Numba cache or dataset cache is not what this measures
        warm = subprocess.run(argv, capture_output=True, text=True)
        if warm.returncode != 0:
            say(f"skipped: train failed: {warm.stderr.strip().splitlines()[-1:]}")
            return {"skipped": f"train exited {warm.returncode}"}
        for _ in range(rounds):
            start = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, text=True)
            wall = time.perf_counter() - start
            report = json.loads(done.stdout)
            runs.append({"wall_s": wall, "test_accuracy": report["test_accuracy"],
                         "val_accuracy": report["val_accuracy"], "timings": report["timings"]})
    walls = [r["wall_s"] for r in runs]
    median = statistics.median(walls)
    typical = min(runs, key=lambda r: abs(r["wall_s"] - median))
    stages = {}
    for name, _ in _E2E_STAGES:
        values = [r["timings"].get(name) for r in runs if r["timings"].get(name) is not None]
        stages[name] = statistics.median(values) if values else None
    accounted = sum(v for v in stages.values() if v is not None)
    say(f"python main.py train <shared CIFAR-10> --features best --json, from process start to exit, "
        f"{rounds} run(s) after a warm one:")
    say(f"  {median:.2f} s (median; runs {', '.join(f'{w:.2f}' for w in walls)}); "
        f"target < {E2E_TARGET_S:.0f} s: {verdict(median < E2E_TARGET_S)}")
    say(f"  test accuracy {typical['test_accuracy']:.4f} (val {typical['val_accuracy']:.4f})")
    for name, label in _E2E_STAGES:
        value = stages[name]
        say(f"  {label:40s} {'-' if value is None else f'{value:6.2f} s'}")
    say(f"  {'(interpreter exit and the rest)':40s} {median - accounted:6.2f} s")
    background = [r["timings"].get("kernels_background") for r in runs]
    if all(b is not None for b in background):
        say(f"  (the kernels' warm-up itself: {statistics.median(background):.2f} s, in a thread while the "
            "dataset loads)")
    result = {"rounds": rounds, "wall_s": walls, "median_wall_s": median,
              "target_s": E2E_TARGET_S, "stages_median_s": stages, "runs": runs,
              "statistics": _bench_statistics(archive, quick, say)}
    return result


def _bench_statistics(archive: Path, quick: bool, say: Say) -> dict:
    """FeaturePipeline.fit (column means and variances in float64) vs plain NumPy computing
    the same statistics on the same ``best`` training matrix."""
    dataset = load_dataset(archive)
    images = dataset.train.images[::5] if quick else dataset.train.images
    pipeline = FeaturePipeline("best")
    F = pipeline.extract(images)
    pipeline.fit(F[:100])  # load the kernels

    def numpy_float32():
        return F.mean(axis=0), F.var(axis=0)

    def numpy_float64():
        return F.mean(axis=0, dtype=np.float64), F.var(axis=0, dtype=np.float64)

    contenders = {"linviz fit": lambda: pipeline.fit(F), "NumPy float32 mean + var": numpy_float32,
                  "NumPy float64 mean + var": numpy_float64}
    samples = {name: [] for name in contenders}
    for _ in range(2 if quick else 5):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    med = {name: statistics.median(v) for name, v in samples.items()}
    say(f"standardization statistics of {F.shape[0]:,} x {F.shape[1]:,} best features (median of "
        f"{len(samples['linviz fit'])}):")
    for name, value in med.items():
        ratio = "" if name == "linviz fit" else f"  -> linviz {value / med['linviz fit']:.1f}x faster"
        say(f"  {name:26s} {value:6.3f} s{ratio}")
    ok = med["linviz fit"] <= med["NumPy float32 mean + var"]
    say(f"  target: no slower than plain NumPy: {verdict(ok)}")
    return {"shape": list(F.shape), "median_s": med}
