"""Redraw pacing: costly views redraw at most every so often while a run trains, and a view
nobody sees redraws when it is shown, not while the run goes on.

Every millisecond the GUI thread spends drawing is taken from the training loop (on a busy
machine they share a core), and nobody reads a confusion matrix 25 times a second. While the
workbench trains, :class:`Redraw` passes calls through superqt's throttle (the first at once,
then the newest at most every ``interval_ms``; 0: every call at once); when training ends,
the call still waiting is made at once (the run's last frame is on screen as soon as the run
is over); otherwise (a click, a loaded model) it draws at once and drops any waiting call, so
a stale one never overwrites it.

Given the ``widget`` it draws, a call made while training with the widget hidden (in another
tab) only keeps its arguments: the newest is drawn when the widget is shown, or when the
run ends. A hidden tab's views then cost a run nothing while it trains.
"""

from __future__ import annotations

from typing import Callable, Optional

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget
from superqt.utils import qthrottled


class Redraw(QObject):
    def __init__(self, workbench, draw: Callable, interval_ms: int, leading: bool = True,
                 widget: Optional[QWidget] = None):
        """``leading=False``: while training, even the first call waits ``interval_ms``."""
        super().__init__(widget)
        self._bench = workbench
        self._draw = draw
        self._throttled = qthrottled(draw, timeout=interval_ms, leading=leading) if interval_ms > 0 else None
        self._widget = widget
        self._deferred: Optional[tuple] = None  # the newest call made while hidden during a run
        if widget is not None:
            widget.installEventFilter(self)
        workbench.training_changed.connect(self._on_training_changed)

    def __call__(self, *args) -> None:
        if not self._bench.training:
            self._deferred = None
            if self._throttled is not None:
                self._throttled.cancel()
            self._draw(*args)
        elif self._widget is not None and not self._widget.isVisible():
            self._deferred = args
            if self._throttled is not None:
                self._throttled.cancel()  # the deferred call is newer
        elif self._throttled is not None:
            self._throttled(*args)
        else:
            self._draw(*args)

    def _draw_deferred(self) -> None:
        if self._deferred is not None:
            args, self._deferred = self._deferred, None
            self._draw(*args)

    def _on_training_changed(self, training: bool) -> None:
        if not training:
            if self._throttled is not None:
                self._throttled.flush()
            self._draw_deferred()

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Show and watched is self._widget:
            self._draw_deferred()
        return False
