"""The "Your classes" tab: make a classifier from a handful of your own images.

Left, the project: one card per class (name, count, thumbnails; drop files or folders on a
card, paste, or Add images...), and the start page when no project is open (New classes...,
the projects found). Right, the big probability bars of the selected or dropped image, live
while training, and "Add to class" for a dropped image the model gets wrong.

The view only asks; :class:`~linviz.gui.controllers.class_project_controller.ClassProjectController`
does the file work and loads the project as the window's data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QApplication, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QInputDialog, QLabel, QLineEdit, QListWidget, QListWidgetItem, QMenu, QMessageBox,
                               QPushButton, QSplitter, QStackedWidget, QVBoxLayout,
                               QWidget)

from superqt import QElidingLabel

from linviz.gui.controllers.class_project_controller import FEW_SHOT_PRESET
from linviz.gui.views.class_bars_view import ClassBarsView
from linviz.gui.widgets.class_card import ClassCard
from linviz.gui.widgets.scrolling import scrolling
from linviz.text import counted

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff);;All files (*)"
START_TEXT = ("<b>Make a classifier from your own images.</b> Name a few classes, add some images to each "
              "(drop files or folders on a class, paste, or Add images...), press Train, then drop a new "
              "image anywhere on the window to see how it is classified.")


class NewClassesDialog(QDialog):
    """A project's name, its first classes and where it goes (the data folder by default)."""

    def __init__(self, default_folder: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle("New classes")
        self.setObjectName("newClassesDialog")
        self.name_edit = QLineEdit("my classes")
        self.classes_edit = QLineEdit("Class 1, Class 2, Class 3")
        self.classes_edit.setToolTip("Comma-separated; you can add, rename and delete classes later")
        self.folder = default_folder
        self.folder_label = QLabel(default_folder)
        self.folder_label.setWordWrap(True)
        choose = QPushButton("Choose...")
        choose.clicked.connect(self._choose)
        where = QHBoxLayout()
        where.addWidget(self.folder_label, 1)
        where.addWidget(choose)
        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("Classes", self.classes_edit)
        form.addRow("In the folder", where)
        note = QLabel("The images are stored as files, one sub-folder per class: an ordinary image folder.")
        note.setWordWrap(True)
        note.setObjectName("viewCaption")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def _choose(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Where the project folder goes", self.folder)
        if folder:
            self.folder = folder
            self.folder_label.setText(folder)

    def values(self) -> tuple[str, list[str], str]:
        classes = [c.strip() for c in self.classes_edit.text().split(",") if c.strip()]
        return self.name_edit.text(), classes, self.folder


class YourClassesView(QWidget):
    trainRequested = Signal()

    def __init__(self, workbench, controller, parent=None):
        super().__init__(parent)
        self.setObjectName("yourClassesView")
        self.workbench = workbench
        self.controller = controller
        self.cards: dict[str, ClassCard] = {}
        self.current_class: Optional[str] = None
        # Dialogs the tests replace: ask_text(title, label, text) -> str | None, confirm(title, text) -> bool
        self.ask_text: Callable[[str, str, str], Optional[str]] = self._ask_text
        self.confirm: Callable[[str, str], bool] = self._confirm
        self.choose_files: Callable[[], list[str]] = self._choose_files

        # ---- the project column
        # on a line of its own, elided when even that is too narrow: beside the buttons, a long
        # project name took its width from the side panel at 1024 px
        self.title = QElidingLabel("Your classes")
        self.title.setObjectName("yourClassesTitle")
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.title.setFont(font)
        self.status = QLabel(" ")
        self.status.setObjectName("yourClassesStatus")
        self.status.setWordWrap(True)
        self.new_button = QPushButton("New classes...")
        self.new_button.setObjectName("newClassesButton")
        self.open_button = QPushButton("Open...")
        self.add_class_button = QPushButton("Add a class")
        self.add_class_button.setObjectName("addClassButton")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_class_button)
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)

        # start page: no project open
        start_text = QLabel(START_TEXT)
        start_text.setWordWrap(True)
        start_text.setTextFormat(Qt.TextFormat.RichText)
        self.project_list = QListWidget()
        self.project_list.setObjectName("projectList")
        self.project_list.itemActivated.connect(self._open_listed)
        self.project_list.itemDoubleClicked.connect(self._open_listed)
        open_listed = QPushButton("Open the selected project")
        open_listed.clicked.connect(lambda: self._open_listed(self.project_list.currentItem()))
        start = QWidget()
        start_layout = QVBoxLayout(start)
        start_layout.addWidget(start_text)
        start_layout.addWidget(QLabel("Your projects:"))
        start_layout.addWidget(self.project_list, 1)
        start_layout.addWidget(open_listed, 0, Qt.AlignmentFlag.AlignLeft)

        # the project's classes
        self.cards_widget = QWidget()
        self.cards_layout = QVBoxLayout(self.cards_widget)
        self.cards_layout.setContentsMargins(0, 0, 0, 0)
        self.cards_layout.addStretch(1)
        scroll = scrolling(self.cards_widget)
        self.pages = QStackedWidget()
        self.pages.addWidget(start)
        self.pages.addWidget(scroll)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(4, 4, 4, 4)
        left_layout.addWidget(self.title)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.status)
        left_layout.addWidget(self.pages, 1)

        # ---- the preview column: bars, Add to class, Train
        self.bars = ClassBarsView(workbench)
        self.add_to_button = QPushButton("Add to class ...")
        self.add_to_button.setObjectName("addToClassButton")
        self.add_to_menu = QMenu(self.add_to_button)
        self.add_to_button.setMenu(self.add_to_menu)
        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("yourClassesTrainButton")
        self.train_button.setToolTip("Load the classes (with every image added since) and train")
        self.features_note = QLabel(" ")
        self.features_note.setObjectName("viewCaption")
        self.features_note.setWordWrap(True)
        self.features_button = QPushButton(f"Use {FEW_SHOT_PRESET}")
        self.features_button.setObjectName("fewShotFeaturesButton")
        self.features_button.clicked.connect(controller.use_few_shot_features)
        actions = QHBoxLayout()
        actions.addWidget(self.train_button, 2)
        actions.addWidget(self.add_to_button, 1)
        features = QHBoxLayout()
        features.addWidget(self.features_note, 1)
        features.addWidget(self.features_button, 0, Qt.AlignmentFlag.AlignBottom)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 4, 4, 4)
        right_layout.addLayout(actions)
        right_layout.addWidget(self.bars, 1)
        right_layout.addLayout(features)
        self.right = right

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("yourClassesSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

        self.new_button.clicked.connect(self.new_project_dialog)
        self.open_button.clicked.connect(self.open_project_dialog)
        self.add_class_button.clicked.connect(self.add_class_dialog)
        self.train_button.clicked.connect(controller.train)
        paste = QShortcut(QKeySequence.StandardKey.Paste, self)
        paste.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        paste.activated.connect(lambda: self.paste(self.current_class))
        controller.features_panel.specChanged.connect(self._show_features_note)
        controller.changed.connect(self.refresh)
        controller.projectOpened.connect(self._on_opened)
        workbench.selection_changed.connect(self._update_add_to)
        workbench.data_changed.connect(self.refresh)
        workbench.model_changed.connect(self._show_status)
        workbench.training_changed.connect(self._show_status)
        self.refresh()

    # ------------------------------------------------------------------ showing the project
    def refresh(self, *_) -> None:
        controller = self.controller
        project = controller.project
        self.add_class_button.setVisible(project is not None)
        if project is None:
            self.title.setText("Your classes")
            self.title.setToolTip("")
            self.pages.setCurrentIndex(0)
            self._fill_project_list()
            self._set_cards({})
        else:
            from linviz.text import printable

            self.title.setText(printable(project.name))
            self.title.setToolTip(f"{printable(project.name)}\n{printable(str(project.root))}")
            self.pages.setCurrentIndex(1)
            self._set_cards(controller.listing)
            if controller.focus in self.cards:
                self.set_current(controller.focus)
        if self.current_class not in self.cards:
            self.set_current(next(iter(self.cards), None))
        self._update_add_to()
        self._show_status()

    def _fill_project_list(self) -> None:
        from linviz.text import printable

        self.project_list.clear()
        if not self.controller.recent():
            empty = QListWidgetItem("None yet: New classes... starts one")
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.project_list.addItem(empty)
        for path in self.controller.recent():
            item = QListWidgetItem(f"{printable(path.name)}    ({printable(str(path.parent))})")
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            item.setToolTip(printable(str(path)))
            self.project_list.addItem(item)

    def _set_cards(self, listing: dict) -> None:
        """One card per class, in class order (the label order), each with its images."""
        cards = {}
        for index, (name, paths) in enumerate(listing.items()):
            card = self.cards.pop(name, None) or self._make_card(name)
            cards[name] = card
            self.cards_layout.insertWidget(index, card)
            card.other_classes = [n for n in listing if n != name]
            card.set_images(paths, self.controller.thumbnails)
        for card in self.cards.values():  # classes that are gone
            self.cards_layout.removeWidget(card)
            card.deleteLater()
        self.cards = cards

    def _make_card(self, name: str) -> ClassCard:
        card = ClassCard(name)
        controller = self.controller
        card.filesDropped.connect(controller.add_files)
        card.addRequested.connect(self.add_images_dialog)
        card.pasteRequested.connect(self.paste)
        card.renameRequested.connect(self.rename_dialog)
        card.deleteRequested.connect(self.delete_dialog)
        card.removeRequested.connect(controller.remove_images)
        card.moveRequested.connect(controller.move_images)
        card.activated.connect(self.set_current)
        return card

    def set_current(self, name: Optional[str]) -> None:
        self.current_class = name
        for card_name, card in self.cards.items():
            card.set_current(card_name == name)

    def _show_status(self, *_) -> None:
        controller = self.controller
        if controller.project is None:
            self.status.setText("Start a project with New classes..., or open one of yours below.")
            self.train_button.setEnabled(False)
            self._show_features_note()
            return
        counts = controller.counts
        total = sum(counts.values())
        parts = [f"{len(counts)} classes, {total} images"]
        problem = controller.why_untrainable()
        if problem:
            parts.append(problem)
        elif not controller.is_loaded:
            parts.append("Train loads them")
        elif controller.dirty:
            parts.append("changed since they were loaded: the next training uses the changes")
        else:
            data = self.workbench.data
            parts.append(f"loaded: {len(data.train.labels)} to train on, {len(data.val.labels)} to validate")
        note = controller.validation_note()
        text = " · ".join(parts)
        if note and not problem:
            text += f"\n{note}"
        self.status.setText(text)
        self.train_button.setEnabled(problem is None and not self.workbench.training)
        self._show_features_note()

    def _show_features_note(self, *_) -> None:
        if self.controller.project is None:  # the probabilities shown are the current model's, not a project's
            self.features_note.setText(f"Above: the current model on the selected image. A project of your classes "
                                       f"trains on the '{FEW_SHOT_PRESET}' features, the preset that did best with "
                                       "10 and 30 images per class (measured on CIFAR-10).")
            self.features_button.setVisible(False)
            return
        in_use = self.controller.uses_few_shot_features()
        self.features_note.setText(
            f"Features: '{FEW_SHOT_PRESET}'{' (in use)' if in_use else ''}, the preset that did best with 10 and 30 "
            "images per class (measured on CIFAR-10)")
        self.features_button.setVisible(not in_use)

    def _on_opened(self) -> None:
        self.current_class = None

    # ------------------------------------------------------------------ Add to class
    def _update_add_to(self, *_) -> None:
        from linviz.text import printable

        selection = self.workbench.selection
        dropped = selection is not None and selection.split == "yours"
        classes = list(self.controller.listing) if self.controller.project is not None else []
        self.add_to_menu.clear()
        for name in classes:
            self.add_to_menu.addAction(printable(name), lambda name=name: self.add_selected_to(name))
        self.add_to_button.setEnabled(dropped and bool(classes))
        self.add_to_button.setToolTip(
            "Wrong? Put this dropped image in its right class: the next training uses it" if dropped else
            "Drop an image on the window to classify it; if the model is wrong, add it to its right class here")

    def add_selected_to(self, class_name: str) -> None:
        selection = self.workbench.selection
        if selection is None or selection.split != "yours":
            self.workbench.post_message("Add to class: select one of your dropped images first", error=True)
            return
        self.controller.add_user_image(selection.index, class_name)

    # ------------------------------------------------------------------ dialogs
    def new_project_dialog(self) -> None:
        dialog = NewClassesDialog(self.controller.default_folder(), self.window())
        if dialog.exec() == QDialog.DialogCode.Accepted:
            name, classes, folder = dialog.values()
            self.controller.new_project(name, classes, folder)

    def open_project_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open your classes (a folder with one sub-folder per class)",
                                                  self.controller.default_folder())
        if folder:
            self.controller.open_project(folder)

    def _open_listed(self, item) -> None:
        if item is not None:
            self.controller.open_project(item.data(Qt.ItemDataRole.UserRole))

    def add_class_dialog(self) -> None:
        name = self.ask_text("Add a class", "Name of the new class:", f"Class {len(self.cards) + 1}")
        if name:
            self.controller.add_class(name)

    def rename_dialog(self, name: str) -> None:
        new = self.ask_text("Rename the class", f"New name of {name}:", name)
        if new and new != name:
            self.controller.rename_class(name, new)

    def delete_dialog(self, name: str) -> None:
        n = len(self.controller.listing.get(name, []))
        if self.confirm("Delete the class",
                        f"Delete the class {name} and its {counted(n, 'image file')}? This cannot be undone."):
            self.controller.delete_class(name)

    def add_images_dialog(self, class_name: Optional[str] = None) -> None:
        """File > Add images... and a card's button: image files for a class (the current one)."""
        class_name = class_name or self.current_class
        if self.controller.project is None or class_name is None:
            self.workbench.post_message("Add images: create or open your classes first, and add a class",
                                        error=True)
            return
        paths = self.choose_files()
        if paths:
            self.controller.add_files(class_name, paths)

    def paste(self, class_name: Optional[str] = None) -> None:
        """The clipboard's image (or copied image files) into a class (the current one)."""
        class_name = class_name or self.current_class
        if self.controller.project is None or class_name is None:
            self.workbench.post_message("Paste: create or open your classes first, and add a class", error=True)
            return
        mime = QApplication.clipboard().mimeData()
        if mime is not None and mime.hasUrls() and any(u.isLocalFile() for u in mime.urls()):
            self.controller.add_files(class_name, [u.toLocalFile() for u in mime.urls() if u.isLocalFile()])
            return
        image = QApplication.clipboard().image()
        if image.isNull():
            self.workbench.post_message("Paste: the clipboard holds no image", error=True)
            return
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")
        buffer.close()
        import time

        self.controller.add_image_bytes(class_name, bytes(data.data()), time.strftime("pasted-%Y%m%d-%H%M%S.png"))

    def _ask_text(self, title: str, label: str, text: str) -> Optional[str]:
        value, ok = QInputDialog.getText(self, title, label, QLineEdit.EchoMode.Normal, text)
        return value if ok else None

    def _confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                                      QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def _choose_files(self) -> list[str]:
        paths, _ = QFileDialog.getOpenFileNames(self, f"Add images to {self.current_class}", str(Path.home()),
                                                IMAGE_FILTER)
        return paths

    # ------------------------------------------------------------------ size
    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._keep_bars_wide()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._keep_bars_wide()

    def _keep_bars_wide(self) -> None:
        """The bars take at least a third of the window's width (read from the back of a room),
        as long as the classes keep room for their thumbnails."""
        wanted = min(max(280, self.window().width() // 3 + 12), max(280, self.width() - 320))
        if self.right.minimumWidth() != wanted:
            self.right.setMinimumWidth(wanted)
