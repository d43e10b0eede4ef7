"""Big probability bars: one wide bar per class with its name and percentage, for the
selected (or just dropped) image, redrawn live while the model trains.

The layout students know from Teachable Machine: readable from the back of a classroom, so
it is drawn large and plain (painted bars, not a plot with axes). SVM scores are no
probabilities: they are then shown as scores, with the bars spanning the lowest to the
highest score, and the caption says so.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from linviz.gui.runtime.redraw import Redraw
from linviz.gui.views.user_images_view import rgb_pixmap

REDRAW_MS = 100  # live while training: ten times a second is plenty to watch
# One color per class (Teachable Machine gives each class its own), cycled for many classes.
CLASS_COLORS = ["#e8710a", "#1a73e8", "#d01884", "#12b5cb", "#7cb342", "#9334e6", "#f9ab00", "#5f6368",
                "#e52592", "#129eaf"]
PREVIEW = 128
MAX_BARS = 30  # more classes: the top ones (the caption says how many are left out)
HINT = "Drop an image on the window (or select one) to see how the model classifies it"


class ProbabilityBars(QWidget):
    """The painted bars: ``set_values(names, values, texts, fractions)``."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("probabilityBars")
        self.names: list[str] = []
        self.texts: list[str] = []
        self.fractions = np.zeros(0)
        self.colors: list[str] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_values(self, names: list[str], texts: list[str], fractions: np.ndarray, colors: list[str]) -> None:
        self.names, self.texts, self.colors = list(names), list(texts), list(colors)
        self.fractions = np.clip(np.asarray(fractions, dtype=float), 0.0, 1.0)
        self.updateGeometry()
        self.update()

    def row_height(self) -> int:
        return max(22, min(44, self.height() // max(1, len(self.names)) - 6)) if self.names else 30

    def sizeHint(self) -> QSize:
        return QSize(420, max(60, len(self.names) * 40))

    def minimumSizeHint(self) -> QSize:
        return QSize(200, max(30, len(self.names) * 26))

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(self.font())
        row = self.row_height()
        font.setPixelSize(max(12, int(row * 0.45)))
        font.setBold(True)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        width = self.width()
        name_width = min(int(width * 0.35), max((metrics.horizontalAdvance(n) for n in self.names), default=0) + 12)
        text_width = metrics.horizontalAdvance("100%") + 16
        bar_left = name_width
        bar_width = max(10, width - bar_left - 4)
        gap = 6
        for i, (name, text, fraction) in enumerate(zip(self.names, self.texts, self.fractions)):
            top = i * (row + gap) + 2
            color = QColor(self.colors[i % len(self.colors)] if self.colors else "#1a73e8")
            shown = metrics.elidedText(name, Qt.TextElideMode.ElideRight, name_width - 10)
            painter.setPen(QPen(self.palette().windowText().color()))
            painter.drawText(QRectF(0, top, name_width - 8, row), Qt.AlignmentFlag.AlignVCenter
                             | Qt.AlignmentFlag.AlignRight, shown)
            track = QRectF(bar_left, top, bar_width, row)
            light = QColor(color)
            light.setAlpha(50)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(light)
            painter.drawRoundedRect(track, 6, 6)
            filled = QRectF(bar_left, top, max(0.0, bar_width * float(fraction)), row)
            if filled.width() > 0.5:
                painter.setBrush(color)
                painter.drawRoundedRect(filled, 6, 6)
            inside = filled.width() >= text_width
            painter.setPen(QPen(QColor("white") if inside else self.palette().windowText().color()))
            text_rect = QRectF(bar_left + 8, top, max(filled.width() - 16, text_width), row) if inside else \
                QRectF(bar_left + filled.width() + 6, top, text_width + 40, row)
            painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter
                             | (Qt.AlignmentFlag.AlignRight if inside else Qt.AlignmentFlag.AlignLeft), text)
        painter.end()


class ClassBarsView(QWidget):
    """The selected image under the current model, as big per-class bars (module docstring)."""

    def __init__(self, workbench, parent=None):
        super().__init__(parent)
        self.setObjectName("classBarsView")
        self.workbench = workbench
        self.preview = QLabel()
        self.preview.setFixedSize(PREVIEW, PREVIEW)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setObjectName("classBarsPreview")
        self.caption = QLabel(HINT)
        self.caption.setObjectName("classBarsCaption")
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        font = self.caption.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.caption.setFont(font)
        self.bars = ProbabilityBars()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.caption)
        layout.addWidget(self.bars, 1)
        self.values: Optional[np.ndarray] = None  # what the bars show (probabilities or scores)
        self.kind = ""
        self._redraw = Redraw(workbench, self.show_selection, REDRAW_MS, widget=self)
        workbench.selection_changed.connect(self.show_selection)
        workbench.model_changed.connect(self._redraw)
        workbench.data_changed.connect(self.show_selection)
        workbench.user_images_changed.connect(self.show_selection)

    def show_selection(self, *_) -> None:
        workbench = self.workbench
        selected = workbench.selected_image()
        if selected is None:
            self._show_nothing(HINT)
            return
        self.preview.setPixmap(rgb_pixmap(selected.image, PREVIEW))
        model = workbench.model
        from html import escape

        from linviz.text import printable

        raw_caption = printable(selected.caption)
        caption = escape(raw_caption)
        if model is None or selected.x is None or model.W.shape[0] != len(selected.x):
            self._show_nothing(f"{raw_caption}: train a model to see its classes", keep_preview=True)
            return
        scores = model.scores(selected.x[None])[0].astype(np.float64)
        names = [printable(n) for n in workbench.class_names]
        if model.loss == "softmax":
            from linviz.models import softmax

            values = softmax(scores[None])[0]
            fractions, texts, kind = values, [f"{v:.0%}" for v in values], "probabilities"
        else:
            lo, hi = float(scores.min()), float(scores.max())
            values = scores
            fractions = (scores - lo) / (hi - lo) if hi > lo else np.ones_like(scores)
            texts, kind = [f"{v:+.2f}" for v in scores], "scores"
        order = np.arange(len(values))
        left_out = ""
        if len(values) > MAX_BARS:
            order = np.sort(np.argsort(values)[::-1][:MAX_BARS])
            left_out = f" (the top {MAX_BARS} of {len(values)} classes)"
        self.values, self.kind = values, kind
        top = int(np.argmax(values))
        truth = ""
        if selected.true_class is not None:
            truth = f" · true class {escape(names[selected.true_class])}"
        what = "SVM scores, not probabilities" if kind == "scores" else "probabilities"
        self.caption.setText(f"{caption}: <b>{escape(names[top])}</b>{truth}<br>{what}{left_out}")
        self.bars.set_values([names[i] for i in order], [texts[i] for i in order], fractions[order],
                             [CLASS_COLORS[i % len(CLASS_COLORS)] for i in order])

    def _show_nothing(self, text: str, keep_preview: bool = False) -> None:
        if not keep_preview:
            self.preview.clear()
        from html import escape

        self.values, self.kind = None, ""
        self.caption.setText(escape(text))
        self.bars.set_values([], [], np.zeros(0), [])
