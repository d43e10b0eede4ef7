"""Training and validation accuracy, one point per finished epoch, with a hover read-out."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from linviz.explore.curves import following_range
from linviz.gui.runtime.redraw import Redraw
from linviz.gui.views.empty_plot import EmptyHint
from linviz.gui.views.hover_readout import HoverPlotWidget, HoverReadout
from linviz.gui.views.plot_style import fitting_title, plain_axes

REDRAW_MS = 100
EMPTY_TEXT = "After each epoch: the share of training and of validation images the model gets right"
# Below this height the accuracy axis is labelled at 0, 0.5 and 1 (every 0.2, the labels touch),
# the range leaves room for the labels at its ends (pyqtgraph drops a label that would stick
# out, and in a short plot 2% of the range is a pixel), and the x axis's name gives its rows
# to the plot.
SHORT_PLOT_PX = 160
Y_PADDING = 0.02
SHORT_Y_PADDING = 0.12


class AccuracyView(QWidget):
    """Draws plain lists (``set_accuracies``); bound to a workbench, its training frames."""

    def __init__(self, workbench=None, parent=None):
        super().__init__(parent)
        self.setObjectName("accuracyPlot")
        self.plot = HoverPlotWidget()
        item = self.plot.getPlotItem()
        plain_axes(item)
        # The legend lives in the title: inside the plot it always covers some curve.
        item.setTitle('Accuracy: <span style="color:#2864c8">train</span>, '
                      '<span style="color:#dc7800">validation</span>')
        item.setLabel("bottom", "epoch")
        fitting_title(item, "left", "accuracy", "acc.")
        item.showGrid(x=True, y=True, alpha=0.2)
        self._x_hi = 10
        self._short = False
        self.hint = EmptyHint(item, EMPTY_TEXT)  # the ranges are set when the first epoch ends
        self.train_curve = item.plot([], [], pen=pg.mkPen((40, 100, 200), width=2), symbol="o", symbolSize=6,
                                     symbolBrush=(40, 100, 200), name="train")
        self.val_curve = item.plot([], [], pen=pg.mkPen((220, 120, 0), width=2), symbol="s", symbolSize=6,
                                   symbolBrush=(220, 120, 0), name="validation")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self._n = (0, 0)
        self._run = None  # the run whose curves are drawn
        self._train: list[float] = []
        self._val: list[float] = []
        self.readout = HoverReadout(self.plot, self._describe)
        if workbench is not None:
            # trailing: drawn in a turn of its own, after an epoch end's frame (see the confusion view)
            self._redraw = Redraw(workbench, self._draw_frame, REDRAW_MS, leading=False, widget=self)
            workbench.frame_changed.connect(self._redraw)

    def _draw_frame(self, frame) -> None:
        if frame is None:
            self._run = None
            self.clear()
            return
        if frame.run != self._run:  # a new run's curves replace the old ones, the axes stay
            self._run = frame.run
            if not self.hint.empty:
                self._forget()
        self.set_accuracies(list(frame.snapshot.train_accuracies), list(frame.snapshot.val_accuracies))
        if frame.snapshot.done:
            self.fit_to_run_end()

    def _set_ranges(self, x_hi: int) -> None:
        """Ranges set by hand (the axes repaint only when they grow): accuracy 0 to 1, epochs
        0 to ``x_hi``."""
        item = self.plot.getPlotItem()
        item.getViewBox().disableAutoRange()
        self._set_y_range()
        item.setXRange(0, x_hi, padding=0.02)
        self._x_hi = x_hi

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        short = self.height() < SHORT_PLOT_PX
        if short != self._short:  # (a new spacing lays the axis out again: only when it changes)
            self._short = short
            item = self.plot.getPlotItem()
            axis = item.getAxis("left")
            if short:
                axis.setTickSpacing(0.5, 0.1)
            else:
                axis.setTickSpacing()  # pyqtgraph's choice
            item.getAxis("bottom").showLabel(not short)  # the ticks read 1, 2, 3; the read-out says "epoch"
            if not self.hint.empty:
                self._set_y_range()

    def _set_y_range(self) -> None:
        """Accuracy 0 to 1, with room for the end labels when the plot is short."""
        self.plot.getPlotItem().setYRange(0.0, 1.0, padding=SHORT_Y_PADDING if self._short else Y_PADDING)

    def fit_to_run_end(self) -> None:
        """The x axis ends where the finished run does (while it ran, it kept room ahead): a
        run of five epochs fills the plot, not its left half."""
        n = max(self._n)
        if n <= 0:
            return  # no epoch ended: the empty plot keeps its own range
        # (at least two epochs wide: a single epoch's point stays off the right edge)
        x_hi = max(2, n) if n <= 10 else int(following_range(n))
        if x_hi != self._x_hi:
            self._x_hi = x_hi
            self.plot.getPlotItem().setXRange(0, x_hi, padding=0.02)

    def set_accuracies(self, train: list[float], val: list[float]) -> None:
        if (len(train), len(val)) == self._n:
            return
        self._n = (len(train), len(val))
        self._train, self._val = list(train), list(val)
        if max(self._n) == 0:
            self._forget()
            self.hint.show(EMPTY_TEXT)  # the next run's ranges are set when its first epoch ends
            return
        if self.hint.empty:
            self.hint.filled()
            self._set_ranges(self._x_hi)
        # Markers help for a few epochs and turn into a smear for hundreds.
        symbols = max(self._n) <= 60
        self.train_curve.setSymbol("o" if symbols else None)
        self.val_curve.setSymbol("s" if symbols else None)
        n = max(self._n)
        if n > self._x_hi or (n <= 10 and self._x_hi != 10):
            self._x_hi = 10 if n <= 10 else int(np.ceil(n * 1.5 / 10) * 10)
            self.plot.getPlotItem().setXRange(0, self._x_hi, padding=0.02)
        self.train_curve.setData(np.arange(1, len(train) + 1), np.asarray(train, dtype=np.float32))
        self.val_curve.setData(np.arange(1, len(val) + 1), np.asarray(val, dtype=np.float32))

    def clear(self) -> None:
        self._n = (-1, -1)
        self.set_accuracies([], [])

    def _forget(self) -> None:
        """No curves, the axes kept (from 0 to 10 epochs): hiding them for the empty plot's
        sentence and showing them again at the first epoch laid the plot out twice and
        flashed the sentence between two runs."""
        self._n = (0, 0)
        self._train, self._val = [], []
        self.train_curve.setData([], [])
        self.val_curve.setData([], [])
        self.readout.clear()
        if self._x_hi != 10:
            self._x_hi = 10
            self.plot.getPlotItem().setXRange(0, 10, padding=0.02)

    @property
    def point_count(self) -> int:
        return max(self._n)

    def _describe(self, x: float, _y: float):
        n = max(len(self._train), len(self._val))
        if n == 0:
            return None
        epoch = int(np.clip(round(x), 1, n))
        parts = [f"{name} {values[epoch - 1]:.4f}" for name, values in (("train", self._train),
                                                                         ("validation", self._val))
                 if len(values) >= epoch]
        return f"epoch {epoch}: " + ", ".join(parts)
