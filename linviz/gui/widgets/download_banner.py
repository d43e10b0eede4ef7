"""The banner above the views: what data this is, and the way to real photos (CIFAR-10: open the
copy found on this machine, or download it) or to your own folder."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton

from linviz.gui.widgets.progress_row import ProgressRow

DEFAULT_TEXT = ("You are looking at the offline demo set (synthetic shapes). "
                "For real photos, download CIFAR-10 or open your own image folder.")
LOCAL_TEXT = ("You are looking at the offline demo set (synthetic shapes). "
              "CIFAR-10 is already on this machine: open it, or open your own image folder.")
DOWNLOAD_TEXT = "Download CIFAR-10 (170 MB)"
# What a failed download's low-level reason means for the user.
_OFFLINE = ("Errno -2", "Errno -3", "Errno -5", "Errno 101", "Name or service not known",
            "Temporary failure in name resolution", "nodename nor servname", "Network is unreachable",
            "No address associated")


def download_error_text(error: str) -> str:
    """A download failure in words: no network, a timeout, or the reason as given."""
    if any(marker in error for marker in _OFFLINE):
        return "no network connection (the download server cannot be reached from this machine)"
    if "timed out" in error.lower():
        return "the download server did not answer in time"
    return error


class DownloadBanner(QFrame):
    downloadRequested = Signal()
    cancelRequested = Signal()
    openRequested = Signal()
    localRequested = Signal(str)  # open the CIFAR-10 copy found on this machine
    classesRequested = Signal()  # make a classifier of one's own images ("Your classes")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("downloadBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.text = QLabel(DEFAULT_TEXT)
        self.text.setWordWrap(True)
        self.download_button = QPushButton(DOWNLOAD_TEXT)
        self.open_button = QPushButton("Open folder or archive...")
        self.classes_button = QPushButton("Your classes...")
        self.classes_button.setObjectName("bannerClassesButton")
        self.classes_button.setToolTip("Make a classifier of your own: name classes, add a few images to each, train")
        self.progress = ProgressRow(bar_width=200)
        self.progress.setVisible(False)
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
        layout.addWidget(self.classes_button)
        layout.addWidget(self.close_button)
        self.local_copy: Optional[str] = None
        self.on_demo = True
        self.download_button.clicked.connect(self._on_download_clicked)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.open_button.clicked.connect(self.openRequested)
        self.classes_button.clicked.connect(self.classesRequested)
        self.close_button.clicked.connect(self.hide)

    def _on_download_clicked(self) -> None:
        if self.local_copy is not None:
            self.localRequested.emit(self.local_copy)
        else:
            self.downloadRequested.emit()

    def show_source(self, source: str, on_demo: bool, is_cifar10: bool, local_copy: Optional[str]) -> None:
        """Say what is loaded and offer only what makes sense: no download of CIFAR-10 while it
        is loaded or already on the machine (then: open that copy)."""
        self.on_demo = on_demo
        self.local_copy = local_copy if not is_cifar10 else None
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        if on_demo:
            self.text.setText(LOCAL_TEXT if self.local_copy else DEFAULT_TEXT)
        elif is_cifar10:
            self.text.setText(f"CIFAR-10 is loaded ({source}). Open your own image folder or archive at any time.")
        else:
            self.text.setText(f"Loaded {source}. CIFAR-10 is "
                              + ("on this machine." if self.local_copy else "170 MB to download."))
        self.download_button.setVisible(not is_cifar10)
        self.download_button.setText("Open CIFAR-10 (on this machine)" if self.local_copy else DOWNLOAD_TEXT)

    def show_downloading(self, done: int, total: int) -> None:
        self.download_button.setVisible(False)
        self.cancel_button.setVisible(True)
        self.progress.setVisible(True)
        self.progress.show_progress(done, total, f"{done / 1e6:,.0f} of {total / 1e6:,.0f} MB" if total > 0 else None)
        self.text.setText("Downloading CIFAR-10 (you can keep working on the demo set)...")

    def show_idle(self, message: str = "", retry: bool = False) -> None:
        """Back to the buttons; after a failure or a cancel the button offers a retry."""
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)
        self.download_button.setVisible(True)
        self.local_copy = None if retry else self.local_copy
        self.download_button.setText("Retry download (170 MB)" if retry else DOWNLOAD_TEXT)
        self.text.setText(message or DEFAULT_TEXT)
