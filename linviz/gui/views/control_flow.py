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
    flow = QFlowLayout(row)
    flow.setContentsMargins(0, 0, 0, 0)
    for control in controls:
        flow.addWidget(labelled(*control) if isinstance(control, tuple) else control)
    return row
