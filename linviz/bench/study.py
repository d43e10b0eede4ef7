"""The accuracy study: which feature set gives the best linear (softmax) test accuracy on the
shared CIFAR-10, every set trained the same way (plain NumPy softmax regression)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import numpy as np

from linviz.bench.common import NO_ARCHIVE, Say, load_shared, verdict
from linviz.features import FeaturePipeline

# (name, spec) of the accuracy study, in the order printed; the winner is PRESETS["best"]
STUDY_SETS = [
    ("raw pixels", "raw"),
    ("course: HOG 9/8x8 (unnormalized) + hue 10", "hog+hue"),
    ("HOG 9/8x8 L2-Hys cells + hue 10", "hog:norm=L2-Hys,hue"),
    ("HOG 8x8, 2x2 blocks", "hog:cell=8:block=2"),
    ("color: hue/sat/val + layout 4", "color"),
    ("HOG 4+8, 2x2, L2-Hys, sqrt", "hog:cell=4:block=2:sqrt=1,hog:cell=8:block=2:sqrt=1"),
    ("+ channel max + colors (L2-Hys)", "hog:cell=4:block=2:color=max:sqrt=1,hog:cell=8:block=2:color=max:sqrt=1,"
     "hue:bins=12:sqrt=1,sat:bins=8:sqrt=1,val:bins=8:sqrt=1,layout:grid=4"),
    ("best (L1-sqrt, cells 4+8+16, layout 8)", "best"),
]


def _softmax_sgd(X, y, *, classes: int, epochs: int, reg: float, seed: int = 0):
    """Plain NumPy softmax regression, momentum SGD with a cosine learning-rate schedule."""
    rng = np.random.default_rng(seed)
    n, d = X.shape
    W = np.zeros((d, classes), np.float32)
    V = np.zeros_like(W)
    lr = 0.01 if d > 1000 else 0.05
    batch = 256
    for epoch in range(epochs):
        order = rng.permutation(n)
        step = np.float32(lr * 0.5 * (1 + np.cos(np.pi * epoch / epochs)))
        for s in range(0, n, batch):
            idx = order[s : s + batch]
            xb = X[idx]
            z = xb @ W
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(len(idx)), y[idx]] -= 1
            grad = xb.T @ p / np.float32(len(idx)) + np.float32(reg) * W
            V *= np.float32(0.9)
            V -= step * grad
            W += V
    return W


def bench_study(archive: Optional[Path], quick: bool, say: Say) -> dict:
    """Which feature set gives the best linear (softmax) test accuracy on the shared CIFAR-10."""
    dataset = load_shared(archive)
    if dataset is None or dataset.test is None:
        say(NO_ARCHIVE)
        return {"skipped": "no archive"}
    train_x, train_y = dataset.train.images, dataset.train.labels
    if quick:
        train_x, train_y = train_x[::5], train_y[::5]
    epochs = 8 if quick else 20
    say(f"softmax regression (NumPy, momentum SGD, {epochs} epochs, L2 3e-4) on standardized features; "
        f"{len(train_x):,} train / {len(dataset.test):,} test images")
    say(f"{'feature set':42s} {'dims':>6s} {'extract s':>10s} {'train acc':>10s} {'test acc':>9s}")
    rows = []
    for label, spec in STUDY_SETS:
        pipeline = FeaturePipeline(spec)
        pipeline.extract(train_x[:2])
        start = time.perf_counter()
        f_train = pipeline.extract(train_x)
        f_test = pipeline.extract(dataset.test.images)
        seconds = time.perf_counter() - start
        pipeline.fit(f_train)
        X_train = pipeline.transform_features(f_train)
        X_test = pipeline.transform_features(f_test)
        del f_train, f_test
        W = _softmax_sgd(X_train, train_y, classes=len(dataset.class_names), epochs=epochs, reg=3e-4)
        train_acc = float(((X_train @ W).argmax(axis=1) == train_y).mean())
        test_acc = float(((X_test @ W).argmax(axis=1) == dataset.test.labels).mean())
        rows.append({"set": label, "spec": str(pipeline.spec), "dims": pipeline.dim, "extract_seconds": seconds,
                     "train_accuracy": train_acc, "test_accuracy": test_acc})
        say(f"{label:42s} {pipeline.dim:6d} {seconds:10.2f} {train_acc:10.3f} {test_acc:9.3f}")
    best = max(rows, key=lambda r: r["test_accuracy"])
    say(f"best: {best['set']} ({best['test_accuracy']:.3f}; target >= 0.60: "
        f"{verdict(best['test_accuracy'] >= 0.60)})")
    return {"rows": rows, "best": best}
