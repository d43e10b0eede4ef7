"""Shared plot settings for the live views."""

from __future__ import annotations


def outward_ticks(plot_item) -> None:
    """Ticks pointing out of the plot area.

    pyqtgraph's default ticks point inwards, so every axis' bounding box overlaps the data
    area and gets repainted whenever a curve in it changes (25 times a second while
    training). Pointing them outwards keeps axis repaints to real range changes.
    """
    for name in ("left", "bottom", "right", "top"):
        axis = plot_item.getAxis(name)
        axis.setStyle(tickLength=5)


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
