"""A progress bar with its figure beside it, never on it (a bar's fill covered its own text)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget


class ProgressRow(QWidget):
    """``show_progress(done, total)``: the bar and "42%" (or ``text``) beside it; total <= 0 is a
    busy bar without a figure."""

    def __init__(self, parent=None, bar_width: int | None = None):
        super().__init__(parent)
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        if bar_width is not None:
            self.bar.setMaximumWidth(bar_width)
        self.bar.setMaximumHeight(14)
        self.label = QLabel("")
        self.label.setObjectName("progressText")
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance("100%") + 4)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.label)

    def show_progress(self, done: int, total: int, text: str | None = None) -> None:
        if total > 0:
            self.bar.setMaximum(1000)
            self.bar.setValue(int(1000 * min(max(done, 0), total) / total))
            self.label.setText(text if text is not None else f"{100 * min(done, total) / total:.0f}%")
        else:
            self.bar.setMaximum(0)  # busy: no figure yet
            self.label.setText(text or "")

    def value_text(self) -> str:
        return self.label.text()
