"""Few images per class: which feature preset a "Your classes" project should use.

A handful of CIFAR-10 training images per class (10 and 30), drawn at random several times,
each draw trained exactly as the window trains a project: the automatic split
(:func:`linviz.workbench.class_project.auto_split`: a fifth held out when every class has 5
images or more), the features extracted and standardized on the training part
(:func:`linviz.workbench.jobs.extract_features`), softmax SGD with the recommended settings
of the preset, the best validation epoch kept. Scored on the same 2,000 test images
(200 per class) every time. Also "all images": the same draw trained without holding any out.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import numpy as np

from linviz.bench.common import NO_ARCHIVE, Say, load_shared

PRESETS = ("raw", "raw16", "hog", "hog+hue", "color", "best")
PER_CLASS = (10, 30)
TEST_PER_CLASS = 200


def few_shot_accuracy(dataset, test, preset: str, per_class: int, seed: int, hold_out: bool) -> float:
    """Test accuracy of one draw of ``per_class`` images per class, trained as the window does."""
    from linviz.data import Dataset, subsample_per_class
    from linviz.training import recommended_settings, train
    from linviz.workbench import jobs
    from linviz.workbench.class_project import auto_split

    draw = subsample_per_class(dataset.train, per_class, seed=seed)
    counts = {name: int(n) for name, n in zip(dataset.class_names, draw.counts(len(dataset.class_names)))}
    settings = auto_split(counts) if hold_out else auto_split({})
    small = Dataset(dataset.class_names, draw, test, source=f"{per_class} per class, draw {seed}")
    prepared = jobs.prepare_splits(small, settings)
    features = jobs.extract_features(prepared, preset, jobs.QuietContext())
    config = jobs.make_training_config({"loss": "softmax", **recommended_settings(preset)})
    X_val, y_val = (features.X_val, prepared.val.labels) if prepared.has_validation else (None, None)
    final = None
    for final in train(features.X_train, prepared.train.labels, X_val, y_val, config,
                       n_classes=len(dataset.class_names)):
        pass
    W = final.best_W if final.best_W is not None else final.W
    return float(np.mean(np.argmax(features.X_test @ W, axis=1) == test.labels))


def bench_fewshot(archive: Optional[Path], quick: bool, say: Say) -> dict:
    """Mean test accuracy (and its spread over draws) per preset at 10 and 30 images per class."""
    from linviz.data import subsample_per_class

    dataset = load_shared(archive)
    if dataset is None or dataset.test is None:
        say(NO_ARCHIVE)
        return {"skipped": "no archive"}
    draws = 3 if quick else 10
    test = subsample_per_class(dataset.test, TEST_PER_CLASS, seed=123)
    say(f"{draws} random draws per size; test accuracy on {len(test):,} test images; softmax, recommended "
        "settings; 'window': a fifth held out for validation (the window's automatic split), 'all': none")
    say(f"{'preset':10s} {'per class':>9s} {'window':>15s} {'all images':>15s} {'seconds':>8s}")
    rows = []
    for per_class in PER_CLASS:
        for preset in PRESETS:
            start = time.perf_counter()
            held = [few_shot_accuracy(dataset, test, preset, per_class, seed, True) for seed in range(draws)]
            every = [few_shot_accuracy(dataset, test, preset, per_class, seed, False) for seed in range(draws)]
            row = {"preset": preset, "per_class": per_class, "window": float(np.mean(held)),
                   "window_sd": float(np.std(held)), "all": float(np.mean(every)), "all_sd": float(np.std(every)),
                   "seconds": time.perf_counter() - start}
            rows.append(row)
            say(f"{preset:10s} {per_class:9d} {row['window']:9.3f} ±{row['window_sd']:.3f} "
                f"{row['all']:9.3f} ±{row['all_sd']:.3f} {row['seconds']:8.1f}")
    best = {}
    for per_class in PER_CLASS:
        winner = max((r for r in rows if r["per_class"] == per_class), key=lambda r: r["window"])
        best[per_class] = winner["preset"]
        say(f"{per_class} per class: {winner['preset']} wins ({winner['window']:.3f} with the window's split)")
    return {"rows": rows, "winner": best, "draws": draws, "test_images": len(test)}
