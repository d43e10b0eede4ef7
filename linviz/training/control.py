"""Pause, resume, stop, pace and step a running training loop from any thread.

:class:`TrainingControl` is what the GUI's buttons and the CLI's Ctrl+C talk to; the loop
(:func:`linviz.training.loop.train`) asks it before every compiled call how many minibatches
it may run (:class:`Grant`).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional

from linviz.pacing import Pacer

STEP_UNITS = ("minibatch", "epoch")


def checked_pace(iterations_per_second: Optional[float]) -> Optional[float]:
    """A pace as :meth:`TrainingControl.set_pace` takes it: None, or a positive finite float."""
    if iterations_per_second is None:
        return None
    pace = float(iterations_per_second)
    if not (math.isfinite(pace) and pace > 0):
        raise ValueError(f"pace must be a positive number of iterations per second or None, got {pace}")
    return pace


def check_step_unit(unit: str) -> None:
    if unit not in STEP_UNITS:
        raise ValueError(f"unknown step unit {unit!r}; choose from {', '.join(STEP_UNITS)}")


@dataclass(frozen=True)
class Grant:
    """What the loop may do now (:meth:`TrainingControl.grant`): run ``count`` minibatches
    (0: stop), one by one outside the chunked path when ``stepping``; ``waited`` seconds were
    spent waiting for the pace (they count as training time; pauses do not)."""

    count: int
    stepping: bool = False
    paced: bool = False
    waited: float = 0.0


class TrainingControl:
    """Pause, resume, stop, pace and step a running :func:`train` from any thread.

    The loop asks :meth:`grant` before every compiled call how many minibatches it may run:
    all it wants while running at full speed; as many as are due at the chosen ``pace``
    (iterations per second; :class:`~linviz.pacing.Pacer`); while paused none, except the
    ones :meth:`step` grants (one minibatch, or the rest of the epoch), which the loop runs
    one at a time, each followed by a snapshot with the weights. Pace and steps change only
    *when* minibatches run, never what they compute: a paced run gives the weights of an
    unpaced one. ``clock`` and ``sleep`` are injectable (tests drive a fake clock; the real
    wait wakes at once on stop, pause, step or a new pace).
    """

    def __init__(self, *, pace: Optional[float] = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Optional[Callable[[float], None]] = None):
        self._cond = threading.Condition()
        self._paused = False
        self._stopped = False
        self._steps = 0             # single minibatches granted while paused
        self._epoch_step = False    # while paused: run to the end of this epoch
        self._clock = clock
        self._sleep = sleep
        self._pacer: Optional[Pacer] = None
        self.set_pace(pace)

    # ------------------------------------------------------------------ from any thread
    def pause(self) -> None:
        with self._cond:
            self._paused = True
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._steps, self._epoch_step = 0, False
            if self._pacer is not None:
                self._pacer.start()  # the pause owes no burst of steps
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()  # wake a paused or pacing loop so that it can see the stop

    def set_pace(self, iterations_per_second: Optional[float]) -> None:
        """``None``: as fast as possible; else iterations per second (> 0)."""
        pace = checked_pace(iterations_per_second)
        with self._cond:
            if pace is None:
                self._pacer = None
            else:
                # at most a tenth of a second of steps in one call after a stall
                self._pacer = Pacer(pace, clock=self._clock, max_burst=max(1, int(pace / 10)))
                self._pacer.start()
            self._cond.notify_all()

    def step(self, unit: str = "minibatch") -> None:
        """Pause (if running) and grant one minibatch, or the rest of the current epoch."""
        check_step_unit(unit)
        with self._cond:
            self._paused = True
            if unit == "epoch":
                self._epoch_step = True
            else:
                self._steps += 1
            self._cond.notify_all()

    @property
    def pace(self) -> Optional[float]:
        pacer = self._pacer
        return None if pacer is None else pacer.pace

    @property
    def paused(self) -> bool:
        return self._paused and not self._stopped

    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def stepping(self) -> bool:
        """Steps granted and not yet taken."""
        return self._steps > 0 or self._epoch_step

    # ------------------------------------------------------------------ from the loop
    def checkpoint(self) -> bool:
        """Wait while paused; True to go on, False when stopped."""
        return self.grant(1, 1).count > 0

    def about_to_wait(self) -> None:
        """Called once (without the control's lock) when a grant is about to wait for a
        resume or a step: a paused run's last state can be shown meanwhile."""

    def grant(self, wanted: int, epoch_left: int) -> Grant:
        """How many of the ``wanted`` minibatches to run now (``epoch_left`` remain in the
        epoch); blocks while paused without a step and until the pace allows one."""
        waited = 0.0
        announced = False
        with self._cond:
            while True:
                if self._stopped:
                    return Grant(0, waited=waited)
                if self._paused:
                    if self._steps > 0:
                        self._steps -= 1
                        return Grant(1, stepping=True, waited=waited)
                    if self._epoch_step:
                        self._epoch_step = epoch_left > 1
                        return Grant(1, stepping=True, waited=waited)
                    if not announced:  # once, without the lock: then the state is checked again
                        announced = True
                        self._cond.release()
                        try:
                            self.about_to_wait()
                        finally:
                            self._cond.acquire()
                        continue
                    self._cond.wait()
                    continue
                pacer = self._pacer
                if pacer is None:
                    return Grant(max(int(wanted), 1), waited=waited)
                due = pacer.due(limit=max(int(wanted), 1))
                if due > 0:
                    return Grant(due, paced=True, waited=waited)
                pause = min(pacer.seconds_until_due(), 1.0)
                start = self._clock()
                if self._sleep is not None:
                    self._sleep(pause)
                else:
                    self._cond.wait(pause)
                waited += max(0.0, self._clock() - start)
