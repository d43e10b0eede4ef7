"""The "Your images" strip: thumbnails of dropped-in images with their top classes."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QImage, QPixmap, QIcon
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListView, QListWidget, QListWidgetItem, QPushButton,
                               QVBoxLayout, QWidget)

from linviz.gui.runtime.redraw import Redraw
from linviz.workbench.user_images import top_classes_caption

THUMB = 64


def rgb_pixmap(image: np.ndarray, size: int = THUMB) -> QPixmap:
    """uint8 (H, W, 3) -> a QPixmap scaled to ``size`` (the QImage copies, so no dangling buffer)."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    h, w = image.shape[:2]
    qimage = QImage(image.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(qimage).scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.FastTransformation)


REDRAW_MS = 250


class UserImagesView(QWidget):
    """Thumbnails of dropped-in images; bound to a workbench, its images with their top
    classes under the current model, and the selection."""

    imageSelected = Signal(int)
    openRequested = Signal()
    clearRequested = Signal()

    def __init__(self, workbench=None, parent=None):
        super().__init__(parent)
        self.setObjectName("dropZone")
        self.hint = QLabel("Drop image files or folders anywhere on the window, or use Open images...")
        self.hint.setWordWrap(True)
        self.hint.setObjectName("viewCaption")
        self.open_button = QPushButton("Open images...")
        self.clear_button = QPushButton("Clear")
        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.setGridSize(QSize(THUMB + 70, THUMB + 44))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setWordWrap(True)
        top = QHBoxLayout()
        top.setContentsMargins(2, 0, 2, 0)
        top.addWidget(self.hint, 1)
        top.addWidget(self.open_button)
        top.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.list, 1)
        self.list.currentRowChanged.connect(self._on_row_changed)
        self.open_button.clicked.connect(self.openRequested)
        self.clear_button.clicked.connect(self.clearRequested)
        self._bench = workbench
        if workbench is not None:
            self._redraw = Redraw(workbench, self._update_captions, REDRAW_MS, widget=self)
            workbench.user_images_changed.connect(self._on_images)
            workbench.model_changed.connect(self._redraw)
            workbench.features_changed.connect(self._update_captions)
            workbench.selection_changed.connect(self._on_selection)

    def _on_images(self) -> None:
        images = self._bench.user_images
        if len(images) < self.count():
            self.clear_images()
        for item in images[self.count():]:
            self.add_image(item.name, item.image)
        self._update_captions()

    def _update_captions(self, *_) -> None:
        """Captions (top classes) of the dropped images, for the current model."""
        workbench = self._bench
        model = workbench.model
        for row, item in enumerate(workbench.user_images):
            x = workbench.user_image_features(item) if model is not None else None
            caption = top_classes_caption(x, model.W if model else None, workbench.class_names,
                                          model.loss if model else "")
            self.set_caption(row, item.name, caption)

    def _on_selection(self, selection) -> None:
        row = selection.index if selection is not None and selection.split == "yours" else -1
        if row != self.list.currentRow():
            self.list.blockSignals(True)
            self.list.setCurrentRow(row)
            self.list.blockSignals(False)

    def add_image(self, name: str, image: np.ndarray) -> int:
        item = QListWidgetItem(QIcon(rgb_pixmap(image)), name)
        item.setToolTip(name)
        item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.list.addItem(item)
        return self.list.count() - 1

    def set_caption(self, row: int, name: str, top_classes: str) -> None:
        item = self.list.item(row)
        if item is not None:
            short = name if len(name) <= 16 else name[:13] + "..."
            text = f"{short}\n{top_classes}" if top_classes else short
            if item.text() != text:
                item.setText(text)

    def count(self) -> int:
        return self.list.count()

    def clear_images(self) -> None:
        self.list.clear()

    def select(self, row: int) -> None:
        self.list.setCurrentRow(row)

    @Slot(int)
    def _on_row_changed(self, row: int) -> None:
        if row >= 0:
            if self._bench is not None:
                from linviz.workbench import Selection

                self._bench.select(Selection("yours", row))
            self.imageSelected.emit(row)
