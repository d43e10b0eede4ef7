"""A read-out of the values under the mouse, over a plot's corner, gone when the mouse leaves.

One small label laid over the plot widget (not an item of its scene, so showing it repaints
nothing else), shown while the mouse moves over the data area and hidden when it leaves it or
the plot. The plot is a :class:`HoverPlotWidget`, whose ``leaveEvent`` says when the mouse has
left: no event filter, which would run Python for every paint of a live plot (each such call
waits for the GIL the training thread holds, and the plot redraws 25 times a second).
"""

from __future__ import annotations

from typing import Callable, Optional

import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, Qt, Signal
from PySide6.QtWidgets import QLabel

STYLE = ("QLabel { background: rgba(255, 255, 255, 225); color: #202020; border: 1px solid #b0b0b0;"
         " border-radius: 3px; padding: 1px 4px; }")


class HoverPlotWidget(pg.PlotWidget):
    """A PlotWidget that says when the mouse leaves it."""

    mouseLeft = Signal()

    def leaveEvent(self, event) -> None:
        super().leaveEvent(event)
        self.mouseLeft.emit()


class HoverReadout(QObject):
    """``describe(x_in_view_coordinates) -> text or None`` is asked on every mouse move over
    the plot's data area; the text is shown in the data area's top-left corner."""

    def __init__(self, plot_widget: HoverPlotWidget, describe: Callable[[float, float], Optional[str]]):
        super().__init__(plot_widget)
        self.plot = plot_widget
        self.describe = describe
        self.label = QLabel(plot_widget)
        self.label.setObjectName("hoverReadout")
        self.label.setStyleSheet(STYLE)
        self.label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.label.hide()
        plot_widget.scene().sigMouseMoved.connect(self.on_mouse_moved)
        plot_widget.mouseLeft.connect(self.clear)

    @property
    def text(self) -> str:
        """What is shown, or "" when nothing is."""
        return self.label.text()

    def clear(self) -> None:
        self.label.setText("")
        self.label.hide()

    def on_mouse_moved(self, scene_pos) -> None:
        vb = self.plot.getPlotItem().getViewBox()
        rect = vb.sceneBoundingRect()
        if not rect.contains(scene_pos):
            self.clear()
            return
        point = vb.mapSceneToView(scene_pos)
        text = self.describe(point.x(), point.y())
        if not text:
            self.clear()
            return
        if text != self.label.text():
            self.label.setText(text)
            self.label.adjustSize()
        corner = self.plot.mapFromScene(QPointF(rect.left() + 4, rect.top() + 4))
        if self.label.pos() != corner:
            self.label.move(corner)
        if not self.label.isVisible():
            self.label.show()
            self.label.raise_()
