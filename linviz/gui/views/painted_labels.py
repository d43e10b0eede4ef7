"""Many short texts in a plot, drawn by ONE item in one paint() call.

pyqtgraph's TextItem is one graphics item per text that recomputes its layout and its
transform on every change and every paint; a confusion matrix with a number per cell made
dozens of them, and redrawing them cost tens of milliseconds of the GUI thread at every epoch
end (100 classes: 10,100 items and a 17 s freeze). Here the texts are plain data: positions
in data coordinates, drawn at a fixed pixel size, and (for cells) only when they fit.
"""

from __future__ import annotations

from typing import Optional, Sequence

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF

# Paint area: the visible range of its view. Texts keep their pixel size, so their extent in
# data units is not known in advance; the view clips them to what it shows anyway. (A huge
# "everywhere" rectangle overflows when Qt maps it to pixels: the update region comes out
# empty and old texts stay on screen, half-erased by the bars repainted over them.)
ALIGN_CENTER = Qt.AlignmentFlag.AlignCenter
TEXT_SPACING_PX = 6  # texts fitted to a width keep this many pixels apart
ALIGN_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
ALIGN_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class PaintedLabels(pg.GraphicsObject):
    """Texts at data positions. ``align``: "center" (on the point), "left" (starting a few
    pixels right of it), "right" (ending a few pixels left of it) or "above" (centred, its
    bottom on the point). With ``cell`` (data units per cell), texts are shrunk to fit a cell
    on screen, down to ``min_px``, and hidden below that. With ``fit_width`` (data units per
    text) they are shrunk to that width down to ``min_px`` and elided ("autom…") below it."""

    def __init__(self, font_px: float = 11.0, min_px: float = 7.0, cell: Optional[float] = None,
                 fit_width: Optional[float] = None):
        super().__init__()
        self._font_px = float(font_px)
        self._min_px = float(min_px)
        self._cell = cell
        self.fit_width = fit_width
        self._xs: Sequence[float] = ()
        self._ys: Sequence[float] = ()
        self._texts: Sequence[str] = ()
        self._colors: Sequence[QColor] = ()
        self._align = "center"
        self.drawn_px = 0.0  # the font size of the last paint (0: the texts did not fit)
        # Text widths, measured once per font and set of labels (not at every paint: a
        # confusion matrix repaints its 100 numbers several times a second while training).
        self._widths: dict = {}

    def set_labels(self, xs, ys, texts, colors=None, align: str = "center") -> None:
        """``colors``: one (r, g, b) per text, or None for dark gray."""
        self._xs, self._ys, self._texts = list(xs), list(ys), list(texts)
        default = QColor(30, 30, 30)
        self._colors = [QColor(*c) for c in colors] if colors is not None else [default] * len(self._texts)
        self._align = align
        self._widths = {}
        self.update()

    def clear(self) -> None:
        self.set_labels([], [], [])

    @property
    def texts(self) -> list[str]:
        return list(self._texts)

    def boundingRect(self) -> QRectF:
        rect = self.viewRect()  # the view's visible range, in this item's coordinates
        return QRectF() if rect is None else rect

    def viewRangeChanged(self) -> None:
        self.prepareGeometryChange()  # the paint area follows the visible range
        super().viewRangeChanged()

    def _text_widths(self, font: QFont, metrics: QFontMetricsF) -> list[float]:
        """Each text's width in pixels in ``font`` (kept until the labels change)."""
        key = font.key()
        widths = self._widths.get(key)
        if widths is None:
            widths = self._widths[key] = [metrics.horizontalAdvance(t) for t in self._texts]
        return widths

    def widest_px(self, texts: Sequence[str]) -> float:
        """The widest of ``texts`` in pixels at this item's full size (the application's font),
        0 for none: what a layout needs to know before anything is painted."""
        font = QFont()
        font.setPixelSize(max(1, int(self._font_px)))
        metrics = QFontMetricsF(font)
        return max((metrics.horizontalAdvance(t) for t in texts), default=0.0)

    def _per_px(self, font: QFont) -> tuple[float, float]:
        """(the widest text's width, a line's height) per pixel of ``font``'s size."""
        font = QFont(font)
        font.setPixelSize(100)
        metrics = QFontMetricsF(font)
        return max(self._text_widths(font, metrics)) / 100.0, metrics.height() / 100.0

    def _font_px_that_fits(self, painter_scale: float, font: QFont) -> float:
        """The largest size <= font_px at which the widest text fits a cell, or 0."""
        if self.fit_width is not None and self._texts:
            widest, _ = self._per_px(font)
            room = abs(self.fit_width * painter_scale) - TEXT_SPACING_PX
            if room < 3 * self._min_px:
                return 0.0  # not even a few letters fit: no text (a tooltip has it)
            return max(self._min_px, min(self._font_px, room / max(widest, 1e-6)))
        if self._cell is None or not self._texts:
            return self._font_px
        cell_px = abs(self._cell * painter_scale)
        widest, tallest = self._per_px(font)
        size = min(self._font_px, 0.88 * cell_px / max(widest, 1e-6), 0.8 * cell_px / tallest)
        return size if size >= self._min_px else 0.0

    def _rects(self, transform, font: QFont):
        """(rect in device pixels, alignment, text, color) of every label."""
        metrics = QFontMetricsF(font)
        h = metrics.height()
        room = abs(self.fit_width * transform.m11()) - TEXT_SPACING_PX if self.fit_width is not None else None
        widths = self._text_widths(font, metrics)
        for x, y, text, color, w in zip(self._xs, self._ys, self._texts, self._colors, widths):
            p = transform.map(QPointF(x, y))
            if room is not None and w > room:
                text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, room)
                w = metrics.horizontalAdvance(text)
            if self._align == "left":
                yield QRectF(p.x() + 4, p.y() - h / 2, w + 2, h), ALIGN_LEFT, text, color
            elif self._align == "right":
                yield QRectF(p.x() - 4 - w - 2, p.y() - h / 2, w + 2, h), ALIGN_RIGHT, text, color
            elif self._align == "above":
                yield QRectF(p.x() - w / 2 - 1, p.y() - h, w + 2, h), ALIGN_CENTER, text, color
            else:
                yield QRectF(p.x() - w / 2 - 1, p.y() - h / 2, w + 2, h), ALIGN_CENTER, text, color

    def paint(self, painter, *args) -> None:
        if not self._texts:
            return
        transform = painter.transform()
        font = QFont(painter.font())
        size = self._font_px_that_fits(transform.m11(), font)
        self.drawn_px = size
        if size <= 0:
            return
        font.setPixelSize(max(1, int(size)))  # rounded down: a text that fits keeps fitting
        painter.save()
        painter.resetTransform()  # draw in device pixels: texts keep their size
        painter.setFont(font)
        for rect, flags, text, color in self._rects(transform, font):
            painter.setPen(color)
            painter.drawText(rect, flags, text)
        painter.restore()

    def scene_rects(self) -> list[QRectF]:
        """Where the last paint put each text, in scene coordinates (for tests and hit checks)."""
        font = QFont()
        font.setPixelSize(max(1, int(self.drawn_px or self._font_px)))
        return [rect for rect, *_ in self._rects(self.sceneTransform(), font)]
