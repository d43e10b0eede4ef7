"""One class of a "Your classes" project: its name, its count, its thumbnails, and a drop
target for image files and folders.

The card only asks (signals); the project controller does the file work. Drops land here
because the card accepts them itself (the window hands every other drop to "Your images").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (QAbstractItemView, QFrame, QHBoxLayout, QLabel, QListView, QListWidget,
                               QListWidgetItem, QMenu, QPushButton, QToolButton, QVBoxLayout)

from linviz.gui.views.user_images_view import rgb_pixmap
from linviz.text import counted

THUMB = 64
ROWS = 2  # thumbnail rows shown before the strip scrolls
PATH_ROLE = Qt.ItemDataRole.UserRole


class ClassCard(QFrame):
    filesDropped = Signal(str, list)  # class name, local paths
    addRequested = Signal(str)  # "Add images..." (a file dialog)
    pasteRequested = Signal(str)
    renameRequested = Signal(str)
    deleteRequested = Signal(str)
    removeRequested = Signal(list)  # image paths
    moveRequested = Signal(list, str)  # image paths, to class
    activated = Signal(str)  # the user worked with this card: it becomes the current class

    def __init__(self, name: str, parent=None):
        super().__init__(parent)
        self.name = name
        self.other_classes: list[str] = []
        self.setObjectName("classCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAcceptDrops(True)
        self._paths: list[Path] = []
        self.title = QLabel()
        self.title.setObjectName("classCardTitle")
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.count_label = QLabel()
        self.count_label.setObjectName("classCardCount")
        self.add_button = QPushButton("Add images...")
        self.add_button.setToolTip("Choose image files for this class (or drop files and folders on it, "
                                   "or paste an image with Ctrl+V)")
        self.menu_button = QToolButton()
        self.menu_button.setText("⋯")
        self.menu_button.setToolTip("Paste, rename or delete this class")
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.menu_button)
        self.paste_action = menu.addAction("Paste image", lambda: self.pasteRequested.emit(self.name))
        self.rename_action = menu.addAction("Rename...", lambda: self.renameRequested.emit(self.name))
        menu.addSeparator()
        self.delete_action = menu.addAction("Delete class...", lambda: self.deleteRequested.emit(self.name))
        self.menu_button.setMenu(menu)
        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addWidget(self.count_label, 1)
        header.addWidget(self.add_button)
        header.addWidget(self.menu_button)

        self.hint = QLabel("Drop images or folders here")
        self.hint.setObjectName("viewCaption")
        self.list = QListWidget()
        self.list.setObjectName("classThumbnails")
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setGridSize(QSize(THUMB + 8, THUMB + 8))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setWrapping(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self._fit_rows(0)
        self.list.setAcceptDrops(False)
        self.list.viewport().setAcceptDrops(False)
        self.list.setDragEnabled(False)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._image_menu)
        remove = QAction("Remove", self.list)
        remove.setShortcut(QKeySequence.StandardKey.Delete)
        remove.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        remove.triggered.connect(self._remove_selected)
        self.list.addAction(remove)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addWidget(self.hint)
        layout.addWidget(self.list)
        self.add_button.clicked.connect(lambda: self.addRequested.emit(self.name))
        self.list.itemSelectionChanged.connect(lambda: self.activated.emit(self.name))
        self.set_name(name)

    # ------------------------------------------------------------------ contents
    def set_name(self, name: str) -> None:
        from linviz.text import printable

        self.name = name
        self.title.setText(printable(name))
        self.title.setToolTip(printable(name))

    def set_images(self, paths: list[Path], thumbnails: dict) -> None:
        """Show ``paths`` (in order), each with its thumbnail once it is known."""
        n = len(paths)
        self.count_label.setText(f"{n} image{'s' if n != 1 else ''}")
        self.hint.setVisible(n == 0)
        if paths != self._paths:
            self.list.clear()
            for path in paths:
                item = QListWidgetItem()
                item.setData(PATH_ROLE, str(path))
                item.setToolTip(path.name)
                self.list.addItem(item)
            self._paths = list(paths)
        for row, path in enumerate(paths):
            item = self.list.item(row)
            if item.icon().isNull() and path in thumbnails:
                item.setIcon(QIcon(rgb_pixmap(np.asarray(thumbnails[path]), THUMB)))
        self._fit_rows(n)

    def _fit_rows(self, n: int) -> None:
        """As many thumbnail rows as the images need, up to ROWS (then the strip scrolls)."""
        per_row = max(1, (self.list.viewport().width() - 4) // (THUMB + 8))
        rows = min(ROWS, max(1, -(-n // per_row)))
        height = rows * (THUMB + 8) + 2 * self.list.frameWidth() + 4
        if self.list.height() != height:
            self.list.setFixedHeight(height)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_rows(len(self._paths))

    def selected_paths(self) -> list[str]:
        return [item.data(PATH_ROLE) for item in self.list.selectedItems()]

    def set_current(self, current: bool) -> None:
        self.setProperty("current", current)
        self.setStyleSheet("#classCard { border: 2px solid #1a73e8; border-radius: 4px; }" if current else "")

    # ------------------------------------------------------------------ images
    def _image_menu(self, pos) -> None:
        paths = self.selected_paths()
        if not paths:
            return
        menu = QMenu(self)
        menu.addAction(f"Remove {counted(len(paths), 'image')}", lambda: self.removeRequested.emit(paths))
        move = menu.addMenu("Move to")
        move.setEnabled(bool(self.other_classes))
        from linviz.text import printable

        for other in self.other_classes:
            move.addAction(printable(other), lambda other=other: self.moveRequested.emit(paths, other))
        self._menu = menu  # kept: popup() returns at once
        menu.popup(self.list.viewport().mapToGlobal(pos))

    def _remove_selected(self) -> None:
        paths = self.selected_paths()
        if paths:
            self.removeRequested.emit(paths)

    # ------------------------------------------------------------------ drops
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
            self.setStyleSheet("#classCard { border: 2px dashed #1a73e8; background: #e8f0fe; }")
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:
        self.set_current(bool(self.property("current")))

    def dropEvent(self, event) -> None:
        self.set_current(bool(self.property("current")))
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.activated.emit(self.name)
        self.filesDropped.emit(self.name, paths)

    def mousePressEvent(self, event) -> None:
        self.activated.emit(self.name)
        super().mousePressEvent(event)
