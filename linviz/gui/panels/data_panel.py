"""Data: the source, split sizes, class list with counts, load progress."""

from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QAbstractItemView, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from linviz.gui.widgets.progress_row import ProgressRow
from linviz.text import counted
from linviz.training.recipe import DEFAULT_VALIDATION


class ValidationSizeBox(QSpinBox):
    """Validation images: a count, or -1, which reads "auto": the size every command holds out
    by default. The arrows step from auto to that default (1,000) and down from 0 to auto,
    else by 500."""

    def __init__(self):
        super().__init__(minimum=-1, maximum=100_000, value=-1, singleStep=500)
        self.setSpecialValueText("auto")

    def stepBy(self, steps: int) -> None:
        value = self.value()
        if value < 0 and steps > 0:
            self.setValue(DEFAULT_VALIDATION + (steps - 1) * self.singleStep())
        elif value >= 0 and value + steps * self.singleStep() < 0:
            self.setValue(0 if value > 0 else -1)
        else:
            super().stepBy(steps)


class DataPanel(QWidget):
    openRequested = Signal()
    demoRequested = Signal()
    downloadRequested = Signal()
    classesRequested = Signal()  # the "Your classes" tab
    splitsChanged = Signal()  # "Apply" pressed with new split settings

    def __init__(self, workbench=None, parent=None):
        super().__init__(parent)
        self.source_label = QLabel("No dataset")
        self.source_label.setWordWrap(True)
        self.source_label.setObjectName("sourceLabel")
        self.open_button = QPushButton("Open folder or archive...")
        self.demo_button = QPushButton("Demo set")
        self.download_button = QPushButton("Download CIFAR-10")
        self.classes_button = QPushButton("Your classes...")
        self.classes_button.setToolTip("Name classes and add a few images to each, inside the app")
        sources = QHBoxLayout()
        sources.addWidget(self.demo_button)
        sources.addWidget(self.download_button)
        self.progress = ProgressRow()
        self.progress.setVisible(False)
        self.skipped_label = QLabel("")
        self.skipped_label.setWordWrap(True)
        self.skipped_label.setVisible(False)
        source_box = QGroupBox("Source")
        source_layout = QVBoxLayout(source_box)
        source_layout.addWidget(self.source_label)
        source_layout.addWidget(self.open_button)
        source_layout.addLayout(sources)
        source_layout.addWidget(self.classes_button)
        source_layout.addWidget(self.progress)
        source_layout.addWidget(self.skipped_label)

        self.val_spin = ValidationSizeBox()
        self.val_spin.setToolTip("Images held out of the training split to validate on (stratified). auto: "
                                 f"{DEFAULT_VALIDATION:,}, at most a tenth of the training split, as the "
                                 "command line holds out; 0: none")
        self.per_class_spin = QSpinBox(minimum=0, maximum=100_000, value=0, singleStep=100)
        self.per_class_spin.setSpecialValueText("all")
        self.per_class_spin.setToolTip("Train on at most this many images per class, for quick runs")
        self.apply_button = QPushButton("Apply")
        self.sizes_label = QLabel(" ")
        self.sizes_label.setWordWrap(True)
        split_form = QFormLayout()
        split_form.addRow("Validation images", self.val_spin)
        split_form.addRow("Train per class", self.per_class_spin)
        split_box = QGroupBox("Splits")
        split_layout = QVBoxLayout(split_box)
        split_layout.addLayout(split_form)
        split_layout.addWidget(self.apply_button)
        split_layout.addWidget(self.sizes_label)

        self.class_table = QTableWidget(0, 4)
        self.class_table.setHorizontalHeaderLabels(["class", "train", "val", "test"])
        self.class_table.verticalHeader().setVisible(False)
        self.class_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.class_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.class_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)

        layout = QVBoxLayout(self)
        layout.addWidget(source_box)
        layout.addWidget(split_box)
        layout.addWidget(QLabel("Classes"))
        layout.addWidget(self.class_table, 1)

        self.open_button.clicked.connect(self.openRequested)
        self.demo_button.clicked.connect(self.demoRequested)
        self.download_button.clicked.connect(self.downloadRequested)
        self.classes_button.clicked.connect(self.classesRequested)
        self.apply_button.clicked.connect(self.splitsChanged)
        if workbench is not None:
            workbench.data_changed.connect(self._on_data)

    def _on_data(self, prepared) -> None:
        self.hide_progress()
        if prepared is None:
            return
        ds = prepared.dataset
        self.show_data(str(getattr(ds, "source", "dataset")), prepared.class_names, prepared.train.labels,
                       prepared.val.labels, prepared.test.labels if prepared.test is not None else None,
                       list(getattr(ds, "skipped", []) or []))

    def split_values(self) -> tuple[Optional[int], int]:
        """(validation size, None for auto; training images per class, 0 for all)."""
        val_size = int(self.val_spin.value())
        return (None if val_size < 0 else val_size), int(self.per_class_spin.value())

    def set_split_values(self, val_size: Optional[int], per_class: int) -> None:
        self.val_spin.setValue(-1 if val_size is None else int(val_size))
        self.per_class_spin.setValue(int(per_class))

    def show_data(self, source: str, class_names: list[str], train_labels: np.ndarray, val_labels: np.ndarray,
                  test_labels: np.ndarray | None, skipped: list) -> None:
        from linviz.text import printable

        source = printable(source)
        n = len(class_names)
        counts = [np.bincount(labels, minlength=n) if labels is not None else None
                  for labels in (train_labels, val_labels, test_labels)]
        self.source_label.setText(source)
        self.source_label.setToolTip(source)
        test_text = f"{len(test_labels):,}" if test_labels is not None else "none"
        sizes = f"train {len(train_labels):,} · validation {len(val_labels):,} · test {test_text}"
        if len(val_labels) == 0:
            sizes += ("\nNo validation split: training keeps its last weights, and nothing is chosen "
                      "on test images (they are scored only when you ask)")
        self.sizes_label.setText(sizes)
        self.class_table.setRowCount(n)
        for i, name in enumerate(class_names):
            self.class_table.setItem(i, 0, QTableWidgetItem(printable(name)))
            for col, c in enumerate(counts, start=1):
                self.class_table.setItem(i, col, QTableWidgetItem(f"{c[i]:,}" if c is not None else "-"))
        if skipped:
            first = "; ".join(f"{printable(str(p))}: {r}" for p, r in skipped[:3])
            self.skipped_label.setText(f"Skipped {counted(len(skipped), 'unreadable file')}: {first}")
            self.skipped_label.setVisible(True)
        else:
            self.skipped_label.setVisible(False)

    def show_progress(self, done: int, total: int) -> None:
        self.progress.setVisible(True)
        self.progress.show_progress(done, total)

    def hide_progress(self) -> None:
        self.progress.setVisible(False)
