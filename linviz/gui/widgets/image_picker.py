"""Previous / next and a gallery to pick from, inside a lab that follows the selected image.

Without it a student looking inside one image, or at its nearest neighbours, had to go back
to the Training tab's gallery to see another. The buttons step through the selected image's
split (``same class``: through its class); "Gallery…" opens the gallery in a window of its
own beside the lab, where a click selects (the lab follows at once).
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QDialog, QHBoxLayout, QPushButton, QToolButton, QVBoxLayout, QWidget


class ImagePicker(QWidget):
    def __init__(self, workbench, parent=None):
        super().__init__(parent)
        self.setObjectName("imagePicker")
        self.workbench = workbench
        self.previous_button = QToolButton(text="◀")
        self.previous_button.setToolTip("The previous image (of the selected image's split, or class)")
        self.next_button = QToolButton(text="▶")
        self.next_button.setToolTip("The next image (of the selected image's split, or class)")
        self.same_class_box = QCheckBox("same class")
        self.same_class_box.setToolTip("◀ and ▶ step through the images of the selected image's true class")
        self.gallery_button = QPushButton("Gallery…")
        self.gallery_button.setToolTip("Pick an image from the gallery (a window beside this one; the lab follows "
                                       "each click)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        for widget in (self.previous_button, self.next_button, self.same_class_box, self.gallery_button):
            layout.addWidget(widget)
        self.dialog: Optional[QDialog] = None
        self.previous_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.gallery_button.clicked.connect(self.open_gallery)
        workbench.data_changed.connect(self._update_enabled)
        self._update_enabled()

    def _update_enabled(self, *_) -> None:
        has = self.workbench.data is not None
        for widget in (self.previous_button, self.next_button, self.same_class_box, self.gallery_button):
            widget.setEnabled(has)

    def step(self, step: int) -> None:
        self.workbench.step_selection(step, same_class=self.same_class_box.isChecked())

    def open_gallery(self) -> None:
        """The gallery in a window of its own (made once, then shown again)."""
        from linviz.gui.views.gallery_view import GalleryView

        if self.dialog is None:
            self.dialog = QDialog(self.window(), Qt.WindowType.Tool)
            self.dialog.setObjectName("pickerGallery")
            self.dialog.setWindowTitle("Pick an image")
            self.gallery = GalleryView(self.workbench)
            self.gallery.catch_up()
            close = QPushButton("Close")
            close.clicked.connect(self.dialog.hide)
            layout = QVBoxLayout(self.dialog)
            layout.setContentsMargins(4, 4, 4, 4)
            layout.addWidget(self.gallery, 1)
            layout.addWidget(close, 0, Qt.AlignmentFlag.AlignRight)
            self.dialog.resize(440, 420)
        self.dialog.show()
        self.dialog.raise_()
