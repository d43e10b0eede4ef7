"""The banner shown on the demo set: download CIFAR-10, or open a folder or archive."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QToolButton

DEFAULT_TEXT = ("You are looking at the offline demo set (synthetic shapes). "
                "For real photos, download CIFAR-10 or open your own image folder.")


class DownloadBanner(QFrame):
    downloadRequested = Signal()
    cancelRequested = Signal()
    openRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("downloadBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.text = QLabel(DEFAULT_TEXT)
        self.text.setWordWrap(True)
        self.download_button = QPushButton("Download CIFAR-10 (163 MB)")
        self.open_button = QPushButton("Open folder or archive...")
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.progress.setMaximumWidth(220)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.close_button = QToolButton(text="✕")
        self.close_button.setToolTip("Hide this banner (File menu has the same actions)")
        self.close_button.setAutoRaise(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.cancel_button)
        layout.addWidget(self.download_button)
        layout.addWidget(self.open_button)
        layout.addWidget(self.close_button)
        self.download_button.clicked.connect(self.downloadRequested)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.open_button.clicked.connect(self.openRequested)
        self.close_button.clicked.connect(self.hide)

    def show_downloading(self, done: int, total: int) -> None:
        self.download_button.setVisible(False)
        self.cancel_button.setVisible(True)
        self.progress.setVisible(True)
        self.progress.setMaximum(total if total > 0 else 0)
        if total > 0:
            self.progress.setValue(min(done, total))
            self.progress.setFormat(f"{done / 1e6:,.0f} of {total / 1e6:,.0f} MB")
        self.text.setText("Downloading CIFAR-10 (you can keep working on the demo set)...")

    def show_idle(self, message: str = "", retry: bool = False) -> None:
        """Back to the buttons; after a failure or a cancel the button offers a retry."""
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.download_button.setVisible(True)
        self.download_button.setText("Retry download (163 MB)" if retry else "Download CIFAR-10 (163 MB)")
        self.text.setText(message or DEFAULT_TEXT)
