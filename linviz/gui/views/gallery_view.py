"""The sample gallery: ONE mosaic of images, filterable by class, by "misclassified", by a
confusion-matrix cell; pages of 96; clicking an image selects it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QToolButton, QVBoxLayout,
                               QWidget)

from linviz.gui.pictures import mosaic
from linviz.gui.redraw import Redraw
from linviz.gui.views.mosaic_view import MosaicView

COLUMNS = 12
ROWS = 8
PAGE = COLUMNS * ROWS
REDRAW_MS = 250


class GalleryView(QWidget):
    """Browses splits given as arrays (``set_data``); bound to a workbench, its data, the
    model's validation predictions and the selection (a click selects in the workbench)."""

    imageSelected = Signal(str, int)  # split name, index in that split

    def __init__(self, bench=None, parent=None):
        super().__init__(parent)
        self.setObjectName("galleryView")
        self.split_box = QComboBox()
        self.split_box.addItems(["train", "validation"])
        self.split_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.split_box.setToolTip("Which split to browse")
        self.class_box = QComboBox()
        self.class_box.setToolTip("Show one class only")
        self.class_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.wrong_box = QCheckBox("misclassified")
        self.wrong_box.setToolTip("Validation images the current model gets wrong")
        self.wrong_box.setEnabled(False)
        self.prev_button = QToolButton(text="◀")
        self.next_button = QToolButton(text="▶")
        self.count_label = QLabel("")
        self.count_label.setObjectName("viewCaption")
        bar = QHBoxLayout()
        bar.setContentsMargins(2, 0, 2, 0)
        for w in (self.split_box, self.class_box, self.wrong_box):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.prev_button)
        bar.addWidget(self.next_button)
        self.mosaic = MosaicView()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.count_label)
        layout.addWidget(self.mosaic, 1)

        self._splits: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._display_order: dict[str, np.ndarray] = {}
        self._class_names: list[str] = []
        self._val_predictions: np.ndarray | None = None
        self._cell: tuple[int, int] | None = None
        self._indices = np.zeros(0, dtype=np.int64)
        self._page = 0
        self._shown = np.zeros(0, dtype=np.int64)
        self.selected: tuple[str, int] | None = None

        self.split_box.currentIndexChanged.connect(self._on_filter_changed)
        self.class_box.currentIndexChanged.connect(self._on_filter_changed)
        self.wrong_box.toggled.connect(self._on_filter_changed)
        self.prev_button.clicked.connect(self._on_prev)
        self.next_button.clicked.connect(self._on_next)
        self.mosaic.tileClicked.connect(self._on_tile_clicked)
        self._bench = bench
        self._evaluation = None
        if bench is not None:
            self._redraw = Redraw(bench, self._on_model, REDRAW_MS)
            bench.data_changed.connect(self._on_data)
            bench.model_changed.connect(self._redraw)
            bench.selection_changed.connect(self._on_selection)

    # ------------------------------------------------------------------ the workbench
    def _on_data(self, prepared) -> None:
        if prepared is None:
            self.set_data({}, [])
            return
        splits = {"train": (prepared.train.images, prepared.train.labels),
                  "validation": (prepared.val.images, prepared.val.labels)}
        if prepared.test is not None:
            splits["test"] = (prepared.test.images, prepared.test.labels)
        self.set_data(splits, prepared.class_names)

    def _on_model(self, model) -> None:
        evaluation = model.evaluation if model is not None else None
        if evaluation is not self._evaluation:
            self._evaluation = evaluation
            self.set_predictions(evaluation.val_predictions if evaluation is not None else None)

    def _on_selection(self, selection) -> None:
        in_gallery = selection is not None and selection.split in self._splits
        self.selected = (selection.split, selection.index) if in_gallery else None
        self._update_highlight()

    # ------------------------------------------------------------------ inputs
    def set_data(self, splits: dict[str, tuple[np.ndarray, np.ndarray]], class_names: list[str]) -> None:
        """``splits``: name -> (uint8 images (N,H,W,3), labels (N,)); "train" and "validation"."""
        self._splits = dict(splits)
        # Splits often come sorted by class; "all classes" shows them in a fixed shuffled order.
        self._display_order = {name: np.random.default_rng(0).permutation(len(labels))
                               for name, (_, labels) in self._splits.items()}
        self._class_names = list(class_names)
        self._val_predictions = None
        self._cell = None
        self.split_box.blockSignals(True)
        self.split_box.clear()
        self.split_box.addItems(list(self._splits) or ["train", "validation"])
        self.split_box.blockSignals(False)
        self.class_box.blockSignals(True)
        self.class_box.clear()
        self.class_box.addItem("all classes")
        self.class_box.addItems(self._class_names)
        self.class_box.blockSignals(False)
        self.wrong_box.setEnabled(False)
        self.wrong_box.setChecked(False)
        self.selected = None
        self._refilter()

    def set_predictions(self, val_predictions: np.ndarray | None) -> None:
        """Predicted classes of the validation split (enables the "misclassified" filter)."""
        self._val_predictions = val_predictions
        self.wrong_box.setEnabled(val_predictions is not None)
        if self.wrong_box.isChecked() or self._cell is not None:
            self._refilter(keep_page=True)

    def show_cell(self, true_class: int, predicted: int) -> None:
        """Show the validation images of class ``true_class`` predicted as ``predicted``."""
        self._cell = (true_class, predicted)
        for box in (self.split_box, self.class_box, self.wrong_box):
            box.blockSignals(True)
        self.split_box.setCurrentText("validation")
        self.class_box.setCurrentIndex(0)
        self.wrong_box.setChecked(False)
        for box in (self.split_box, self.class_box, self.wrong_box):
            box.blockSignals(False)
        self._refilter()

    # ------------------------------------------------------------------ filtering
    @Slot()
    def _on_filter_changed(self, *_):
        self._cell = None
        if self.wrong_box.isChecked() and self.split_box.currentText() != "validation":
            self.split_box.blockSignals(True)
            self.split_box.setCurrentText("validation")
            self.split_box.blockSignals(False)
        self._refilter()

    def _refilter(self, keep_page: bool = False) -> None:
        split = self.split_box.currentText()
        if split not in self._splits:
            self.mosaic.clear_picture()
            self.count_label.setText("no images")
            return
        images, labels = self._splits[split]
        mask = np.ones(len(labels), dtype=bool)
        describe = []
        preds = self._val_predictions if split == "validation" else None
        if preds is not None and len(preds) != len(labels):
            preds = None
        if self._cell is not None and preds is not None:
            t, p = self._cell
            mask &= (labels == t) & (preds == p)
            describe.append(f"true {self._class_names[t]}, predicted {self._class_names[p]}")
        else:
            c = self.class_box.currentIndex() - 1
            if c >= 0:
                mask &= labels == c
                describe.append(self._class_names[c])
            if self.wrong_box.isChecked() and preds is not None:
                mask &= preds != labels
                describe.append("misclassified")
        order = self._display_order.get(split)
        self._indices = order[mask[order]] if order is not None and len(order) == len(mask) else np.flatnonzero(mask)
        if not keep_page:
            self._page = 0
        self._page = min(self._page, max(0, (len(self._indices) - 1) // PAGE))
        self._draw(split, images, describe)

    def _draw(self, split: str, images: np.ndarray, describe: list[str]) -> None:
        start = self._page * PAGE
        shown = self._indices[start:start + PAGE]
        self._shown = shown
        what = ", ".join(describe) if describe else "all classes"
        n = len(self._indices)
        if n == 0:
            self.mosaic.clear_picture()
            self.count_label.setText(f"{split}: no images ({what})")
        else:
            pages = -(-n // PAGE)
            self.count_label.setText(f"{split}: {n:,} images ({what}), page {self._page + 1} of {pages}")
            tiles = images[shown]
            picture, layout = mosaic(tiles, COLUMNS, gap=2, rows=ROWS)
            self.mosaic.set_mosaic(picture, layout)
        self.prev_button.setEnabled(self._page > 0)
        self.next_button.setEnabled(start + PAGE < n)
        self._update_highlight()

    def _update_highlight(self) -> None:
        if self.selected is not None and self.selected[0] == self.split_box.currentText():
            hits = np.flatnonzero(self._shown == self.selected[1])
            if len(hits):
                k = int(hits[0])
                self.mosaic.highlight_tile(k // COLUMNS, k % COLUMNS)
                return
        self.mosaic.highlight_tile(None)

    @Slot()
    def _on_prev(self):
        self._page = max(0, self._page - 1)
        self._refilter(keep_page=True)

    @Slot()
    def _on_next(self):
        self._page += 1
        self._refilter(keep_page=True)

    @Slot(int, int)
    def _on_tile_clicked(self, row: int, col: int) -> None:
        k = row * COLUMNS + col
        if k < len(self._shown):
            self.select(self.split_box.currentText(), int(self._shown[k]))

    def select(self, split: str, index: int) -> None:
        self.selected = (split, index)
        self._update_highlight()
        if self._bench is not None:
            from linviz.gui.session import Selection

            self._bench.select(Selection(split, index))
        self.imageSelected.emit(split, index)

    @property
    def shown_indices(self) -> np.ndarray:
        return self._shown
