"""The board: a training run's live state in shared memory, written by the worker process
and read by the window whenever it redraws.

Two kinds of storage, both memory-mapped files (:mod:`~linviz.workbench.worker.shared_files`):

* **The board file** (one per run, made by the window): a header of counters, the newest
  state of the run (its snapshot's numbers and words, pickled), the newest weights, the
  newest validation evaluation, the newest template pictures, and the weights of the best
  epoch so far (what the window keeps if the worker dies). The worker overwrites these; the
  window copies what changed.
* **Logs**: what only grows (the loss of every iteration and its moving average, one row per
  snapshot, the accuracies of every epoch, the weight trajectory). The worker appends, and
  entries once written never change, so the window's views of them need no copy: a loss
  curve of a million iterations costs the window nothing per redraw. A full log moves to a
  new file twice the size (a *generation*), whose name the next publication carries; the
  window's views of the old file stay valid.

The worker publishes under a lock shared by both processes: it appends to the logs first,
then takes the lock, writes the header, the state and whatever else changed, and lets go.
The window takes the same lock to copy what changed and to map new log files, so it always
sees a consistent whole, and never a log entry beyond the count it read. Neither side
waits long: the worker never blocks on a reader that holds the lock for more than a moment,
and the reader skips a redraw rather than wait.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from typing import Optional

import numpy as np

from linviz.errors import LinvizError
from linviz.workbench.worker.shared_files import SHM_RESERVE, _free_bytes, _unlink, create_file, map_file

# The header's counters (int64 slots): publications so far, the state's length, and a version
# (bumped at each change) of each region the window copies only when it changed.
SEQUENCE, STATE_BYTES, WEIGHTS, EVALUATION, TEMPLATES, TEMPLATES_BYTES, BEST_WEIGHTS = range(7)
HEADER_SLOTS = 16
STATE_CAPACITY = 1 << 18  # the pickled state: numbers and a few lines of text
TILE_BYTES = 64 * 64 * 3 + 512  # one template tile, pickled
READ_LOCK_TIMEOUT_S = 0.01  # a redraw skips the board rather than wait longer
WRITE_LOCK_TIMEOUT_S = 1.0  # the worker skips a publication rather than wait longer

LOGS = ("losses", "smoothed_losses", "per_snapshot", "accuracies", "trajectory")


def _aligned(n: int) -> int:
    return (n + 63) // 64 * 64


@dataclass(frozen=True)
class BoardLayout:
    """The sizes a run's board is made for: the weights (D x C), the validation split and the
    template pictures (``feature_blocks`` rows of one tile per class)."""

    n_features: int
    n_classes: int
    n_val: int
    feature_blocks: int = 1

    @property
    def templates_capacity(self) -> int:
        return (self.feature_blocks + 1) * self.n_classes * TILE_BYTES + 65536

    def regions(self) -> dict[str, tuple[int, np.dtype, tuple]]:
        """name -> (byte offset, dtype, shape) of every region of the board file."""
        D, C = self.n_features, self.n_classes
        parts = [("header", np.int64, (HEADER_SLOTS,)), ("state", np.uint8, (STATE_CAPACITY,)),
                 ("weights", np.float32, (D, C)), ("val_predictions", np.int64, (self.n_val,)),
                 ("confusion", np.int64, (C, C)), ("best_weights", np.float32, (D, C)),
                 ("templates", np.uint8, (self.templates_capacity,))]
        regions, offset = {}, 0
        for name, dtype, shape in parts:
            dtype = np.dtype(dtype)
            regions[name] = (offset, dtype, shape)
            offset = _aligned(offset + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize)
        return regions

    @property
    def nbytes(self) -> int:
        offset, dtype, shape = self.regions()["templates"]
        return _aligned(offset + int(np.prod(shape)) * dtype.itemsize)

    def log_row(self, name: str) -> tuple[np.dtype, tuple]:
        """The dtype and row shape of a log."""
        return {"losses": (np.dtype(np.float32), ()), "smoothed_losses": (np.dtype(np.float32), ()),
                "per_snapshot": (np.dtype(np.float64), (4,)), "accuracies": (np.dtype(np.float64), (2,)),
                "trajectory": (np.dtype(np.float32), (self.n_features, self.n_classes))}[name]


def _views(layout: BoardLayout, buffer: np.ndarray) -> dict[str, np.ndarray]:
    views = {}
    for name, (offset, dtype, shape) in layout.regions().items():
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        views[name] = buffer[offset:offset + nbytes].view(dtype).reshape(shape)
    return views


def create_board(path: str, layout: BoardLayout) -> None:
    """The empty board file (the window makes it before asking for the run)."""
    create_file(path, layout.nbytes)


def map_rows(path: str, dtype: np.dtype, row_shape: tuple) -> np.ndarray:
    """A whole log file, read-only: as many rows as it holds."""
    row_bytes = int(np.prod(row_shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    size = os.stat(path).st_size
    return map_file(path, (size // row_bytes, *row_shape), dtype)


# --------------------------------------------------------------------------- the worker's side


class LogWriter:
    """An append-only log in a file of the shared folder; grows by generations (see the
    module docstring), never beyond ``limit`` rows."""

    FIRST_ROWS = 4096

    def __init__(self, folder: str, stem: str, dtype, row_shape: tuple, limit: int):
        self.folder, self.stem = folder, stem
        self.dtype, self.row_shape = np.dtype(dtype), tuple(row_shape)
        self.limit = max(1, int(limit))
        self.count = 0
        self.path: Optional[str] = None
        self.rows: Optional[np.ndarray] = None
        self._generation = 0
        self._retired: list[str] = []  # older generations, unlinked after the next publication

    @property
    def row_bytes(self) -> int:
        return int(np.prod(self.row_shape, dtype=np.int64)) * self.dtype.itemsize

    def _new_generation(self, capacity: int, keep: np.ndarray) -> None:
        nbytes = capacity * self.row_bytes
        if _free_bytes(self.folder) < nbytes + (SHM_RESERVE if self.folder.startswith("/dev/shm") else 0):
            raise LinvizError(f"no room for {nbytes / 2**20:,.1f} MB more of live training data in {self.folder}")
        path = os.path.join(self.folder, f"{self.stem}-g{self._generation}")
        self._generation += 1
        create_file(path, nbytes)
        rows = map_file(path, (capacity, *self.row_shape), self.dtype, writable=True)
        rows[:len(keep)] = keep
        if self.path is not None:
            self._retired.append(self.path)
        self.path, self.rows, self.count = path, rows, len(keep)

    def _room(self, needed: int) -> None:
        if self.rows is None or needed > len(self.rows):
            if needed > self.limit:
                raise LinvizError(f"{self.stem}: {needed:,} entries, more than the run can make ({self.limit:,})")
            old = 0 if self.rows is None else len(self.rows)
            capacity = min(self.limit, max(needed, 2 * old, min(self.FIRST_ROWS, self.limit)))
            self._new_generation(capacity, self.rows[:self.count] if self.rows is not None else self._empty())

    def _empty(self) -> np.ndarray:
        return np.zeros((0, *self.row_shape), self.dtype)

    def extend(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=self.dtype).reshape(-1, *self.row_shape)
        self._room(self.count + len(rows))
        self.rows[self.count:self.count + len(rows)] = rows
        self.count += len(rows)

    def sync(self, source: Optional[np.ndarray]) -> None:
        """Append what ``source`` (a log the run keeps itself, only ever appended to) holds
        beyond the entries already here."""
        if source is not None and len(source) > self.count:
            self.extend(source[self.count:])

    def replace(self, rows: np.ndarray) -> None:
        """A new generation holding only ``rows`` (a thinned trajectory)."""
        rows = np.asarray(rows, dtype=self.dtype).reshape(-1, *self.row_shape)
        capacity = min(self.limit, max(len(rows) + 1, len(self.rows) if self.rows is not None else 0))
        self._new_generation(capacity, rows)

    def descriptor(self) -> tuple[Optional[str], int]:
        return self.path, self.count

    def published(self) -> None:
        """The newest generation is on the board: nobody opens the older ones again."""
        for path in self._retired:
            _unlink(path)
        self._retired.clear()


class BoardWriter:
    """The worker's side of a run's board: :meth:`publish` after appending to :attr:`logs`.

    A publication that cannot take the lock at once (the window is copying) waits in
    :attr:`pending` and goes with the next one, or with :meth:`flush` (the run calls it before
    it may wait: paused, paced, at the end), so the loop never waits for the window while
    it runs and the window never misses the state a paused run shows.
    """

    def __init__(self, path: str, layout: BoardLayout, lock, log_folder: str, log_stem: str,
                 limits: dict[str, int]):
        self.layout = layout
        self.lock = lock
        self._buffer = map_file(path, (layout.nbytes,), np.uint8, writable=True)
        self._views = _views(layout, self._buffer)
        self.logs = {name: LogWriter(log_folder, f"{log_stem}-{name}", *layout.log_row(name), limits[name])
                     for name in LOGS}
        self.pending: dict = {}
        self.skipped = 0  # publications that found the lock taken (they went out with a later one)

    def publish(self, state: dict, *, weights: Optional[np.ndarray] = None, evaluation=None,
                templates=None, best_weights: Optional[np.ndarray] = None, wait: bool = True) -> bool:
        """Put ``state`` (plain values), and the newest ``weights``, ``evaluation``
        ((predictions, confusion)), ``templates`` and ``best_weights`` when given, on the
        board. With ``wait`` False it gives up at once when the window holds the lock (False:
        still pending)."""
        state = dict(state, logs={name: log.descriptor() for name, log in self.logs.items()})
        blob = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        if len(blob) > STATE_CAPACITY:
            raise LinvizError(f"the run's live state is {len(blob):,} bytes, over the board's {STATE_CAPACITY:,}")
        pending = self.pending
        pending["state"] = blob
        if weights is not None:
            pending["weights"] = weights
        if evaluation is not None:
            pending["evaluation"] = evaluation
        if best_weights is not None:
            pending["best_weights"] = best_weights
        if templates is not None:
            pictures = pickle.dumps(templates, protocol=pickle.HIGHEST_PROTOCOL)
            if len(pictures) <= self.layout.templates_capacity:  # else too large to show live
                pending["templates"] = pictures
        return self.flush(wait)

    def flush(self, wait: bool = True) -> bool:
        """Write what is pending; True when nothing is left pending."""
        pending = self.pending
        if not pending:
            return True
        if not (self.lock.acquire(True, WRITE_LOCK_TIMEOUT_S) if wait else self.lock.acquire(False)):
            self.skipped += 1
            return False
        try:
            views, header = self._views, self._views["header"]
            blob = pending["state"]
            views["state"][:len(blob)] = np.frombuffer(blob, np.uint8)
            header[STATE_BYTES] = len(blob)
            for name, slot in (("weights", WEIGHTS), ("best_weights", BEST_WEIGHTS)):
                if name in pending:
                    views[name][...] = pending[name]
                    header[slot] += 1
            if "evaluation" in pending:
                predictions, confusion = pending["evaluation"]
                views["val_predictions"][...] = predictions
                views["confusion"][...] = confusion
                header[EVALUATION] += 1
            if "templates" in pending:
                pictures = pending["templates"]
                views["templates"][:len(pictures)] = np.frombuffer(pictures, np.uint8)
                header[TEMPLATES_BYTES] = len(pictures)
                header[TEMPLATES] += 1
            header[SEQUENCE] += 1
        finally:
            self.lock.release()
        pending.clear()
        for log in self.logs.values():
            log.published()
        return True


# --------------------------------------------------------------------------- the window's side


@dataclass(frozen=True)
class BoardView:
    """One consistent reading of the board. ``weights``, ``evaluation``, ``templates`` and
    ``best_weights`` are new copies when they changed since the previous reading, else None;
    ``logs`` are read-only views of every log's entries so far."""

    state: dict
    weights: Optional[np.ndarray]
    evaluation: Optional[tuple[np.ndarray, np.ndarray]]
    templates: Optional[list]
    logs: dict[str, np.ndarray]
    best_weights: Optional[np.ndarray] = None


class BoardReader:
    """The window's side of a run's board. :meth:`read` copies what changed since the last
    reading; it is called from one thread at a time."""

    def __init__(self, path: str, layout: BoardLayout, lock):
        self.layout = layout
        self.lock = lock
        self._views = _views(layout, map_file(path, (layout.nbytes,), np.uint8))
        self._seen = np.zeros(HEADER_SLOTS, np.int64)
        self._maps: dict[str, tuple[str, np.ndarray]] = {}  # log -> (path, its whole file)

    def read(self, *, wait: bool = False) -> Optional[BoardView]:
        """What changed since the last reading, or None when nothing did (or when the worker
        holds the lock and ``wait`` is False)."""
        if not self.lock.acquire(timeout=WRITE_LOCK_TIMEOUT_S if wait else READ_LOCK_TIMEOUT_S):
            return None
        try:
            views, seen = self._views, self._seen
            header = views["header"].copy()
            if header[SEQUENCE] == seen[SEQUENCE]:
                return None
            blob = views["state"][:header[STATE_BYTES]].tobytes()
            weights = views["weights"].copy() if header[WEIGHTS] != seen[WEIGHTS] else None
            best = views["best_weights"].copy() if header[BEST_WEIGHTS] != seen[BEST_WEIGHTS] else None
            evaluation = None
            if header[EVALUATION] != seen[EVALUATION]:
                evaluation = (views["val_predictions"].copy(), views["confusion"].copy())
            pictures = (views["templates"][:header[TEMPLATES_BYTES]].tobytes()
                        if header[TEMPLATES] != seen[TEMPLATES] else None)
            state = pickle.loads(blob)
            try:
                logs = self._map_logs(state["logs"])  # under the lock: no older generation is unlinked meanwhile
            except (OSError, LinvizError):
                return None  # the run's files were removed (its worker died): nothing new to show
        finally:
            self.lock.release()
        self._seen = header
        templates = pickle.loads(pictures) if pictures is not None else None
        return BoardView(state, weights, evaluation, templates, logs, best)

    def _map_logs(self, descriptors: dict) -> dict[str, np.ndarray]:
        logs = {}
        for name, (path, count) in descriptors.items():
            dtype, row_shape = self.layout.log_row(name)
            if path is None:
                logs[name] = np.zeros((0, *row_shape), dtype)
                continue
            known = self._maps.get(name)
            if known is None or known[0] != path:
                known = (path, map_rows(path, dtype, row_shape))
                self._maps[name] = known
            logs[name] = known[1][:count]
        return logs
