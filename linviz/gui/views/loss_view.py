"""Loss per iteration with a smoothed curve on top, a log-scale toggle and a hover read-out."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from linviz.gui.views.plot_style import outward_ticks


def _nice_ceiling(value: float) -> float:
    """The next of 1, 2, 5 x 10^k at or above ``value``."""
    if value <= 1:
        return 1.0
    exponent = np.floor(np.log10(value))
    for step in (1.0, 2.0, 5.0, 10.0):
        if step * 10**exponent >= value:
            return float(step * 10**exponent)
    return float(10 ** (exponent + 1))


class LossView(QWidget):
    """Draws plain arrays (``set_losses``); bound to a workbench, draws its training frames."""

    def __init__(self, bench=None, parent=None):
        super().__init__(parent)
        self.setObjectName("lossPlot")
        self.plot = pg.PlotWidget()
        item = self.plot.getPlotItem()
        outward_ticks(item)
        item.setTitle("Loss")
        item.setLabel("bottom", "iteration")
        item.setLabel("left", "loss")
        # No grid and no per-frame auto-range: with a grid every curve update repaints the
        # axes (they draw the grid lines), and a range that moves every frame regenerates
        # their ticks. Together they were most of the GUI thread's time while training.
        # The ranges below grow in steps instead (see _grow_ranges).
        item.getViewBox().disableAutoRange()
        self._x_hi = 0.0
        self._y_range = (np.inf, -np.inf)
        # Long runs reach 100k+ iterations: draw only what is visible, peak-downsampled.
        item.setDownsampling(auto=True, mode="peak")
        item.setClipToView(True)
        self.raw_curve = item.plot([], [], pen=pg.mkPen((120, 150, 200), width=1), name="per iteration")
        self.smoothed_curve = item.plot([], [], pen=pg.mkPen((200, 60, 20), width=2), name="smoothed")
        self.expected_line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen((120, 120, 120), style=pg.QtCore.Qt.PenStyle.DashLine))
        self.expected_line.setVisible(False)
        item.addItem(self.expected_line, ignoreBounds=True)
        self.log_box = QCheckBox("log scale")
        self.log_box.toggled.connect(self._on_log_toggled)
        self.readout = QLabel(" ")
        self.readout.setMinimumWidth(10)
        top = QHBoxLayout()
        top.setContentsMargins(4, 0, 4, 0)
        top.addWidget(self.readout, 1)
        top.addWidget(self.log_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        self._losses = np.zeros(0, dtype=np.float32)
        self._smoothed = np.zeros(0, dtype=np.float32)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self._run = None
        if bench is not None:
            bench.frame_changed.connect(self._on_frame)

    def _on_frame(self, frame) -> None:
        if frame is None:
            self._run = None
            self.clear()
            return
        snap = frame.snapshot
        self.set_losses(snap.losses, snap.smoothed_losses)
        if frame.run != self._run:
            self._run = frame.run
            self.set_expected_initial_loss(snap.expected_initial_loss)

    def set_losses(self, losses: np.ndarray, smoothed: np.ndarray | None = None) -> None:
        """Per-iteration losses (iteration 1..n) and an optional smoothed curve of equal length."""
        losses = np.asarray(losses, dtype=np.float32)
        if len(losses) == len(self._losses) and (smoothed is None or len(smoothed) == len(self._smoothed)):
            return  # nothing new: skip the redraw
        x = np.arange(1, len(losses) + 1, dtype=np.float32)
        self._losses = losses
        self.raw_curve.setData(x, losses, skipFiniteCheck=True)
        if smoothed is not None and len(smoothed) == len(losses):
            self._smoothed = np.asarray(smoothed, dtype=np.float32)
            self.smoothed_curve.setData(x, self._smoothed, skipFiniteCheck=True)
        self._grow_ranges()

    def _grow_ranges(self) -> None:
        n = len(self._losses)
        if n == 0:
            return
        vb = self.plot.getPlotItem().getViewBox()
        if n > self._x_hi:
            self._x_hi = _nice_ceiling(n * 1.5)
            vb.setXRange(0, self._x_hi, padding=0.02)
        values = self._losses[np.isfinite(self._losses)]
        if self.log_box.isChecked():
            values = np.log10(values[values > 0])
        if len(values) == 0:
            return
        lo, hi = float(values.min()), float(values.max())
        old_lo, old_hi = self._y_range
        if lo < old_lo or hi > old_hi:
            margin = 0.05 * max(hi - lo, 1e-3)
            self._y_range = (lo - margin, hi + margin)
            vb.setYRange(*self._y_range, padding=0)

    def set_expected_initial_loss(self, value: float | None) -> None:
        """The dashed line: what a random model should score first (C-1 or ln C)."""
        if value is None or not np.isfinite(value) or value <= 0:
            self.expected_line.setVisible(False)
            return
        self.expected_line.setValue(np.log10(value) if self.log_box.isChecked() else value)
        self.expected_line.setVisible(True)
        self._expected = value

    def clear(self) -> None:
        self._losses = np.zeros(0, dtype=np.float32)
        self._smoothed = np.zeros(0, dtype=np.float32)
        self.raw_curve.setData([], [])
        self.smoothed_curve.setData([], [])
        self.expected_line.setVisible(False)
        self.readout.setText(" ")
        self._x_hi = 0.0
        self._y_range = (np.inf, -np.inf)

    @property
    def point_count(self) -> int:
        return len(self._losses)

    @Slot(bool)
    def _on_log_toggled(self, on: bool) -> None:
        self.plot.getPlotItem().setLogMode(y=on)
        self._y_range = (np.inf, -np.inf)  # ranges are in log10 units in log mode
        self._grow_ranges()
        if self.expected_line.isVisible():
            self.set_expected_initial_loss(getattr(self, "_expected", None))

    @Slot(object)
    def _on_mouse_moved(self, scene_pos) -> None:
        vb = self.plot.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(scene_pos) or len(self._losses) == 0:
            return
        x = vb.mapSceneToView(scene_pos).x()
        i = int(np.clip(round(x), 1, len(self._losses))) - 1
        text = f"iteration {i + 1:,}: loss {self._losses[i]:.4f}"
        if len(self._smoothed) > i:
            text += f"  (smoothed {self._smoothed[i]:.4f})"
        self.readout.setText(text)
