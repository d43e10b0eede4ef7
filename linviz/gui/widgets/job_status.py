"""The status-bar strip for background jobs: what runs, its progress, a Cancel button."""

from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from linviz.gui.widgets.progress_row import ProgressRow


class JobStatus(QWidget):
    cancelRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = QLabel("")
        self.progress = ProgressRow(bar_width=160)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("jobCancelButton")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.progress)
        layout.addWidget(self.cancel_button)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.set_idle()

    def minimumSizeHint(self):
        """As tall idle as running: a status bar that grew when a job started would resize
        every view above it, laid out and drawn again at once, at the start and the end of
        each job."""
        hint = super().minimumSizeHint()
        running = max(w.sizeHint().height() for w in (self.label, self.progress, self.cancel_button))
        return QSize(hint.width(), max(hint.height(), running))

    def set_running(self, text: str) -> None:
        self.label.setText(text)
        self.progress.show_progress(0, 0)  # busy indicator until the first progress report
        for w in (self.label, self.progress, self.cancel_button):
            w.setVisible(True)

    def set_progress(self, done: int, total: int) -> None:
        self.progress.show_progress(done, total)

    def set_idle(self) -> None:
        for w in (self.label, self.progress, self.cancel_button):
            w.setVisible(False)
