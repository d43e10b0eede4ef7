"""An empty plot says what to do to fill it, instead of showing axes from -0.4 to 0.4.

Before anything ran, a plot's axes are pyqtgraph's defaults: a "learning rate (x0.001)" from
-500 to 500, a validation accuracy from -0.4 to 0.4, numbers that mean nothing and look like a
result. :class:`EmptyHint` hides the axes and writes a sentence in the middle of the plot
while it is empty; :meth:`EmptyHint.filled` brings the axes back.
"""

from __future__ import annotations

import pyqtgraph as pg

AXES = ("left", "bottom")


class EmptyHint:
    def __init__(self, plot_item, text: str = "", axes=AXES):
        self.plot_item = plot_item
        self.axes = tuple(axes)
        self.label = pg.TextItem(color=(110, 110, 110), anchor=(0.5, 0.5))
        self.label.setZValue(50)
        plot_item.addItem(self.label, ignoreBounds=True)
        self.label.setVisible(False)
        plot_item.getViewBox().sigResized.connect(self._wrap)
        self.empty = False
        if text:
            self.show(text)

    def show(self, text: str) -> None:
        """The plot is empty: no axes, ``text`` in its middle."""
        self.empty = True
        for axis in self.axes:
            self.plot_item.showAxis(axis, False)
        self.label.setText(text)
        self.label.setVisible(True)
        view = self.plot_item.getViewBox()
        view.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        self.label.setPos(0.5, 0.5)
        self._wrap()

    def filled(self) -> None:
        """The plot has data: its axes again, no text."""
        if not self.empty:
            return
        self.empty = False
        self.label.setVisible(False)
        for axis in self.axes:
            self.plot_item.showAxis(axis, True)
        self.plot_item.enableAutoRange()  # the data's range (a plot that sets its own does so after)

    @property
    def text(self) -> str:
        return self.label.toPlainText() if self.empty else ""

    def _wrap(self, *_) -> None:
        """The sentence wraps to the plot's width."""
        if self.empty:
            width = max(80.0, self.plot_item.getViewBox().width() - 20)
            self.label.setTextWidth(width)
            self.label.textItem.document().setDefaultTextOption(_centered())
            self.label.setText(self.label.toPlainText())


def _centered():
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QTextOption

    option = QTextOption()
    option.setAlignment(Qt.AlignmentFlag.AlignCenter)
    option.setWrapMode(QTextOption.WrapMode.WordWrap)
    return option
