"""Run records: what one training run was, so that runs can be compared, restored and re-run.

A :class:`RunRecord` holds a run's settings (every :class:`TrainingConfig` field: loss,
regularization, optimizer and its parameters, learning rate, batch, epochs, seed), its
features spec, the dataset it ran on (source, content key, classes, split sizes and how the
split was made), its timing, why it stopped, which weights it kept and their accuracies. Its
curves (:class:`RunCurves`: the loss of every iteration, the per-snapshot data loss,
regularization loss and ||W||, the accuracies per epoch) travel separately, so that a list of
hundreds of runs is read without them. The weights, with their feature pipeline, are a
complete model file beside the record (:mod:`linviz.training.run_store`).

Records are JSON; read back, they are input like any other (architecture, "Hostile input"):
:meth:`RunRecord.from_json` and :func:`curves_from_json` check every field's type and range,
bound every list before converting it, and refuse with :class:`RecordError` naming the field.
Curves longer than :data:`MAX_CURVE_POINTS` are stored as block means (``stride`` points
each), so a record stays small whatever the run.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from linviz.errors import LinvizError
from linviz.limits import MAX_MODEL_CLASSES, MAX_NAME_CHARS
from linviz.models.losses import LOSSES
from linviz.training.loop import PER_SNAPSHOT_COLUMNS, Snapshot, TrainingConfig

RECORD_FORMAT = "linviz-run"
RECORD_VERSION = 1
RUN_ID = re.compile(r"\d{8}-\d{6}-\d{3}[0-9a-f]{4}")  # always fullmatch: "$" matches before a final newline
ORIGINS = ("app", "cli", "search")
MAX_CURVE_POINTS = 20_000     # losses and per-snapshot rows kept per run (block means beyond)
MAX_EPOCH_POINTS = 20_000     # accuracies per epoch
MAX_NAME = 200                # a run's name
MAX_TEXT = 2_000              # stop reason, kept, features spec
MAX_SOURCE = 4_096            # a dataset's source (a path)
MAX_COUNT = 10**10            # images, iterations, epochs
MAX_CURVE_VALUE = 1e30        # a curve's larger values (a diverging run's) are stored as null, like NaN
SETTING_FIELDS = tuple(f.name for f in dataclasses.fields(TrainingConfig))


class RecordError(LinvizError):
    """A run record (or its curves) that cannot be used; the message names the field."""


def new_run_id(now: Optional[float] = None) -> str:
    """``20250131-142501-0373fa9``: local time to the millisecond, then 4 random hex digits;
    sorts by time, unique enough for one user's runs."""
    now = time.time() if now is None else now
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return f"{stamp}-{int(now * 1000) % 1000:03d}{secrets.token_hex(2)}"


@dataclass(frozen=True, eq=False)
class RunCurves:
    """A run's curves; arrays read-only. ``loss_stride`` > 1: each loss is the mean of that many
    iterations (a long run); likewise ``accuracy_stride`` for the per-epoch accuracies."""

    losses: np.ndarray             # float32
    per_snapshot: np.ndarray       # (K, 4): PER_SNAPSHOT_COLUMNS
    train_accuracies: np.ndarray   # float64, per epoch
    val_accuracies: np.ndarray
    loss_stride: int = 1
    accuracy_stride: int = 1

    def __post_init__(self):
        for name in ("losses", "per_snapshot", "train_accuracies", "val_accuracies"):
            array = np.array(getattr(self, name), dtype=np.float32 if name == "losses" else np.float64)
            if name == "per_snapshot":
                array = array.reshape(-1, len(PER_SNAPSHOT_COLUMNS))
            array.flags.writeable = False
            object.__setattr__(self, name, array)

    def loss_iterations(self) -> np.ndarray:
        """The iteration (1-based; a block's middle) of every stored loss."""
        k = np.arange(len(self.losses), dtype=np.float64)
        return k * self.loss_stride + (self.loss_stride + 1) / 2

    def accuracy_epochs(self, n: int) -> np.ndarray:
        k = np.arange(n, dtype=np.float64)
        return k * self.accuracy_stride + (self.accuracy_stride + 1) / 2


@dataclass(frozen=True, eq=False)
class RunRecord:
    """One training run (see the module docstring); ``curves`` may be None (not loaded)."""

    id: str
    created: str                   # local time, "2025-01-31T14:25:01"
    origin: str                    # "app" | "cli" | "search"
    name: str
    features: str                  # the canonical feature spec
    settings: dict                 # TrainingConfig fields
    dataset: dict                  # source, key, classes, n_train, n_val, n_test, split
    iterations: int
    epochs_done: int
    seconds: float                 # training time, pauses excluded
    wall_seconds: Optional[float]
    samples_per_second: float
    stop_reason: str
    kept: str
    best_epoch: Optional[int]
    train_accuracy: Optional[float]   # of the kept weights
    val_accuracy: Optional[float]
    pace: Optional[float] = None      # iterations per second when it was paced at the start
    search: Optional[dict] = None     # {"id", "index", "mode"} for a run of a search
    curves: Optional[RunCurves] = None

    # ------------------------------------------------------------------ derived
    @property
    def config(self) -> TrainingConfig:
        return TrainingConfig(**self.settings)

    @property
    def loss(self) -> str:
        return str(self.settings.get("loss", "softmax"))

    @property
    def optimizer(self) -> str:
        return str(self.settings.get("optimizer", "sgd"))

    @property
    def learning_rate(self) -> float:
        return float(self.settings.get("learning_rate", math.nan))

    @property
    def reg(self) -> float:
        return float(self.settings.get("reg", math.nan))

    @property
    def diverged(self) -> bool:
        return self.stop_reason.startswith("diverged")

    @property
    def title(self) -> str:
        """The name, or a short description when it has none."""
        if self.name:
            return self.name
        return f"{self.loss} {self.optimizer} lr {self.learning_rate:g} reg {self.reg:g}"

    def replace(self, **changes) -> "RunRecord":
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------ JSON
    def to_json(self) -> dict:
        """The record without its curves, as JSON-ready values (no NaN)."""
        data = {"format": RECORD_FORMAT, "version": RECORD_VERSION}
        for f in dataclasses.fields(self):
            if f.name != "curves":
                data[f.name] = _plain(getattr(self, f.name))
        return data

    @classmethod
    def from_json(cls, data: Any, where: str) -> "RunRecord":
        """A record read from anywhere: every field checked (RecordError naming it)."""
        check = _Checker(where)
        if not isinstance(data, dict):
            check.fail("record", f"expected an object, found {type(data).__name__}")
        if data.get("format") != RECORD_FORMAT:
            check.fail("format", f"not a linviz run record (format {str(data.get('format'))[:40]!r})")
        version = check.integer(data, "version", 1, 10**6)
        if version > RECORD_VERSION:
            check.fail("version", f"written by a newer linviz (version {version}; this one reads {RECORD_VERSION})")
        run_id = check.text(data, "id", 40)
        if not RUN_ID.fullmatch(run_id):
            check.fail("id", f"not a run id: {run_id[:40]!r}")
        origin = check.text(data, "origin", 20)
        if origin not in ORIGINS:
            check.fail("origin", f"expected one of {', '.join(ORIGINS)}, found {origin[:20]!r}")
        return cls(
            id=run_id, created=check.text(data, "created", 40), origin=origin,
            name=check.text(data, "name", MAX_NAME), features=check.text(data, "features", MAX_TEXT),
            settings=check_settings(data.get("settings"), check),
            dataset=_check_dataset(data.get("dataset"), check),
            iterations=check.integer(data, "iterations", 0, MAX_COUNT),
            epochs_done=check.integer(data, "epochs_done", 0, MAX_COUNT),
            seconds=check.number(data, "seconds", 0.0, 1e9),
            wall_seconds=check.number(data, "wall_seconds", 0.0, 1e9, optional=True),
            samples_per_second=check.number(data, "samples_per_second", 0.0, 1e15),
            stop_reason=check.text(data, "stop_reason", MAX_TEXT), kept=check.text(data, "kept", MAX_TEXT),
            best_epoch=check.integer(data, "best_epoch", 0, MAX_COUNT, optional=True),
            train_accuracy=check.number(data, "train_accuracy", 0.0, 1.0, optional=True),
            val_accuracy=check.number(data, "val_accuracy", 0.0, 1.0, optional=True),
            pace=check.number(data, "pace", 1e-6, 1e9, optional=True),
            search=_check_search(data.get("search"), check))


# --------------------------------------------------------------------------- making records


def make_record(final: Snapshot, config: TrainingConfig, *, features: str, dataset: dict, origin: str = "app",
                name: str = "", train_accuracy: Optional[float] = None, val_accuracy: Optional[float] = None,
                wall_seconds: Optional[float] = None, pace: Optional[float] = None,
                search: Optional[dict] = None, run_id: Optional[str] = None) -> RunRecord:
    """The record of a finished run from its final snapshot. ``val_accuracy`` defaults to the
    best validation accuracy (the kept weights'); ``dataset`` from :func:`dataset_summary`."""
    if origin not in ORIGINS:
        raise ValueError(f"origin must be one of {ORIGINS}, got {origin!r}")
    if val_accuracy is None:
        val_accuracy = final.best_val_accuracy
    curves = curves_of(final)
    settings = {name_: _plain(getattr(config, name_)) for name_ in SETTING_FIELDS}
    return RunRecord(
        id=run_id or new_run_id(), created=time.strftime("%Y-%m-%dT%H:%M:%S"), origin=origin,
        name=str(name)[:MAX_NAME], features=str(features)[:MAX_TEXT], settings=settings, dataset=dict(dataset),
        iterations=int(final.iteration), epochs_done=int(final.epochs_done), seconds=float(final.elapsed),
        wall_seconds=None if wall_seconds is None else float(wall_seconds),
        samples_per_second=float(final.samples_per_second or 0.0), stop_reason=str(final.stop_reason or "")[:MAX_TEXT],
        kept=str(final.kept or "")[:MAX_TEXT], best_epoch=final.best_epoch,
        train_accuracy=_accuracy_or_none(train_accuracy), val_accuracy=_accuracy_or_none(val_accuracy),
        pace=pace, search=search, curves=curves)


def snapshot_of(record: RunRecord) -> Snapshot:
    """The final snapshot of a recorded run, rebuilt from its curves (for views that draw
    snapshots: the loss and accuracy plots). No weights in it; the losses of a long run are
    its block means (``record.curves.loss_stride`` iterations each)."""
    curves = record.curves
    if curves is None:
        raise ValueError("the record's curves are not loaded")
    n_classes = len(record.dataset.get("classes", [])) or 2
    expected = LOSSES[record.loss].expected_initial_loss(n_classes, float(record.settings.get("delta", 1.0)),
                                                         bool(record.settings.get("squared_hinge")))
    losses = curves.losses
    first = float(losses[0]) if len(losses) else math.nan
    last = float(losses[-1]) if len(losses) else math.nan
    seconds = record.seconds
    return Snapshot(
        iteration=record.iterations, epoch=float(record.epochs_done), batch_loss=last, smoothed_loss=last,
        losses=losses, smoothed_losses=losses, epochs_done=record.epochs_done,
        train_accuracies=tuple(curves.train_accuracies.tolist()), val_accuracies=tuple(curves.val_accuracies.tolist()),
        W=None, learning_rate=record.learning_rate, initial_loss=first, expected_initial_loss=expected,
        sanity_check=f"initial loss {first:.4f} vs {expected:.4f} (recorded run {record.title})",
        samples_per_second=record.samples_per_second,
        iterations_per_second=record.iterations / seconds if seconds > 0 else 0.0, elapsed=seconds, done=True,
        stop_reason=record.stop_reason, best_val_accuracy=record.val_accuracy, best_epoch=record.best_epoch,
        kept=record.kept, n_classes=n_classes, per_snapshot=curves.per_snapshot)


def dataset_summary(dataset, *, n_train: int, n_val: int, n_test: int, split: Optional[dict] = None) -> dict:
    """What a record says about the data: the source, its content key, the classes, the split."""
    return {"source": str(getattr(dataset, "source", ""))[:MAX_SOURCE], "key": str(getattr(dataset, "key", ""))[:200],
            "classes": [str(c)[:MAX_NAME_CHARS] for c in dataset.class_names], "n_train": int(n_train),
            "n_val": int(n_val), "n_test": int(n_test), "split": dict(split or {})}


def curves_of(snapshot: Snapshot) -> RunCurves:
    """A snapshot's curves, reduced to at most MAX_CURVE_POINTS / MAX_EPOCH_POINTS points."""
    losses, loss_stride = _block_means(np.asarray(snapshot.losses, dtype=np.float64), MAX_CURVE_POINTS)
    table = snapshot.per_snapshot
    table = np.zeros((0, len(PER_SNAPSHOT_COLUMNS))) if table is None else np.asarray(table, dtype=np.float64)
    if len(table) > MAX_CURVE_POINTS:  # evenly spaced rows, the last one included
        table = table[np.unique(np.linspace(0, len(table) - 1, MAX_CURVE_POINTS).round().astype(np.int64))]
    train, stride = _block_means(np.asarray(snapshot.train_accuracies, dtype=np.float64), MAX_EPOCH_POINTS)
    val, _ = _block_means(np.asarray(snapshot.val_accuracies, dtype=np.float64), MAX_EPOCH_POINTS)
    return RunCurves(losses.astype(np.float32), table, train, val, loss_stride, stride)


def _block_means(values: np.ndarray, limit: int) -> tuple[np.ndarray, int]:
    n = len(values)
    if n <= limit:
        return values, 1
    stride = -(-n // limit)
    starts = np.arange(0, n, stride)
    counts = np.diff(np.append(starts, n))
    return np.add.reduceat(values, starts) / counts, stride


def curves_to_json(curves: RunCurves) -> dict:
    return {"format": RECORD_FORMAT + "-curves", "version": RECORD_VERSION,
            "loss_stride": curves.loss_stride, "accuracy_stride": curves.accuracy_stride,
            "losses": _floats(curves.losses, 7), "per_snapshot": _floats(curves.per_snapshot, 7),
            "train_accuracies": _floats(curves.train_accuracies, 6),
            "val_accuracies": _floats(curves.val_accuracies, 6)}


def curves_from_json(data: Any, where: str) -> RunCurves:
    check = _Checker(where)
    if not isinstance(data, dict) or data.get("format") != RECORD_FORMAT + "-curves":
        check.fail("format", "not the curves of a linviz run")
    if check.integer(data, "version", 1, 10**6) > RECORD_VERSION:
        check.fail("version", "written by a newer linviz")
    table = check.array(data, "per_snapshot", MAX_CURVE_POINTS, width=len(PER_SNAPSHOT_COLUMNS))
    return RunCurves(losses=check.array(data, "losses", MAX_CURVE_POINTS), per_snapshot=table,
                     train_accuracies=check.array(data, "train_accuracies", MAX_EPOCH_POINTS, lo=0, hi=1),
                     val_accuracies=check.array(data, "val_accuracies", MAX_EPOCH_POINTS, lo=0, hi=1),
                     loss_stride=check.integer(data, "loss_stride", 1, MAX_COUNT),
                     accuracy_stride=check.integer(data, "accuracy_stride", 1, MAX_COUNT))


def check_settings(settings: Any, check: Optional["_Checker"] = None) -> dict:
    """Training settings read from a record: known TrainingConfig fields with scalar values
    that make a valid TrainingConfig, so within the bounds every command and the window
    accept (:data:`linviz.limits.TRAINING_SETTINGS`); RecordError otherwise."""
    check = check or _Checker("settings")
    if not isinstance(settings, dict):
        check.fail("settings", "expected an object")
    unknown = [str(k)[:40] for k in settings if k not in SETTING_FIELDS]
    if unknown:
        check.fail("settings", f"unknown field(s) {', '.join(unknown[:5])}")
    for key, value in settings.items():
        if not (value is None or isinstance(value, (bool, int, float, str))) or (isinstance(value, str)
                                                                              and len(value) > 100):
            check.fail(f"settings.{key}", "expected a number, a short text or null")
    try:  # TrainingConfig checks every number against linviz.limits.TRAINING_SETTINGS
        TrainingConfig(**settings)
    except (TypeError, ValueError, OverflowError) as exc:
        check.fail("settings", str(exc)[:200])
    return dict(settings)


# --------------------------------------------------------------------------- export


CSV_COLUMNS = ("id", "name", "created", "origin", "features", "loss", "optimizer", "learning_rate", "reg",
               "reg_type", "batch_size", "epochs", "seed", "train_accuracy", "val_accuracy", "best_epoch",
               "iterations", "seconds", "stop_reason", "source")


def records_csv(records) -> str:
    """One row per run: its key settings and results. Text cells that a spreadsheet would read
    as a formula (=, +, -, @ first) are prefixed with a quote."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        s = r.settings
        row = [r.id, r.name, r.created, r.origin, r.features, s.get("loss"), s.get("optimizer"),
               s.get("learning_rate"), s.get("reg"), s.get("reg_type"), s.get("batch_size"), s.get("epochs"),
               s.get("seed"), r.train_accuracy, r.val_accuracy, r.best_epoch, r.iterations, round(r.seconds, 4),
               r.stop_reason, r.dataset.get("source", "")]
        writer.writerow(["" if v is None else _safe_cell(v) for v in row])
    return out.getvalue()


def records_json(records, *, with_curves: bool = True) -> str:
    """Every run's record (and its curves when loaded) as one JSON document."""
    runs = []
    for r in records:
        item = r.to_json()
        if with_curves and r.curves is not None:
            item["curves"] = curves_to_json(r.curves)
        runs.append(item)
    return json.dumps({"format": RECORD_FORMAT + "-export", "version": RECORD_VERSION, "runs": runs},
                      indent=1, allow_nan=False)


def _safe_cell(value):
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


# --------------------------------------------------------------------------- checking


class _Checker:
    """Type and range checks of one JSON object's fields, failing with the field's name."""

    def __init__(self, where: str):
        self.where = where

    def fail(self, key: str, reason: str):
        raise RecordError(f"{self.where}: {key}: {reason}")

    def _get(self, data: dict, key: str, optional: bool):
        if not isinstance(data, dict) or key not in data:
            if optional:
                return None
            self.fail(key, "missing")
        return data[key]

    def text(self, data: dict, key: str, max_len: int, optional: bool = False) -> Optional[str]:
        value = self._get(data, key, optional)
        if value is None and optional:
            return None
        if not isinstance(value, str):
            self.fail(key, f"expected text, found {type(value).__name__}")
        if len(value) > max_len:
            self.fail(key, f"longer than {max_len:,} characters")
        return value

    def integer(self, data: dict, key: str, lo: int, hi: int, optional: bool = False) -> Optional[int]:
        value = self._get(data, key, optional)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"expected a whole number, found {type(value).__name__}")
        if not lo <= value <= hi:
            self.fail(key, f"{value} is outside {lo}..{hi}")
        return int(value)

    def number(self, data: dict, key: str, lo: float, hi: float, optional: bool = False) -> Optional[float]:
        value = self._get(data, key, optional)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(key, f"expected a number, found {type(value).__name__}")
        try:
            ok = math.isfinite(value) and lo <= value <= hi
        except OverflowError:
            ok = False
        if not ok:
            self.fail(key, f"{str(value)[:30]} is outside {lo:g}..{hi:g}")
        return float(value)

    def array(self, data: dict, key: str, max_len: int, *, width: Optional[int] = None, lo=None, hi=None) -> np.ndarray:
        value = self._get(data, key, False)
        if not isinstance(value, list):
            self.fail(key, f"expected a list, found {type(value).__name__}")
        if len(value) > max_len:
            self.fail(key, f"more than {max_len:,} entries")
        if width is not None and not all(isinstance(row, list) and len(row) == width for row in value):
            self.fail(key, f"expected rows of {width} numbers")
        items = [x for row in value for x in row] if width is not None else value
        if not all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in items):
            self.fail(key, "expected numbers (or null)")
        try:
            array = np.array(items, dtype=np.float64)
        except (OverflowError, ValueError):
            self.fail(key, "a value out of range")
        if width is not None:
            array = array.reshape(-1, width)
        finite = array[np.isfinite(array)]
        if np.any(np.abs(finite) > MAX_CURVE_VALUE) or (lo is not None and np.any(finite < lo)) or (
                hi is not None and np.any(finite > hi)):
            self.fail(key, "a value out of range")
        return array


def _check_dataset(dataset: Any, check: _Checker) -> dict:
    if not isinstance(dataset, dict):
        check.fail("dataset", "expected an object")
    sub = _Checker(f"{check.where}: dataset")
    classes = dataset.get("classes")
    if not isinstance(classes, list) or not 2 <= len(classes) <= MAX_MODEL_CLASSES or not all(
            isinstance(c, str) and 0 < len(c) <= MAX_NAME_CHARS for c in classes):
        sub.fail("classes", f"expected 2 to {MAX_MODEL_CLASSES:,} class names of 1 to {MAX_NAME_CHARS} characters")
    split = dataset.get("split", {})
    if not isinstance(split, dict) or len(split) > 10 or not all(
            isinstance(k, str) and len(k) <= 40 and (isinstance(v, (int, float)) and not isinstance(v, bool))
            and math.isfinite(v) for k, v in split.items()):
        sub.fail("split", "expected a few named numbers")
    return {"source": sub.text(dataset, "source", MAX_SOURCE), "key": sub.text(dataset, "key", 200),
            "classes": list(classes), "n_train": sub.integer(dataset, "n_train", 0, MAX_COUNT),
            "n_val": sub.integer(dataset, "n_val", 0, MAX_COUNT),
            "n_test": sub.integer(dataset, "n_test", 0, MAX_COUNT),
            "split": dict(split)}


def _check_search(search: Any, check: _Checker) -> Optional[dict]:
    if search is None:
        return None
    sub = _Checker(f"{check.where}: search")
    if not isinstance(search, dict):
        sub.fail("search", "expected an object or null")
    mode = sub.text(search, "mode", 10)
    if mode not in ("grid", "random"):
        sub.fail("mode", "expected grid or random")
    return {"id": sub.text(search, "id", 40), "index": sub.integer(search, "index", 0, 10**6), "mode": mode}


# --------------------------------------------------------------------------- values


def _plain(value):
    """JSON-ready: numpy scalars to Python, non-finite floats to None, dicts and lists through."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _floats(values, digits: int) -> list:
    """Rounded to ``digits`` significant digits (a few times smaller as text); NaN, infinities
    and values beyond :data:`MAX_CURVE_VALUE` as null (what :func:`curves_from_json` reads).
    Nested lists for a table. Vectorized: the curves are written by the window's process at a
    run's end, and a Python loop over their numbers would hold the GIL beside its redraws."""
    values = np.asarray(values, dtype=np.float64)
    kept = np.isfinite(values) & (np.abs(values) <= MAX_CURVE_VALUE)
    rounded = _significant(np.where(kept, values, 0.0), digits).astype(object)
    rounded[~kept] = None
    return rounded.tolist()


# 10 ** 0 ... 10 ** 22, each exact (5 ** 22 < 2 ** 53); from integers, not np.power, whose SIMD
# paths need not round the same on every CPU
_POWERS_OF_TEN = np.array([float(10 ** i) for i in range(23)])


def _significant(values: np.ndarray, digits: int) -> np.ndarray:
    """Each value exactly as ``float(f"{v:.{digits}g}")`` gives it: the decimal's digits as an
    integer, scaled by an exact power of ten (one IEEE operation, so the double nearest that
    decimal). A value that step cannot be sure of goes through the string: beyond the exact
    powers, an exponent from ``log10`` one off (the digits out of range), or a product within
    a few ulps of a rounding tie (its own rounding could tip ``rint`` the other way)."""
    out = values.copy()
    magnitude = np.abs(values)
    nonzero = magnitude > 0
    exponent = np.zeros(values.shape, np.int64)
    exponent[nonzero] = np.floor(np.log10(magnitude[nonzero])).astype(np.int64)
    shift = digits - 1 - exponent
    fast = np.flatnonzero(nonzero & (np.abs(shift) <= 22))
    k, a = shift.flat[fast], magnitude.flat[fast]
    up = k >= 0
    power = _POWERS_OF_TEN[np.abs(k)]
    scaled = np.where(up, a * power, a / power)
    sure = ((scaled >= _POWERS_OF_TEN[digits - 1]) & (scaled < _POWERS_OF_TEN[digits])
            & (np.abs(scaled - np.floor(scaled) - 0.5) > 4 * np.spacing(scaled)))
    digits_as_integer = np.rint(scaled)
    rounded = np.where(up, digits_as_integer / power, digits_as_integer * power)
    out.flat[fast[sure]] = np.copysign(rounded, values.flat[fast])[sure]
    slow = nonzero.copy()
    slow.flat[fast[sure]] = False
    for index in np.flatnonzero(slow):
        out.flat[index] = float(f"{values.flat[index]:.{digits}g}")
    return out


def _accuracy_or_none(value) -> Optional[float]:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) and 0 <= value <= 1 else None
