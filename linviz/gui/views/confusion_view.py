"""Confusion matrix on the validation split; clicking a cell asks to show its images.

The matrix is one image (coloured by row fraction) and its counts are painted by one item,
in each cell only when they fit (so 100 classes cost no more than 10, and numbers never run
into each other); the tick labels thin out when there are many classes.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from linviz.gui.pictures import SEQUENTIAL_LUT
from linviz.gui.redraw import Redraw
from linviz.gui.views.painted_labels import PaintedLabels
from linviz.gui.views.plot_style import outward_ticks

REDRAW_MS = 250
MAX_TICKS = 20  # more classes: label every k-th row and column
CAPTION = "Confusion matrix (validation): rows true, columns predicted; click a cell"


class ConfusionView(QWidget):
    """Draws counts (``set_counts``); bound to a workbench, its model's validation counts."""

    cellClicked = Signal(int, int)  # true class, predicted class

    def __init__(self, bench=None, parent=None):
        super().__init__(parent)
        self.setObjectName("confusionView")
        self.caption = QLabel(CAPTION)
        self.caption.setWordWrap(True)
        self.caption.setObjectName("viewCaption")
        self.plot = pg.PlotWidget()
        item = self.plot.getPlotItem()
        outward_ticks(item)
        item.getViewBox().invertY(True)
        item.getViewBox().setAspectLocked(True)
        item.getViewBox().setMouseEnabled(x=False, y=False)
        item.hideButtons()
        item.setLabel("bottom", "predicted")
        item.setLabel("left", "true")
        self.image = pg.ImageItem()
        item.addItem(self.image)
        self.numbers = PaintedLabels(font_px=12, min_px=7, cell=1.0)
        item.addItem(self.numbers, ignoreBounds=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.plot, 1)
        self._class_names: list[str] = []
        self.counts: np.ndarray | None = None
        self.plot.scene().sigMouseClicked.connect(self._on_clicked)
        self._bench = bench
        self._drawn = None
        if bench is not None:
            # Trailing: an epoch end changes several views at once; the matrix is drawn a
            # moment later, in its own turn of the event loop, not in the same long frame.
            self._redraw = Redraw(bench, self._on_model, REDRAW_MS, leading=False)
            bench.data_changed.connect(self._on_data)
            bench.model_changed.connect(self._redraw)

    def _on_data(self, prepared) -> None:
        self.clear()
        if prepared is not None:
            self.set_classes(prepared.class_names)  # its text items exist before training starts

    def _on_model(self, model) -> None:
        evaluation = model.evaluation if model is not None else None
        if evaluation is None:
            self._drawn = None
            self.clear()
            if model is not None and not self._bench.data.has_validation:
                self.caption.setText("Confusion matrix: no validation split (Data: Validation images)")
        elif evaluation is not self._drawn:
            self._drawn = evaluation
            self.set_counts(evaluation.confusion, self._bench.class_names)

    def set_classes(self, class_names: list[str]) -> None:
        if class_names == self._class_names:
            return
        self._class_names = list(class_names)
        n = len(class_names)
        item = self.plot.getPlotItem()
        step = max(1, -(-n // MAX_TICKS))
        shown = range(0, n, step)
        item.getAxis("left").setTicks([[(i + 0.5, f"{class_names[i]} {i}" if step == 1 else str(i)) for i in shown]])
        item.getAxis("bottom").setTicks([[(i + 0.5, str(i)) for i in shown]])
        item.setRange(xRange=(0, n), yRange=(0, n), padding=0.02)

    def set_counts(self, counts: np.ndarray, class_names: list[str], caption: str = "") -> None:
        counts = np.asarray(counts, dtype=np.int64)
        self.set_classes(class_names)
        self.counts = counts
        n = counts.shape[0]
        # Colour by row fraction (recall), so small and large classes read the same.
        row_sums = np.maximum(counts.sum(axis=1, keepdims=True), 1)
        fractions = counts / row_sums
        rgb = SEQUENTIAL_LUT[np.clip(np.round(fractions * 255), 0, 255).astype(np.intp)]
        self.image.setImage(np.ascontiguousarray(rgb), levels=(0, 255), autoLevels=False)
        self.image.setRect(0, 0, n, n)
        rows, cols = np.nonzero(counts)
        colors = [(255, 255, 255) if fractions[i, j] > 0.55 else (30, 30, 30) for i, j in zip(rows, cols)]
        self.numbers.set_labels(cols + 0.5, rows + 0.5, [str(int(c)) for c in counts[rows, cols]], colors)
        accuracy = np.trace(counts) / max(1, counts.sum())
        self.caption.setText(caption or f"Confusion matrix (validation, accuracy {accuracy:.1%}): rows true, columns predicted; click a cell")

    def clear(self) -> None:
        self.counts = None
        self.image.clear()
        self.numbers.clear()
        self.caption.setText(CAPTION)

    @Slot(object)
    def _on_clicked(self, event) -> None:
        if self.counts is None or event.button() != Qt.MouseButton.LeftButton:
            return
        point = self.plot.getPlotItem().getViewBox().mapSceneToView(event.scenePos())
        n = self.counts.shape[0]
        j, i = int(np.floor(point.x())), int(np.floor(point.y()))
        if 0 <= i < n and 0 <= j < n:
            self.cellClicked.emit(i, j)
