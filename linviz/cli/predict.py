"""``python main.py predict MODEL IMAGE...``: classify image files (or folders of them) with a
saved model; unreadable files are reported, not fatal (unless none could be read)."""

from __future__ import annotations

import argparse
import sys

from linviz.cli.common import EXIT_OK, UsageError, kernels_ready, print_json
from linviz.models.losses import LOSSES
from linviz.text import printable

NAMED_FAILURES = 3  # files the one error line names with their reasons (then: "and N more")


def run(args: argparse.Namespace) -> int:
    """Classify image files (or folders of them) with a saved model; unreadable files are reported."""
    from linviz.data import image_files_in
    from linviz.models.model_file import ImagePrediction, load_model

    model = load_model(args.model)  # ModelFileError -> exit 2
    files, skipped = image_files_in(args.images)  # FIFOs and devices are skipped, never opened
    if files and model.pipeline is not None:
        from linviz.training.warmup import features_part

        kernels_ready([features_part(model.pipeline.spec, model.pipeline.image_shape or (32, 32))], processes=False)
    results = model.predict_images(files, top=args.top)
    results += [ImagePrediction(path, error=f"{path}: {reason}") for path, reason in skipped]
    n_ok = sum(r.error is None for r in results)
    if args.json:  # every file in the list, an unreadable one with its reason
        print_json([r.as_json() for r in results])
    if n_ok == 0:
        raise UsageError(_nothing_read(args.images, results))
    if not args.json:
        _print_predictions(args.model, model, results)
    return EXIT_OK


def _nothing_read(given: list, results) -> str:
    """The one error line when no image could be classified: the files and their reasons."""
    if not results:
        return f"predict: no image files in {', '.join(printable(str(p)) for p in given)}"
    if len(results) == 1:
        return f"predict: {printable(results[0].error)}"
    named = "; ".join(printable(r.error) for r in results[:NAMED_FAILURES])
    more = len(results) - NAMED_FAILURES
    return (f"predict: none of the {len(results):,} images could be read: {named}"
            + (f"; and {more:,} more" if more > 0 else ""))


def _print_predictions(model_path: str, model, results) -> None:
    """The predictions on stdout, a line per image (what a script reads); the files that could
    not be read as warnings on stderr."""
    loss = LOSSES[model.loss]
    what = "probability" if loss.has_probabilities else f"score ({loss.short_label}, not a probability)"
    print(f"model: {printable(model_path)} ({model.loss}, {len(model.class_names)} classes); values: {what}")
    for r in results:
        if r.error is not None:
            reason = r.error[len(r.path) + 2:] if r.error.startswith(f"{r.path}: ") else r.error
            print(f"warning: predict: skipped {printable(r.path)}: {printable(reason)}", file=sys.stderr)
            continue
        shown = ", ".join(f"{printable(name)} {value:.3f}" for name, value in r.classes)
        print(f"{printable(r.path)}: {shown}")
