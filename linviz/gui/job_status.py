"""The status-bar strip for background jobs: what runs, its progress, a Cancel button."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget


class JobStatus(QWidget):
    cancelRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.setMaximumHeight(16)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("jobCancelButton")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.progress)
        layout.addWidget(self.cancel_button)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.set_idle()

    def set_running(self, text: str) -> None:
        self.label.setText(text)
        self.progress.setMaximum(0)  # busy indicator until the first progress report
        for w in (self.label, self.progress, self.cancel_button):
            w.setVisible(True)

    def set_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setMaximum(1000)
            self.progress.setValue(int(1000 * min(done, total) / total))
        else:
            self.progress.setMaximum(0)

    def set_idle(self) -> None:
        for w in (self.label, self.progress, self.cancel_button):
            w.setVisible(False)
