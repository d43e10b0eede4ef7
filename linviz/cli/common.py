"""What the commands share: exit codes, JSON output, output-file checks,
Ctrl+C during training, the run history, and the train recipe's first steps with the CLI's
progress bars and wording."""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

from linviz.cli.progress_bar import ProgressBar
from linviz.errors import LinvizError, SplitSizeError, UsageError
from linviz.text import counted, printable

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 3       # train: the run diverged; the best weights before that were saved
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl+C

__all__ = [
    "EXIT_BAD_INPUT", "EXIT_DIVERGED", "EXIT_INTERRUPTED", "EXIT_OK", "ProgressBar", "UsageError",
    "check_output_file", "kernels_ready", "load_split_extract", "percent", "print_json", "progress_step",
    "record_run", "spec_words", "stop_on_ctrl_c", "warn_about_skipped", "warn_if_cache_unavailable",
]


# --------------------------------------------------------------------------- output


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


def percent(value: Optional[float]) -> str:
    """An accuracy as printed in the tables: four decimals, or "-" when there is none."""
    return "-" if value is None else f"{value:.4f}"


def warn_if_cache_unavailable() -> None:
    """One line on stderr when the dataset cache could not be used (the load still worked)."""
    from linviz.data import cache

    reason = cache.unavailable_reason()
    if reason is not None:
        print(f"warning: {printable(reason)}; running without the cache", file=sys.stderr)


def warn_about_skipped(dataset, command: str) -> None:
    """One line on stderr when files of the source were skipped (unreadable images, a cut
    archive): the run goes on without them, and says so; ``info`` lists them all."""
    skipped = dataset.skipped
    if not skipped:
        return
    path, reason = skipped[0]
    more = f" and {counted(len(skipped) - 1, 'more file')}" if len(skipped) > 1 else ""
    # A cut archive is listed under its own path, which sorts before its members' entries.
    if str(path) == str(dataset.source):  # what came before the damage was read
        went_on = "the run goes on with the images read before the damage"
    else:
        went_on = f"the run goes on without {'them' if more else 'it'}"
    print(f"warning: {command}: skipped {printable(path)}: {printable(reason)}{more}; {went_on} "
          f"('python main.py info {printable(dataset.source)}' lists every skipped file)", file=sys.stderr)


def spec_words(spec) -> str:
    """A feature spec as a line of output names it: the preset's name ('best') rather than its
    full text (290 characters for best: --json and the features command give it), or the
    spec itself when it is no preset."""
    from linviz.workbench.spec_names import preset_names

    return preset_names().get(str(spec), str(spec))


# --------------------------------------------------------------------------- files and signals


def check_output_file(out: Path, option: str = "--out") -> None:
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
def stop_on_ctrl_c(control):
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


def record_run(record, W, class_names, pipeline) -> Optional[str]:
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


# --------------------------------------------------------------------------- the train recipe


def progress_step(name: str) -> ProgressBar:
    """A step of the train recipe (linviz.training.recipe) drawn as a progress bar; the
    labels are padded to line up ("loading ", "features", "training"). The kernels' compile
    on a first run says what it is: "compiling linviz's kernels, first run only: 12
    compiled"."""
    if name == "compiling":
        from linviz.training.warmup import COMPILING

        return ProgressBar(f"{COMPILING}:", unit="compiled")
    return ProgressBar(f"{name:<8}")


def kernels_ready(parts: list, *, processes: Optional[bool] = None) -> None:
    """Wait for the Numba kernels of ``parts`` (:mod:`linviz.training.warmup`); on a first
    run, with the line "compiling linviz's kernels, first run only: N compiled" on stderr.
    ``processes``: compile in other processes (the default) or in this one (a command with
    one part and nothing to do meanwhile saves the start of another interpreter)."""
    from linviz.training import recipe, warmup

    warmup.prepare(parts, processes=processes)
    recipe.wait_for_kernels(parts, step=progress_step)


def load_split_extract(args: argparse.Namespace, pipeline, config, command: str, timings: dict, *,
                       needs_validation: Optional[str] = None, with_test: bool = True):
    """The recipe's first steps for ``train`` and ``tune``: load ``args.source``, hold out
    ``args.val`` training images (default: 1000, at most a tenth; split with ``args.seed``)
    and extract the pipeline's features of every split (fitted on the training split).
    ``needs_validation``: the option that needs validation images. Returns the recipe's
    :class:`~linviz.training.recipe.TrainingData`."""
    from linviz.training import recipe

    try:
        data = recipe.load(args.source, pipeline, config, image_size=args.image_size, val=args.val, seed=args.seed,
                           needs_validation=needs_validation is not None, with_test=with_test, step=progress_step,
                           timings=timings)
    except SplitSizeError as exc:
        raise UsageError(f"{command}: --val {args.val}: {exc}") from None
    except recipe.NoValidationImages as exc:
        raise UsageError(f"{command}: {needs_validation} needs validation data, and "
                         f"{counted(exc.n_train, 'training image')} leave none by default; give --val (a count or a "
                         "fraction)") from None
    except recipe.TooFewLeftToTrain as exc:
        raise UsageError(f"{command}: --val {args.val} holds out {exc.held_out:,} of the "
                         f"{exc.n_train:,} training images, leaving {exc.left:,}"
                         f"{' of fewer than 2 classes' if exc.left else ''} to train on; "
                         "give a smaller --val") from None
    warn_if_cache_unavailable()
    warn_about_skipped(data.dataset, command)
    return recipe.extract(data, step=progress_step, timings=timings)
