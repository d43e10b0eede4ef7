"""The window's row of view tabs: every title readable, every tab in sight.

A tab may have a short title beside its whole one ("kNN" for "Nearest neighbors"). The row
shows the whole titles when they fit; when they do not, it shortens the tabs that have a short
title, the one that saves the most first, only as many as it must. Each tab's tooltip keeps
the whole title, and the window, its saved workspaces and the docs name tabs by it.

No scroll arrows: a tab scrolled out of sight behind an arrow is a tab the student never
finds. Should even the short titles not fit (a much bigger font), Qt shortens the texts
("Optimiza…") rather than hide a tab.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QTabWidget, QWidget


class ViewTabs(QTabWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setDocumentMode(True)
        self.setElideMode(Qt.TextElideMode.ElideRight)
        self.setUsesScrollButtons(False)
        self._titles: dict[QWidget, tuple[str, str]] = {}  # page -> (whole title, short title)

    def add_view(self, page: QWidget, title: str, short_title: str = "") -> int:
        return self.insert_view(self.count(), page, title, short_title)

    def insert_view(self, index: int, page: QWidget, title: str, short_title: str = "") -> int:
        """Add ``page`` as a tab at ``index``, titled ``title``, or ``short_title`` when the
        row is too narrow for every whole title."""
        self._titles[page] = (title, short_title or title)
        index = self.insertTab(index, page, title)
        self.setTabToolTip(index, title)
        self.fit_titles()
        return index

    def title(self, index: int) -> str:
        """The whole title of tab ``index``, whichever title the tab shows."""
        return self._titles.get(self.widget(index), (self.tabText(index),))[0]

    def index_of_title(self, title: str) -> int:
        """The tab whose whole or short title is ``title``; -1 when none is."""
        for index in range(self.count()):
            if title in self._titles.get(self.widget(index), (self.tabText(index),)):
                return index
        return -1

    def fit_titles(self) -> None:
        """Whole titles, or as few short ones as make the row fit the widget's width."""
        bar = self.tabBar()
        metrics = bar.fontMetrics()
        titles = [self._titles.get(self.widget(i), (self.tabText(i),) * 2) for i in range(self.count())]
        # A tab's width is its text's plus the style's padding, whatever the text.
        padding = [bar.tabSizeHint(i).width() - metrics.horizontalAdvance(bar.tabText(i)) for i in range(self.count())]
        shown = [whole for whole, _ in titles]
        savings = sorted(((metrics.horizontalAdvance(whole) - metrics.horizontalAdvance(short), i)
                          for i, (whole, short) in enumerate(titles) if short != whole), reverse=True)
        width = sum(padding) + sum(metrics.horizontalAdvance(text) for text in shown)
        for saving, i in savings:
            if width <= self.width():
                break
            shown[i] = titles[i][1]
            width -= saving
        for i, text in enumerate(shown):
            if self.tabText(i) != text:
                self.setTabText(i, text)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit_titles()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):  # other widths, other padding
            self.fit_titles()
