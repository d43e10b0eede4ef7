"""Learning rate x regularization search: the course's assignment, on both cores.

A search trains one run per (learning rate, regularization strength) pair, every other
setting equal (the same seed: the same initial weights and minibatch order), and judges each
by the validation accuracy of the weights it keeps. :class:`SearchPlan` makes the pairs: a
grid of the given values, or ``trials`` random pairs drawn log-uniformly over the same ranges
(Bergstra & Bengio: with few runs, random pairs try more distinct values of the setting that
matters). :func:`run_search` trains them on up to ``workers`` threads at once (the training
kernels release the GIL, so two runs use two cores), calls ``on_result`` as each finishes and
stops at once when cancelled, keeping the runs already finished. A run that diverges is a
result like any other: its stop reason says so and its accuracies are those of the weights it
kept before that.

Used by the Tuning lab, ``python main.py tune`` and the ``tune`` benchmark.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Union

import numpy as np

from linviz.limits import MAX_SEARCH_RUNS, TRAINING_SETTINGS, cpu_count
from linviz.training import TrainingConfig, TrainingControl, accuracy, train

MODES = ("grid", "random")
MAX_VALUES = 100    # values per axis of a grid
MAX_RUNS = MAX_SEARCH_RUNS  # runs of one search
YIELD_EVERY_S = 0.1  # with yield_gil: how often a run steps aside for another thread (the GUI's)


def parse_values(text: str, name: str = "values", *, allow_zero: bool = False,
                 setting: Optional[str] = None) -> list[float]:
    """``"1e-3,1e-2,1e-1"`` (the values) or ``"1e-4:1e-1:4"`` (4 log-spaced values from 1e-4 to
    1e-1, both included). ValueError with a one-line reason for anything else: no values, a
    word, NaN or an infinity, a value <= 0 (0 allowed in a list with ``allow_zero``: no
    regularization), a range whose ends are not increasing, more than MAX_VALUES values, a
    value outside the bounds of the training setting ``setting`` ("learning_rate", "reg":
    :data:`linviz.limits.TRAINING_SETTINGS`, what the run store reads back)."""
    values = _parse_values(text, name, allow_zero)
    bound = TRAINING_SETTINGS[setting] if setting is not None else None
    for value in values if bound is not None else ():
        problem = bound.problem(value)
        if problem is not None:
            raise ValueError(f"{name}: every value {problem}")
    return values


def _parse_values(text: str, name: str, allow_zero: bool) -> list[float]:
    text = str(text).strip()
    if not text:
        raise ValueError(f"{name}: no values given")
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise ValueError(f"{name}: a range is LOW:HIGH:COUNT, e.g. 1e-4:1e-1:4; got {text[:40]!r}")
        lo, hi = (_number(p, name) for p in parts[:2])
        count = parts[2].strip()
        if not count.isdigit() or not 1 <= int(count) <= MAX_VALUES:
            raise ValueError(f"{name}: the COUNT of LOW:HIGH:COUNT must be a whole number from 1 to {MAX_VALUES}, "
                             f"got {count[:20]!r}")
        if not 0 < lo < hi:
            raise ValueError(f"{name}: a range needs 0 < LOW < HIGH, got {lo:g}:{hi:g}")
        return log_range(lo, hi, int(count))
    values = [_number(p, name) for p in text.split(",")]
    if len(values) > MAX_VALUES:
        raise ValueError(f"{name}: at most {MAX_VALUES} values, got {len(values)}")
    bad = [v for v in values if v < 0 or (v == 0 and not allow_zero)]
    if bad:
        raise ValueError(f"{name}: {bad[0]:g} is not {'>= 0' if allow_zero else '> 0'}")
    twice = next((v for i, v in enumerate(values) if v in values[:i]), None)
    if twice is not None:  # the grid would train the same cells twice
        raise ValueError(f"{name}: {twice:g} is given twice (each value once: the grid tries every pair)")
    return values


def _number(text: str, name: str) -> float:
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}: {text[:30]!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{name}: {text[:30]!r} is not a finite number")
    return value


def log_range(lo: float, hi: float, count: int) -> list[float]:
    """``count`` log-spaced values from ``lo`` to ``hi`` (both > 0), rounded to 3 digits."""
    if count == 1:
        return [float(f"{lo:.3g}")]
    return [float(f"{v:.3g}") for v in np.geomspace(lo, hi, count)]


@dataclass(frozen=True)
class SearchPlan:
    """Which (learning rate, reg) pairs to train. ``grid``: every pair of the given values,
    learning rate major (row k of the heat map is ``learning_rates[k]``). ``random``: ``trials``
    pairs drawn log-uniformly between the smallest and the largest given value of each, seeded."""

    learning_rates: tuple
    regs: tuple
    mode: str = "grid"
    trials: int = 0
    seed: int = 0

    def __post_init__(self):
        object.__setattr__(self, "learning_rates", tuple(float(v) for v in self.learning_rates))
        object.__setattr__(self, "regs", tuple(float(v) for v in self.regs))
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if not self.learning_rates or not self.regs:
            raise ValueError("a search needs at least one learning rate and one regularization strength")
        if any(not (math.isfinite(v) and v > 0) for v in self.learning_rates):
            raise ValueError("learning rates must be finite and > 0")
        if any(not (math.isfinite(v) and v >= 0) for v in self.regs):
            raise ValueError("regularization strengths must be finite and >= 0")
        for setting, values in (("learning_rate", self.learning_rates), ("reg", self.regs)):
            problems = [TRAINING_SETTINGS[setting].problem(v) for v in values]
            if any(problems):
                raise ValueError(f"{setting}: every value {next(p for p in problems if p)}")
        if self.mode == "random":
            if not 1 <= int(self.trials) <= MAX_RUNS:
                raise ValueError(f"a random search needs 1 to {MAX_RUNS:,} trials, got {self.trials}")
            if min(self.regs) <= 0:
                raise ValueError("a random search draws log-uniformly: its regularization range must be > 0")
        elif len(self.learning_rates) * len(self.regs) > MAX_RUNS:
            raise ValueError(f"a grid of at most {MAX_RUNS:,} runs")

    @property
    def lr_range(self) -> tuple[float, float]:
        return min(self.learning_rates), max(self.learning_rates)

    @property
    def reg_range(self) -> tuple[float, float]:
        return min(self.regs), max(self.regs)

    def points(self) -> list[tuple[float, float]]:
        if self.mode == "grid":
            return [(lr, reg) for lr in self.learning_rates for reg in self.regs]
        rng = np.random.default_rng([int(self.seed), 0x7E5])
        (l0, l1), (r0, r1) = self.lr_range, self.reg_range
        lrs = 10 ** rng.uniform(math.log10(l0), math.log10(l1), int(self.trials))
        regs = 10 ** rng.uniform(math.log10(r0), math.log10(r1), int(self.trials))
        return [(float(f"{a:.3g}"), float(f"{b:.3g}")) for a, b in zip(lrs, regs)]

    def cell(self, index: int) -> Optional[tuple[int, int]]:
        """(row = learning rate, column = reg) of a grid run; None for a random one."""
        if self.mode != "grid":
            return None
        return divmod(index, len(self.regs))

    @property
    def n_runs(self) -> int:
        return len(self.learning_rates) * len(self.regs) if self.mode == "grid" else int(self.trials)


@dataclass(frozen=True, eq=False)
class TuningResult:
    """One finished run of a search."""

    index: int
    learning_rate: float
    reg: float
    train_accuracy: Optional[float]  # of the kept weights, on every training row
    val_accuracy: Optional[float]
    seconds: float                   # training time of this run
    stop_reason: str
    config: TrainingConfig
    final: object = None             # the final Snapshot (curves, best_W)

    @property
    def diverged(self) -> bool:
        return self.stop_reason.startswith("diverged")

    def as_json(self) -> dict:
        return {"learning_rate": self.learning_rate, "reg": self.reg, "train_accuracy": self.train_accuracy,
                "val_accuracy": self.val_accuracy, "seconds": round(self.seconds, 4), "stop_reason": self.stop_reason}


def best_result(results: Sequence[TuningResult]) -> Optional[TuningResult]:
    """The run with the best validation accuracy (the training accuracy without validation
    data); ties go to the earlier run. None when no run has an accuracy."""
    def score(r: TuningResult):
        value = r.val_accuracy if r.val_accuracy is not None else r.train_accuracy
        return -math.inf if value is None or not math.isfinite(value) else value

    scored = [r for r in results if score(r) > -math.inf]
    if not scored:
        return None
    return max(sorted(scored, key=lambda r: r.index), key=score)


def train_one(X, y, X_val, y_val, config: TrainingConfig, *, n_classes: int, index: int = 0,
              control: Optional[TrainingControl] = None, yield_gil: bool = False) -> Optional[TuningResult]:
    """One run of a search; None when ``control`` stopped it (a cancelled run is no result)."""
    start = time.perf_counter()
    last_yield = start
    final = None
    for final in train(X, y, X_val, y_val, config, control=control, n_classes=n_classes):
        if yield_gil and time.perf_counter() - last_yield >= YIELD_EVERY_S:
            time.sleep(0.001)  # let the GUI thread in (see linviz.workbench.jobs.train_job)
            last_yield = time.perf_counter()
    if final is None or str(final.stop_reason).startswith("stopped by the user"):
        return None
    W = final.best_W
    train_acc = accuracy(X, y, W)
    val_acc = accuracy(X_val, y_val, W) if X_val is not None and len(y_val) else None
    return TuningResult(index, float(config.learning_rate), float(config.reg), _finite(train_acc), _finite(val_acc),
                        time.perf_counter() - start, str(final.stop_reason), config, final)


def run_search(X, y, X_val, y_val, base: TrainingConfig, plan: SearchPlan, *, n_classes: int,
               workers: Union[int, Callable[[], int]] = 1, cancel=None,
               on_result: Optional[Callable[[TuningResult], None]] = None,
               on_start: Optional[Callable[[int], None]] = None, yield_gil: bool = False) -> list[TuningResult]:
    """Train every pair of ``plan`` with ``base``'s other settings; the finished runs by index.

    ``workers``: runs at once, or a function asked before each start (the GUI: 2 while the
    search is the only job, else 1). ``cancel``: an Event or a callable; when it turns true the
    running runs stop and the finished ones are returned. ``on_result`` / ``on_start(index)``
    are called in the calling thread; never more threads than the machine has cores
    (:func:`linviz.limits.cpu_count`). With a fixed number of workers > 1, NumPy's BLAS gets
    the cores divided among them for the search (threadpoolctl, when installed): each worker's
    matrix products otherwise start a thread per core that spins on the other worker's core.
    """
    with _blas_threads_per_worker(workers):
        return _run_search(X, y, X_val, y_val, base, plan, n_classes=n_classes, workers=workers, cancel=cancel,
                           on_result=on_result, on_start=on_start, yield_gil=yield_gil)


@contextlib.contextmanager
def _blas_threads_per_worker(workers):
    if callable(workers) or int(workers) <= 1:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # an optional speed-up: without it BLAS keeps its own setting
        yield
        return
    with threadpool_limits(limits=max(1, cpu_count() // min(int(workers), cpu_count())), user_api="blas"):
        yield


def _run_search(X, y, X_val, y_val, base: TrainingConfig, plan: SearchPlan, *, n_classes: int, workers, cancel,
                on_result, on_start, yield_gil: bool) -> list[TuningResult]:
    points = plan.points()
    pending = list(range(len(points)))
    running: dict[int, TrainingControl] = {}
    finished: queue.Queue = queue.Queue()
    results: list[TuningResult] = []
    is_cancelled = (cancel.is_set if hasattr(cancel, "is_set") else cancel) if cancel is not None else (lambda: False)

    def run(index: int, control: TrainingControl) -> None:
        lr, reg = points[index]
        config = dataclasses.replace(base, learning_rate=lr, reg=reg)
        try:
            finished.put((index, train_one(X, y, X_val, y_val, config, n_classes=n_classes, index=index,
                                           control=control, yield_gil=yield_gil), None))
        except BaseException as exc:  # handed to the calling thread
            finished.put((index, None, exc))

    error = None
    while (pending or running) and error is None:
        if is_cancelled():
            for control in running.values():
                control.stop()
            pending.clear()
        allowed = min(int(workers() if callable(workers) else workers), cpu_count())
        while pending and len(running) < max(1, allowed) and not is_cancelled():
            index = pending.pop(0)
            control = TrainingControl()
            running[index] = control
            if on_start is not None:
                on_start(index)
            threading.Thread(target=run, args=(index, control), name=f"linviz-search-{index}", daemon=True).start()
        try:
            index, result, exc = finished.get(timeout=0.05)
        except queue.Empty:
            continue
        running.pop(index, None)
        if exc is not None:
            error = exc
            for control in running.values():
                control.stop()
            continue
        if result is not None:
            results.append(result)
            if on_result is not None:
                on_result(result)
    while running:  # after an error: the others stop at their next check
        index, _, _ = finished.get()
        running.pop(index, None)
    if error is not None:
        raise error
    return sorted(results, key=lambda r: r.index)


def _finite(value) -> Optional[float]:
    return float(value) if value is not None and math.isfinite(value) else None


def heat_map(plan: SearchPlan, results: Sequence[TuningResult]) -> tuple[np.ndarray, Optional[tuple[int, int]]]:
    """The validation accuracy of every finished grid cell ((learning rates, regs), NaN where no
    run finished yet) and the (row, column) of :func:`best_result` (None before any)."""
    if plan.mode != "grid":
        raise ValueError("a heat map is for a grid search; a random one is a scatter of its points")
    values = np.full((len(plan.learning_rates), len(plan.regs)), np.nan)
    for r in results:
        score = r.val_accuracy if r.val_accuracy is not None else r.train_accuracy
        row, col = plan.cell(r.index)
        values[row, col] = np.nan if score is None else score
    best = best_result(results)
    return values, (plan.cell(best.index) if best is not None else None)
