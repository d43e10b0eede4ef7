"""What the window and its worker process say to each other (plain picklable values).

Window -> worker, on the command pipe:
  ("warmup", id)                          compile (or load) the training kernels; answer "ready"
  ("train", id, TrainingRequest)          run it; answer "started", then "done" / "stopped" / "failed"
  ("control", id, method, args)           pause / resume / stop / step / set_pace of run ``id``
  ("quit",)                               stop whatever runs and leave

Worker -> window, on the event pipe: (kind, id, ...) with kind one of the ``EVENTS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from linviz.workbench.worker.board import BoardLayout
from linviz.workbench.worker.shared_files import ArrayFile

CONTROL_METHODS = ("pause", "resume", "stop", "step", "set_pace")

# "ready" (id, seconds) after a warm-up; "started" (id) when a run's loop begins; "done" (id,
# FinalRun) when it ended with a model; "stopped" (id, reason) when it ended before its first
# update; "failed" (id, message, details or None: None for a user error, a traceback for a bug).
EVENTS = ("ready", "started", "done", "stopped", "failed")


@dataclass(frozen=True)
class TrainingRequest:
    """One run for the worker: where its data and its board are, and what to train."""

    run_id: int
    board_path: str
    layout: BoardLayout
    log_folder: str               # where the worker keeps the run's logs (the board's folder)
    log_stem: str                 # the logs' file names begin with this; the window removes them after the run
    X_train: ArrayFile
    X_val: Optional[ArrayFile]    # None without a validation split
    y_train: np.ndarray
    y_val: Optional[np.ndarray]
    n_classes: int
    settings: dict                # TrainingConfig fields (and "loss")
    pipeline_state: Optional[dict]  # FeaturePipeline.state(): the template pictures need the blocks
    W0: Optional[np.ndarray] = None
    controls: tuple = ()          # (method, args) calls made before the run began, in order
    compiling: tuple = ()         # warm-up parts the window's children are still compiling (their keys)


@dataclass(frozen=True)
class FinalRun:
    """The end of a run that made a model: the final snapshot (its logs are on the board),
    the weights it keeps with their evaluation and pictures, and the loop's wall time."""

    snapshot: object              # the final Snapshot without its logs (losses etc. are on the board)
    kept_W: np.ndarray
    kept_is_newest: bool          # the kept weights are the newest ones (the live model's)
    evaluation: Optional[tuple]   # (val predictions, confusion) of the kept weights
    templates: Optional[list]
    wall_seconds: float
    loop_times: object = None     # a ThreadTimes of the loop's thread, where the system says
