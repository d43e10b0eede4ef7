"""A learning rate x regularization search (``python main.py tune``'s work) against the
course's NumPy loop in one process and scikit-learn's SGDClassifier, same epochs, same data."""

from __future__ import annotations

import statistics
import time
import warnings
from pathlib import Path
from typing import Optional

import numpy as np

from linviz.bench.common import NO_ARCHIVE, Say, load_shared, verdict
from linviz.data import subsample_per_class
from linviz.explore.tuning import SearchPlan, best_result, parse_values, run_search
from linviz.features import FeaturePipeline
from linviz.models.reference_losses import softmax_loss_vectorized
from linviz.training import recipe

TUNE_LRS, TUNE_REGS, TUNE_EPOCHS = "1e-3:1e-1:5", "1e-4:1:5", 5
TUNE_TARGET = 3.0  # x the NumPy loop in one process
NUMPY_RUNS_PER_ROUND = 2  # of the 25, timed and scaled


def bench_tune(archive: Optional[Path], quick: bool, say: Say) -> dict:
    """A 5 x 5 learning rate x regularization search of 5-epoch softmax runs on hog+hue:
    linviz (both cores, and one) against the course's NumPy loop in one process and
    scikit-learn's SGDClassifier, same epochs, same data; the references time a few of the
    25 runs and are scaled to 25."""
    dataset = load_shared(archive)
    if dataset is None:
        say(NO_ARCHIVE)
        return {"skipped": "shared archive not found"}
    data = _search_data(dataset, quick)
    X, y, X_val, y_val = data.X, data.y, data.X_val, data.y_val
    base = recipe.recommended_config("hog+hue", "softmax", given={"epochs": TUNE_EPOCHS})
    plan = SearchPlan(parse_values(TUNE_LRS), parse_values(TUNE_REGS))
    points = plan.points()
    say(f"{len(plan.learning_rates)} x {len(plan.regs)} search (lr {TUNE_LRS}, reg {TUNE_REGS}) of "
        f"{TUNE_EPOCHS}-epoch softmax runs, batch {base.batch_size}, decay {base.lr_decay}, on hog+hue: "
        f"{len(y):,} training images x {X.shape[1]} columns, {len(y_val):,} validation images")
    run_search(X[:2000], y[:2000], X_val, y_val, base, SearchPlan([0.1], [1e-3]), n_classes=data.n_classes)  # load
    rounds = 1 if quick else 3
    two, one, cpu_two, numpy_runs, numpy_vals, best = _alternating_rounds(data, base, plan, rounds, say)
    per_round = NUMPY_RUNS_PER_ROUND
    numpy_run = statistics.median(numpy_runs)
    numpy_total = numpy_run * len(points)
    ratios = [statistics.mean(numpy_runs[k * per_round:(k + 1) * per_round]) * len(points) / two[k]
              for k in range(rounds)]
    ratios_one = [statistics.mean(numpy_runs[k * per_round:(k + 1) * per_round]) * len(points) / one[k]
                  for k in range(rounds)]
    ratio, ratio_one = statistics.median(ratios), statistics.median(ratios_one)
    say(f"  linviz: {statistics.median(two):.2f} s on both cores ({statistics.median(two) / len(points) * 1000:.0f} ms "
        f"a run), {statistics.median(one):.2f} s on one (medians of {rounds}); best lr {best.learning_rate:g}, "
        f"reg {best.reg:g}: val {best.val_accuracy:.4f}")
    say(f"  NumPy loop, one process: {numpy_run * 1000:.0f} ms a run (median of {len(numpy_runs)} of the "
        f"{len(points)} runs) -> {numpy_total:.2f} s for the search; val accuracies of those runs "
        f"{', '.join(f'{v:.3f}' for v in numpy_vals)}")
    result = {"runs": len(points), "epochs": TUNE_EPOCHS, "n_train": len(y), "n_val": len(y_val), "rounds": rounds,
              "linviz_two_workers_s": two, "linviz_two_workers_cpu_s": cpu_two, "linviz_one_worker_s": one,
              "best": best.as_json(), "numpy_loop_runs_s": numpy_runs, "numpy_loop_search_s_scaled": numpy_total,
              "ratios_vs_numpy": ratios, "ratios_vs_numpy_one_worker": ratios_one, "ratio_vs_numpy": ratio,
              "ratio_vs_numpy_one_worker": ratio_one, "target": TUNE_TARGET}
    say(f"  linviz vs the NumPy loop: {ratio:.1f}x on both cores (rounds {', '.join(f'{r:.1f}' for r in ratios)}), "
        f"{ratio_one:.1f}x on one (target >= {TUNE_TARGET:g}x on both: {verdict(ratio >= TUNE_TARGET)})")
    result.update(_vs_sgdclassifier(data, points, _numpy_order(len(points), rounds), quick,
                                    statistics.median(two), statistics.median(one), say))
    return result


def _search_data(dataset, quick: bool) -> recipe.TrainingData:
    """The recipe's split (1000 validation images, seed 0) and hog+hue features; quick: a
    stratified tenth of the training images (the archive is sorted by class, so not the
    first ones)."""
    train_split, val_split, val_size = recipe.split_for_training(dataset.train, 1000, seed=0)
    if quick:
        train_split = subsample_per_class(train_split, 1000, seed=0)
    data = recipe.TrainingData(dataset, FeaturePipeline("hog+hue"), train_split, val_split, val_size, seed=0,
                               with_test=False)
    return recipe.extract(data)


def _numpy_order(n_points: int, rounds: int) -> np.ndarray:
    """Which points of the search the NumPy loop runs, round after round (spread over the grid)."""
    return np.linspace(0, n_points - 1, rounds * NUMPY_RUNS_PER_ROUND).round().astype(int)


def _alternating_rounds(data: recipe.TrainingData, base, plan: SearchPlan, rounds: int, say: Say):
    """Alternating rounds (the machine is shared): the whole search on both cores, two runs of
    the NumPy loop (different ones each round, scaled to the search), the whole search on one
    core. (seconds on two, on one, CPU seconds on two, NumPy seconds per run, their validation
    accuracies, the best run)."""
    X, y, X_val, y_val, C = data.X, data.y, data.X_val, data.y_val, data.n_classes
    points = plan.points()
    per_round = NUMPY_RUNS_PER_ROUND
    order = _numpy_order(len(points), rounds)
    two, one, numpy_runs, numpy_vals, cpu_two = [], [], [], [], []
    best = None
    for k in range(rounds):
        start, cpu = time.perf_counter(), time.process_time()
        results = run_search(X, y, X_val, y_val, base, plan, n_classes=C, workers=2)
        two.append(time.perf_counter() - start)
        cpu_two.append(time.process_time() - cpu)
        best = best_result(results)
        for index in order[k * per_round:(k + 1) * per_round]:
            lr, reg = points[index]
            start = time.perf_counter()
            numpy_vals.append(_numpy_search_run(X, y, X_val, y_val, lr, reg, epochs=TUNE_EPOCHS, batch=base.batch_size,
                                                decay=base.lr_decay, seed=0)[0])
            numpy_runs.append(time.perf_counter() - start)
        start = time.perf_counter()
        run_search(X, y, X_val, y_val, base, plan, n_classes=C, workers=1)
        one.append(time.perf_counter() - start)
        numpy_round = statistics.mean(numpy_runs[-per_round:]) * len(points)
        say(f"  round {k + 1}: linviz {two[-1]:.2f} s on both cores (CPU {cpu_two[-1]:.2f} s), {one[-1]:.2f} s on one; "
            f"NumPy loop {numpy_round:.2f} s (scaled from {per_round} runs) -> {numpy_round / two[-1]:.1f}x, "
            f"{numpy_round / one[-1]:.1f}x")
    return two, one, cpu_two, numpy_runs, numpy_vals, best


def _vs_sgdclassifier(data: recipe.TrainingData, points, order, quick: bool, linviz_two: float, linviz_one: float,
                      say: Say) -> dict:
    """scikit-learn's SGDClassifier on one or two of the points, scaled to the search."""
    try:
        from sklearn.linear_model import SGDClassifier
    except ImportError:
        say("  skipped scikit-learn's SGDClassifier (pip install -e \".[bench]\")")
        return {}
    X, y, X_val, y_val = data.X, data.y, data.X_val, data.y_val
    sk_sample = [points[k] for k in order[: 1 if quick else 2]]
    start = time.perf_counter()
    sk_vals = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached: the epochs are the point
        for lr, reg in sk_sample:
            model = SGDClassifier(loss="log_loss", penalty="l2", alpha=reg, learning_rate="constant", eta0=lr,
                                  max_iter=TUNE_EPOCHS, tol=None, shuffle=True, random_state=0)
            model.fit(X, y)
            sk_vals.append(float(model.score(X_val, y_val)))
    sk_run = (time.perf_counter() - start) / len(sk_sample)
    sk_total = sk_run * len(points)
    result = dict(sgdclassifier_run_s=sk_run, sgdclassifier_search_s_scaled=sk_total,
                  sgdclassifier_runs_timed=len(sk_sample), ratio_vs_sgdclassifier=sk_total / linviz_two,
                  ratio_vs_sgdclassifier_one_worker=sk_total / linviz_one)
    say(f"  scikit-learn SGDClassifier (log loss, one-vs-rest, per-sample SGD, {TUNE_EPOCHS} epochs, one core): "
        f"{sk_run * 1000:.0f} ms a run ({len(sk_sample)} timed) -> {sk_total:6.2f} s; val accuracies "
        f"{', '.join(f'{v:.3f}' for v in sk_vals)}; linviz is {result['ratio_vs_sgdclassifier']:.1f}x faster on both "
        f"cores, {result['ratio_vs_sgdclassifier_one_worker']:.1f}x on one")
    return result


def _numpy_search_run(X, y, X_val, y_val, lr, reg, *, epochs, batch, decay, seed):
    """One run of the course's NumPy loop: minibatches drawn with np.random.choice, the
    vectorized softmax loss and gradient (float32), W -= lr * dW, the rate decayed per epoch,
    the validation accuracy at every epoch end and the best epoch's weights kept."""
    rng = np.random.default_rng(seed)
    n, d = X.shape
    C = int(y.max()) + 1
    W = (0.001 * rng.standard_normal((d, C))).astype(np.float32)
    per_epoch = n // batch
    best, best_W = -1.0, W.copy()
    for _ in range(epochs):
        for _ in range(per_epoch):
            idx = rng.choice(n, batch)
            _, dW = softmax_loss_vectorized(W, X[idx], y[idx], reg)
            W -= np.float32(lr) * dW.astype(np.float32)
        val = float(np.mean(np.argmax(X_val @ W, axis=1) == y_val))
        if val > best:
            best, best_W = val, W.copy()
        lr *= decay
    return best, float(np.mean(np.argmax(X @ best_W, axis=1) == y))
