"""Every option's value checked the same way, when it is given: one set of parsers, one table.

A number on the command line is input like any other: ``nan``, ``inf``, ``1e400``, ``5e-324``,
``-1`` or a count that would allocate terabytes must give exit code 2 and one line naming
the option and its bounds, before anything is loaded, never a traceback later. So:

* :func:`whole_number` and :func:`number` make argparse types from a
  :class:`~linviz.limits.Bound` (finite, in range, non-zero values representable in float32);
* :data:`OPTION_TYPES` says, for every option of every command that takes a number, which
  one. The training settings' bounds are :data:`linviz.limits.TRAINING_SETTINGS`, the very
  bounds ``TrainingConfig`` and the run store check: what ``train --record`` accepts is
  recorded and read back.

The parser (:mod:`linviz.cli.parser`) replaces ``type=int`` and ``type=float`` by the entry
of this table, and refuses to build an option that takes a number and has no entry: no
option can be added unchecked.
"""

from __future__ import annotations

import argparse
import math
from typing import Callable, Optional

from linviz.limits import (MAX_IMAGE_SIZE, MAX_LANDSCAPE_SPAN, MAX_LANDSCAPE_STEPS, MAX_MODEL_CLASSES,
                           MAX_SEARCH_RUNS, MAX_WORKERS, MIN_IMAGE_SIZE, MIN_LANDSCAPE_SPAN, TRAINING_SETTINGS, Bound)

MAX_FOLDS = 10_000          # knn --folds
MAX_KNN_TRAIN = 10**8       # knn --train-size (also checked against the images there are)


def _shown(text: str) -> str:
    """The value as typed, short and with control characters escaped (repr does it)."""
    return repr(text if len(text) <= 40 else text[:37] + "...")


def checked(bound: Bound, whole: Optional[bool] = None) -> Callable[[str], float]:
    """An argparse type: the text as a number within ``bound`` (an int when it is whole)."""
    whole = bound.whole if whole is None else whole

    def parse(text: str):
        try:
            value = int(text, 10) if whole else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {bound.describe()}, got {_shown(text)}") from None
        if not whole and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected {bound.describe()}, got {_shown(text)}")
        problem = bound.problem(value)
        if problem is not None:
            raise argparse.ArgumentTypeError(f"{problem.replace('must be', 'expected', 1)}")
        return value

    parse.bound = bound  # for the tests and the docs
    return parse


def whole_number(lo: int, hi: int) -> Callable[[str], int]:
    return checked(Bound(lo, hi, whole=True))


def number(lo: float, hi: float, **open_ends) -> Callable[[str], float]:
    return checked(Bound(lo, hi, **open_ends))


def setting(name: str) -> Callable[[str], float]:
    """The type of an option that sets the training setting ``name`` (TrainingConfig's field)."""
    return checked(TRAINING_SETTINGS[name])


seed = setting("seed")


def validation_size(text: str):
    """``--val``: a count (1000) or a fraction of the training split (0.1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a count or a fraction, got {_shown(text)}") from None
    if not math.isfinite(value) or value < 0 or value >= 2**53:
        raise argparse.ArgumentTypeError(f"expected a count >= 0 or a fraction in (0, 1), got {_shown(text)}")
    if 0 < value < 1:
        if value < 1e-9:
            raise argparse.ArgumentTypeError(f"a fraction of at least 1e-9, got {_shown(text)}")
        return value
    if value != int(value):
        raise argparse.ArgumentTypeError(f"expected a count >= 0 or a fraction in (0, 1), got {_shown(text)}")
    return int(value)


#: Options that take a number, by name (the same option means the same thing in every command).
OPTION_TYPES: dict = {
    "--seed": seed,
    "--image-size": whole_number(MIN_IMAGE_SIZE, MAX_IMAGE_SIZE),
    # the training settings: the run store's bounds
    "--reg": setting("reg"),
    "--elastic-beta": setting("elastic_beta"),
    "--delta": setting("delta"),
    # a rate of 0 (the searches' setting, which takes no --lr) leaves the weights where they start
    "--lr": number(0.0, TRAINING_SETTINGS["learning_rate"].hi, lo_open=True),
    "--lr-decay": setting("lr_decay"),
    "--momentum": setting("momentum"),
    "--batch": setting("batch_size"),
    "--epochs": setting("epochs"),
    "--search-step": setting("search_step"),
    "--search-sample": setting("search_sample"),
    "--early-stopping": setting("early_stopping"),
    # the other commands
    "--top": whole_number(1, MAX_MODEL_CLASSES),
    "--trials": whole_number(1, MAX_SEARCH_RUNS),
    "--workers": whole_number(1, MAX_WORKERS),
    "--folds": whole_number(2, MAX_FOLDS),
    "--train-size": whole_number(2, MAX_KNN_TRAIN),
    "--range": number(MIN_LANDSCAPE_SPAN, MAX_LANDSCAPE_SPAN),
    "--steps": whole_number(2, MAX_LANDSCAPE_STEPS),
}


def type_of(option_strings, given):
    """The checked type of an option declared with ``type=int`` or ``type=float``; other
    types unchanged. LookupError (a programming error) for a number option not in the table."""
    if given not in (int, float):
        return given
    for name in option_strings:
        if name in OPTION_TYPES:
            return OPTION_TYPES[name]
    raise LookupError(f"the option {'/'.join(option_strings) or '(positional)'} takes a number but has no "
                      "bounds: add it to linviz.cli.arguments.OPTION_TYPES")
