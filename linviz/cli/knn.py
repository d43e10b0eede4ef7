"""``python main.py knn SOURCE``: k-nearest neighbors (linviz.explore.knn): cross-validation
over a list of k on a training subset, the best k, and its test accuracy (trained on the
whole subset)."""

from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext

from linviz.cli.common import EXIT_OK, ProgressBar, UsageError, print_json, warn_about_skipped
from linviz.text import counted, duration, printable


def run(args: argparse.Namespace) -> int:
    """k-NN: cross-validation over a list of k on a training subset, the best k, and its test
    accuracy (trained on the whole subset)."""
    from linviz.explore.knn import DEFAULT_KS, cross_validation, knn_test, parse_ks, prepare_knn
    from linviz.features import parse_feature_spec

    spec = parse_feature_spec(args.features)  # bad input fails before the (slow) load
    ks = parse_ks(args.k, name="knn: --k") if args.k is not None else DEFAULT_KS
    if args.train_size is not None and args.train_size < args.folds:
        raise UsageError(f"knn: --train-size must be at least --folds ({args.folds}), got {args.train_size}")
    dataset, size, ks = _load(args, ks)
    with _bar(args, "features") as bar:
        setup = prepare_knn(dataset.train.images, dataset.train.labels, spec=spec, metric=args.distance,
                            train_size=size, seed=args.seed, n_classes=len(dataset.class_names), progress=bar)
    cv = None
    with _bar(args, f"{args.folds}-fold CV") as bar:
        for cv in cross_validation(setup.X, setup.y, ks, folds=args.folds, metric=args.distance, seed=args.seed,
                                   progress=bar):
            pass
    test_accuracy, timing = None, None
    if dataset.test is not None and len(dataset.test):
        with _bar(args, "test") as bar:
            X_test = setup.features.transform(dataset.test.images)
            _, timing = knn_test(setup, X_test, dataset.test.labels, cv.best_k, progress=bar)
        test_accuracy = timing.accuracy
    if args.json:
        print_json({**cv.as_json(), "test_accuracy": test_accuracy})
    else:
        _print_results(args, dataset, setup, size, cv, timing)
    return EXIT_OK


def _bar(args: argparse.Namespace, label: str):
    """A progress bar, none with --json."""
    return nullcontext() if args.json else ProgressBar(label)


def _load(args: argparse.Namespace, ks):
    """(dataset, the training images kNN uses, the k values to validate); the sizes are
    checked against the folds and the k values inside the loading step. The course's k list
    (no --k) on a few images: the k values a fold has images for, and a warning."""
    from linviz.data import load_dataset
    from linviz.explore.knn import DEFAULT_TRAIN_SIZE, ks_that_fit

    with _bar(args, "loading") as bar:
        dataset = load_dataset(args.source, image_size=args.image_size, progress=bar)
        available = len(dataset.train)
        if args.train_size is not None and args.train_size > available:
            raise UsageError(f"knn: --train-size {args.train_size:,} is more than the {available:,} training "
                             f"images of {dataset.source}")
        size = args.train_size if args.train_size is not None else min(DEFAULT_TRAIN_SIZE, available)
        if size < args.folds:
            raise UsageError(f"knn: {dataset.source} has {counted(available, 'training image')}, fewer than --folds "
                             f"({args.folds})")
        fit, too_big, smallest_fold = ks_that_fit(ks, size, args.folds)
        if too_big and args.k is not None:
            raise UsageError(f"knn: --k {', '.join(map(str, too_big))} is more than the {smallest_fold:,} training "
                             f"images of a fold ({size:,} images in {args.folds} folds)")
    warn_about_skipped(dataset, "knn")  # after the bar and the checks: a bad argument stays one line
    if too_big:
        print(f"warning: knn: k {', '.join(map(str, too_big))} of the course's list "
              f"{'is' if len(too_big) == 1 else 'are'} more than the {smallest_fold:,} training images of a fold "
              f"({size:,} images in {args.folds} folds); cross-validating k {', '.join(map(str, fit))}",
              file=sys.stderr)
    return dataset, size, fit


def _print_results(args: argparse.Namespace, dataset, setup, size: int, cv, timing) -> None:
    print(f"source:     {printable(dataset.source)}")
    print(f"features:   {printable(setup.features.description)}, {setup.X.shape[1]:,} columns")
    print(f"distance:   {args.distance.upper() if args.distance != 'cosine' else 'cosine'}")
    print(f"data:       {size:,} of {len(dataset.train):,} training images, {args.folds}-fold cross-validation "
          f"({duration(cv.seconds)})")
    print()
    print(f"{'k':>5}  " + "  ".join(f"{'fold ' + str(f + 1):>7}" for f in range(args.folds))
          + f"  {'mean':>7}  {'std':>7}")
    best = cv.best_index
    for i, k in enumerate(cv.ks):
        folds = "  ".join(f"{a:7.4f}" for a in cv.fold_accuracies[:, i])
        mark = "  <- best" if i == best else ""
        print(f"{k:>5}  {folds}  {cv.mean[i]:7.4f}  {cv.std[i]:7.4f}{mark}")
    print()
    print(f"best k:     {cv.best_k} (mean accuracy {cv.mean[best]:.4f} +- {cv.std[best]:.4f})")
    if timing is not None:
        print(f"test:       accuracy {timing.accuracy:.4f} with k = {cv.best_k} on {timing.n_test:,} test images "
              f"({timing.predict_us_per_image:,.0f} us per image)")
    else:
        print("test:       no test split in this source")
