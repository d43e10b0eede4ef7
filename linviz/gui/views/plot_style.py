"""Shared plot settings for the live views."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from linviz.text import count_text


def plain_axes(plot_item) -> None:
    """Ticks pointing out of the plot area, numbers as they are.

    pyqtgraph's default ticks point inwards, so every axis' bounding box overlaps the data
    area and gets repainted whenever a curve in it changes (25 times a second while
    training). Pointing them outwards keeps axis repaints to real range changes. And its
    automatic SI prefix labels a loss of 0.2 as "200" under "(x0.001)": a student reads
    the tick, not the axis title, so every axis shows the plain numbers.
    """
    for name in ("left", "bottom", "right", "top"):
        axis = plot_item.getAxis(name)
        axis.setStyle(tickLength=5)
        axis.enableAutoSIPrefix(False)


def settle(*view_boxes) -> None:
    """Move the items of each ViewBox to its new range now, not when the plot is painted.

    pyqtgraph applies a range change to its items at the start of the next paint; the items
    it moves then ask for a paint of their own, so a frame that moved a range was painted
    twice. Called after a view's updates, it is painted once.
    """
    for view_box in view_boxes:
        view_box.prepareForPaint()


def highlight_rect(width: float = 2.0, z: float = 10.0):
    """A hidden orange frame (cosmetic pen: the same width at any zoom) to mark a tile or a cell."""
    from PySide6.QtGui import QColor, QPen
    from PySide6.QtWidgets import QGraphicsRectItem

    rect = QGraphicsRectItem()
    pen = QPen(QColor(230, 120, 0))
    pen.setWidthF(width)
    pen.setCosmetic(True)
    rect.setPen(pen)
    rect.setZValue(z)
    rect.setVisible(False)
    return rect


def fitting_title(plot_item, side: str, *texts: str) -> None:
    """Title the ``side`` axis with the first of ``texts`` (longest first) that fits its length,
    chosen again whenever the plot is resized; none when not even the last fits. A narrow
    plot then reads "log10 rel. error" instead of "log10 of the relative er" cut off."""
    axis = plot_item.getAxis(side)
    view = plot_item.getViewBox()
    horizontal = side in ("top", "bottom")
    state = {"shown": None}

    def width_of(text: str) -> float:
        """As the axis draws it (its own font and style, document margins included)."""
        axis.setLabel(text)
        return axis.label.boundingRect().width()

    def choose(*_) -> None:
        length = view.width() if horizontal else view.height()
        if length < 1:  # not laid out yet: the longest, until the first resize
            chosen = texts[0]
        else:
            widths = state.setdefault("widths", {})
            for text in texts:
                if text not in widths:
                    widths[text] = width_of(text)
            chosen = next((t for t in texts if widths[t] + 4 <= length), None)
        if chosen == state["shown"] and (chosen is None or axis.labelText == chosen):
            return
        state["shown"] = chosen
        if chosen is None:
            axis.showLabel(False)
        else:
            axis.setLabel(chosen)
            axis.showLabel(True)
        axis.resizeEvent()  # the axis places its title only when resized: centre this one now

    view.sigResized.connect(choose)
    choose()


def show_colors(image_item, picture: np.ndarray) -> None:
    """Show ``picture`` (uint8 RGB or RGBA: its bytes are the colors) in ``image_item``.

    Without levels pyqtgraph hands the bytes to Qt as they are. With ``levels=(0, 255)`` it
    rescales and clips a copy of every pixel whenever the picture changed (RGBA even takes
    its general, slower path): milliseconds of the GUI thread for a large mosaic, several
    times a second while a run trains, for the same colors.
    """
    picture = np.ascontiguousarray(picture)
    if picture.dtype != np.uint8:
        raise TypeError(f"show_colors takes uint8 colors, not {picture.dtype}")
    image_item.setImage(picture, levels=None, autoLevels=False)


class CountAxis(pg.AxisItem):
    """An axis of counts (examples, iterations), labelled by :func:`count_text`."""

    def tickStrings(self, values, scale, spacing):
        if spacing * scale >= 1:
            return [count_text(v * scale) for v in values]
        return super().tickStrings(values, scale, spacing)
