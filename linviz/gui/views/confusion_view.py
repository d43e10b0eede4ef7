"""Confusion matrix on the validation split; clicking a cell asks to show its images.

The matrix is one image (colored by row fraction) and its counts are painted by one item,
in each cell only when they fit (so 100 classes cost no more than 10, and numbers never run
into each other); the tick labels thin out when there are many classes.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal, Slot
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from linviz.workbench.pictures import SEQUENTIAL_LUT
from linviz.gui.runtime.redraw import Redraw
from linviz.gui.views.painted_labels import PaintedLabels
from linviz.gui.views.plot_style import highlight_rect, plain_axes, show_colors

REDRAW_MS = 250
MAX_TICKS = 20  # more classes: label every k-th row and column
NAME_LABELS_PX = 75  # the rows' "automo. 1" labels take this much of the view's width
NAMED_MATRIX_PX = 120  # names only when the matrix keeps this much width with them, and
NAMED_CELL_PX = 16  # this much per class: else the rows are labelled by index (tooltips name them)
LABEL_PX = 13  # the screen height a row label needs
CAPTION = "Confusion (validation): rows true, columns predicted"
EMPTY = "Confusion matrix (validation): train a model to see it"
HELP = ("Rows: the true class, columns: the predicted class, of the validation images; the color is the "
        "share of the row. Hover a cell for its classes and count; click it to see its images in the gallery.")
NAME_CHARS = 8  # longer class names are cut on the axis ("automo."); the tooltip has them whole


def short_name(name: str, chars: int = NAME_CHARS) -> str:
    from linviz.text import printable

    name = printable(name)
    return name if len(name) <= chars else name[: chars - 2] + "."


class ConfusionView(QWidget):
    """Draws counts (``set_counts``); bound to a workbench, its model's validation counts."""

    cellClicked = Signal(int, int)  # true class, predicted class

    def __init__(self, workbench=None, parent=None):
        super().__init__(parent)
        self.setObjectName("confusionView")
        self.caption = QLabel(EMPTY)
        self.caption.setWordWrap(True)
        self.caption.setObjectName("viewCaption")
        self.caption.setToolTip(HELP)
        # two lines always (empty, it reads one): a caption that grew when the first evaluation
        # came resized the matrix, drawn again, at the start and the end of every run
        self.caption.setMinimumHeight(2 * self.caption.fontMetrics().lineSpacing())
        self.caption.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.plot = pg.PlotWidget()
        item = self.plot.getPlotItem()
        plain_axes(item)
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
        self.highlight = highlight_rect(width=2.5, z=20)
        item.addItem(self.highlight, ignoreBounds=True)
        self.highlighted: tuple[int, int] | None = None
        self._show_axes(False)  # no classes yet: no raw axes ("-500...500 (x0.001)")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.plot, 1)
        self._class_names: list[str] = []
        self._ticks = None  # (step, with names) of the tick labels shown
        self.counts: np.ndarray | None = None
        self.plot.scene().sigMouseClicked.connect(self._on_clicked)
        self.plot.scene().sigMouseMoved.connect(self._on_hover)
        self._bench = workbench
        self._drawn = None
        if workbench is not None:
            # Trailing: an epoch end changes several views at once; the matrix is drawn a
            # moment later, in its own turn of the event loop, not in the same long frame.
            self._redraw = Redraw(workbench, self._on_model, REDRAW_MS, leading=False, widget=self)
            workbench.data_changed.connect(self._on_data)
            workbench.model_changed.connect(self._redraw)

    def _on_data(self, prepared) -> None:
        self.clear()
        self.highlight_cell(-1, -1)
        if prepared is not None:
            self.set_classes(prepared.class_names)
        else:
            self._class_names = []
            self._show_axes(False)

    def _show_axes(self, shown: bool) -> None:
        item = self.plot.getPlotItem()
        for side in ("left", "bottom"):
            if item.getAxis(side).isVisible() != shown:  # showing a shown axis lays out its ticks again
                item.showAxis(side, shown)

    def _on_model(self, model) -> None:
        evaluation = model.evaluation if model is not None else None
        if evaluation is None:
            self._drawn = None
            self.clear()
            if model is None:
                self.highlight_cell(-1, -1)
            elif not self._bench.data.has_validation:
                self.caption.setText("Confusion matrix: no validation split (Data: Validation images)")
        elif evaluation is not self._drawn:
            self._drawn = evaluation
            self.set_counts(evaluation.confusion, self._bench.class_names)

    def set_classes(self, class_names: list[str]) -> None:
        if class_names == self._class_names:
            return
        self._class_names = list(class_names)
        self._ticks = None
        self._update_ticks()
        n = len(class_names)
        self.plot.getPlotItem().setRange(xRange=(0, n), yRange=(0, n), padding=0.02)

    def _update_ticks(self, *_) -> None:
        """Tick labels that never overlap: class names on the rows only when the view is wide
        enough (else indices; tooltips name the cells), and every k-th row when rows are
        shorter on screen than a label."""
        n = len(self._class_names)
        if n == 0:
            return
        width, height = self.plot.width(), self.plot.height()
        named_px = min(width - NAME_LABELS_PX, height - 45)  # the matrix is square: the height bounds it too
        names = n <= MAX_TICKS and named_px >= max(NAMED_MATRIX_PX, NAMED_CELL_PX * n)
        matrix_px = max(1.0, named_px if names else min(width - 30, height - 45))
        step = max(1, -(-n // MAX_TICKS), int(np.ceil(LABEL_PX * n / matrix_px)))
        if (step, names) == self._ticks:
            return  # unchanged: the axes keep their layout
        self._ticks = (step, names)
        shown = range(0, n, step)
        item = self.plot.getPlotItem()
        item.getAxis("left").setTicks([[(i + 0.5, f"{short_name(self._class_names[i])} {i}" if names else str(i))
                                        for i in shown]])
        item.getAxis("bottom").setTicks([[(i + 0.5, str(i)) for i in shown]])

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._update_ticks()

    def set_counts(self, counts: np.ndarray, class_names: list[str], caption: str = "") -> None:
        counts = np.asarray(counts, dtype=np.int64)
        self.set_classes(class_names)
        self._show_axes(True)  # axes only around a matrix (an empty plot showed raw axes)
        self.counts = counts
        n = counts.shape[0]
        # Color by row fraction (recall), so small and large classes read the same.
        row_sums = np.maximum(counts.sum(axis=1, keepdims=True), 1)
        fractions = counts / row_sums
        rgb = SEQUENTIAL_LUT[np.clip(np.round(fractions * 255), 0, 255).astype(np.intp)]
        show_colors(self.image, rgb)
        self.image.setRect(0, 0, n, n)
        rows, cols = np.nonzero(counts)
        colors = [(255, 255, 255) if fractions[i, j] > 0.55 else (30, 30, 30) for i, j in zip(rows, cols)]
        self.numbers.set_labels(cols + 0.5, rows + 0.5, [str(int(c)) for c in counts[rows, cols]], colors)
        accuracy = np.trace(counts) / max(1, counts.sum())
        self.caption.setText(caption or f"Confusion (validation, accuracy {accuracy:.1%}): rows true, columns "
                             "predicted; click a cell")

    def clear(self) -> None:
        self.counts = None
        self._show_axes(False)
        self.image.clear()
        self.numbers.clear()
        self.plot.setToolTip("")
        self.caption.setText(EMPTY)

    def highlight_cell(self, true_class: int, predicted: int) -> None:
        """Frame the cell whose images the gallery shows (-1, -1: none)."""
        if true_class < 0 or predicted < 0:
            self.highlighted = None
            self.highlight.setVisible(False)
            return
        self.highlighted = (true_class, predicted)
        self.highlight.setRect(QRectF(predicted, true_class, 1.0, 1.0))
        self.highlight.setVisible(True)

    def cell_text(self, i: int, j: int) -> str:
        """The tooltip of cell (i, j): the classes in full and the count."""
        from linviz.text import printable

        names = self._class_names
        count = int(self.counts[i, j])
        row = int(self.counts[i].sum())
        share = f" ({count / row:.0%} of the true {printable(names[i])} images)" if row else ""
        return (f"true {printable(names[i])} ({i}), predicted {printable(names[j])} ({j}): "
                f"{count:,} image{'s' if count != 1 else ''}{share}; click to see them")

    def _cell_at(self, scene_pos) -> tuple[int, int] | None:
        if self.counts is None:
            return None
        point = self.plot.getPlotItem().getViewBox().mapSceneToView(scene_pos)
        n = self.counts.shape[0]
        j, i = int(np.floor(point.x())), int(np.floor(point.y()))
        return (i, j) if 0 <= i < n and 0 <= j < n else None

    @Slot(object)
    def _on_hover(self, scene_pos) -> None:
        cell = self._cell_at(scene_pos)
        text = self.cell_text(*cell) if cell is not None else ""
        if self.plot.toolTip() != text:
            self.plot.setToolTip(text)

    @Slot(object)
    def _on_clicked(self, event) -> None:
        if self.counts is None or event.button() != Qt.MouseButton.LeftButton:
            return
        cell = self._cell_at(event.scenePos())
        if cell is not None:
            self.highlight_cell(*cell)
            self.cellClicked.emit(*cell)
