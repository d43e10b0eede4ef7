"""The sample gallery: ONE mosaic of images, filterable by split, true class, predicted class
and "misclassified" (a confusion-matrix cell sets the true and predicted class); pages of 96;
a corner mark per image (green: the model is right, red: wrong), a tooltip with the predicted
class; clicking an image or the arrow keys select it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout,
                               QWidget)

from linviz.workbench.pictures import mosaic
from linviz.gui.runtime.redraw import Redraw
from linviz.gui.views.mosaic_view import MosaicView
from linviz.gui.widgets.choices import width_showing

COLUMNS = 12
ROWS = 8
PAGE = COLUMNS * ROWS
REDRAW_MS = 250
ANY_PREDICTION = "any prediction"
RIGHT = np.array([40, 170, 70], np.uint8)
WRONG = np.array([215, 40, 30], np.uint8)
MARK = 9  # the corner mark's side, in image pixels (of a 32-pixel image)


def mark_corners(picture: np.ndarray, layout, correct: np.ndarray) -> np.ndarray:
    """Paint a right-angled triangle into the top-right corner of each tile: green where the
    prediction is right, red where it is wrong (``correct``: bool per tile, in tile order)."""
    side = max(4, int(round(MARK * layout.tile_w / 32)))
    rows, cols = np.nonzero(np.triu(np.ones((side, side), bool)))  # above the diagonal: the corner
    for k, ok in enumerate(correct):
        y, x = layout.origin(k // COLUMNS, k % COLUMNS)
        picture[y + rows, x + layout.tile_w - side + cols] = RIGHT if ok else WRONG
    return picture


class GalleryView(QWidget):
    """Browses splits given as arrays (``set_data``); bound to a workbench, its data, the
    model's validation predictions and the selection (a click selects in the workbench)."""

    imageSelected = Signal(str, int)  # split name, index in that split
    cellShown = Signal(int, int)  # the confusion cell the filter shows (true, predicted), or (-1, -1)

    def __init__(self, workbench=None, parent=None):
        super().__init__(parent)
        self.setObjectName("galleryView")
        self.split_box = QComboBox()
        self.split_box.addItems(["train", "validation"])
        self.split_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.split_box.setMinimumContentsLength(6)
        self.split_box.setToolTip("Which split to browse")
        self.class_box = QComboBox()
        self.class_box.setObjectName("galleryClassBox")
        self.class_box.setToolTip("Show one true class only")
        self.class_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.class_box.setMinimumContentsLength(5)
        self.predicted_box = QComboBox()
        self.predicted_box.setObjectName("galleryPredictedBox")
        self.predicted_box.setToolTip("Show the images the model predicts as one class (validation; test once scored)")
        self.predicted_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.predicted_box.setMinimumContentsLength(5)
        self.predicted_box.setEnabled(False)
        self.wrong_box = QCheckBox("wrong")
        self.wrong_box.setToolTip("Only the images the current model gets wrong (validation; test once scored)")
        self.wrong_box.setEnabled(False)
        self.prev_button = QToolButton(text="◀")
        self.next_button = QToolButton(text="▶")
        self.count_label = QLabel("")
        self.count_label.setObjectName("viewCaption")
        self.count_label.setWordWrap(True)
        bar = QHBoxLayout()  # the filter; below it what it shows, with the page buttons
        bar.setContentsMargins(2, 0, 2, 0)
        for w in (self.class_box, self.predicted_box):  # wide windows: whole names; narrow ones: cut
            w.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            w.setMaximumWidth(220)
        self.predicted_box.setMinimumWidth(width_showing(self.predicted_box, ANY_PREDICTION))  # whole at 1024 px
        for w in (self.split_box, self.class_box, self.predicted_box, self.wrong_box):
            bar.addWidget(w)
        pages = QHBoxLayout()
        pages.setContentsMargins(0, 0, 2, 0)
        pages.addWidget(self.count_label, 1)
        pages.addWidget(self.prev_button)
        pages.addWidget(self.next_button)
        self.mosaic = MosaicView()
        self.mosaic.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.mosaic.tile_tooltip = self._tile_text
        self.mosaic.navigates = True
        self.mosaic.keyPressed.connect(self._on_key)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addLayout(pages)
        layout.addWidget(self.mosaic, 1)

        self._splits: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._display_order: dict[str, np.ndarray] = {}
        self._class_names: list[str] = []
        self._predictions: dict[str, np.ndarray] = {}  # split -> predicted class of every image
        self._model = None  # scores the shown train images (their marks and tooltips)
        self._page_predictions: np.ndarray | None = None
        self._cell: tuple[int, int] = (-1, -1)
        self._indices = np.zeros(0, dtype=np.int64)
        self._page = 0
        self._shown = np.zeros(0, dtype=np.int64)
        self.selected: tuple[str, int] | None = None

        self.split_box.currentIndexChanged.connect(self._on_filter_changed)
        self.class_box.currentIndexChanged.connect(self._on_filter_changed)
        self.predicted_box.currentIndexChanged.connect(self._on_filter_changed)
        self.wrong_box.toggled.connect(self._on_filter_changed)
        self.prev_button.clicked.connect(self._on_prev)
        self.next_button.clicked.connect(self._on_next)
        self.mosaic.tileClicked.connect(self._on_tile_clicked)
        self._bench = workbench
        self._evaluation = None
        if workbench is not None:
            # trailing: drawn in a turn of its own, after an epoch end's frame (see the confusion view)
            self._redraw = Redraw(workbench, self._on_model, REDRAW_MS, leading=False, widget=self)
            workbench.data_changed.connect(self._on_data)
            workbench.model_changed.connect(self._redraw)
            workbench.selection_changed.connect(self._on_selection)

    # ------------------------------------------------------------------ the workbench
    def catch_up(self) -> None:
        """Show what the workbench holds now (a gallery made after the data was loaded, e.g.
        a lab's image picker)."""
        bench = self._bench
        if bench is not None:
            self._on_data(bench.data)
            self._on_model(bench.model)
            self._on_selection(bench.selection)

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
        test = getattr(model, "test_predictions", None)
        self._model = model if model is not None and model.features is not None else None
        if evaluation is not self._evaluation or test is not self._predictions.get("test"):
            self._evaluation = evaluation
            self.set_predictions(evaluation.val_predictions if evaluation is not None else None, test)
        elif self.split_box.currentText() == "train" and not self._bench.training:
            # The train images' marks follow the weights: after a run or a load, not per frame.
            self._refilter(keep_page=True)

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
        from linviz.text import printable

        self._class_names = [printable(name) for name in class_names]
        self._predictions = {}
        self._cell = (-1, -1)
        self.split_box.blockSignals(True)
        self.split_box.clear()
        self.split_box.addItems(list(self._splits) or ["train", "validation"])
        self.split_box.blockSignals(False)
        for box, first in ((self.class_box, "all classes"), (self.predicted_box, ANY_PREDICTION)):
            box.blockSignals(True)
            box.clear()
            box.addItem(first)
            box.addItems(self._class_names)  # 100 classes: one call, no per-item relayout
            box.blockSignals(False)
        self.predicted_box.setEnabled(False)
        self.wrong_box.setEnabled(False)
        self.wrong_box.setChecked(False)
        self.selected = None
        self._refilter()

    def set_predictions(self, val_predictions: np.ndarray | None, test_predictions: np.ndarray | None = None) -> None:
        """Predicted classes of the validation split and (once scored) of the test split: they
        enable the "predicted" and "wrong" filters and mark the images."""
        self._predictions = {name: p for name, p in (("validation", val_predictions), ("test", test_predictions))
                             if p is not None}
        self._update_filter_boxes()
        self._refilter(keep_page=True)

    def _split_predictions(self, split: str) -> np.ndarray | None:
        preds = self._predictions.get(split)
        labels = self._splits[split][1] if split in self._splits else None
        return preds if preds is not None and labels is not None and len(preds) == len(labels) else None

    def _update_filter_boxes(self) -> None:
        has = self._split_predictions(self.split_box.currentText()) is not None
        self.predicted_box.setEnabled(has or bool(self._predictions))
        self.wrong_box.setEnabled(has or bool(self._predictions))

    def show_cell(self, true_class: int, predicted: int) -> None:
        """Show the validation images of class ``true_class`` predicted as ``predicted``: the
        filter shows in the boxes (true class, predicted class) and the first image is selected."""
        for box in (self.split_box, self.class_box, self.predicted_box, self.wrong_box):
            box.blockSignals(True)
        self.split_box.setCurrentText("validation")
        self.class_box.setCurrentIndex(true_class + 1)
        self.predicted_box.setCurrentIndex(predicted + 1)
        self.wrong_box.setChecked(False)
        for box in (self.split_box, self.class_box, self.predicted_box, self.wrong_box):
            box.blockSignals(False)
        self._update_filter_boxes()
        self._refilter()
        if len(self._shown):
            self.select("validation", int(self._shown[0]))
            self.mosaic.setFocus()

    # ------------------------------------------------------------------ filtering
    @Slot()
    def _on_filter_changed(self, *_):
        wants_predictions = self.wrong_box.isChecked() or self.predicted_box.currentIndex() > 0
        if wants_predictions and self._split_predictions(self.split_box.currentText()) is None:
            self.split_box.blockSignals(True)
            self.split_box.setCurrentText("validation")  # the split whose predictions are known
            self.split_box.blockSignals(False)
        self._update_filter_boxes()
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
        preds = self._split_predictions(split)
        c = self.class_box.currentIndex() - 1
        p = self.predicted_box.currentIndex() - 1
        if c >= 0:
            mask &= labels == c
            describe.append(f"true {self._class_names[c]}")
        if p >= 0 and preds is not None:
            mask &= preds == p
            describe.append(f"predicted {self._class_names[p]}")
        if self.wrong_box.isChecked() and preds is not None:
            mask &= preds != labels
            describe.append("wrong")
        cell = (c, p) if split == "validation" and c >= 0 and p >= 0 and preds is not None else (-1, -1)
        if cell != self._cell:
            self._cell = cell
            self.cellShown.emit(*cell)
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
            predicted = self._predicted_of_shown(split)
            if predicted is not None:
                picture = mark_corners(picture, layout, predicted == self._splits[split][1][shown])
                self.count_label.setToolTip("The corner of each image: green, the model is right; red, it is "
                                            "wrong. Hover an image for its predicted class; arrow keys move.")
            self.mosaic.set_mosaic(picture, layout)
        self.prev_button.setEnabled(self._page > 0)
        self.next_button.setEnabled(start + PAGE < n)
        self._update_highlight()

    def _predicted_of_shown(self, split: str) -> np.ndarray | None:
        """The predicted class of each shown image: known for validation (and scored test);
        the train images on the page are scored here (96 rows: cheap)."""
        preds = self._split_predictions(split)
        if preds is not None:
            self._page_predictions = preds[self._shown]
        elif split == "train" and self._model is not None and self._bench is not None \
                and self._bench.features is self._model.features:
            X = self._model.features.matrix("train")
            ok = X is not None and len(X) == len(self._splits[split][1]) and X.shape[1] == self._model.W.shape[0]
            self._page_predictions = np.argmax(self._model.scores(X[self._shown]), axis=1) if ok else None
        else:
            self._page_predictions = None
        return self._page_predictions

    def _tile_text(self, row: int, col: int) -> str:
        k = row * COLUMNS + col
        if k >= len(self._shown):
            return ""
        split = self.split_box.currentText()
        index = int(self._shown[k])
        true = int(self._splits[split][1][index])
        text = f"{split} image {index:,}: {self._class_names[true]}"
        preds = self._page_predictions
        if preds is not None and k < len(preds):
            p = int(preds[k])
            text += f", predicted {self._class_names[p]} ({'right' if p == true else 'wrong'})"
        return text

    @Slot(int)
    def _on_key(self, key: int) -> None:
        """Arrows move the selection over the page (and on to the next or previous page),
        Page Up / Down turn pages, Home / End go to the first / last image of the page."""
        n = len(self._shown)
        if n == 0:
            return
        split = self.split_box.currentText()
        hits = np.flatnonzero(self._shown == self.selected[1]) if self.selected and self.selected[0] == split else []
        k = int(hits[0]) if len(hits) else -1
        step = {int(Qt.Key.Key_Left.value): -1, int(Qt.Key.Key_Right.value): 1,
                int(Qt.Key.Key_Up.value): -COLUMNS, int(Qt.Key.Key_Down.value): COLUMNS}.get(key)
        pages = -(-len(self._indices) // PAGE)
        if step is not None:
            target = 0 if k < 0 else k + step
            if target >= n and self._page + 1 < pages:
                self._on_next()
                target = 0
            elif target < 0 and self._page > 0 and k >= 0:
                self._on_prev()
                target = len(self._shown) - 1
            target = min(max(target, 0), len(self._shown) - 1)
        elif key == int(Qt.Key.Key_PageDown.value) and self._page + 1 < pages:
            self._on_next()
            target = 0
        elif key == int(Qt.Key.Key_PageUp.value) and self._page > 0:
            self._on_prev()
            target = 0
        elif key == int(Qt.Key.Key_Home.value):
            target = 0
        elif key == int(Qt.Key.Key_End.value):
            target = n - 1
        else:
            return
        self.select(split, int(self._shown[target]))

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
            from linviz.workbench import Selection

            self._bench.select(Selection(split, index))
        self.imageSelected.emit(split, index)

    @property
    def shown_indices(self) -> np.ndarray:
        return self._shown
