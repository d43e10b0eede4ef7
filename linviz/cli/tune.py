"""``python main.py tune SOURCE --lr VALUES --reg VALUES``: a learning rate x regularization
search (linviz.explore.tuning): one run per pair, one line per run as it finishes, the best.

Exit status: 0 done; 2 bad input (e.g. a bad range); 130 Ctrl+C (the finished runs are
reported).
"""

from __future__ import annotations

import argparse
import sys
import time

from linviz.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    ProgressBar,
    UsageError,
    load_split_extract,
    percent,
    print_json,
    record_run,
    spec_words,
    stop_on_ctrl_c,
)
from linviz.text import counted, duration

DEFAULT_TRIALS = 9  # runs of a random search


def run(args: argparse.Namespace) -> int:
    """Learning rate x regularization search: one run per pair, one line per run, the best."""
    from linviz.explore.tuning import best_result, run_search
    from linviz.limits import cpu_count
    from linviz.training import TrainingControl

    plan = _search_plan(args)
    pipeline, base = _base_config(args)
    data = load_split_extract(args, pipeline, base, "tune", {}, with_test=False)
    # never more threads than runs, nor than the machine has cores (--workers 2500 included)
    workers = min(args.workers or cpu_count(), cpu_count(), plan.n_runs)
    stop = TrainingControl()  # Ctrl+C: the running runs stop, the finished ones are reported
    start = time.perf_counter()
    with ProgressBar("searching") as bar, stop_on_ctrl_c(stop) as interrupted:
        done = []

        def progress(result):
            done.append(result)
            if not args.json:
                print(_tune_line(result), flush=True)
            bar(len(done), plan.n_runs)

        results = run_search(data.X, data.y, data.X_val, data.y_val, base, plan, n_classes=data.n_classes,
                             workers=workers, cancel=lambda: stop.stopped, on_result=progress)
    seconds = time.perf_counter() - start
    best = best_result(results)
    run_ids = _record(data, plan, results) if args.record else []
    if args.json:
        document = {"runs": [r.as_json() for r in results], "best": best.as_json() if best is not None else None,
                    "search": plan.mode, "features": str(pipeline.spec), "model": args.model, "epochs": base.epochs,
                    "workers": workers, "seconds": round(seconds, 3), "n_train": data.n_train,
                    "n_val": data.n_val}
        if args.record:
            document["run_ids"] = run_ids
        print_json(document)
    else:
        print(f"best: {_tune_line(best)}" if best is not None else "best: none (no run finished)")
        print(f"{len(results)} of {counted(plan.n_runs, 'run')} in {duration(seconds)} on "
              f"{counted(workers, 'worker')}; {counted(base.epochs, 'epoch')} of {args.model} on "
              f"{spec_words(pipeline.spec)}")
    if interrupted:
        print(f"interrupted: reported the {counted(len(results), 'finished run')}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


def _search_plan(args: argparse.Namespace):
    """The pairs to try; bad ranges fail here, before anything is loaded: one line, exit 2."""
    from linviz.explore.tuning import SearchPlan, parse_values

    if args.search == "grid" and args.trials is not None:
        raise UsageError("tune: --trials is for --search random (a grid tries every pair)")
    trials = (args.trials if args.trials is not None else DEFAULT_TRIALS) if args.search == "random" else 0
    try:
        return SearchPlan(parse_values(args.lr, "--lr", setting="learning_rate"),
                          parse_values(args.reg, "--reg", allow_zero=True, setting="reg"),
                          mode=args.search, trials=trials, seed=args.seed)
    except ValueError as exc:
        raise UsageError(f"tune: {exc}") from None


def _base_config(args: argparse.Namespace):
    """(feature pipeline, the configuration every run starts from: SGD with the settings
    recommended for the features and the model, and the options given)."""
    from linviz.features import FeaturePipeline
    from linviz.training import recipe

    # bad spec -> LinvizError, exit 2; blocks that learn from the images draw from the run's seed
    pipeline = FeaturePipeline(args.features, seed=args.seed)
    given = {"epochs": args.epochs, "batch_size": args.batch, "lr_decay": args.lr_decay}
    try:
        base = recipe.recommended_config(pipeline.spec, args.model, "sgd", image_size=args.image_size, given=given,
                                         seed=args.seed)
    except ValueError as exc:
        raise UsageError(f"tune: {exc}") from None
    return pipeline, base


def _record(data, plan, results) -> list:
    """Every finished run in the run history, marked as one search; their ids."""
    from linviz.training import recipe

    search_id = time.strftime("%Y%m%d-%H%M%S")
    return [record_run(recipe.run_record(data, r.config, r.final, origin="search", train_accuracy=r.train_accuracy,
                                         val_accuracy=r.val_accuracy,
                                         search={"id": search_id, "index": r.index, "mode": plan.mode}),
                       r.final.best_W, data.dataset.class_names, data.pipeline)
            for r in results]


def _tune_line(result) -> str:
    return (f"lr {result.learning_rate:<9.3g} reg {result.reg:<9.3g} train {percent(result.train_accuracy)}  "
            f"val {percent(result.val_accuracy)}  {duration(result.seconds):>9}  {result.stop_reason}")
