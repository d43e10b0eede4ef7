"""The Export view dialog: which view, PNG or SVG, the screen size or a chosen one, the file."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QRadioButton, QSpinBox,
                               QVBoxLayout, QWidget)

from linviz.gui.views.view_export import MAX_SIDE, fitted_size, is_vector


class ExportDialog(QDialog):
    """Asks; ``exportRequested(widget, path, size or None, format, title)`` does the work."""

    exportRequested = Signal(object, str, object, str, str)

    def __init__(self, views: list[tuple[str, QWidget]], folder: str, current: Optional[QWidget] = None,
                 parent=None):
        super().__init__(parent)
        self.setWindowTitle("Export view")
        self.setObjectName("exportDialog")
        self.views = views
        self.folder = folder
        self.view_box = QComboBox()
        self.view_box.setObjectName("exportViewBox")
        for title, _widget in views:
            self.view_box.addItem(title)
        self.format_box = QComboBox()
        self.format_box.setObjectName("exportFormatBox")
        self.screen_radio = QRadioButton()
        self.chosen_radio = QRadioButton("Chosen size")
        sizes = QButtonGroup(self)
        sizes.addButton(self.screen_radio)
        sizes.addButton(self.chosen_radio)
        self.screen_radio.setChecked(True)
        self.width_spin = QSpinBox(minimum=1, maximum=MAX_SIDE, value=1920, suffix=" px")
        self.height_spin = QSpinBox(minimum=1, maximum=MAX_SIDE, value=1080, suffix=" px")
        self.keep_box = QCheckBox("Keep proportions")
        self.keep_box.setChecked(True)
        chosen = QHBoxLayout()
        chosen.addWidget(self.chosen_radio)
        chosen.addWidget(self.width_spin)
        chosen.addWidget(QLabel("x"))
        chosen.addWidget(self.height_spin)
        chosen.addWidget(self.keep_box)
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("exportPathEdit")
        browse = QPushButton("Browse...")
        browse.clicked.connect(self._browse)
        where = QHBoxLayout()
        where.addWidget(self.path_edit, 1)
        where.addWidget(browse)
        self.note = QLabel(" ")
        self.note.setWordWrap(True)
        self.note.setObjectName("viewCaption")
        form = QFormLayout()
        form.addRow("View", self.view_box)
        form.addRow("Format", self.format_box)
        form.addRow("Size", self.screen_radio)
        form.addRow("", chosen)
        form.addRow("File", where)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setObjectName("exportButton")
        buttons.accepted.connect(self._export)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        self.view_box.currentIndexChanged.connect(self._on_view)
        self.format_box.currentIndexChanged.connect(self._on_format)
        self._syncing = False  # the dialog sets a spin box: no "the user chose a size"
        self.width_spin.valueChanged.connect(self._on_width)
        self.height_spin.valueChanged.connect(self._on_height)
        self.keep_box.toggled.connect(self._on_width)
        index = next((k for k, (_, w) in enumerate(views) if w is current), 0)
        self.view_box.setCurrentIndex(index)
        self._on_view(index)

    # ------------------------------------------------------------------ choices
    @property
    def widget(self) -> QWidget:
        return self.views[self.view_box.currentIndex()][1]

    @property
    def title(self) -> str:
        return self.views[self.view_box.currentIndex()][0]

    def _on_view(self, *_) -> None:
        widget = self.widget
        self.screen_radio.setText(f"Screen size ({widget.width()} x {widget.height()})")
        vector = is_vector(widget)
        previous = self.format_box.currentData()
        self.format_box.blockSignals(True)
        self.format_box.clear()
        self.format_box.addItem("PNG picture", "png")
        if vector:
            self.format_box.addItem("SVG drawing (vectors)", "svg")
        self.format_box.setCurrentIndex(max(0, self.format_box.findData(previous)))
        self.format_box.blockSignals(False)
        self.note.setText("" if vector else "This view shows pictures made of pixels: PNG only.")
        if self.keep_box.isChecked():
            self._sync_height()
        self._set_path_name()

    def _on_format(self, *_) -> None:
        self._set_path_name()

    def _set_path_name(self) -> None:
        fmt = self.format_box.currentData() or "png"
        text = self.path_edit.text().strip()
        if text:
            self.path_edit.setText(str(Path(text).with_suffix(f".{fmt}")))
        else:
            name = "".join(c if c.isalnum() else "-" for c in self.title.lower()).strip("-") or "view"
            self.path_edit.setText(str(Path(self.folder) / f"{name}.{fmt}"))

    def _on_width(self, *_) -> None:
        """The width changed: a size is chosen; the height follows when proportions are kept."""
        if self._syncing:
            return
        self.chosen_radio.setChecked(True)
        if self.keep_box.isChecked():
            self._sync_height()

    def _on_height(self, *_) -> None:
        if self._syncing:
            return
        self.chosen_radio.setChecked(True)
        if self.keep_box.isChecked():
            w, h = max(1, self.widget.width()), max(1, self.widget.height())
            self._syncing = True
            self.width_spin.setValue(min(MAX_SIDE, max(1, round(self.height_spin.value() * w / h))))
            self._syncing = False

    def _sync_height(self) -> None:
        self._syncing = True
        self.height_spin.setValue(min(MAX_SIDE, fitted_size(self.widget, self.width_spin.value()).height()))
        self._syncing = False

    def set_chosen_size(self, width: int, height: Optional[int] = None) -> None:
        """Choose a size (``height`` None: from the view's proportions)."""
        self.keep_box.setChecked(height is None)
        self.width_spin.setValue(width)
        if height is not None:
            self.height_spin.setValue(height)
        self.chosen_radio.setChecked(True)

    def size(self) -> Optional[QSize]:
        if self.screen_radio.isChecked():
            return None
        return QSize(self.width_spin.value(), self.height_spin.value())

    def _browse(self) -> None:
        fmt = self.format_box.currentData() or "png"
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.path_edit.text(),
                                              "PNG pictures (*.png)" if fmt == "png" else "SVG drawings (*.svg)")
        if path:
            self.path_edit.setText(path)

    def _export(self) -> None:
        path = self.path_edit.text().strip()
        if not path:
            self.note.setText("Give a file name")
            return
        self.exportRequested.emit(self.widget, path, self.size(), self.format_box.currentData() or "png", self.title)

    def done_with(self, error: Optional[str]) -> None:
        """The export's outcome: an error stays in the dialog, success closes it."""
        if error:
            self.note.setText(error)
        else:
            self.accept()
