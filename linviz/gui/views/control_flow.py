"""Rows of controls that wrap instead of widening the window.

A lab's control row laid out in a grid asks for the sum of its controls' widths (over 1,000
pixels for the optimization lab's views), and a tab page's minimum width is the widest of all
pages: one wide row squeezed the side panel to a sliver at 1024 x 700. Here each label stays
with its control and the pairs flow onto the next line when the room runs out.
"""

from __future__ import annotations

from typing import Union

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget
from superqt import QFlowLayout

Control = Union[QWidget, tuple]


class _FlowLayout(QFlowLayout):
    """superqt's flow layout, with its height for each width kept until the layout changes.

    Qt asks a height-for-width layout for its height several times at every relayout of the
    page around it, and superqt lays every control out again in Python each time: in the
    Inside lab, whose texts change with each result (a few times a second while a run
    trains), that was a steady part of the GUI thread's longest stalls. Qt invalidates the
    layout whenever a control is added, removed or changes its size hint; the heights stay
    right until then.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self._heights: dict[int, int] = {}

    def invalidate(self) -> None:
        self._heights.clear()
        super().invalidate()

    def setHorizontalSpacing(self, space) -> None:
        self._heights.clear()
        super().setHorizontalSpacing(space)

    def setVerticalSpacing(self, space) -> None:
        self._heights.clear()
        super().setVerticalSpacing(space)

    def heightForWidth(self, width: int) -> int:
        height = self._heights.get(width)
        if height is None:
            height = self._heights[width] = super().heightForWidth(width)
        return height


def labelled(text: str, widget: QWidget) -> QWidget:
    """A label and its control as one piece that never breaks across lines."""
    pair = QWidget()
    layout = QHBoxLayout(pair)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(4)
    label = QLabel(text)
    label.setBuddy(widget)
    layout.addWidget(label)
    layout.addWidget(widget)
    return pair


def control_flow(*controls: Control) -> QWidget:
    """Controls (widgets, or (label text, widget) pairs) left to right, wrapping as needed."""
    row = QWidget()
    flow = _FlowLayout(row)
    flow.setContentsMargins(0, 0, 0, 0)
    for control in controls:
        flow.addWidget(labelled(*control) if isinstance(control, tuple) else control)
    return row
