"""Per-class bars for one image: softmax probabilities, or SVM scores labelled as scores."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from linviz.gui.runtime.redraw import Redraw
from linviz.gui.views.painted_labels import PaintedLabels
from linviz.gui.views.plot_style import plain_axes

TRUE_BRUSH = pg.mkBrush(40, 160, 70)
TOP_BRUSH = pg.mkBrush(220, 120, 0)
OTHER_BRUSH = pg.mkBrush(120, 150, 200)
REDRAW_MS = 200
MAX_TICKS = 20  # more classes: every k-th name on the axis
HINT = "Select an image (gallery or your images) to see how the model scores it"


class ProbabilitiesView(QWidget):
    """Draws per-class values (``set_values``); bound to a workbench, those of the selected
    image under the current model (softmax probabilities, or SVM scores labelled as such)."""

    def __init__(self, workbench=None, parent=None):
        super().__init__(parent)
        self.setObjectName("probabilitiesView")
        self.caption = QLabel(HINT)
        self.caption.setWordWrap(True)
        self.caption.setObjectName("viewCaption")
        self.plot = pg.PlotWidget()
        item = self.plot.getPlotItem()
        plain_axes(item)
        # the range ends at the data (0 and 1): their tick labels may reach past the plot's edge
        item.getAxis("bottom").setStyle(hideOverlappingLabels=False)
        item.getViewBox().invertY(True)  # first class on top, like a table
        item.getViewBox().setMouseEnabled(x=False, y=False)
        item.hideButtons()
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.7, width=[], brushes=[])
        item.addItem(self.bars)
        self.zero_line = pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen((90, 90, 90)))
        item.addItem(self.zero_line)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.plot, 1)
        # Each value beside its bar, or inside it (white) where the bar is too long for the
        # text to fit after it: the labels take none of the bars' room.
        self.value_labels = PaintedLabels(font_px=11)
        self.inner_labels = PaintedLabels(font_px=11)
        item.addItem(self.value_labels, ignoreBounds=True)
        item.addItem(self.inner_labels, ignoreBounds=True)
        self._texts: list[str] = []
        self._labelled = np.zeros(0, dtype=np.intp)
        self._range: tuple[float, float] | None = None
        self._class_names: list[str] = []
        self.values = np.zeros(0, dtype=np.float32)
        self.kind = ""
        self._extent = (0.0, 1.0)  # the data the x range shows; the value labels get room beside it
        item.getViewBox().sigResized.connect(self._fit_x_range)
        self._bench = workbench
        if workbench is not None:
            # trailing: drawn in a turn of its own, after an epoch end's frame (see the confusion view)
            self._redraw = Redraw(workbench, self.show_selection, REDRAW_MS, leading=False, widget=self)
            workbench.data_changed.connect(self._on_data)
            workbench.selection_changed.connect(self.show_selection)
            workbench.model_changed.connect(self._redraw)
            workbench.user_images_changed.connect(self.show_selection)

    def _on_data(self, prepared) -> None:
        if prepared is not None:
            self.set_classes(prepared.class_names)

    def show_selection(self, *_) -> None:
        """The selected image's values under the current model, or what to do to see them."""
        workbench = self._bench
        selected = workbench.selected_image()
        model = workbench.model
        if selected is None:
            self.clear(HINT)
        elif model is None or selected.x is None or model.W.shape[0] != len(selected.x):
            self.clear(f"{selected.caption}: train a model to see its class scores")
        else:
            from linviz.models import LOSSES, softmax

            scores = model.scores(selected.x[None])
            if LOSSES[model.loss].has_probabilities:
                self.set_values(softmax(scores)[0], workbench.class_names, "probabilities", selected.true_class,
                                selected.caption)
            else:
                self.set_values(scores[0], workbench.class_names, "scores", selected.true_class, selected.caption)

    def set_classes(self, class_names: list[str]) -> None:
        if class_names == self._class_names:
            return
        from linviz.text import printable

        self._class_names = list(class_names)
        item = self.plot.getPlotItem()
        step = max(1, -(-len(class_names) // MAX_TICKS))  # 100 classes: every 5th name, no overlap
        item.getAxis("left").setTicks([[(i, printable(class_names[i]) if step == 1
                                         else f"{printable(class_names[i])} {i}")
                                        for i in range(0, len(class_names), step)]])
        item.setYRange(-0.6, len(class_names) - 0.4, padding=0)
        self._fit_x_range()

    def set_values(self, values: np.ndarray, class_names: list[str], kind: str, true_class: int | None = None,
                   title: str = "") -> None:
        """``kind``: "probabilities" (in [0, 1], sum 1) or "scores" (any sign)."""
        values = np.asarray(values, dtype=np.float32)
        self.set_classes(class_names)
        self.values = values
        self.kind = kind
        top = int(np.argmax(values)) if len(values) else -1
        brushes = [TRUE_BRUSH if i == true_class else TOP_BRUSH if i == top else OTHER_BRUSH
                   for i in range(len(values))]
        x0 = np.minimum(values, 0.0)
        self.bars.setOpts(x0=x0, y=np.arange(len(values)), width=np.abs(values), height=0.7, brushes=brushes)
        if kind != self._axis_kind:  # set again, the axis would lay out its ticks at every redraw
            self._axis_kind = kind
            self._show_value_axis(kind)
        if kind == "probabilities":
            self._extent = (0.0, 1.0)  # a fixed scale: bars compare between images
            fmt = "{:.0%}"
        else:
            lo = min(0.0, float(values.min())) if len(values) else 0.0
            hi = max(0.0, float(values.max())) if len(values) else 1.0
            self._extent = (lo, hi if hi > lo else lo + 1.0)
            fmt = "{:+.2f}"
        self._texts = [fmt.format(v) for v in values]
        labelled = np.arange(len(values))
        if len(values) > MAX_TICKS:  # many classes: the values of the top few and the true class
            labelled = np.union1d(np.argsort(values)[::-1][:5], [true_class] if true_class is not None else [])
            labelled = labelled.astype(np.intp)
        self._labelled = labelled
        self._fit_x_range()
        self._place_labels()
        parts = [title] if title else []
        if kind != "probabilities":
            parts.append("SVM scores, not probabilities")
        from linviz.text import printable

        if true_class is not None and 0 <= true_class < len(class_names):
            parts.append(f"true class: {printable(class_names[true_class])} (green)")
        if top >= 0:
            parts.append(f"top: {printable(class_names[top])}")
        self.caption.setText("  ·  ".join(parts))

    _axis_kind: str | None = None  # what the value axis is set up for (None: hidden)

    def _show_value_axis(self, kind: str | None) -> None:
        """The value axis for ``kind`` ("probabilities" or "scores"), or hidden (None)."""
        item = self.plot.getPlotItem()
        item.showAxis("bottom", kind is not None)  # no values: no empty scale
        if kind == "probabilities":
            item.setLabel("bottom", "probability")  # short: the view is narrow at 1024 px
            item.getAxis("bottom").setTicks([[(0.0, "0"), (1.0, "1")], [(0.5, "")]])
        elif kind is not None:
            item.setLabel("bottom", "SVM score")  # the caption says they are not probabilities
            item.getAxis("bottom").setTicks(None)

    def _fit_x_range(self, *_) -> None:
        """The data extent and nothing more: the bars get the whole width (their labels go
        beside or inside them, see :meth:`_place_labels`)."""
        item = self.plot.getPlotItem()
        lo, hi = self._extent
        span = hi - lo
        x_range = (lo - 0.02 * span if lo < 0 else lo, hi + 0.02 * span)
        if self._range != x_range:
            self._range = x_range  # an unchanged range spares the axis its tick layout
            item.setXRange(*x_range, padding=0)
        self._place_labels()

    def _place_labels(self) -> None:
        """Each value's text after its bar's end where it fits before the plot's right edge,
        else inside the bar, ending a few pixels before its end, in white."""
        values, labelled = self.values, self._labelled
        if not len(values) or not len(labelled):
            self.value_labels.clear()
            self.inner_labels.clear()
            return
        box = self.plot.getPlotItem().getViewBox()
        (x0, x1), _ = box.viewRange()
        per_px = (x1 - x0) / max(float(box.width()), 1.0)
        metrics = QFontMetricsF(self.font())
        outside, inside = ([], [], []), ([], [], [])
        for i in labelled:
            end = max(float(values[i]), 0.0)
            text = self._texts[i]
            room_after = (x1 - end) / per_px
            into = inside if room_after < metrics.horizontalAdvance(text) + 8 and values[i] > 0 else outside
            for part, value in zip(into, (end, i, text)):
                part.append(value)
        self.value_labels.set_labels(*outside, align="left")
        self.inner_labels.set_labels(*inside, colors=[(255, 255, 255)] * len(inside[0]), align="right")

    def clear(self, message: str = "") -> None:
        self._axis_kind = None
        self._show_value_axis(None)
        self.values = np.zeros(0, dtype=np.float32)
        self.bars.setOpts(x0=[], y=[], width=[], brushes=[])
        self._texts = []
        self._labelled = np.zeros(0, dtype=np.intp)
        self.value_labels.clear()
        self.inner_labels.clear()
        if message:
            self.caption.setText(message)
