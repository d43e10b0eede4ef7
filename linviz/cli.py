"""The headless commands: ``python main.py info|features|train|tune|predict|knn|bench``.

Every command prints human-readable text, or one JSON document with ``--json``. Bad input
(a :class:`~linviz.errors.LinvizError`, or bad arguments) exits with code 2 and exactly one
line on stderr; no traceback for a user mistake. Progress bars go to stderr so that
stdout stays clean for ``--json``. Names that come from files (class names, paths) are
printed escaped (:func:`linviz.text.printable`); JSON never holds a bare NaN.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading
import time
import warnings
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Optional, Sequence, TextIO

from linviz.errors import Cancelled, LinvizError
from linviz.text import printable

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 3       # train: the run diverged; the best weights before that were saved
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl+C


class UsageError(LinvizError):
    """Bad command-line arguments."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing the usage block, so errors stay one line."""

    def error(self, message: str):  # noqa: D401 (argparse API)
        raise UsageError(f"{self.prog}: {message}")


class ProgressBar:
    """A throttled one-line progress bar on stderr: ``label [#####.....]  45%  12.3 s``.

    Usable directly as a ``progress(done, total)`` callback, and as a context manager that
    knows whether the step failed. A step quicker than the interval draws nothing, so that
    a user mistake found early still leaves exactly one line (the error) on stderr. When an
    error ends the step, a terminal's bar is erased; in a log, the pending final line is
    dropped.
    """

    def __init__(self, label: str, stream: Optional[TextIO] = None, min_interval: float = 0.1):
        self.label = label
        # Looked up now, not at import, so that redirected or captured stderr is honoured.
        self.stream = stream if stream is not None else sys.stderr
        # On a terminal the bar redraws in place; in a log file (CI, a pipe) a carriage
        # return would glue every update into one endless line, so write a line now and then.
        isatty = getattr(self.stream, "isatty", None)
        self._tty = bool(isatty and isatty())
        self.min_interval = min_interval if self._tty else max(min_interval, 5.0)
        self._start = time.perf_counter()
        self._last = self._start  # nothing before the first interval
        self._drawn = False       # terminal: a bar is on the current line
        self._pending = None      # log: (done, total, elapsed) not written yet
        self._final_written = False

    def _text(self, done: int, total: int, elapsed: float) -> str:
        if total > 0:
            fraction = min(max(done / total, 0.0), 1.0)
            filled = int(round(30 * fraction))
            return f"{self.label} [{'#' * filled}{'.' * (30 - filled)}] {fraction:5.0%} {elapsed:6.1f} s"
        return f"{self.label} {done:,} {elapsed:6.1f} s"

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        finished = total > 0 and done >= total
        if self._tty:
            if now - self._last < self.min_interval and not finished:
                return
            self._last = now
            self.stream.write("\r" + self._text(done, total, now - self._start) + "\033[K")
            self._drawn = True
        elif finished or now - self._last < self.min_interval:
            # The final line waits for close(): written when the step succeeds, not before
            # an error (which would then be a second line).
            if not self._final_written:
                self._pending = (done, total, now - self._start)
            return
        else:
            self._last = now
            self._pending = None
            self.stream.write(self._text(done, total, now - self._start) + "\n")
        self.stream.flush()

    def close(self, error: bool = False) -> None:
        """End the bar: a newline after it on success, erased (terminal) or dropped (log) on error."""
        if self._tty:
            if self._drawn:
                self.stream.write("\r\033[K" if error else "\n")
                self.stream.flush()
                self._drawn = False
        elif self._pending is not None:
            if not error:
                self.stream.write(self._text(*self._pending) + "\n")
                self.stream.flush()
                self._final_written = True
            self._pending = None

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(error=exc_type is not None)


def _finite(obj):
    """``obj`` with NaN and infinities turned into None (JSON has no NaN)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def print_json(obj) -> None:
    json.dump(_finite(obj), sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def _warn_if_cache_unavailable() -> None:
    """One line on stderr when the dataset cache could not be used (the load still worked)."""
    from linviz.data import cache

    reason = cache.unavailable_reason()
    if reason is not None:
        print(f"warning: {printable(reason)}; running without the cache", file=sys.stderr)


# --------------------------------------------------------------------------- commands


def cmd_info(args: argparse.Namespace) -> int:
    """Print classes, split counts, per-class counts, image shape, skipped files, load time."""
    from linviz.data import download_cifar10, find_cifar10, load_dataset

    if args.download and args.source.lower() in ("cifar10", "cifar-10") and find_cifar10() is None:
        with ProgressBar("downloading CIFAR-10") as download_bar:
            download_cifar10(progress=download_bar)
    start = time.perf_counter()
    with ProgressBar("loading") as bar:
        dataset = load_dataset(args.source, image_size=args.image_size, progress=bar)
    seconds = time.perf_counter() - start
    _warn_if_cache_unavailable()
    summary = dataset.summary()
    summary["seconds"] = round(seconds, 3)
    if args.json:
        print_json(summary)
        return EXIT_OK
    splits = summary["splits"]
    names = [printable(name) for name in dataset.class_names]
    width = max(len(name) for name in names)
    print(f"source:      {printable(dataset.source)}")
    print(f"classes:     {len(names)} ({', '.join(names)})")
    print("splits:      " + ", ".join(f"{name} {count:,}" for name, count in splits.items()))
    print(f"image shape: {' x '.join(str(n) for n in summary['image_shape'])}")
    print(f"load time:   {seconds:.2f} s")
    print()
    print(f"{'class':<{width}}  " + "  ".join(f"{name:>8}" for name in splits))
    for cls, shown in zip(dataset.class_names, names):
        print(f"{shown:<{width}}  " + "  ".join(f"{summary['per_class'][name][cls]:>8,}" for name in splits))
    skipped = summary["skipped"]
    print()
    print(f"skipped:     {len(skipped)} file(s)")
    for item in skipped[:50]:
        print(f"  {printable(item['path'])}: {printable(item['reason'])}")
    if len(skipped) > 50:
        print(f"  ... and {len(skipped) - 50} more (use --json for the full list)")
    return EXIT_OK


def cmd_features(args: argparse.Namespace) -> int:
    """Load a dataset, extract ``--features`` from every split; print dims per block and speed."""
    from linviz.data import load_dataset
    from linviz.features import FeaturePipeline, parse_feature_spec

    spec = parse_feature_spec(args.features)  # a bad spec fails before the (slow) load
    with nullcontext() if args.json else ProgressBar("loading") as bar:
        dataset = load_dataset(args.source, image_size=args.image_size, progress=bar)
    _warn_if_cache_unavailable()
    pipeline = FeaturePipeline(spec)
    splits = [("train", dataset.train)] + ([("test", dataset.test)] if dataset.test is not None else [])
    pipeline.extract(dataset.train.images[:2])  # compile / load the kernels outside the timing
    timings = {}
    total_images, total_seconds = 0, 0.0
    for name, split in splits:
        start = time.perf_counter()
        with nullcontext() if args.json else ProgressBar(f"{name} features") as bar:
            features = pipeline.extract(split.images, progress=bar)
        seconds = time.perf_counter() - start
        timings[name] = {
            "images": len(split),
            "seconds": seconds,
            "images_per_second": len(split) / seconds if seconds > 0 else None,
            "shape": list(features.shape),
        }
        total_images += len(split)
        total_seconds += seconds
    blocks = [
        {"name": b.name, "kind": b.kind, "dims": b.size, "shape": list(b.shape), "start": b.start, "stop": b.stop}
        for b in pipeline.blocks
    ]
    result = {
        "source": dataset.source,
        "spec": str(spec),
        "image_shape": list(pipeline.image_shape),
        "dims": pipeline.dim,
        "blocks": blocks,
        "splits": timings,
        "images": total_images,
        "seconds": total_seconds,
        "images_per_second": total_images / total_seconds if total_seconds > 0 else None,
    }
    if args.json:
        print_json(result)
        return EXIT_OK
    print(f"source     {printable(dataset.source)}")
    print(f"features   {spec}")
    print(f"dims       {pipeline.dim} (+1 bias column after standardization)")
    for b in blocks:
        print(f"  {b['dims']:6d}  {b['kind']:6s}  {'x'.join(map(str, b['shape'])):14s}  {b['name']}")
    for name, t in timings.items():
        print(f"{name:10s} {t['images']:,} images in {t['seconds']:.2f} s ({t['images_per_second'] or 0:,.0f} images/s)")
    rate = result["images_per_second"] or 0
    print(f"total      {total_images:,} images in {total_seconds:.2f} s ({rate:,.0f} images/s)")
    return EXIT_OK


def _validation_size(text: str):
    """``--val``: a count (1000) or a fraction of the training split (0.1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a count or a fraction, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a count >= 0 or a fraction in (0, 1), got {text!r}")
    if 0 < value < 1:
        return value
    if value < 0 or value != int(value):
        raise argparse.ArgumentTypeError(f"expected a count >= 0 or a fraction in (0, 1), got {text!r}")
    return int(value)


def _seed(text: str) -> int:
    """``--seed``: a whole number from 0 to 2^63 - 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to 2^63 - 1, got {text!r}")
    return value


def _check_output_file(out: Path, option: str = "--out") -> None:
    """Refuse an output path that cannot be written, before any slow work is done.

    The same check every writer makes (:func:`linviz.safe_files.check_write_target`): not a
    folder, not a device or FIFO, a folder we can create files in (``/proc/x`` fails here,
    not after training).
    """
    from linviz.safe_files import FileRefusedError, check_write_target

    try:
        check_write_target(out)
    except FileRefusedError as exc:
        raise UsageError(f"train: {option} {out}: {exc.reason}") from None


@contextmanager
def _stop_on_ctrl_c(control):
    """While training, Ctrl+C stops it cleanly instead of raising KeyboardInterrupt.

    An exception would end the training generator without its final snapshot, and so
    without the best weights; ``control.stop()`` lets it finish and hand them over. Yields
    a list that is non-empty once Ctrl+C was pressed. A second Ctrl+C gets the previous
    handler back (the usual KeyboardInterrupt: quit without saving).
    """
    pressed: list = []
    try:
        previous = signal.getsignal(signal.SIGINT)
    except ValueError:
        previous = None

    def on_ctrl_c(signum, frame):
        pressed.append(signum)
        control.stop()
        signal.signal(signal.SIGINT, previous)

    installed = False
    if previous is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, on_ctrl_c)
        installed = True
    try:
        yield pressed
    finally:
        if installed:
            signal.signal(signal.SIGINT, previous)


def _check_trainable(dataset) -> None:
    """A classifier needs two classes with training images; say so before any work."""
    import numpy as np

    from linviz.errors import DatasetError

    present = [dataset.class_names[i] for i in np.unique(dataset.train.labels)]
    if len(present) < 2:
        where = "has" if len(dataset.class_names) < 2 else "has training images of"
        names = f" ({present[0]})" if present else ""
        raise DatasetError(f"{dataset.source} {where} only {len(present)} class{names}; "
                           "training needs at least 2")


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


class _Background:
    """A function run in a daemon thread; ``wait()`` returns how long the caller waited."""

    def __init__(self, fn, *args, **kwargs):
        self.seconds = None
        self.error = None

        def run():
            try:
                self.seconds = fn(*args, **kwargs)
            except Exception as exc:  # the real run loads the kernels itself
                self.error = exc

        self._thread = threading.Thread(target=run, name="linviz-warm-up", daemon=True)
        self._thread.start()

    def wait(self) -> float:
        start = time.perf_counter()
        self._thread.join()
        return time.perf_counter() - start


def _load_split_extract(args, pipeline, config, command: str, timings: dict, *, needs_validation: Optional[str] = None,
                        with_test: bool = True):
    """Load ``args.source``, hold out ``args.val`` training images (default: 1000, at most a
    tenth; split with ``args.seed``) and extract the pipeline's features of every split (fitted
    on the training split). ``needs_validation``: the option that needs validation images.
    Returns (dataset, train split, validation split or None, val size, {split: matrix})."""
    import numpy as np

    from linviz.data import load_dataset, split_validation
    from linviz.training import warm_up_kernels

    start = time.perf_counter()
    # Numba's cached kernels load in the background while the dataset loads (both take a
    # good part of a second); it is waited for before any extraction or training starts
    warm_up = _Background(warm_up_kernels, pipeline.spec, config, image_shape=(args.image_size, args.image_size))
    try:
        with ProgressBar("loading ") as bar:
            dataset = load_dataset(args.source, image_size=args.image_size, progress=bar)
            # Inside the step: a dataset unusable for this run fails the loading (one line, no bar).
            _check_trainable(dataset)
            n_train = len(dataset.train)
            val_size = args.val if args.val is not None else min(1000, n_train // 10)
            if needs_validation is not None and not val_size:
                raise UsageError(f"{command}: {needs_validation} needs validation data, and {n_train} training "
                                 "image(s) leave none by default; give --val (a count or a fraction)")
            if val_size:
                train_split, val_split = split_validation(dataset.train, val_size, seed=args.seed)
                if len(np.unique(train_split.labels)) < 2:
                    raise UsageError(f"{command}: --val {args.val} holds out {len(val_split):,} of the "
                                     f"{n_train:,} training images, leaving {len(train_split):,}"
                                     f"{' of fewer than 2 classes' if len(train_split) else ''} to train on; "
                                     "give a smaller --val")
            else:
                train_split, val_split = dataset.train, None
    except BaseException:
        # Never return with the warm-up still compiling: its parallel kernels would overlap
        # whatever runs next in this process (pitfall 5).
        warm_up.wait()
        raise
    _warn_if_cache_unavailable()
    timings["dataset"] = time.perf_counter() - start
    timings["kernels_wait"] = warm_up.wait()
    timings["kernels_background"] = warm_up.seconds
    splits = [("train", train_split), ("val", val_split)] + ([("test", dataset.test)] if with_test else [])
    matrices = {}
    total = sum(len(split) for _, split in splits if split is not None)
    done = 0
    with ProgressBar("features") as bar:
        for name, split in splits:
            if split is None or len(split) == 0:
                continue
            def progress(d, t, base=done):
                bar(base + d, total)
            if name == "train":
                matrices[name] = pipeline.fit_transform(split.images, progress=progress)
            else:
                matrices[name] = pipeline.transform(split.images, progress=progress)
            done += len(split)
    return dataset, train_split, val_split, val_size, matrices


def cmd_train(args: argparse.Namespace) -> int:
    """Load, split, extract features, train with live progress, save the model, report accuracies."""
    entered = time.perf_counter()
    age_at_entry = _process_age()
    import numpy as np

    from linviz.features import FeaturePipeline
    from linviz.models.model_file import save_model
    from linviz.training import TrainingConfig, TrainingControl, accuracy, recommended_settings, train

    timings = {"imports": time.perf_counter() - entered}

    out = Path(args.out)
    _check_output_file(out)
    pipeline = FeaturePipeline(args.features)  # bad spec -> LinvizError, exit 2
    # every option not given comes from the settings recommended for these features, this
    # loss and this optimizer (the app's defaults too)
    settings = recommended_settings(pipeline.spec, args.model, args.optimizer,
                                    image_shape=(args.image_size, args.image_size))
    given = {"learning_rate": args.lr, "lr_decay": args.lr_decay, "epochs": args.epochs,
             "batch_size": args.batch, "momentum": args.momentum, "reg": args.reg,
             "search_step": args.search_step, "search_sample": args.search_sample}
    settings.update({k: v for k, v in given.items() if v is not None})
    try:
        config = TrainingConfig(
            loss=args.model, reg_type=args.reg_type, elastic_beta=args.elastic_beta,
            delta=args.delta, optimizer=args.optimizer, seed=args.seed,
            early_stopping=args.early_stopping, **settings)
    except ValueError as exc:
        raise UsageError(f"train: {exc}") from None
    if args.early_stopping is not None and args.val == 0:
        raise UsageError("train: --early-stopping needs validation data; drop --val 0 or --early-stopping")
    start = time.perf_counter()
    dataset, train_split, val_split, val_size, matrices = _load_split_extract(
        args, pipeline, config, "train", timings,
        needs_validation="--early-stopping" if args.early_stopping is not None else None)
    X, y = matrices["train"], train_split.labels
    X_val = matrices.get("val")
    y_val = val_split.labels if X_val is not None else None
    n_classes = len(dataset.class_names)
    final = None
    control = TrainingControl()
    timings.update(features=pipeline.timings["extract"], fit=pipeline.timings["fit"],
                   standardize=pipeline.timings["standardize"])
    stage = time.perf_counter()
    with ProgressBar("training") as bar, _stop_on_ctrl_c(control) as interrupted:
        for snap in train(X, y, X_val, y_val, config, control=control, n_classes=n_classes):
            final = snap
            bar(snap.iteration, snap.iteration / snap.epoch * config.epochs if snap.epoch else 0)
    timings["training"] = time.perf_counter() - stage
    stage = time.perf_counter()
    W = final.best_W
    accuracies = {
        "train_accuracy": accuracy(X, y, W),
        "val_accuracy": accuracy(X_val, y_val, W) if X_val is not None else None,
        "test_accuracy": accuracy(matrices["test"], dataset.test.labels, W) if "test" in matrices else None,
    }
    timings["evaluation"] = time.perf_counter() - stage
    stage = time.perf_counter()
    hyper = {k: getattr(config, k) for k in (
        "loss", "reg", "reg_type", "elastic_beta", "delta", "optimizer", "learning_rate", "lr_decay",
        "momentum", "batch_size", "epochs", "seed", "early_stopping", "search_step", "search_sample")}
    save_model(out, W=W, class_names=dataset.class_names, pipeline=pipeline, loss=config.loss,
               hyperparameters=hyper, accuracies=accuracies,
               metadata={"source": dataset.source, "stop_reason": final.stop_reason,
                         "best_epoch": final.best_epoch, "kept": final.kept, "n_train": len(y),
                         "n_val": 0 if y_val is None else len(y_val)})
    timings["save"] = time.perf_counter() - stage
    run_id = None
    if args.record:
        from linviz.training.records import dataset_summary, make_record

        record = make_record(final, config, features=str(pipeline.spec), origin="cli", name=args.name or "",
                             dataset=dataset_summary(dataset, n_train=len(y), n_val=0 if y_val is None else len(y_val),
                                                     n_test=len(dataset.test) if dataset.test is not None else 0,
                                                     split={"val_size": val_size, "per_class": 0, "seed": args.seed}),
                             train_accuracy=accuracies["train_accuracy"], val_accuracy=accuracies["val_accuracy"],
                             wall_seconds=timings["training"])
        run_id = _record_run(record, W, dataset.class_names, pipeline)
    seconds = time.perf_counter() - start
    if age_at_entry is not None:  # Python's start, main.py and the CLI's own imports
        timings["startup"] = age_at_entry
    report = {
        **accuracies,
        "seconds": round(seconds, 3),
        "training_seconds": round(final.elapsed, 3),
        "model": str(out),
        "features": str(pipeline.spec),
        "n_features": int(X.shape[1] - 1),
        "classes": list(dataset.class_names),
        "n_train": len(y), "n_val": 0 if y_val is None else len(y_val),
        "n_test": len(dataset.test) if dataset.test is not None else 0,
        "iterations": final.iteration, "epochs_done": final.epochs_done,
        "initial_loss": final.initial_loss, "expected_initial_loss": final.expected_initial_loss,
        "final_loss": final.smoothed_loss, "samples_per_second": round(final.samples_per_second),
        "stop_reason": final.stop_reason, "best_epoch": final.best_epoch, "kept": final.kept,
        "timings": {k: (None if v is None else round(v, 4)) for k, v in timings.items()},
    }
    if args.record:
        report["run_id"] = run_id
    code = EXIT_OK
    if interrupted:
        print(f"interrupted ({final.stop_reason}): saved the best weights so far to {printable(out)}",
              file=sys.stderr)
        code = EXIT_INTERRUPTED
    elif final.stop_reason.startswith("diverged"):
        report["diverged"] = True
        report["saved_weights"] = _saved_weights(final)
        print(f"diverged: {final.stop_reason}; saved {report['saved_weights']} to {printable(out)}",
              file=sys.stderr)
        code = EXIT_DIVERGED
    if args.json:
        print_json({k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in report.items()})
        return code

    def pct(v):
        return "-" if v is None else f"{v:.4f}"
    print(f"features:   {report['features']} ({report['n_features']} columns + bias)")
    print(f"data:       {report['n_train']:,} train, {report['n_val']:,} val, {report['n_test']:,} test images, "
          f"{n_classes} classes")
    print(f"sanity:     {final.sanity_check}")
    print(f"training:   {final.iteration:,} iterations, {final.epochs_done} epoch(s), {final.elapsed:.1f} s, "
          f"{final.samples_per_second:,.0f} samples/s; {final.stop_reason}")
    print(f"loss:       {final.initial_loss:.4f} -> {final.smoothed_loss:.4f} (smoothed)")
    print(f"kept:       {final.kept}" + ("" if X_val is not None else
                                          "; the test split is only scored, never used to choose"))
    print(f"accuracy:   train {pct(accuracies['train_accuracy'])}, val {pct(accuracies['val_accuracy'])}, "
          f"test {pct(accuracies['test_accuracy'])}")
    print(f"saved:      {printable(out)}  ({seconds:.1f} s in all)")
    if run_id is not None:
        print(f"recorded:   run {run_id} in the run history")
    return code


def _record_run(record, W, class_names, pipeline) -> Optional[str]:
    """Add a run to the run history (linviz.training.run_store); its messages and any failure
    are warnings on stderr (the model file is saved either way). The run's id, or None."""
    from linviz.training.run_store import RunStore

    store = RunStore()
    try:
        messages = store.add(record, W=W, class_names=class_names, pipeline=pipeline)
    except (LinvizError, OSError) as exc:
        print(f"warning: the run was not recorded: {printable(exc)}", file=sys.stderr)
        return None
    for message in messages:
        print(f"warning: {printable(message)}", file=sys.stderr)
    return record.id


def _saved_weights(final) -> str:
    """Which weights a diverged run saved, in words."""
    if final.best_epoch is not None and final.best_val_accuracy is not None:
        return (f"the weights of epoch {final.best_epoch} (the best validation accuracy, "
                f"{final.best_val_accuracy:.4f})")
    return ("the newest weights whose loss was no worse than the initial loss (the initial random "
            "weights if it diverged at once)")


def cmd_predict(args: argparse.Namespace) -> int:
    """Classify image files (or folders of them) with a saved model; unreadable files are reported."""
    from linviz.data import image_files_in
    from linviz.models.model_file import ImagePrediction, load_model

    if args.top is not None and args.top < 1:
        raise UsageError("predict: --top must be at least 1")
    model = load_model(args.model)  # ModelFileError -> exit 2
    files, skipped = image_files_in(args.images)  # FIFOs and devices are skipped, never opened
    results = model.predict_images(files, top=args.top)
    results += [ImagePrediction(path, error=f"{path}: {reason}") for path, reason in skipped]
    n_ok = sum(r.error is None for r in results)
    if args.json:
        print_json([r.as_json() for r in results])
    else:
        what = "probability" if model.loss == "softmax" else "score (SVM, not a probability)"
        print(f"model: {printable(args.model)} ({model.loss}, {len(model.class_names)} classes); values: {what}")
        for r in results:
            if r.error is not None:
                reason = r.error[len(r.path) + 2:] if r.error.startswith(f"{r.path}: ") else r.error
                print(f"{printable(r.path)}: unreadable: {printable(reason)}")
                continue
            shown = ", ".join(f"{printable(name)} {value:.3f}" for name, value in r.classes)
            print(f"{printable(r.path)}: {shown}")
    if n_ok == 0:
        raise UsageError(f"predict: none of the {len(results)} image(s) could be read")
    return EXIT_OK


def cmd_tune(args: argparse.Namespace) -> int:
    """Learning rate x regularization search: one run per pair, one line per run, the best."""
    import os

    from linviz.explore.tuning import SearchPlan, best_result, parse_values, run_search
    from linviz.features import FeaturePipeline
    from linviz.training import TrainingConfig, TrainingControl, recommended_settings

    if args.search == "grid" and args.trials is not None:
        raise UsageError("tune: --trials is for --search random (a grid tries every pair)")
    trials = (args.trials if args.trials is not None else 9) if args.search == "random" else 0
    try:  # bad ranges fail here, before anything is loaded: one line, exit 2
        plan = SearchPlan(parse_values(args.lr, "--lr"), parse_values(args.reg, "--reg", allow_zero=True),
                          mode=args.search, trials=trials, seed=args.seed)
    except ValueError as exc:
        raise UsageError(f"tune: {exc}") from None
    if args.workers is not None and args.workers < 1:
        raise UsageError("tune: --workers must be at least 1")
    pipeline = FeaturePipeline(args.features)  # bad spec -> LinvizError, exit 2
    settings = recommended_settings(pipeline.spec, args.model, "sgd", image_shape=(args.image_size, args.image_size))
    given = {"epochs": args.epochs, "batch_size": args.batch, "lr_decay": args.lr_decay}
    settings.update({k: v for k, v in given.items() if v is not None})
    try:
        base = TrainingConfig(loss=args.model, optimizer="sgd", seed=args.seed, **settings)
    except ValueError as exc:
        raise UsageError(f"tune: {exc}") from None
    timings: dict = {}
    dataset, train_split, val_split, val_size, matrices = _load_split_extract(args, pipeline, base, "tune", timings,
                                                                              with_test=False)
    X, y = matrices["train"], train_split.labels
    X_val = matrices.get("val")
    y_val = val_split.labels if X_val is not None else None
    workers = args.workers or min(os.cpu_count() or 1, plan.n_runs)
    stop = TrainingControl()  # Ctrl+C: the running runs stop, the finished ones are reported
    start = time.perf_counter()
    lines = not args.json

    def report(result) -> None:
        if lines:
            print(_tune_line(result), flush=True)

    with ProgressBar("searching") as bar, _stop_on_ctrl_c(stop) as interrupted:
        done = []

        def progress(result):
            done.append(result)
            report(result)
            bar(len(done), plan.n_runs)

        results = run_search(X, y, X_val, y_val, base, plan, n_classes=len(dataset.class_names), workers=workers,
                             cancel=lambda: stop.stopped, on_result=progress)
    seconds = time.perf_counter() - start
    best = best_result(results)
    run_ids = []
    if args.record:
        from linviz.training.records import dataset_summary, make_record

        summary = dataset_summary(dataset, n_train=len(y), n_val=0 if y_val is None else len(y_val), n_test=0,
                                  split={"val_size": val_size, "per_class": 0, "seed": args.seed})
        search_id = time.strftime("%Y%m%d-%H%M%S")
        for r in results:
            record = make_record(r.final, r.config, features=str(pipeline.spec), dataset=summary, origin="search",
                                 train_accuracy=r.train_accuracy, val_accuracy=r.val_accuracy,
                                 search={"id": search_id, "index": r.index, "mode": plan.mode})
            run_ids.append(_record_run(record, r.final.best_W, dataset.class_names, pipeline))
    if args.json:
        document = {"runs": [r.as_json() for r in results], "best": best.as_json() if best is not None else None,
                    "search": plan.mode, "features": str(pipeline.spec), "model": args.model, "epochs": base.epochs,
                    "workers": workers, "seconds": round(seconds, 3), "n_train": len(y),
                    "n_val": 0 if y_val is None else len(y_val)}
        if args.record:
            document["run_ids"] = run_ids
        print_json(document)
    else:
        if best is not None:
            print(f"best: {_tune_line(best)}")
        else:
            print("best: none (no run finished)")
        print(f"{len(results)} of {plan.n_runs} run(s) in {seconds:.1f} s on {workers} worker(s); "
              f"{base.epochs} epoch(s) of {args.model} on {pipeline.spec}")
    if interrupted:
        print(f"interrupted: reported the {len(results)} finished run(s)", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


def _tune_line(result) -> str:
    def pct(v):
        return "-" if v is None else f"{v:.4f}"
    return (f"lr {result.learning_rate:<9.3g} reg {result.reg:<9.3g} train {pct(result.train_accuracy)}  "
            f"val {pct(result.val_accuracy)}  {result.seconds:6.2f} s  {result.stop_reason}")


def cmd_landscape(args: argparse.Namespace) -> int:
    """The loss around a model's weights on the source's validation split: along a line, or
    over a plane with --2d (linviz.explore.loss_surface)."""
    import numpy as np

    from linviz.data import load_dataset, split_validation
    from linviz.explore.loss_surface import gradient_direction, grid, loss_surface, orthogonal_random, random_directions

    if args.model_file is not None and (args.features is not None or args.model is not None):
        raise UsageError("landscape: give either --model-file or --features/--model, not both")
    if not (np.isfinite(args.range) and args.range > 0):
        raise UsageError(f"landscape: --range must be a number > 0, got {args.range}")
    if not 2 <= args.steps <= 1001:
        raise UsageError(f"landscape: --steps must be from 2 to 1001, got {args.steps}")
    saved = None
    if args.model_file is not None:
        from linviz.models.model_file import load_model

        saved = load_model(args.model_file)  # ModelFileError -> exit 2
        if saved.pipeline is None:
            raise UsageError(f"landscape: {args.model_file}: the model has no feature pipeline")
    from linviz.features import FeaturePipeline
    from linviz.training import TrainingConfig, recommended_settings, train

    pipeline = saved.pipeline if saved is not None else FeaturePipeline(args.features or "hog+hue")
    with ProgressBar("loading ") as bar:
        dataset = load_dataset(args.source, image_size=saved.image_size if saved else args.image_size, progress=bar)
        _check_trainable(dataset)
        n_train = len(dataset.train)
        val_size = min(1000, n_train // 10)
        if val_size < 1:
            raise UsageError(f"landscape: {dataset.source} has too few training images ({n_train}) "
                             "for a validation split")
        train_split, val_split = split_validation(dataset.train, val_size, seed=args.seed)
    if saved is not None:
        if list(saved.class_names) != list(dataset.class_names):
            raise UsageError(f"landscape: {args.model_file}: the model's classes are not the source's")
        W = np.asarray(saved.W, dtype=np.float32)
        hyper = dict(saved.hyperparameters or {})
        loss = str(saved.loss)
        with ProgressBar("features") as bar:
            X_val = pipeline.transform(val_split.images, progress=bar)
        trained = f"the weights in {args.model_file}"
    else:
        loss = args.model or "softmax"
        hyper = recommended_settings(pipeline.spec, loss, "sgd", image_shape=(args.image_size, args.image_size))
        config = TrainingConfig(loss=loss, seed=args.seed, **hyper)
        with ProgressBar("features") as bar:
            X = pipeline.fit_transform(train_split.images, progress=bar)
            X_val = pipeline.transform(val_split.images)
        final = None
        with ProgressBar("training") as bar:
            for snap in train(X, train_split.labels, X_val, val_split.labels, config,
                              n_classes=len(dataset.class_names)):
                final = snap
                bar(snap.iteration, snap.iteration / snap.epoch * config.epochs if snap.epoch else 0)
        W = final.best_W
        trained = f"a {loss} model trained first on {pipeline.spec} ({final.kept})"
    options = {"loss": loss, "reg": float(hyper.get("reg", 0.0)), "reg_type": str(hyper.get("reg_type", "l2")),
               "delta": float(hyper.get("delta", 1.0)), "elastic_beta": float(hyper.get("elastic_beta", 1.0)),
               "n_reg_rows": W.shape[0] - 1}
    y_val = val_split.labels
    if args.directions == "gradient":
        first = gradient_direction(W, X_val, y_val, **options)
        dirs = [first, orthogonal_random(first, W, seed=args.seed)] if args.two_d else [first]
        words = "the negative gradient" + (" and a random direction orthogonal to it" if args.two_d else "")
    else:
        dirs = random_directions(W, 2 if args.two_d else 1, seed=args.seed)
        words = "random Gaussian direction(s) scaled to W's norm per class"
    alphas = grid(args.range, args.steps)
    betas = grid(args.range, args.steps) if args.two_d else None
    surface = loss_surface(W, X_val, y_val, dirs, alphas, betas, **options)
    if args.json:
        print_json(surface.to_json())
        return EXIT_OK
    print(f"loss landscape of {trained}")
    print(f"on the validation split ({len(y_val):,} images of {printable(dataset.source)}), {loss} loss, "
          f"reg {options['reg']:g} ({options['reg_type']}); along {words}")
    center = surface.value_at(0.0, 0.0)
    print(f"at W: data {center[2]:.4f}, regularization {center[3]:.4f}, total {center[4]:.4f}")
    if surface.is_2d:
        k, m = np.unravel_index(int(np.argmin(surface.total)), surface.total.shape)
        print(f"{len(betas)} x {len(alphas)} grid over a, b in [-{args.range:g}, {args.range:g}]: total from "
              f"{surface.total.min():.4f} (at a = {alphas[m]:.3g}, b = {betas[k]:.3g}) to {surface.total.max():.4f}; "
              "--json prints the grids")
    else:
        print(f"{'a':>10} {'data':>10} {'reg':>10} {'total':>10}")
        for a, d, r, t in zip(alphas, surface.data, surface.reg, surface.total):
            print(f"{a:10.4f} {d:10.4f} {r:10.4f} {t:10.4f}")
    return EXIT_OK


def cmd_knn(args: argparse.Namespace) -> int:
    """k-NN: cross-validation over a list of k on a training subset, the best k, and its test
    accuracy (trained on the whole subset)."""
    from linviz.data import load_dataset
    from linviz.explore.knn import DEFAULT_TRAIN_SIZE, cross_validation, knn_test, parse_ks, prepare_knn
    from linviz.features import parse_feature_spec

    spec = parse_feature_spec(args.features)  # bad input fails before the (slow) load
    ks = parse_ks(args.k)
    if args.folds < 2:
        raise UsageError(f"knn: --folds must be at least 2, got {args.folds}")
    if args.train_size is not None and args.train_size < args.folds:
        raise UsageError(f"knn: --train-size must be at least --folds ({args.folds}), got {args.train_size}")
    with nullcontext() if args.json else ProgressBar("loading") as bar:
        dataset = load_dataset(args.source, image_size=args.image_size, progress=bar)
        available = len(dataset.train)
        if args.train_size is not None and args.train_size > available:
            raise UsageError(f"knn: --train-size {args.train_size:,} is more than the {available:,} training "
                             f"images of {dataset.source}")
        size = args.train_size if args.train_size is not None else min(DEFAULT_TRAIN_SIZE, available)
        if size < args.folds:
            raise UsageError(f"knn: {dataset.source} has {available} training image(s), fewer than --folds "
                             f"({args.folds})")
        smallest_fold = size - -(-size // args.folds)
        too_big = [k for k in ks if k > smallest_fold]
        if too_big:
            raise UsageError(f"knn: k {', '.join(map(str, too_big))} is more than the {smallest_fold:,} training "
                             f"images of a fold ({size:,} images in {args.folds} folds)")
    with nullcontext() if args.json else ProgressBar("features") as bar:
        setup = prepare_knn(dataset.train.images, dataset.train.labels, spec=spec, metric=args.distance,
                            train_size=size, seed=args.seed, n_classes=len(dataset.class_names), progress=bar)
    cv = None
    with nullcontext() if args.json else ProgressBar(f"{args.folds}-fold CV") as bar:
        for cv in cross_validation(setup.X, setup.y, ks, folds=args.folds, metric=args.distance, seed=args.seed,
                                   progress=bar):
            pass
    test_accuracy, timing = None, None
    if dataset.test is not None and len(dataset.test):
        with nullcontext() if args.json else ProgressBar("test") as bar:
            X_test = setup.features.transform(dataset.test.images)
            _, timing = knn_test(setup, X_test, dataset.test.labels, cv.best_k, progress=bar)
        test_accuracy = timing.accuracy
    if args.json:
        print_json({**cv.as_json(), "test_accuracy": test_accuracy})
        return EXIT_OK
    print(f"source:     {printable(dataset.source)}")
    print(f"features:   {printable(setup.features.description)}, {setup.X.shape[1]:,} columns")
    print(f"distance:   {args.distance.upper() if args.distance != 'cosine' else 'cosine'}")
    print(f"data:       {size:,} of {available:,} training images, {args.folds}-fold cross-validation "
          f"({cv.seconds:.1f} s)")
    print()
    print(f"{'k':>5}  " + "  ".join(f"{'fold ' + str(f + 1):>7}" for f in range(args.folds)) + f"  {'mean':>7}  {'std':>7}")
    best = cv.best_index
    for i, k in enumerate(cv.ks):
        folds = "  ".join(f"{a:7.4f}" for a in cv.fold_accuracies[:, i])
        mark = "  <- best" if i == best else ""
        print(f"{k:>5}  {folds}  {cv.mean[i]:7.4f}  {cv.std[i]:7.4f}{mark}")
    print()
    print(f"best k:     {cv.best_k} (mean accuracy {cv.mean[best]:.4f} +- {cv.std[best]:.4f})")
    if timing is not None:
        print(f"test:       accuracy {test_accuracy:.4f} with k = {cv.best_k} on {timing.n_test:,} test images "
              f"({timing.predict_us_per_image:,.0f} us per image)")
    else:
        print("test:       no test split in this source")
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    from linviz import bench

    return bench.run(args)


# --------------------------------------------------------------------------- parser


TRAIN_RECOMMENDED = """\
RECOMMENDED: every training option not given takes the value that
linviz.training.recommended_settings(features, model, optimizer) recommends (the app's
defaults too), measured on CIFAR-10 to come within a point of a tuned scikit-learn model:
  sgd        learning rate min(0.1, 30 / P) for softmax (P = raw-pixel and color-layout
             columns: 0.0098 on raw pixels, 0.1 on hog+hue and best), a third of it for
             the SVM; decay 0.8 per epoch; 10 epochs; batch 200; reg 1e-3
  momentum, nesterov   a tenth of the SGD rate, momentum 0.9
  adam       learning rate 0.001
  gd         100 epochs (one step each) at 3x the SGD rate, decay 0.99
  random_search, random_local_search   1 epoch of proposals of scale 0.01, each judged
             on all training images (--search-sample 0)
"""


TRAIN_EXIT_STATUS = """
exit status: 0 trained and saved; 2 bad input (one line on stderr); 3 the run diverged
(NaN, inf or an exploding loss): the best weights before that were saved, and stderr says
which; 130 stopped by Ctrl+C, the best weights so far saved
"""


TUNE_EPILOG = """\
Every run uses the same seed (the same initial weights and minibatch order) and the settings
recommended for the features and the model (SGD, decay 0.8, batch 200), except the learning
rate and the regularization strength. Runs are judged by the validation accuracy of the
weights they keep. A run that diverges is a result, marked in its stop reason.
exit status: 0 done; 2 bad input (e.g. a bad range), one line on stderr; 130 Ctrl+C (the
finished runs are reported)
"""


APP_USAGE = """\
the desktop app (no command, or options only):
  python main.py [--data SOURCE] [--size WxH]
  --data SOURCE   start on SOURCE: "demo", "cifar10", a CIFAR-10 folder or tarball,
                  an image folder or archive
  --size WxH      initial window size (e.g. 1400x900)
  (python main.py gui --help shows the app's own help)
"""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="linviz", description="Linear image classifiers, visualized.",
                     epilog=APP_USAGE, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)

    info = commands.add_parser("info", help="describe a dataset source")
    info.add_argument("source", help='"demo", "cifar10" (an existing copy), a CIFAR-10 folder or tarball, or an image folder/.zip/.tar[.gz]')
    info.add_argument("--image-size", type=int, default=32, help="side of the square images (default 32)")
    info.add_argument("--download", action="store_true", help='with "cifar10": download it (170 MB) when no copy is found')
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.set_defaults(func=cmd_info)

    features = commands.add_parser("features", help="extract features and report timing")
    features.add_argument("source", help='CIFAR-10 folder or tarball, image folder/.zip/.tar[.gz], or "demo"')
    features.add_argument(
        "--features", default="hog+hue",
        help='a preset (raw, hog+hue, best, ...) or a spec like "hog:cell=8:block=2,hue:bins=10" (default hog+hue)',
    )
    features.add_argument("--image-size", type=int, default=32)
    features.add_argument("--json", action="store_true", help="print one JSON object")
    features.set_defaults(func=cmd_features)

    train = commands.add_parser("train", help="train a linear classifier and save it",
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=TRAIN_RECOMMENDED + TRAIN_EXIT_STATUS)
    train.add_argument("source", help='CIFAR-10 folder or tarball, image folder/.zip/.tar[.gz], or "demo"')
    train.add_argument("--features", default="hog+hue",
                       help='a preset (raw, hog, hog+hue, color, best) or a spec such as "hog:cell=8,hue:bins=10" '
                            "(default: hog+hue)")
    train.add_argument("--model", choices=("svm", "softmax"), default="softmax")
    train.add_argument("--reg-type", choices=("l2", "l1", "elastic"), default="l2")
    train.add_argument("--reg", type=float, default=None, help="regularization strength (default 1e-3)")
    train.add_argument("--elastic-beta", type=float, default=1.0, help="elastic net: R = sum(beta W^2 + |W|)")
    train.add_argument("--delta", type=float, default=1.0, help="SVM margin (default 1)")
    train.add_argument("--lr", type=float, default=None,
                       help="learning rate (default: recommended for the features, model and optimizer, "
                            "e.g. SGD softmax 0.1 on hog+hue and best, 0.0098 on raw pixels; see RECOMMENDED below)")
    train.add_argument("--lr-decay", type=float, default=None,
                       help="learning rate factor per epoch (default 0.8; gd 0.99)")
    train.add_argument("--momentum", type=float, default=None, help="momentum and nesterov (default 0.9)")
    train.add_argument("--batch", type=int, default=None, help="minibatch size (default 200)")
    train.add_argument("--epochs", type=int, default=None,
                       help="epochs (default 10; gd 100; random searches 1)")
    train.add_argument("--optimizer", default="sgd",
                       choices=("sgd", "momentum", "nesterov", "adam", "gd", "random_search", "random_local_search"))
    train.add_argument("--search-step", type=float, default=None,
                       help="random (local) search: scale of the random proposals (default 0.01)")
    train.add_argument("--search-sample", type=int, default=None, metavar="N",
                       help="random (local) search: judge every step on the same N training images, "
                            "drawn once from the seed (0: all of them, the default)")
    train.add_argument("--early-stopping", type=int, default=None, metavar="EPOCHS",
                       help="stop after this many epochs without a better validation accuracy")
    train.add_argument("--val", type=_validation_size, default=None,
                       help="validation images held out of the training split: a count or a fraction "
                            "(default: 1000, at most a tenth). They choose the epoch whose weights are kept; "
                            "with 0 the last weights are kept (the test split never chooses)")
    train.add_argument("--seed", type=_seed, default=0, help="random seed, a whole number >= 0 (default 0)")
    train.add_argument("--image-size", type=int, default=32)
    train.add_argument("--out", required=True, help="the model file to write (.npz)")
    train.add_argument("--record", action="store_true",
                       help="also record the run in the run history the app shows in its Runs lab "
                            "($LINVIZ_DATA_DIR/runs, default ~/.local/share/linviz/runs): settings, data, curves, "
                            "timing and the model")
    train.add_argument("--name", default=None, help="with --record: the run's name")
    train.add_argument("--json", action="store_true", help="print one JSON object")
    train.set_defaults(func=cmd_train)

    predict = commands.add_parser("predict", help="classify image files with a saved model")
    predict.add_argument("model", help="a model file written by train")
    predict.add_argument("images", nargs="+", help="image files or folders")
    predict.add_argument("--top", type=int, default=None, metavar="K", help="show the K best classes (default all)")
    predict.add_argument("--json", action="store_true", help="print a JSON list, one object per image")
    predict.set_defaults(func=cmd_predict)

    tune = commands.add_parser("tune", help="learning rate x regularization search",
                               formatter_class=argparse.RawDescriptionHelpFormatter, epilog=TUNE_EPILOG)
    tune.add_argument("source", help='CIFAR-10 folder or tarball, image folder/.zip/.tar[.gz], or "demo"')
    tune.add_argument("--features", default="hog+hue", help="a preset or a spec (default hog+hue)")
    tune.add_argument("--model", choices=("svm", "softmax"), default="softmax")
    tune.add_argument("--lr", required=True, metavar="VALUES",
                      help='learning rates: "1e-3,1e-2,1e-1", or LOW:HIGH:COUNT log-spaced ("1e-3:1e-1:5")')
    tune.add_argument("--reg", required=True, metavar="VALUES",
                      help='regularization strengths, the same way ("1e-4,1e-3,1e-2"; 0 allowed in a list)')
    tune.add_argument("--epochs", type=int, default=None, help="epochs per run (default 10)")
    tune.add_argument("--search", choices=("grid", "random"), default="grid",
                      help="grid: every pair; random: --trials pairs drawn log-uniformly over the same ranges")
    tune.add_argument("--trials", type=int, default=None, help="random search: how many runs (default 9)")
    tune.add_argument("--batch", type=int, default=None, help="minibatch size (default 200)")
    tune.add_argument("--lr-decay", type=float, default=None, help="learning rate factor per epoch (default 0.8)")
    tune.add_argument("--val", type=_validation_size, default=None,
                      help="validation images held out of the training split (default 1000, at most a tenth); "
                           "they judge the runs")
    tune.add_argument("--seed", type=_seed, default=0, help="the seed of every run and of the split (default 0)")
    tune.add_argument("--workers", type=int, default=None,
                      help="runs trained at once (default: one per core); they are independent")
    tune.add_argument("--record", action="store_true", help="record every run in the run history")
    tune.add_argument("--image-size", type=int, default=32)
    tune.add_argument("--json", action="store_true",
                      help='print one object {"runs": [{"learning_rate", "reg", "train_accuracy", "val_accuracy", '
                           '"seconds", "stop_reason"}], "best": {...}}')
    tune.set_defaults(func=cmd_tune)

    knn = commands.add_parser("knn", help="k-nearest neighbours: choose k by cross-validation, test it")
    knn.add_argument("source", help='CIFAR-10 folder or tarball, image folder/.zip/.tar[.gz], or "demo"')
    knn.add_argument("--features", default="raw",
                     help="a preset or spec (default raw: pixels in [0, 1], unstandardized as in the course; "
                          "other features are standardized, without the bias)")
    knn.add_argument("--distance", choices=("l1", "l2", "cosine"), default="l2", help="default l2")
    knn.add_argument("--k", default="1,3,5,8,10,12,15,20,50,100",
                     help="the k values to cross-validate, comma-separated (default the course's list)")
    knn.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    knn.add_argument("--train-size", type=int, default=None, metavar="N",
                     help="training images drawn at random (seeded) for kNN (default 5000, or all if fewer)")
    knn.add_argument("--seed", type=int, default=0)
    knn.add_argument("--image-size", type=int, default=32)
    knn.add_argument("--json", action="store_true",
                     help='print {"k", "fold_accuracies" (per k, one per fold), "mean", "std", "best_k", '
                          '"test_accuracy"}')
    knn.set_defaults(func=cmd_knn)

    landscape = commands.add_parser("landscape", help="the loss around a model's weights, along a line or a plane")
    landscape.add_argument("source", help='CIFAR-10 folder or tarball, image folder/.zip/.tar[.gz], or "demo"')
    landscape.add_argument("--model-file", default=None, metavar="M.npz", help="the model whose weights are the center")
    landscape.add_argument("--features", default=None,
                           help="without --model-file: train a model on these features first (default hog+hue)")
    landscape.add_argument("--model", choices=("svm", "softmax"), default=None,
                           help="without --model-file: the loss of the model trained first (default softmax)")
    landscape.add_argument("--directions", choices=("random", "gradient"), default="random",
                           help="random Gaussian directions scaled to W's norm per class (default), or the "
                                "negative gradient (with --2d, and a random direction orthogonal to it)")
    landscape.add_argument("--range", type=float, default=1.0, metavar="R", help="a (and b) from -R to R (default 1)")
    landscape.add_argument("--steps", type=int, default=51, metavar="K", help="grid points per axis (default 51)")
    landscape.add_argument("--2d", dest="two_d", action="store_true", help="a plane W + a D1 + b D2 instead of a line")
    landscape.add_argument("--seed", type=_seed, default=0, help="random seed of the split and the directions (default 0)")
    landscape.add_argument("--image-size", type=int, default=32)
    landscape.add_argument("--json", action="store_true",
                           help='print {"alphas", "betas", "data", "reg", "total"} (betas null without --2d)')
    landscape.set_defaults(func=cmd_landscape)

    bench = commands.add_parser("bench", help="side-by-side benchmarks against reference tools")
    bench.add_argument("--data", default=None, help="the shared CIFAR-10 JPEG archive (found automatically)")
    bench.add_argument("--only", default=None,
                       help="comma-separated sections: load,features,study,sgd,e2e,gui,knn,tune,landscape (default: all but study)")
    bench.add_argument("--quick", action="store_true", help="fewer images and repeats")
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(func=cmd_bench)
    return parser


def app_argv(argv: Sequence[str]) -> Optional[list]:
    """The arguments for the desktop app, or None when ``argv`` names a CLI command.

    The app takes options only (``--data``, ``--size``, ...), the CLI a command first; so
    nothing, ``gui ...``, or a first item starting with ``--`` goes to the app, except
    ``--help``, which shows the CLI's help (the commands and the app's options).
    """
    argv = list(argv)
    if not argv:
        return []
    if argv[0] == "gui":
        return argv[1:]
    if argv[0].startswith("--") and argv[0] != "--help":
        return argv
    return None


def _quiet_and_robust_output() -> None:
    """No library warnings on stderr, and no encoding error on any stdout.

    NumPy's overflow warnings of a diverging run and Pillow's notes about odd files are not
    the user's business (linviz reports what matters in its own words); filters given with
    ``-W`` or ``PYTHONWARNINGS`` come first and still apply. Characters the terminal's
    encoding lacks are printed as escapes instead of raising UnicodeEncodeError.
    """
    warnings.simplefilter("ignore", append=True)
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


def _finish_cache_writes() -> None:
    """Wait for the dataset cache's background write before exiting (Ctrl+C aborts it)."""
    cache = sys.modules.get("linviz.data.cache")
    if cache is not None:
        cache.wait_for_pending_writes()


def _abort_cache_writes() -> None:
    """Stop a background cache write (its temporary file is removed); never raises."""
    cache = sys.modules.get("linviz.data.cache")
    if cache is not None:
        try:
            cache.abort_pending_writes()
        except KeyboardInterrupt:
            pass


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``python main.py CMD``; with no command (options only), the desktop app."""
    argv = list(sys.argv[1:] if argv is None else argv)
    for_app = app_argv(argv)
    if for_app is not None:
        from linviz.gui.app import run_app

        return run_app(for_app)
    _quiet_and_robust_output()
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:  # --help
            return exc.code if isinstance(exc.code, int) else EXIT_OK
        if getattr(args, "func", None) is None:
            raise UsageError("linviz: give a command: info, features, train, tune, predict, knn, landscape or bench")
        code = args.func(args)
        _finish_cache_writes()
        return code
    except LinvizError as exc:
        _abort_cache_writes()
        print(f"error: {printable(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Cancelled:
        _abort_cache_writes()
        print("cancelled", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        _abort_cache_writes()
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # stdout closed early (``... --json | head``): not an error of ours. Point stdout at
        # devnull so that Python's flush at exit does not raise a second time.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
