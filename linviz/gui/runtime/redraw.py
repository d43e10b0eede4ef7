"""Redraw pacing: costly views redraw at most every so often while a run trains.

Every millisecond the GUI thread spends drawing is taken from the training loop (they share
the GIL), and nobody reads a confusion matrix 25 times a second. While the workbench trains,
:class:`Redraw` passes calls through superqt's throttle (the first at once, then the newest at
most every ``interval_ms``); when training ends, the call still waiting is made at once (the
run's last frame is on screen as soon as the run is over); otherwise (a click, a loaded
model) it draws at once and drops any waiting call, so a stale one never overwrites it.
"""

from __future__ import annotations

from typing import Callable

from superqt.utils import qthrottled


class Redraw:
    def __init__(self, workbench, draw: Callable, interval_ms: int, leading: bool = True):
        """``leading=False``: while training, even the first call waits ``interval_ms``."""
        self._bench = workbench
        self._draw = draw
        self._throttled = qthrottled(draw, timeout=interval_ms, leading=leading)
        workbench.training_changed.connect(self._on_training_changed)

    def __call__(self, *args) -> None:
        if self._bench.training:
            self._throttled(*args)
        else:
            self._throttled.cancel()
            self._draw(*args)

    def _on_training_changed(self, training: bool) -> None:
        if not training:
            self._throttled.flush()
