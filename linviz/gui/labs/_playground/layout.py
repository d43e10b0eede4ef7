"""Small layout helpers of the playground lab: a caption, a column, a grid, a splitter."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QLabel, QSplitter, QVBoxLayout, QWidget


def caption(text: str, name: str = "viewCaption") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setObjectName(name)
    return label


def column(*parts) -> QWidget:
    """A widget stacking widgets and layouts without margins; ``(part, stretch)`` stretches."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for part in parts:
        part, stretch = part if isinstance(part, tuple) else (part, 0)
        if isinstance(part, QWidget):
            layout.addWidget(part, stretch)
        else:
            layout.addLayout(part, stretch)
    return box


def grid(rows) -> QGridLayout:
    """Rows of cells, left to right: a widget, a layout or a label's text, or (cell, column span)."""
    layout = QGridLayout()
    for r, cells in enumerate(rows):
        c = 0
        for cell in cells:
            cell, span = cell if isinstance(cell, tuple) else (cell, 1)
            if isinstance(cell, str):
                cell = QLabel(cell)
            if isinstance(cell, QWidget):
                layout.addWidget(cell, r, c, 1, span)
            else:
                layout.addLayout(cell, r, c, 1, span)
            c += span
    return layout


def splitter(orientation, parts) -> QSplitter:
    """A splitter of ``(widget, stretch, initial size)``; no part collapses to nothing."""
    split = QSplitter(orientation)
    split.setChildrenCollapsible(False)
    for k, (widget, stretch, _) in enumerate(parts):
        split.addWidget(widget)
        split.setStretchFactor(k, stretch)
    split.setSizes([size for _, _, size in parts])
    return split
