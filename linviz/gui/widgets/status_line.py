"""The status line: messages for the user, errors in red, and dialogs for bugs."""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox


class StatusLine(QLabel):
    """Shows what the workbench posts (``message_posted``) and what the job queue says about
    the running job (*transient* messages: "Paused", "Busy with ...", cleared when it ends)."""

    def __init__(self, workbench=None, parent=None):
        super().__init__("", parent)
        self.setObjectName("statusMessage")
        self.error_messages: list[str] = []  # every error shown, oldest first
        self._transient = ""
        self.dialogs_enabled = True  # off while the window closes
        if workbench is not None:
            workbench.message_posted.connect(self.show_message)

    def show_message(self, text: str, error: bool = False, transient: bool = False) -> None:
        self._transient = text if transient else ""
        self.setText(text)
        self.setToolTip(text)
        self.setStyleSheet("color: #b03020;" if error else "")
        if error:
            self.error_messages.append(text)

    def clear_transient(self) -> None:
        if self._transient and self.text() == self._transient:
            self.show_message("")

    def show_error(self, title: str, text: str, details: Optional[str] = None) -> None:
        """User errors go to the line; bugs (with ``details``) also get a non-modal dialog."""
        self.show_message(f"{title}: {text}", error=True)
        if details and self.dialogs_enabled:
            box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, self.window())
            box.setDetailedText(details)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
