"""A word-wrapped label that claims the height its text needs.

Qt lays out a word-wrapped QLabel from a minimum height guessed for some other width; when a
lab is short of room (a 1024 x 700 screen) the layout squeezes the label below that and its
last lines are cut off, or drawn over the widget below. This label's minimum height follows
its width, so the layout takes the room from something that can give it (a plot).
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel


class WrappedLabel(QLabel):
    def __init__(self, text: str = "", parent=None):
        super().__init__(text, parent)
        self.setWordWrap(True)

    def setText(self, text: str) -> None:
        super().setText(text)
        self._claim()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._claim()

    def _claim(self) -> None:
        needed = self.heightForWidth(self.width()) if self.width() > 0 else -1
        if needed > 0 and needed != self.minimumHeight():
            self.setMinimumHeight(needed)
