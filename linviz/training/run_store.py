"""The run history on disk: every recorded run, kept across sessions, newest few hundred.

Layout (files, no database, no pickle)::

    <data folder>/runs/                 $LINVIZ_DATA_DIR or ~/.local/share/linviz (linviz.paths)
        20250131-142501-0373fa9/        one folder per run, named by its id (sortable by time)
            record.json                 the RunRecord without curves (small: a list reads fast)
            curves.json                 its curves (read when a run is shown)
            model.npz                   a complete model file: weights + feature pipeline
    <data folder>/runs-set-aside/       what could not be read, moved here with a message

A run is written into its folder file by file (each atomically), ``record.json`` last: a
folder without one is a run being written (or one whose writer died: after an hour it is set
aside). The store keeps the newest :data:`DEFAULT_KEEP` runs and says so when it deletes
older ones.

The store is input like any other (architecture, "Hostile input"): entries are looked at
with ``lstat`` (links, FIFOs and devices are never followed or opened), files are read only
when regular and within a byte cap, records are checked field by field
(:meth:`RunRecord.from_json`), model files by :func:`linviz.models.load_model`. Whatever
fails is set aside with a message naming the run and the reason, never fatal; a store folder
that is not a folder is set aside as a whole and a new, empty one started.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from linviz.errors import LinvizError
from linviz.safe_files import atomic_write, kind_of, read_regular
from linviz.training.records import RUN_ID, RecordError, RunRecord, curves_from_json, curves_to_json

RUNS_FOLDER = "runs"
SET_ASIDE_FOLDER = "runs-set-aside"
DEFAULT_KEEP = 300
MAX_RECORD_BYTES = 256 * 1024
MAX_CURVES_BYTES = 8 * 1024 * 1024
MAX_SCAN = 5_000             # folder entries looked at (a store holds DEFAULT_KEEP)
INCOMPLETE_AFTER_S = 3600.0  # a folder without record.json older than this is set aside
RECORD, CURVES, MODEL = "record.json", "curves.json", "model.npz"


class StoreError(LinvizError):
    """The run store cannot be used at all (its folder cannot be created); the app goes on without it."""


@dataclass
class StoreContents:
    """What :meth:`RunStore.load` found: the runs, newest first, and what it had to say."""

    records: list = field(default_factory=list)
    messages: list = field(default_factory=list)


class RunStore:
    """The run history (see the module docstring). Every method may be called from any
    thread; writes are atomic per file."""

    def __init__(self, root: Optional[os.PathLike] = None, keep: int = DEFAULT_KEEP):
        self._root = Path(root) if root is not None else None
        self.keep = int(keep)
        if self.keep < 1:
            raise ValueError(f"keep must be >= 1, got {keep}")

    # ------------------------------------------------------------------ where
    @property
    def root(self) -> Path:
        """The runs folder (``<data folder>/runs`` unless given). StoreError when the data
        folder is unusable."""
        if self._root is not None:
            return self._root
        from linviz.paths import FolderUnavailableError, data_dir

        try:
            return data_dir() / RUNS_FOLDER
        except FolderUnavailableError as exc:
            raise StoreError(f"run history unavailable: {exc}") from None

    def _set_aside_dir(self) -> Path:
        return self.root.parent / SET_ASIDE_FOLDER

    def describe(self) -> str:
        try:
            return f"{self.root} (the newest {self.keep:,} runs are kept)"
        except StoreError as exc:
            return str(exc)

    def open(self) -> list[str]:
        """Make sure the runs folder exists and is a folder; a file, link or device in its place
        is set aside. Returns messages; StoreError if no folder can be made."""
        return _real_folder(self.root, "run history")

    # ------------------------------------------------------------------ reading
    def load(self, *, prune: bool = True) -> StoreContents:
        """Every readable run, newest first; unreadable ones are set aside with a message.
        Beyond ``keep`` runs the oldest are deleted (and that is said)."""
        contents = StoreContents(messages=self.open())
        root = self.root
        names = []
        try:
            with os.scandir(root) as entries:
                for k, entry in enumerate(entries):
                    if k >= MAX_SCAN:
                        contents.messages.append(f"Run history: more than {MAX_SCAN:,} entries in {root}; "
                                                 "only the first were looked at")
                        break
                    if RUN_ID.fullmatch(entry.name):
                        names.append(entry.name)
        except OSError as exc:
            raise StoreError(f"run history {root}: cannot list it ({exc.strerror or exc})") from None
        for name in sorted(names, reverse=True):
            try:
                contents.records.append(self._read_record(name))
            except _Incomplete:
                continue
            except (RecordError, OSError, LinvizError) as exc:
                contents.messages.append(self.set_aside(name, _reason(exc)))
        if prune and len(contents.records) > self.keep:
            contents.messages.append(self._prune(contents.records))
            del contents.records[self.keep:]
        return contents

    def _read_record(self, name: str) -> RunRecord:
        folder = self.root / name
        st = os.lstat(folder)
        if not stat.S_ISDIR(st.st_mode):
            raise RecordError(f"{folder}: is {'a link' if stat.S_ISLNK(st.st_mode) else kind_of(st.st_mode)}, "
                              "not a run folder")
        record_path = folder / RECORD
        try:
            _check_regular_entry(record_path)
        except FileNotFoundError:
            if time.time() - st.st_mtime < INCOMPLETE_AFTER_S:
                raise _Incomplete() from None  # being written now
            raise RecordError(f"{folder}: incomplete (no {RECORD})") from None
        record = RunRecord.from_json(_read_json(record_path, MAX_RECORD_BYTES), str(record_path))
        if record.id != name:
            raise RecordError(f"{record_path}: id {record.id} is not its folder's name")
        _check_regular_entry(folder / MODEL)
        return record

    def load_curves(self, record: RunRecord) -> RunRecord:
        """The record with its curves (read from disk unless already there)."""
        if record.curves is not None:
            return record
        path = self._folder(record.id) / CURVES
        _check_regular_entry(path)
        return record.replace(curves=curves_from_json(_read_json(path, MAX_CURVES_BYTES), str(path)))

    def model_path(self, run_id: str) -> Path:
        return self._folder(run_id) / MODEL

    def load_model(self, run_id: str):
        """The run's model file, checked (:func:`linviz.models.load_model`)."""
        from linviz.models import load_model

        path = self.model_path(run_id)
        _check_regular_entry(path)
        return load_model(path)

    # ------------------------------------------------------------------ writing
    def add(self, record: RunRecord, *, W, class_names, pipeline) -> list[str]:
        """Write a run (its model file, curves and record, in that order); returns messages
        (the oldest runs deleted beyond ``keep``). What cannot be read back is not written: the
        record and its curves are checked as :meth:`load` checks them first (RecordError)."""
        from linviz.models import save_model

        RunRecord.from_json(record.to_json(), f"run {record.id}")
        curves = curves_to_json(record.curves) if record.curves is not None else None
        if curves is not None:
            curves_from_json(curves, f"run {record.id}: curves")
        messages = self.open()
        folder = self._folder(record.id)
        folder.mkdir()
        try:
            save_model(folder / MODEL, W=W, class_names=class_names, pipeline=pipeline, loss=record.loss,
                       hyperparameters=record.settings,
                       accuracies={k: v for k, v in (("train", record.train_accuracy), ("val", record.val_accuracy))
                                   if v is not None},
                       metadata={"run_id": record.id, "source": record.dataset.get("source", ""),
                                 "stop_reason": record.stop_reason, "kept": record.kept})
            if curves is not None:
                _write_json(folder / CURVES, curves)
            _write_json(folder / RECORD, record.to_json())
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        runs = sorted((n for n in os.listdir(self.root) if RUN_ID.fullmatch(n)), reverse=True)
        if len(runs) > self.keep:
            messages.append(self._prune_names(runs[self.keep:]))
        return messages

    def rename(self, record: RunRecord, name: str) -> RunRecord:
        from linviz.training.records import MAX_NAME

        renamed = record.replace(name=str(name).strip()[:MAX_NAME], curves=None)
        folder = self._folder(record.id)
        _check_regular_entry(folder / RECORD)
        _write_json(folder / RECORD, renamed.to_json())
        return renamed.replace(curves=record.curves)

    def delete(self, run_id: str) -> None:
        folder = self._folder(run_id)
        st = os.lstat(folder)
        if stat.S_ISDIR(st.st_mode):
            shutil.rmtree(folder)
        else:
            os.unlink(folder)  # a link or a file in a run's place: removed, never followed

    def set_aside(self, name: str, reason: str) -> str:
        """Move a run's folder (or whatever stands in its place) out of the store; the message.
        The set-aside folder is checked like the runs folder: a link or a file in its place is
        itself set aside (never followed) and a real folder made."""
        from linviz.safe_files import move_into

        target_dir = self._set_aside_dir()
        target_name = f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
        try:
            notes = _real_folder(target_dir, "run history")
            target = move_into(self.root / name, target_dir, target_name)
        except (OSError, StoreError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            return f"Run {name}: {reason}; could not be set aside ({why}), ignored"
        return "; ".join(notes + [f"Run {name}: {reason}; set aside in {target}"])

    # ------------------------------------------------------------------ helpers
    def _folder(self, run_id: str) -> Path:
        if not RUN_ID.fullmatch(str(run_id)):
            raise RecordError(f"not a run id: {str(run_id)[:40]!r}")
        return self.root / run_id

    def _prune(self, records: list) -> str:
        return self._prune_names([r.id for r in records[self.keep:]])

    def _prune_names(self, names: list) -> str:
        deleted = 0
        for name in names:
            try:
                self.delete(name)
                deleted += 1
            except OSError:
                continue
        return (f"The run history keeps the newest {self.keep:,} runs: deleted {deleted:,} older "
                f"run{'s' if deleted != 1 else ''}")


def _real_folder(folder: Path, what: str) -> list[str]:
    """Make ``folder`` a real folder (not a link to one): a file, a link or a device in its
    place is renamed aside (never followed) with a message. Returns the messages;
    StoreError when no folder can be made."""
    messages = []
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise StoreError(f"{what} {folder}: cannot look at it ({exc.strerror or exc})") from None
    if st is not None and not stat.S_ISDIR(st.st_mode):
        kind = "a link" if stat.S_ISLNK(st.st_mode) else kind_of(st.st_mode)
        aside = folder.with_name(f"{folder.name}.set-aside-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            os.rename(folder, aside)
        except OSError as exc:
            raise StoreError(f"{what} {folder} is {kind}, not a folder, and cannot be set aside "
                             f"({exc.strerror or exc})") from None
        messages.append(f"Run history: {folder} was {kind}, not a folder; set aside as {aside.name}"
                        + (", starting an empty history" if folder.name == RUNS_FOLDER else ""))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{what} {folder}: cannot create it ({exc.strerror or exc})") from None
    return messages


class _Incomplete(Exception):
    """A run folder being written right now."""


def _check_regular_entry(path: Path) -> None:
    """A file of the store must be a regular file itself (not a link to one)."""
    st = os.lstat(path)
    if not stat.S_ISREG(st.st_mode):
        what = "a link" if stat.S_ISLNK(st.st_mode) else kind_of(st.st_mode)
        raise RecordError(f"{path}: is {what}, not a regular file")


def _read_json(path: Path, limit: int):
    data = read_regular(path, limit)
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise RecordError(f"{path}: not valid JSON ({str(exc)[:80]})") from None


def _write_json(path: Path, data) -> None:
    text = json.dumps(data, indent=1, allow_nan=False).encode()
    with atomic_write(path) as f:
        f.write(text)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"{exc.filename}: missing"
    if isinstance(exc, OSError) and not isinstance(exc, LinvizError):
        return f"cannot read it ({exc.strerror or exc})"
    return str(exc)
