"""Two views side by side when the window is wide enough for both, one above the other when not.

A table beside a plot reads well on a wide screen; on a 1024-pixel one the table would need a
horizontal scroll bar (its last column, often the one that matters, out of sight). This
splitter turns vertical whenever the first part's wanted width and the second part's minimum
do not both fit, and horizontal again when they do.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QWidget


class FittingSplitter(QSplitter):
    def __init__(self, first: QWidget, second: QWidget, first_width: Callable[[], int], second_width: int = 260,
                 stretch: tuple = (3, 2), parent=None, turned: Callable = None,
                 first_height: Callable[[], int] = None):
        """``first_width()``: the pixels the first part wants (a table: all its columns);
        ``turned(orientation)`` is called when the orientation changes (the second part may
        lay itself out across, below the first); ``first_height()``, when given: the pixels the
        first part wants one above the other (it gets them, the second part keeping its
        minimum), instead of three fifths of the height."""
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setChildrenCollapsible(False)
        self.addWidget(first)
        self.addWidget(second)
        self.setStretchFactor(0, stretch[0])
        self.setStretchFactor(1, stretch[1])
        self._first_width = first_width
        self._second_width = second_width
        self._turned = turned
        self._first_height = first_height
        self._user_sized = False  # a drag of the handle: refit no longer resizes the parts
        self.splitterMoved.connect(self._on_moved)

    def fits_side_by_side(self, width: int) -> bool:
        return width >= self._first_width() + self._second_width + self.handleWidth()

    def refit(self) -> None:
        """Choose the orientation for the current width (call when the first part's wanted
        width changed, e.g. a table was filled); side by side, the first part gets the width
        it now wants (its share was chosen for what it wanted then, often an empty table)."""
        turned = self._choose(self.width())
        if not turned and not self._user_sized and self.orientation() == Qt.Orientation.Horizontal:
            self._give_first_its_width(self.width())

    def _on_moved(self, *_) -> None:
        self._user_sized = True

    def _choose(self, width: int) -> bool:
        """True when the orientation changed."""
        wanted = Qt.Orientation.Horizontal if self.fits_side_by_side(width) else Qt.Orientation.Vertical
        if wanted == self.orientation():
            return False
        self.setOrientation(wanted)
        if self._turned is not None:
            self._turned(wanted)
        self._user_sized = False  # the parts are shared anew for the new orientation
        if wanted == Qt.Orientation.Horizontal:
            self._give_first_its_width(width)
        else:
            self._share_height()
        return True

    def _give_first_its_width(self, width: int) -> None:
        first = min(self._first_width(), width - self._second_width)
        self.setSizes([first, max(width - first, 1)])

    def _share_height(self) -> None:
        height = max(self.height(), 2)
        first = height * 3 // 5
        if self._first_height is not None:
            first = max(min(self._first_height(), height - self.widget(1).minimumSizeHint().height()), 1)
        self.setSizes([first, max(height - first, 1)])

    def minimumSizeHint(self):
        """As narrow as the wider part: side by side is chosen only when both fit (a minimum of
        both widths side by side would keep the window from ever being narrow enough to turn)."""
        hint = super().minimumSizeHint()
        width = max(self.widget(k).minimumSizeHint().width() for k in range(self.count())) if self.count() else 0
        return hint.__class__(width, hint.height())

    def resizeEvent(self, event) -> None:
        self._choose(event.size().width())
        super().resizeEvent(event)
        if self._first_height is not None and self.orientation() == Qt.Orientation.Vertical:
            self._share_height()  # a new height: the first part still gets what it wants
