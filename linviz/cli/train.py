"""``python main.py train SOURCE --out M.npz``: the train recipe (linviz.training.recipe) with
progress bars: load, split, extract features, train, evaluate, save; then record the run
(``--record``) and report the accuracies.

Exit status: 0 trained and saved; 2 bad input; 3 the run diverged (the best weights before
that were saved); 130 Ctrl+C (the best weights so far saved).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from linviz.cli.common import (
    EXIT_DIVERGED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    ProgressBar,
    UsageError,
    check_output_file,
    load_split_extract,
    progress_step,
    percent,
    print_json,
    record_run,
    spec_words,
    stop_on_ctrl_c,
)
from linviz.text import counted, duration, printable


@dataclass
class Trained:
    """What the recipe made: the data, the final snapshot, the kept weights' accuracies."""

    data: object          # linviz.training.recipe.TrainingData
    final: object         # linviz.training.Snapshot
    accuracies: dict
    interrupted: bool     # Ctrl+C stopped the training


def run(args: argparse.Namespace) -> int:
    """Load, split, extract features, train with live progress, save the model, report accuracies."""
    entered = time.perf_counter()
    age_at_entry = _process_age()
    if args.name and not args.record:
        raise UsageError("train: --name names the run in the run history: give --record too")
    from linviz.training import recipe  # numpy, numba and the rest of linviz

    timings = {"imports": time.perf_counter() - entered}
    out = Path(args.out)
    check_output_file(out)
    pipeline, config = configure(args)
    start = time.perf_counter()
    trained = train_and_save(args, pipeline, config, out, timings)
    run_id = None
    if args.record:
        record = recipe.run_record(trained.data, config, trained.final, origin="cli", name=args.name or "",
                                   train_accuracy=trained.accuracies["train_accuracy"],
                                   val_accuracy=trained.accuracies["val_accuracy"], wall_seconds=timings["training"])
        run_id = record_run(record, trained.final.best_W, trained.data.dataset.class_names, pipeline)
    seconds = time.perf_counter() - start
    if age_at_entry is not None:  # Python's start, main.py and the CLI's own imports
        timings["startup"] = age_at_entry
    report = _report(trained, out, seconds, timings)
    if args.record:
        report["run_id"] = run_id
    code = _exit_code(trained, report, out)
    if args.json:
        print_json(report)
    else:
        _print_report(trained, report, seconds, out, run_id)
    return code


def configure(args: argparse.Namespace):
    """(feature pipeline, TrainingConfig) of the command line: every option not given comes
    from the settings recommended for these features, this loss and this optimizer (the
    app's defaults too). Bad values exit 2 here, before anything is loaded."""
    from linviz.features import FeaturePipeline
    from linviz.training import recipe

    # bad spec -> LinvizError, exit 2; blocks that learn from the images draw from the run's seed
    pipeline = FeaturePipeline(args.features, seed=args.seed)
    given = {"learning_rate": args.lr, "lr_decay": args.lr_decay, "epochs": args.epochs,
             "batch_size": args.batch, "momentum": args.momentum, "reg": args.reg,
             "search_step": args.search_step, "search_sample": args.search_sample}
    _check_optimizer_options(args.optimizer, given)
    try:
        config = recipe.recommended_config(
            pipeline.spec, args.model, args.optimizer, image_size=args.image_size, given=given,
            reg_type=args.reg_type, elastic_beta=args.elastic_beta, delta=args.delta, seed=args.seed,
            early_stopping=args.early_stopping)
    except ValueError as exc:
        raise UsageError(f"train: {exc}") from None
    if args.early_stopping is not None and args.val == 0:
        raise UsageError("train: --early-stopping needs validation data; drop --val 0 or --early-stopping")
    return pipeline, config


#: The options that set one optimizer's settings (the others take no such setting).
OPTIMIZER_OPTIONS = {"learning_rate": "--lr", "lr_decay": "--lr-decay", "batch_size": "--batch",
                     "momentum": "--momentum", "search_step": "--search-step", "search_sample": "--search-sample"}


def _check_optimizer_options(optimizer: str, given: dict) -> None:
    """An option the optimizer takes no setting for is refused, not ignored (a student who
    gives random search a learning rate should hear that it has none); a learning rate of 0
    too (the weights would stay where they start and the run would end at chance)."""
    from linviz.training.optimizers import optimizer_named

    spec = optimizer_named(optimizer)
    # a search makes one try per "minibatch": the batch size sets its tries per epoch
    applies = spec.settings + (("batch_size",) if spec.gradient_free else ())
    for setting, option in OPTIMIZER_OPTIONS.items():
        if given.get(setting) is not None and setting not in applies:
            takes = ", ".join(OPTIMIZER_OPTIONS[s] for s in applies if s in OPTIMIZER_OPTIONS)
            raise UsageError(f"train: {option} does not apply to --optimizer {spec.name} ({spec.label} takes {takes})")


def train_and_save(args: argparse.Namespace, pipeline, config, out: Path, timings: dict) -> Trained:
    """The recipe's steps, each with its progress bar; Ctrl+C during training stops it and
    the best weights so far are saved."""
    from linviz.training import TrainingControl, recipe, warmup

    data = load_split_extract(args, pipeline, config, "train", timings,
                              needs_validation="--early-stopping" if args.early_stopping is not None else None)
    recipe.wait_for_kernels([warmup.training_part()], step=progress_step, timings=timings)
    control = TrainingControl()
    with ProgressBar("training") as bar, stop_on_ctrl_c(control) as interrupted:
        final = recipe.fit(data, config, control=control, progress=bar, timings=timings)
    accuracies = recipe.evaluate(data, final.best_W, timings=timings)
    recipe.save(out, data, config, final, accuracies, timings=timings)
    return Trained(data, final, accuracies, bool(interrupted))


def _report(trained: Trained, out: Path, seconds: float, timings: dict) -> dict:
    """The ``--json`` document (the text output prints the same figures)."""
    data, final = trained.data, trained.final
    return {
        **trained.accuracies,
        "seconds": round(seconds, 3),
        "training_seconds": round(final.elapsed, 3),
        "model": str(out),
        "features": str(data.pipeline.spec),
        "n_features": int(data.X.shape[1] - 1),
        "classes": list(data.dataset.class_names),
        "n_train": data.n_train, "n_val": data.n_val, "n_test": data.n_test,
        "iterations": final.iteration, "epochs_done": final.epochs_done,
        "initial_loss": final.initial_loss, "expected_initial_loss": final.expected_initial_loss,
        "final_loss": final.smoothed_loss, "samples_per_second": round(final.samples_per_second),
        "stop_reason": final.stop_reason, "best_epoch": final.best_epoch, "kept": final.kept,
        "timings": {k: (None if v is None else round(v, 4)) for k, v in timings.items()},
    }


def _exit_code(trained: Trained, report: dict, out: Path) -> int:
    """0, or 130 after Ctrl+C, or 3 after a divergence (said on stderr; the report says which
    weights were saved)."""
    final = trained.final
    if trained.interrupted:
        print(f"interrupted ({final.stop_reason}): saved the best weights so far to {printable(out)}",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    if final.stop_reason.startswith("diverged"):
        report["diverged"] = True
        report["saved_weights"] = _saved_weights(final)
        print(f"train: {final.stop_reason}; saved to {printable(out)}: {report['saved_weights']}", file=sys.stderr)
        return EXIT_DIVERGED
    return EXIT_OK


def _print_report(trained: Trained, report: dict, seconds: float, out: Path, run_id: Optional[str]) -> None:
    final, accuracies = trained.final, trained.accuracies
    print(f"features:   {spec_words(report['features'])} ({report['n_features']:,} columns + bias)")
    print(f"data:       {report['n_train']:,} train, {report['n_val']:,} val, {report['n_test']:,} test images, "
          f"{trained.data.n_classes} classes")
    print(f"sanity:     {final.sanity_check}")
    print(f"training:   {counted(final.iteration, 'iteration')}, {counted(final.epochs_done, 'epoch')}, "
          f"{duration(final.elapsed)}, {final.samples_per_second:,.0f} samples/s; {final.stop_reason}")
    print(f"loss:       {final.initial_loss:.4f} -> {final.smoothed_loss:.4f} (smoothed)")
    print(f"kept:       {final.kept}" + ("" if trained.data.X_val is not None else
                                          "; the test split is only scored, never used to choose"))
    print(f"accuracy:   train {percent(accuracies['train_accuracy'])}, val {percent(accuracies['val_accuracy'])}, "
          f"test {percent(accuracies['test_accuracy'])}")
    print(f"saved:      {printable(out)} ({duration(seconds)} in all)")
    if run_id is not None:
        print(f"recorded:   run {run_id} in the run history")


def _saved_weights(final) -> str:
    """Which weights a diverged run saved, in words."""
    if final.best_epoch is not None and final.best_val_accuracy is not None:
        return (f"the weights of epoch {final.best_epoch} (the best validation accuracy, "
                f"{final.best_val_accuracy:.4f})")
    return "the newest weights no worse than the initial ones (the initial ones, if it diverged at once)"


def _process_age() -> Optional[float]:
    """Seconds since this process started (Linux /proc; None elsewhere)."""
    try:
        import os

        with open("/proc/self/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None
