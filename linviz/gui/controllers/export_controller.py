"""Export any view as a picture: from its context menu and from File > Export view....

The views are found, not listed by hand, so a new lab's plots are exportable without telling
anyone: every widget of a tab whose object name ends in View, Plot, Map or Lab (the window's
naming rule for views) and every pyqtgraph plot. A plot's own right-click menu (pyqtgraph's,
which has its own "Export..." too) gets "Export this plot..." and, inside a named view,
"Export <that view>..."; right-clicking elsewhere in a named view opens a menu with the
latter. Both open the dialog with that view chosen.
"""

from __future__ import annotations

import re
from typing import Optional

from PySide6.QtCore import QObject, QPoint, QSettings, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

from linviz.gui.views.view_export import ExportError, export_view
from linviz.gui.widgets.view_tabs import ViewTabs

VIEW_NAME = re.compile(r".+(View|Plot|Map|Lab)$")
FOLDER_KEY = "files/export_folder"


def view_title(widget: QWidget) -> str:
    """'lossPlot' -> 'Loss plot'; a pyqtgraph plot without a name: its title or axis label."""
    name = widget.objectName()
    if name:
        words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower()
        return words[:1].upper() + words[1:]
    import pyqtgraph as pg

    if isinstance(widget, pg.PlotWidget):
        item = widget.getPlotItem()
        for text in (item.titleLabel.text, item.getAxis("left").labelText, item.getAxis("bottom").labelText):
            if text:
                return re.sub("<[^>]+>", "", str(text))[:40] + " plot"
    return "Plot"


def _named_view(widget: QWidget) -> bool:
    name = widget.objectName() or ""
    return not name.startswith("qt_") and bool(VIEW_NAME.match(name))


class ExportController(QObject):
    def __init__(self, window, tabs: ViewTabs, settings: QSettings, status, parent=None):
        super().__init__(parent)
        self.window = window
        self.tabs = tabs
        self.settings = settings
        self.status = status
        self.dialog = None
        self._menu: Optional[QMenu] = None
        self.install_menus()
        tabs.currentChanged.connect(lambda *_: self.install_menus())  # views made later (a lab's inner tabs)

    # ------------------------------------------------------------------ finding the views
    def _candidates(self, page: QWidget) -> list[tuple[str, QWidget]]:
        """The page's named views and plots (a plot inside a named view is titled after it)."""
        import pyqtgraph as pg

        found = []
        for widget in page.findChildren(QWidget):
            if _named_view(widget) or isinstance(widget, pg.GraphicsView):
                found.append(widget)
        titles = []
        seen_titles: dict[str, int] = {}
        for widget in found:
            title = view_title(widget)
            owner = self._owner(widget, page)
            if isinstance(widget, pg.GraphicsView) and not _named_view(widget) and owner is not None:
                title = f"{view_title(owner)}: plot"
            seen_titles[title] = seen_titles.get(title, 0) + 1
            if seen_titles[title] > 1:
                title = f"{title} {seen_titles[title]}"
            titles.append((title, widget))
        return titles

    @staticmethod
    def _owner(widget: QWidget, page: QWidget) -> Optional[QWidget]:
        """The nearest named view around ``widget`` (below the tab page), or None."""
        parent = widget.parentWidget()
        while parent is not None and parent is not page:
            if _named_view(parent):
                return parent
            parent = parent.parentWidget()
        return page if _named_view(page) else None

    def views(self) -> list[tuple[str, QWidget]]:
        """What File > Export view... offers: the window, the shown tab, its visible views."""
        index = self.tabs.currentIndex()
        page = self.tabs.currentWidget()
        views = [("The whole window", self.window), (f"The {self.tabs.title(index)} tab", page)]
        views += [(title, w) for title, w in self._candidates(page) if w.isVisible() and w.width() > 1]
        return views

    # ------------------------------------------------------------------ context menus
    def install_menus(self) -> None:
        for k in range(self.tabs.count()):
            page = self.tabs.widget(k)
            for title, widget in self._candidates(page):
                if not widget.property("exportInstalled"):
                    widget.setProperty("exportInstalled", True)
                    self._install(widget, title, self._owner(widget, page))

    def _install(self, widget: QWidget, title: str, owner: Optional[QWidget]) -> None:
        import pyqtgraph as pg

        if isinstance(widget, pg.GraphicsView):
            scene = widget.scene()
            plot = QAction("Export this plot...", widget)
            plot.triggered.connect(lambda *_, w=widget: self.open_dialog(w))
            scene.contextMenu.append(plot)
            if owner is not None and owner is not widget:
                whole = QAction(f"Export {view_title(owner).lower()}...", widget)
                whole.triggered.connect(lambda *_, w=owner: self.open_dialog(w))
                scene.contextMenu.append(whole)
            if any(isinstance(item, pg.ViewBox) and item.menuEnabled() for item in scene.items()):
                # pyqtgraph shows its menu (with ours) on a right click: no second menu from the parent
                widget.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)
                return
        if widget.contextMenuPolicy() == Qt.ContextMenuPolicy.DefaultContextMenu:
            widget.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            widget.customContextMenuRequested.connect(lambda pos, w=widget, t=title: self._show_menu(w, t, pos))

    def _show_menu(self, widget: QWidget, title: str, pos: QPoint) -> None:
        menu = QMenu(widget)
        menu.setObjectName("exportMenu")
        menu.addAction(f"Export {title.lower()}...", lambda: self.open_dialog(widget))
        self._menu = menu  # kept alive: popup() returns at once
        menu.popup(widget.mapToGlobal(pos))

    # ------------------------------------------------------------------ the dialog
    def folder(self) -> str:
        from pathlib import Path

        saved = self.settings.value(FOLDER_KEY, "")
        if isinstance(saved, str) and saved and len(saved) < 4096 and Path(saved).is_dir():
            return saved
        from PySide6.QtCore import QStandardPaths

        pictures = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
        return pictures if pictures and Path(pictures).is_dir() else str(Path.home())

    def open_dialog(self, current: Optional[QWidget] = None) -> None:
        """File > Export view... (``current``: the view whose menu was used)."""
        from linviz.gui.widgets.export_dialog import ExportDialog

        if current is not None and not any(w is current for _, w in self.views()):
            self.tabs.setCurrentIndex(self._tab_of(current))
        self.dialog = ExportDialog(self.views(), self.folder(), current, self.window)
        self.dialog.exportRequested.connect(self.export)
        self.dialog.open()

    def _tab_of(self, widget: QWidget) -> int:
        for k in range(self.tabs.count()):
            if self.tabs.widget(k).isAncestorOf(widget):
                return k
        return self.tabs.currentIndex()

    def export(self, widget: QWidget, path: str, size, fmt: str, title: str) -> Optional[str]:
        """Write the view; the error (or None) also goes to the dialog and the status line."""
        from pathlib import Path

        try:
            written = export_view(widget, path, size, fmt, title)
        except ExportError as exc:
            error = str(exc)
            self.status.show_message(f"Export: {error}", error=True)
            if self.dialog is not None:
                self.dialog.done_with(error)
            return error
        self.settings.setValue(FOLDER_KEY, str(Path(path).resolve().parent))
        self.status.show_message(f"Exported {title} to {path} ({written.width()} x {written.height()})")
        if self.dialog is not None:
            self.dialog.done_with(None)
        return None
