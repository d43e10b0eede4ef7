"""kNN on raw pixels: cross-validation and prediction, linviz vs scikit-learn's brute force and
the course's "no loops" NumPy form, checked against an exact float64 reference."""

from __future__ import annotations

import statistics
import time
from functools import partial
from pathlib import Path
from typing import Optional

import numpy as np

from linviz.bench.common import NO_ARCHIVE, Say, load_shared, peak_memory, verdict
from linviz.explore.knn import DEFAULT_KS, run_cross_validation, training_subset
from linviz.features import raw_pixels
from linviz.models.knn import KNearestNeighbor, fold_parts, vote

KNN_PREDICT_K = 5  # k of the prediction benchmark (the course's second test)
CV_FOLDS = 5
CV_TRAIN_SIZE = 5000


def bench_knn(archive: Optional[Path], quick: bool, say: Say) -> dict:
    """kNN on raw pixels: 5-fold CV over the course's k list on 5,000 training images, and
    predicting the test images against all 50,000, L2 and L1; side by side with scikit-learn's
    ``KNeighborsClassifier(algorithm="brute")`` and, for L2, the course's "no loops" NumPy form.

    The references are slow, so they run on part of the work and their time is scaled (said
    so in each line). Ratios come from alternating rounds on the same rows, medians (the
    machine is shared). linviz's predictions are checked against an exact float64 brute force
    (direct differences) on a sample of rows; the agreement with scikit-learn is reported.
    """
    dataset = load_shared(archive)
    if dataset is None or dataset.test is None:
        say(NO_ARCHIVE)
        return {"skipped": "no archive"}
    try:
        from sklearn.neighbors import KNeighborsClassifier
    except ImportError:
        KNeighborsClassifier = None
        say("skipped scikit-learn: not installed (pip install -e '.[bench]')")
    n_classes = len(dataset.class_names)
    X_train, y_train = raw_pixels(dataset.train.images), np.asarray(dataset.train.labels)
    X_test, y_test = raw_pixels(dataset.test.images), np.asarray(dataset.test.labels)
    rounds = 1 if quick else 3
    results: dict = {"features": "raw pixels in [0, 1], float32", "D": X_train.shape[1], "rounds": rounds,
                     "cv": {}, "predict": {}}
    subset = training_subset(len(X_train), CV_TRAIN_SIZE, seed=0)
    Xs, ys = np.ascontiguousarray(X_train[subset]), y_train[subset]
    ks = [k for k in DEFAULT_KS if k <= len(ys) - -(-len(ys) // CV_FOLDS)]
    say(f"5-fold cross-validation on {len(ys):,} training images, k in {ks}:")
    for metric in ("l2", "l1"):
        results["cv"][metric] = _cross_validation(Xs, ys, ks, metric, n_classes, rounds, quick, say,
                                                  KNeighborsClassifier)
    n_test = min(len(X_test), 2000 if quick else 10000)
    Xq, yq = np.ascontiguousarray(X_test[:n_test]), y_test[:n_test]
    say(f"predicting {n_test:,} test images against {len(X_train):,} training images (D = {X_train.shape[1]}, "
        f"k = {KNN_PREDICT_K}):")
    for metric in ("l2", "l1"):
        results["predict"][metric] = _prediction(X_train, y_train, Xq, yq, metric, n_classes, rounds, quick, say,
                                                 KNeighborsClassifier)
    return results


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def _cross_validation(Xs, ys, ks, metric: str, n_classes: int, rounds: int, quick: bool, say: Say,
                      KNeighborsClassifier) -> dict:
    """linviz's whole CV vs scikit-learn searching one fold (timed on part of it, scaled);
    linviz's votes checked against the exact reference on the first fold's validation rows."""
    folds = CV_FOLDS
    val = fold_parts(len(ys), folds, 0)[0]
    train_rows = np.setdiff1d(np.arange(len(ys)), val)
    run_cross_validation(Xs[:60], ys[:60], [1], folds=2, metric=metric)  # compile / load the kernels
    n_exact = min(len(val), 40 if quick else 100)
    n_sk = min(len(val), (300 if quick else 1000) if metric == "l2" else (60 if quick else 200))
    scale = folds * len(val) / n_sk
    sk = None
    if KNeighborsClassifier is not None:
        sk = KNeighborsClassifier(n_neighbors=max(ks), algorithm="brute", metric=_sklearn_metric(metric))

    def sklearn_fold():  # one search per fold up to the largest k, as linviz does, on n_sk rows
        sk.fit(Xs[train_rows], ys[train_rows])
        return sk.kneighbors(Xs[val[:n_sk]], return_distance=False)

    ours_s, sk_s = [], []
    for _ in range(rounds):  # alternating: both see the same drift of the machine's load
        seconds, cv = _timed(lambda: run_cross_validation(Xs, ys, ks, folds=folds, metric=metric))
        ours_s.append(seconds)
        if sk is not None:
            seconds, sk_neighbours = _timed(sklearn_fold)
            sk_s.append(seconds * scale)
    linviz_s = statistics.median(ours_s)
    row = {"linviz_s": round(linviz_s, 3), "best_k": cv.best_k, "mean": [round(m, 4) for m in cv.mean]}
    model = KNearestNeighbor(metric=metric).fit(Xs[train_rows], ys[train_rows])
    _, positions = model.kneighbors(Xs[val[:max(n_exact, n_sk)]], max(ks))
    ours = model.classes_[vote(model.y_train_[positions], ks, len(model.classes_))]  # (rows, len(ks)) labels
    _, exact = _exact_knn_reference(Xs[train_rows], ys[train_rows], Xs[val[:n_exact]], ks, metric, n_classes)
    row["identical_to_exact_reference"] = bool((ours[:n_exact] == exact).all())
    row["exact_reference_rows"] = n_exact
    line = (f"  {metric.upper()}: linviz {linviz_s:.2f} s for the whole CV (median of {rounds}; best k "
            f"{cv.best_k}, mean accuracy {cv.mean[cv.best_index]:.3f}); predictions identical to the exact "
            f"float64 reference on {n_exact} validation rows x {len(ks)} k: "
            f"{'yes' if row['identical_to_exact_reference'] else 'NO'}")
    if sk is not None:
        ratios = [s / o for s, o in zip(sk_s, ours_s)]
        one_search = statistics.median(sk_s)
        ratio = statistics.median(ratios)
        sk_votes = vote(ys[train_rows][sk_neighbours], ks, n_classes)
        agreement = float(np.mean(sk_votes == ours[:n_sk]))
        row.update({"sklearn_one_search_per_fold_s": round(one_search, 2),
                    "sklearn_per_k_s": round(one_search * len(ks), 2), "sklearn_rows_timed": n_sk,
                    "speedup_vs_sklearn_one_search": round(ratio, 2),
                    "speedup_vs_sklearn_per_k": round(ratio * len(ks), 2), "sklearn_agreement": agreement})
        line += (f"\n      scikit-learn brute, one kneighbors per fold up to k = {max(ks)}: {one_search:.1f} s "
                 f"(timed on {n_sk} validation rows of a fold, scaled x{scale:.0f}) -> linviz {ratio:.1f}x faster; "
                 f"with one predict per k and fold (the usual loop) {ratio * len(ks):.0f}x; same votes "
                 f"(scikit-learn's neighbours, our vote) for {agreement:.1%} of rows x k")
    say(line)
    return row


def _prediction(X_train, y_train, Xq, yq, metric: str, n_classes: int, rounds: int, quick: bool, say: Say,
                KNeighborsClassifier) -> dict:
    """linviz predicting every query row (time, accuracy, peak memory, exactness on a sample),
    then against scikit-learn and (L2) the course's NumPy form on part of the rows."""
    N = len(X_train)
    n_test = len(Xq)
    k = KNN_PREDICT_K
    model = KNearestNeighbor(k=k, metric=metric).fit(X_train, y_train)
    model.predict(Xq[:16])  # compile / load, outside the timing
    (linviz_s, predicted), traced_peak, rss_extra = peak_memory(lambda: _timed(lambda: model.predict(Xq)))
    accuracy = float(np.mean(predicted == yq))
    n_exact = min(n_test, 20 if quick else 50)
    exact_neighbours, exact_votes = _exact_knn_reference(X_train, y_train, Xq[:n_exact], [k], metric, n_classes)
    identical = bool((exact_votes[:, 0] == predicted[:n_exact]).all())
    same_neighbours = bool((model.kneighbors(Xq[:n_exact])[1] == exact_neighbours).all())
    peak = max(traced_peak, rss_extra or 0)
    row = {"images": n_test, "linviz_s": round(linviz_s, 3), "linviz_ms_per_image": round(1e3 * linviz_s / n_test, 3),
           "test_accuracy": accuracy, "identical_to_exact_reference": identical,
           "same_neighbours_as_exact_reference": same_neighbours, "exact_reference_rows": n_exact,
           "traced_peak_bytes": traced_peak, "rss_peak_above_start_bytes": rss_extra,
           "full_matrix_bytes": n_test * N * 4, "memory_target_met": peak < 300 * 2**20}
    say(f"  {metric.upper()}: linviz {linviz_s:.1f} s = {1e3 * linviz_s / n_test:.2f} ms per image (all "
        f"{n_test:,}), accuracy {accuracy:.4f}; predictions and neighbour lists identical to the exact float64 "
        f"reference on {n_exact} images: {'yes' if identical and same_neighbours else 'NO'}; peak extra memory "
        f"{traced_peak / 2**20:.0f} MB traced" + (f", {rss_extra / 2**20:.0f} MB RSS" if rss_extra is not None else "")
        + f" (a full matrix: {n_test * N * 4 / 2**20:,.0f} MB; target < 300 MB: {verdict(peak < 300 * 2**20)})")
    if KNeighborsClassifier is not None:
        row.update(_vs_sklearn(model, X_train, y_train, Xq, predicted, metric, rounds, quick, say,
                               KNeighborsClassifier))
    if metric == "l2":
        row.update(_vs_course(model, X_train, y_train, Xq, predicted, n_classes, quick, say))
    return row


def _vs_sklearn(model, X_train, y_train, Xq, predicted, metric: str, rounds: int, quick: bool, say: Say,
                KNeighborsClassifier) -> dict:
    n_test = len(Xq)
    n_sk = min(n_test, (300 if quick else 1000) if metric == "l2" else (50 if quick else 200))
    sk = KNeighborsClassifier(n_neighbors=KNN_PREDICT_K, algorithm="brute",
                              metric=_sklearn_metric(metric)).fit(X_train, y_train)
    sk.predict(Xq[:4])
    ours_s, sk_s = [], []
    for _ in range(rounds):  # alternating rounds on the same images
        ours_s.append(_timed(lambda: model.predict(Xq[:n_sk]))[0])
        seconds, sk_predicted = _timed(lambda: sk.predict(Xq[:n_sk]))
        sk_s.append(seconds)
    ratio = statistics.median([s / o for s, o in zip(sk_s, ours_s)])
    sk_total = statistics.median(sk_s) * n_test / n_sk
    agreement = float(np.mean(sk_predicted == predicted[:n_sk]))
    target = 1.0 if metric == "l2" else 3.0
    say(f"      scikit-learn brute: {1e3 * sk_total / n_test:.2f} ms per image ({sk_total:.0f} s for all, "
        f"scaled from {n_sk:,} images) -> linviz {ratio:.2f}x faster (median of {rounds} alternating rounds "
        f"on those images; target >= {target:g}x: {verdict(ratio >= target)}); same predictions "
        f"on {agreement:.2%} of them")
    return {"sklearn_s": round(sk_total, 2), "sklearn_rows_timed": n_sk, "speedup_vs_sklearn": round(ratio, 2),
            "sklearn_agreement": agreement, "target_speedup": target}


def _vs_course(model, X_train, y_train, Xq, predicted, n_classes: int, quick: bool, say: Say) -> dict:
    n_test, N = len(Xq), len(X_train)
    n_course = min(n_test, 300 if quick else 1000)
    X64, Xq64 = X_train.astype(np.float64), Xq[:n_course].astype(np.float64)
    course_s, course = _timed(partial(_course_no_loops, X64, y_train, Xq64, KNN_PREDICT_K, n_classes))
    del X64  # 400 MB on CIFAR-10
    ours_course = _timed(lambda: model.predict(Xq[:n_course]))[0]
    agreement = float(np.mean(course == predicted[:n_course]))
    ratio = course_s / ours_course
    say(f"      the course's no-loops NumPy (float64 as the course loads CIFAR-10, then a full argsort per "
        f"row): {1e3 * course_s / n_course:.2f} ms per image (on {n_course:,} images: a "
        f"{n_course * N * 8 / 2**20:,.0f} MB matrix) -> linviz {ratio:.1f}x faster on the same images; same "
        f"predictions on {agreement:.2%}")
    return {"course_no_loops_s": round(course_s * n_test / n_course, 2), "course_rows_timed": n_course,
            "speedup_vs_course_no_loops": round(ratio, 2), "course_agreement": agreement}


def _exact_knn_reference(X_train, y_train, X, ks, metric: str, n_classes: int, chunk: int = 4096):
    """The independent reference: float64 distances by direct differences (NumPy, in chunks of
    training rows), a stable argsort (equal distances: the lower index), and a vote per k
    (``np.argmax`` of the counts: the smaller class on equal votes). (neighbours, votes)."""
    kmax = max(ks)
    neighbours = np.empty((len(X), kmax), np.int64)
    votes = np.empty((len(X), len(ks)), np.int64)
    for q, x in enumerate(np.asarray(X, dtype=np.float64)):
        parts = []
        for start in range(0, len(X_train), chunk):
            diff = X_train[start:start + chunk].astype(np.float64) - x
            parts.append(np.abs(diff).sum(1) if metric == "l1" else np.einsum("ij,ij->i", diff, diff))
        order = np.argsort(np.concatenate(parts), kind="stable")[:kmax]
        neighbours[q] = order
        for t, k in enumerate(ks):
            votes[q, t] = np.argmax(np.bincount(y_train[order[:k]], minlength=n_classes))
    return neighbours, votes


def _sklearn_metric(metric: str) -> str:
    return {"l1": "manhattan", "l2": "euclidean", "cosine": "cosine"}[metric]


def _course_no_loops(X_train, y_train, X, k: int, n_classes: int):
    """The course's fully vectorized L2 (``compute_distances_no_loops``) on float64 data as the
    course loads it, then its ``predict_labels``: a full argsort of each row, a bincount vote."""
    dists = np.sqrt(np.maximum(-2.0 * X @ X_train.T + np.sum(X ** 2, axis=1)[:, None]
                               + np.sum(X_train ** 2, axis=1)[None, :], 0.0))
    predicted = np.empty(len(X), np.int64)
    for i in range(len(X)):
        closest = y_train[np.argsort(dists[i])[:k]]
        predicted[i] = np.argmax(np.bincount(closest, minlength=n_classes))
    return predicted
