"""Confusion matrix on the validation split; clicking a cell asks to show its images."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from linviz.gui.pictures import SEQUENTIAL_LUT
from linviz.gui.redraw import Redraw
from linviz.gui.views.plot_style import outward_ticks

REDRAW_MS = 250
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
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.plot, 1)
        self._texts: list[pg.TextItem] = []
        self._class_names: list[str] = []
        self.counts: np.ndarray | None = None
        self.plot.scene().sigMouseClicked.connect(self._on_clicked)
        self._bench = bench
        self._drawn = None
        if bench is not None:
            self._redraw = Redraw(bench, self._on_model, REDRAW_MS)
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
        item.getAxis("left").setTicks([[(i + 0.5, f"{name} {i}") for i, name in enumerate(class_names)]])
        item.getAxis("bottom").setTicks([[(i + 0.5, str(i)) for i in range(n)]])
        while len(self._texts) < n * n:
            text = pg.TextItem(anchor=(0.5, 0.5))
            item.addItem(text)
            self._texts.append(text)
        for k, text in enumerate(self._texts):
            text.setVisible(k < n * n)
            if k < n * n:
                text.setPos(k % n + 0.5, k // n + 0.5)
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
        for k in range(n * n):
            i, j = divmod(k, n)
            text = self._texts[k]
            label = str(int(counts[i, j])) if counts[i, j] else ""
            if text.toPlainText() != label:  # setText relayouts the item: only when it changed
                text.setText(label)
            dark = bool(fractions[i, j] > 0.55)
            if getattr(text, "_on_dark", None) != dark:
                text._on_dark = dark
                text.setColor((255, 255, 255) if dark else (30, 30, 30))
        accuracy = np.trace(counts) / max(1, counts.sum())
        self.caption.setText(caption or f"Confusion matrix (validation, accuracy {accuracy:.1%}): rows true, columns predicted; click a cell")

    def clear(self) -> None:
        self.counts = None
        self.image.clear()
        for text in self._texts:
            text.setText("")
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
