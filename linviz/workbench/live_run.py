"""Following a training run for the window: which of its snapshots bring new weights, when the
validation evaluation and the template pictures are due, and which weights join the
trajectory. Used the same way wherever the run trains (a thread of the window's process, or
the worker process), so that both show the same things at the same moments. No Qt in here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

TEMPLATE_INTERVAL_S = 0.2  # template pictures at most 5 times a second
MAX_TRAJECTORY = 1000  # weight snapshots a trajectory keeps (then every other one)


@dataclass(frozen=True)
class Followed:
    """What one snapshot changed (:meth:`LiveRun.follow`)."""

    weights: bool = False        # new weights (``LiveRun.W``)
    evaluation: bool = False     # a new validation evaluation (epoch end, or the end)
    templates: bool = False      # new template pictures
    trajectory: bool = False     # the weights joined the trajectory (after thinning it, when full)

    @property
    def model(self) -> bool:
        """Anything a Model carries changed."""
        return self.weights or self.evaluation or self.templates


def thinned(path: list) -> list:
    """The trajectory before an entry joins it: when full, every other entry."""
    return path[::2] if len(path) >= MAX_TRAJECTORY else path


def thinned_length(length: int) -> int:
    return (length + 1) // 2 if length >= MAX_TRAJECTORY else length


class LiveRun:
    """The run's newest weights, evaluation and pictures, from its snapshots.

    ``evaluate(W)`` scores the validation split (at the first weights, every epoch end and
    the end); ``pictures(W)`` draws the templates (at most every ``TEMPLATE_INTERVAL_S`` while
    the weights change, and at the end). The weights after the first update and at every
    epoch end join the trajectory; :attr:`trajectory_full` says when the next one thins it.
    """

    def __init__(self, evaluate: Callable[[np.ndarray], object], pictures: Callable[[np.ndarray], object],
                 clock: Callable[[], float] = time.perf_counter):
        self._evaluate = evaluate
        self._pictures = pictures
        self._clock = clock
        self.W: Optional[np.ndarray] = None
        self.evaluation = None
        self.templates = None
        self.trajectory_length = 0
        self._epochs_seen = -1
        self._templates_at = -float("inf")

    def follow(self, snapshot) -> Followed:
        weights = snapshot.W is not None and snapshot.W is not self.W
        if snapshot.W is not None:
            self.W = snapshot.W
        if self.W is None:
            return Followed()
        boundary = snapshot.epochs_done != self._epochs_seen or snapshot.done
        joins = boundary or self.trajectory_length == 0
        if joins:
            self.trajectory_length = thinned_length(self.trajectory_length) + 1
        evaluated = False
        if boundary:
            self._epochs_seen = snapshot.epochs_done
            self.evaluation, evaluated = self._evaluate(self.W), True
        pictured = False
        now = self._clock()
        if (weights or evaluated) and (now - self._templates_at >= TEMPLATE_INTERVAL_S or snapshot.done):
            self.templates, self._templates_at, pictured = self._pictures(self.W), now, True
        return Followed(weights, evaluated, pictured, joins)
