"""Loss per iteration with a smoothed curve on top, a log-scale toggle and a hover read-out."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Slot
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget


class LossView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("lossPlot")
        self.plot = pg.PlotWidget()
        item = self.plot.getPlotItem()
        item.setTitle("Loss")
        item.setLabel("bottom", "iteration")
        item.setLabel("left", "loss")
        item.showGrid(x=True, y=True, alpha=0.2)
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

    @property
    def point_count(self) -> int:
        return len(self._losses)

    @Slot(bool)
    def _on_log_toggled(self, on: bool) -> None:
        self.plot.getPlotItem().setLogMode(y=on)
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
