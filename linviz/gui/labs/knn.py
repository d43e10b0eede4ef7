"""Nearest neighbors: choosing k by cross-validation, and why pixel distances fool kNN.

The lecture's first classifier, live: 5-fold cross-validation over a list of k (every fold a
dot, the mean with its standard deviation, the best k marked; the plot fills in as folds
finish), the k nearest training images of the selected image with their class, distance and
the vote (a white car next to white airplanes), and test accuracy beside a linear model with
the training and prediction time per image of both (kNN is free to train and slow to test).

The arithmetic is :mod:`linviz.explore.knn`, the jobs :mod:`linviz.workbench.knn_jobs`; this
module shows them. Long work (indexing the training images, cross-validation, the test) runs
on the heavy lane with progress and Cancel in the status bar, one image's neighbours on the
quick lane. Cross-validation publishes a
snapshot per fold (``ctx.publish``); ``jobs.run(..., on_publish=...)`` hands each to the plot.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListView,
                               QListWidget, QListWidgetItem, QPushButton, QSpinBox, QSplitter, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from linviz.gui.labs.lab import Lab
from linviz.gui.views.empty_plot import EmptyHint
from linviz.gui.views.plot_style import plain_axes
from linviz.gui.views.tables import reading_table
from linviz.gui.views.user_images_view import rgb_pixmap
from linviz.gui.widgets.image_picker import ImagePicker
from linviz.workbench.knn_jobs import (KeyedSetup, KnnTestResult, SetupKey, cv_job, index_job, knn_test_job,
                                       neighbors_job)
from linviz.text import counted

THUMB = 64  # neighbour thumbnails, pixels
QUERY_THUMB = 96
MAX_SHOWN = 50  # neighbours drawn (the vote counts all k)
FRAME = 3  # colored frame around a neighbour: its class is the query's (green) or not (red)
SAME, OTHER, UNKNOWN = (40, 150, 60), (200, 50, 40), (150, 150, 150)
DISTANCE_NAMES = {"l1": "L1 (sum |a − b|)", "l2": "L2 (Euclidean)", "cosine": "cosine (1 − cos)"}
FEATURE_CHOICES = ("raw", "raw16", "hog", "hog+hue", "color", "best")


def distance_text(d: float) -> str:
    """'7.66', '48.2', '1,713': three digits, or a whole number from 100 up (L1 distances of
    raw pixels run into thousands)."""
    return f"{d:,.0f}" if d >= 100 else f"{d:.3g}"


def time_text(seconds_per_image: Optional[float]) -> str:
    """'3.4 µs', '120 µs' or '1.5 ms' per image; '—' when it is not known."""
    if seconds_per_image is None:
        return "—"
    us = seconds_per_image * 1e6
    if us < 1000:
        return f"{us:.2g} µs" if us < 10 else f"{us:.0f} µs"
    return f"{us / 1000:.3g} ms"


# --------------------------------------------------------------------------- the lab


class KnnLab(Lab):
    title = "Nearest neighbors"
    short_title = "kNN"
    order = 40
    object_name = "knnLab"

    def __init__(self, workbench, job_queue, parent=None):
        super().__init__(workbench, job_queue, parent)
        self.setup: Optional[KeyedSetup] = None
        self.cv = None  # CrossValidation of the current setup
        self.cv_key: Optional[SetupKey] = None
        self.test: Optional[KnnTestResult] = None
        self.neighbors = None  # Neighbors of the selected image
        self._declined: Optional[SetupKey] = None  # an index job for this key was cancelled or failed
        self._indexing: Optional[SetupKey] = None
        self._waiting = False  # for the heavy lane, to index
        self._mistake = -1

        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setObjectName("viewCaption")
        self.feature_box = QComboBox()
        self.feature_box.setToolTip("What distances are measured on: raw pixels as in the course (values in [0, 1], "
                                    "not standardized) or a feature set (standardized, without the bias)")
        self.distance_box = QComboBox()
        for metric, text in DISTANCE_NAMES.items():
            self.distance_box.addItem(text, metric)
        self.distance_box.setCurrentIndex(1)
        self.size_spin = QSpinBox(minimum=10, maximum=10, value=10, singleStep=1000)
        self.size_spin.setGroupSeparatorShown(True)
        self.size_spin.setKeyboardTracking(False)  # one new index when the number is typed, not per digit
        self.size_spin.setToolTip("Training images kNN memorizes, drawn at random (the course uses 5,000)")
        self.ks_edit = QLineEdit("1, 3, 5, 8, 10, 12, 15, 20, 50, 100")
        self.ks_edit.setCursorPosition(0)  # a box narrower than the list shows its start: "1, 3, 5, ..."
        self.ks_edit.textChanged.connect(self._show_ks_whole)  # ... and its tooltip the whole list
        self._show_ks_whole(self.ks_edit.text())
        self.folds_spin = QSpinBox(minimum=2, maximum=10, value=5)
        self.folds_spin.setToolTip("Cross-validation folds")
        self.cv_button = QPushButton("Cross-validate")
        self.cv_button.setObjectName("knnCvButton")
        self.k_spin = QSpinBox(minimum=1, maximum=10, value=5)
        self.k_spin.setToolTip("k for the neighbors and the test (set to the best k after cross-validation)")
        self.test_button = QPushButton("Test")
        self.test_button.setObjectName("knnTestButton")
        self.test_button.setToolTip("Test accuracy with this k, beside a linear model on the same images")
        self.mistake_button = QPushButton("Next mistake")
        self.mistake_button.setToolTip("Select the next test image kNN got wrong, to see its neighbors")
        self.mistake_button.setEnabled(False)
        first = QHBoxLayout()
        for text, widget in (("Features", self.feature_box), ("Distance", self.distance_box),
                             ("Training images", self.size_spin)):
            first.addWidget(QLabel(text))
            first.addWidget(widget)
        first.addStretch(1)
        second = QHBoxLayout()
        second.addWidget(QLabel("k values"))
        second.addWidget(self.ks_edit, 1)
        second.addWidget(QLabel("Folds"))
        second.addWidget(self.folds_spin)
        second.addWidget(self.cv_button)
        second.addSpacing(8)
        second.addWidget(QLabel("k"))
        second.addWidget(self.k_spin)
        second.addWidget(self.test_button)
        second.addWidget(self.mistake_button)

        self.cv_plot = pg.PlotWidget()
        self.cv_plot.setObjectName("knnCvPlot")
        self.cv_plot.setMinimumHeight(150)
        item = self.cv_plot.getPlotItem()
        plain_axes(item)
        item.hideButtons()
        item.setMenuEnabled(False)
        item.getViewBox().setMouseEnabled(x=False, y=False)
        item.setLabel("bottom", "k (neighbors that vote)")
        item.setLabel("left", "validation accuracy")
        item.showGrid(y=True, alpha=0.2)
        self.fold_dots = pg.ScatterPlotItem(size=6, pen=None, brush=pg.mkBrush(90, 120, 170, 150))
        self.error_bars = pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), height=np.zeros(0), beam=0.25,
                                          pen=pg.mkPen((40, 40, 40), width=1.5))
        self.mean_line = pg.PlotDataItem([], [], pen=pg.mkPen((40, 40, 40), width=2), symbol="o", symbolSize=7,
                                         symbolBrush=(40, 40, 40))
        self.best_mark = pg.ScatterPlotItem(size=18, symbol="star", pen=pg.mkPen((150, 30, 20)),
                                            brush=pg.mkBrush(230, 70, 40))
        self.best_text = pg.TextItem(color=(150, 30, 20), anchor=(-0.15, 1.0))
        for graphic in (self.fold_dots, self.error_bars, self.mean_line, self.best_mark):
            item.addItem(graphic)
        item.addItem(self.best_text, ignoreBounds=True)
        self.cv_hint = EmptyHint(item)

        self.compare_table = reading_table("knnCompareTable", ["classifier", "accuracy", "training / image",
                                                               "prediction / image", "trained on"],
                                           row_height=22, selectable=False, stretch_last=False)
        self.compare_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.compare_table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.compare_table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.compare_table.setFixedHeight(3 * 22 + 6)
        self.compare_table.setVisible(False)
        self.compare_note = QLabel("")
        self.compare_note.setWordWrap(True)
        self.compare_note.setObjectName("viewCaption")
        self.query_picture = QLabel()
        self.query_picture.setFixedSize(QUERY_THUMB + 2 * FRAME, QUERY_THUMB + 2 * FRAME)
        self.query_text = QLabel("")
        self.query_text.setWordWrap(True)
        self.query_text.setTextFormat(Qt.TextFormat.RichText)
        self.query_text.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.neighbors_view = QListWidget()
        self.neighbors_view.setObjectName("neighborsView")
        self.neighbors_view.setViewMode(QListView.ViewMode.IconMode)
        self.neighbors_view.setIconSize(QSize(THUMB + 2 * FRAME, THUMB + 2 * FRAME))
        self.neighbors_view.setGridSize(QSize(THUMB + 2 * FRAME + 24, THUMB + 2 * FRAME + 38))
        self.neighbors_view.setResizeMode(QListView.ResizeMode.Adjust)
        self.neighbors_view.setMovement(QListView.Movement.Static)
        self.neighbors_view.setWordWrap(True)
        self.neighbors_view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        query_row = QHBoxLayout()
        query_row.setContentsMargins(0, 0, 0, 0)
        query_row.addWidget(self.query_picture, 0, Qt.AlignmentFlag.AlignTop)
        query_row.addWidget(self.query_text, 1)
        self.picker = ImagePicker(workbench)  # another image without leaving the lab
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.picker, 0, Qt.AlignmentFlag.AlignLeft)
        right_layout.addLayout(query_row)
        right_layout.addWidget(self.neighbors_view, 1)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.setObjectName("knnSplitter")
        split.setChildrenCollapsible(False)
        self.cv_caption = QLabel("")
        self.cv_caption.setWordWrap(True)
        self.cv_caption.setObjectName("viewCaption")
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.cv_caption)
        left_layout.addWidget(self.cv_plot, 1)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([500, 500])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addLayout(first)
        layout.addLayout(second)
        layout.addWidget(split, 1)
        layout.addWidget(self.compare_table)
        layout.addWidget(self.compare_note)

        workbench.data_changed.connect(self._on_data)
        workbench.features_changed.connect(self._on_features)
        workbench.selection_changed.connect(self.request_refresh)
        workbench.user_images_changed.connect(self.request_refresh)
        job_queue.runner.finished.connect(self._on_lane_free)
        for box in (self.feature_box, self.distance_box):
            box.activated.connect(self._on_setting)
        self.size_spin.valueChanged.connect(self._on_setting)
        self.k_spin.valueChanged.connect(self.request_refresh)
        self.cv_button.clicked.connect(self.cross_validate)
        self.test_button.clicked.connect(self.run_test)
        self.mistake_button.clicked.connect(self.next_mistake)
        self._fill_features()
        self._on_data(workbench.data)

    def _show_ks_whole(self, text: str) -> None:
        self.ks_edit.setToolTip(f"The values of k to cross-validate: {text}")

    # ------------------------------------------------------------------ state

    def current_key(self) -> Optional[SetupKey]:
        data = self.workbench.data
        if data is None or len(data.train.labels) < 2:
            return None
        from linviz.workbench.jobs import canonical_spec

        return SetupKey(data.key(), canonical_spec(self.feature_box.currentData()), int(self.size_spin.value()),
                        self.distance_box.currentData())

    def _fill_features(self) -> None:
        from linviz.features import PRESETS

        current = self.feature_box.currentData()
        self.feature_box.blockSignals(True)
        self.feature_box.clear()
        self.feature_box.addItem("raw pixels (course)", "raw")
        for name in FEATURE_CHOICES[1:]:
            self.feature_box.addItem(name, PRESETS.get(name, name))
        features = self.workbench.features
        if features is not None:
            known = {self._canonical(self.feature_box.itemData(i)) for i in range(self.feature_box.count())}
            if features.spec_text not in known:
                self.feature_box.addItem("Features panel's", features.spec_text)
                last = self.feature_box.count() - 1
                self.feature_box.setItemData(last, features.spec_text, Qt.ItemDataRole.ToolTipRole)
        index = self.feature_box.findData(current) if current is not None else 0
        self.feature_box.setCurrentIndex(max(0, index))
        self.feature_box.blockSignals(False)
        if current is not None and index < 0:  # the Features panel's spec it used is gone
            self._on_setting()

    @staticmethod
    def _canonical(spec: str) -> str:
        from linviz.workbench.jobs import canonical_spec

        return canonical_spec(spec)

    def _on_features(self, *_) -> None:
        self._fill_features()

    def _on_data(self, data) -> None:
        self.setup, self.cv, self.cv_key, self.test, self.neighbors = None, None, None, None, None
        self._declined, self._mistake = None, -1
        n = len(data.train.labels) if data is not None else 0
        self.size_spin.blockSignals(True)
        self.size_spin.setRange(min(10, max(n, 1)), max(n, 1))
        self.size_spin.setValue(min(5000, n) if n else 1)
        self.size_spin.blockSignals(False)
        self.k_spin.setMaximum(max(1, min(n - 1, 1000)))
        self._draw_cv(None)
        self._show_test(None)
        self.request_refresh()

    def _on_setting(self, *_) -> None:
        key = self.current_key()
        if self.cv_key is not None and key != self.cv_key:
            self.cv, self.cv_key = None, None
            self._draw_cv(None)
        if self.test is not None and key != self.test.key:
            self._show_test(None)
        self.request_refresh()

    def _on_lane_free(self, *_) -> None:
        if self._waiting:
            self._waiting = False
            self.request_refresh()

    # ------------------------------------------------------------------ refresh: index, then neighbours
    def refresh(self) -> None:
        key = self.current_key()
        if key is None:
            self._say("Load a dataset with at least two training images to classify with nearest neighbors.")
            self._show_neighbors(None)
            return
        self._say_setup(key)
        if self.setup is None or self.setup.key != key:
            self._show_neighbors(None)
            self._index(key)
            return
        self._find_neighbors()

    def _index(self, key: SetupKey) -> None:
        runner = self.job_queue.runner
        if key == self._declined:
            self.query_text.setText("Indexing was cancelled: change a setting, or press Cross-validate or Test.")
            return
        if runner.busy and runner.job_name not in ("warmup",) and not runner.job_name.startswith("knn"):
            self._waiting = True
            self.query_text.setText(f"The training images are indexed for kNN when {runner.job_name} has finished.")
            return
        if runner.busy and runner.job_name.startswith("knn"):
            self._waiting = True
            return
        self.query_text.setText("Indexing the training images...")
        self._indexing = key
        self.job_queue.run("knn-index", index_job(key, self.workbench.data, self.setup),
                      "Indexing the training images for kNN", on_done=self._indexed)

    def _indexed(self, outcome) -> None:
        if outcome.ok:
            if self.workbench.is_current(outcome.result.key.data_key):
                self.setup = outcome.result
            self.request_refresh()
            return
        self._declined = self._indexing
        if outcome.error:
            self.workbench.post_message(f"Nearest neighbors: {outcome.error}", error=True)
        self.refresh()

    def _keep_setup(self, keyed: KeyedSetup) -> None:
        if keyed is not None and keyed is not self.setup and self.workbench.is_current(keyed.key.data_key):
            self.setup = keyed

    def _find_neighbors(self) -> None:
        selected = self.workbench.selected_image()
        if selected is None:
            self._show_neighbors(None, "Select an image (◀ ▶ or Gallery… above, the Training tab's gallery or "
                                       "confusion matrix, or your images) to see its "
                                       "nearest training images.")
            return
        keyed = self.setup
        k = min(int(self.k_spin.value()), len(keyed.value.y) - 1)
        exclude = None
        if selected.selection.split == "train":
            exclude = selected.selection.index  # a training image is not its own neighbour
        self.submit("neighbors", neighbors_job(keyed, selected.image, k, exclude),
                    lambda outcome: self._neighbors_found(outcome, keyed, selected))

    def _neighbors_found(self, outcome, keyed: KeyedSetup, selected) -> None:
        if outcome.error:
            self.workbench.post_message(f"Nearest neighbors: {outcome.error}", error=True)
        if not outcome.ok or keyed is not self.setup or self.workbench.selection != selected.selection:
            return
        self.neighbors = outcome.result
        self._show_neighbors(outcome.result, selected=selected)

    # ------------------------------------------------------------------ heavy jobs
    def _ks(self):
        from linviz.errors import LinvizError
        from linviz.explore.knn import parse_ks

        try:
            return parse_ks(self.ks_edit.text())
        except LinvizError as exc:
            self.workbench.post_message(f"Nearest neighbors: {exc}", error=True)
            return None

    def cross_validate(self) -> None:
        from linviz.explore.knn import ks_that_fit

        key = self.current_key()
        ks = self._ks()
        if key is None or ks is None:
            return
        folds = int(self.folds_spin.value())
        ks, too_big, smallest_fold = ks_that_fit(ks, key.train_size, folds)
        if too_big:
            # A few images (a small project): the k's that fit are validated, the others said.
            self.workbench.post_message(f"Nearest neighbors: k {', '.join(map(str, too_big))} "
                                        f"{'is' if len(too_big) == 1 else 'are'} more than the {smallest_fold:,} "
                                        f"training images of a fold"
                                        + ("; cross-validating the others" if ks else ""), error=not ks)
            if not ks:
                return
        self.cv, self.cv_key = None, key
        self._draw_cv(None)
        self.job_queue.run("knn-cv", cv_job(key, self.workbench.data, self.setup, ks, folds),
                      f"{folds}-fold cross-validation", on_publish=self._on_fold, on_done=self._cv_done)

    def _on_fold(self, value) -> None:
        keyed, cv = value
        had_setup = self.setup is not None and self.setup.key == keyed.key
        self._keep_setup(keyed)
        if not had_setup:
            self.request_refresh()  # the neighbours can be found now
        if keyed.key == self.cv_key and cv is not self.cv:
            self.cv = cv
            self._draw_cv(cv)

    def _cv_done(self, outcome) -> None:
        if outcome.ok:
            keyed, cv = outcome.result
            self._on_fold((keyed, cv))
            if keyed.key == self.cv_key and cv is not None and cv.best_k is not None:
                self.k_spin.setMaximum(max(self.k_spin.maximum(), cv.best_k))
                self.k_spin.setValue(cv.best_k)
        elif outcome.cancelled:
            done = self.cv.folds_done if self.cv is not None else 0
            self.workbench.post_message(f"Cross-validation cancelled after {counted(done, 'fold')}")
        elif outcome.error:
            self.workbench.post_message(f"Cross-validation: {outcome.error}", error=True)
        self.request_refresh()

    def _test_split(self) -> Optional[str]:
        data = self.workbench.data
        if data.test is not None and len(data.test.labels):
            return "test"
        return "validation" if data.has_validation else None

    def _linear_reference(self, key: SetupKey, split: str) -> dict:
        """The current model when it reads the same features of the same data, else {} (one is
        trained with the defaults)."""
        model, features = self.workbench.model, self.workbench.features
        if model is None or features is None or features.spec_text != key.spec or features.data_key != key.data_key:
            return {}
        X = features.matrix(split)
        if X is None:
            return {}
        frame = self.workbench.frame
        trained_here = frame is not None and frame.model is model and frame.wall_seconds is not None
        return {"W": np.asarray(model.W, np.float32), "X_test": X, "n_train": len(self.workbench.data.train.labels),
                "train_seconds": frame.wall_seconds if trained_here else None,
                "name": f"linear: the current model ({model.loss})",
                "note": "trained in this window" if trained_here else "training time unknown (loaded model)"}

    def run_test(self) -> None:
        key = self.current_key()
        if key is None:
            return
        split = self._test_split()
        if split is None:
            self.workbench.post_message("Nearest neighbors: this dataset has no test or validation images", error=True)
            return
        k = int(self.k_spin.value())
        if k > key.train_size:
            self.workbench.post_message(f"Nearest neighbors: k {k} is more than the {key.train_size:,} training images",
                                    error=True)
            return
        self.compare_note.setText(f"Testing kNN with k = {k} on the {split} images...")
        self.job_queue.run("knn-test", knn_test_job(key, self.workbench.data, self.setup, k, split,
                                           self._linear_reference(key, split)),
                      f"kNN test (k = {k})", on_done=self._tested)

    def _tested(self, outcome) -> None:
        if outcome.ok:
            keyed, result = outcome.result
            self._keep_setup(keyed)
            if self.workbench.is_current(result.key.data_key):
                self._show_test(result)
        else:
            self.compare_note.setText("Test cancelled." if outcome.cancelled else "")
            if outcome.error:
                self.workbench.post_message(f"kNN test: {outcome.error}", error=True)
        self.request_refresh()

    def next_mistake(self) -> None:
        from linviz.workbench import Selection

        if self.test is None or not len(self.test.mistakes):
            return
        mistakes = self.test.mistakes
        self._mistake = int(np.searchsorted(mistakes, self._mistake, side="right")) % len(mistakes)
        self._mistake = int(mistakes[self._mistake])
        self.workbench.select(Selection(self.test.split, self._mistake))

    # ------------------------------------------------------------------ drawing
    def _say(self, text: str) -> None:
        self.caption.setText(text)

    def _say_setup(self, key: SetupKey) -> None:
        n = len(self.workbench.data.train.labels)
        what = "raw pixels, unstandardized as in the course" if key.spec == self._canonical("raw") else \
            "standardized features (no bias)"
        self._say(f"k-nearest neighbors on {key.train_size:,} of {n:,} training images ({what}), "
                  f"{DISTANCE_NAMES[key.metric]} distance. Equal distances go to the lower training index, "
                  "equal votes to the smaller class index.")

    def _draw_cv(self, cv) -> None:
        item = self.cv_plot.getPlotItem()
        if cv is None:
            self.fold_dots.setData([], [])
            self.mean_line.setData([], [])
            self.error_bars.setData(x=np.zeros(0), y=np.zeros(0), height=np.zeros(0))
            self.best_mark.setData([], [])
            self.best_text.setText("")
            self.cv_caption.setText("Cross-validation: choose the k values and press Cross-validate.")
            item.getAxis("bottom").setTicks(None)
            self.cv_hint.show("Press Cross-validate: each fold's validation accuracy for every k fills in here, "
                              "the best k starred")
            return
        self.cv_hint.filled()
        n_k = len(cv.ks)
        item.getAxis("bottom").setTicks([[(i, str(k)) for i, k in enumerate(cv.ks)]])
        done = cv.finished
        xs = np.tile(np.arange(n_k, dtype=float), len(done))
        self.fold_dots.setData(xs, done.ravel())
        if len(done):
            x = np.arange(n_k, dtype=float)
            mean, std = cv.mean, cv.std
            self.mean_line.setData(x, mean)
            self.error_bars.setData(x=x, y=mean, height=2 * std)
            best = cv.best_index
            self.best_mark.setData([best], [mean[best]])
            self.best_text.setText(f"best k = {cv.ks[best]}")
            # beside the star, on the side with room (a label centred on the first k is cut off)
            self.best_text.setAnchor((-0.15, 1.0) if best < n_k / 2 else (1.15, 1.0))
            self.best_text.setPos(best, mean[best])
        item.setXRange(-0.6, n_k - 0.4, padding=0)
        status = "" if cv.done else f" — fold {cv.folds_done} of {cv.folds}"
        best = "" if cv.best_k is None else (f"; best k = {cv.best_k} "
                                             f"({cv.mean[cv.best_index]:.3f} ± {cv.std[cv.best_index]:.3f})")
        self.cv_caption.setText(f"{cv.folds}-fold cross-validation on {cv.n_train:,} images: each dot a fold's "
                                f"accuracy, the line their mean ± standard deviation{best}{status}")

    def _show_test(self, result: Optional[KnnTestResult]) -> None:
        self.test = result
        self.mistake_button.setEnabled(result is not None and len(result.mistakes) > 0)
        self._mistake = -1
        if result is None:
            self.compare_table.setVisible(False)
            self.compare_note.setText("Press Test for the test accuracy with k, beside a linear model.")
            return
        rows = [result.knn, result.linear]
        self.compare_table.setRowCount(len(rows))
        for r, timing in enumerate(rows):
            values = [timing.name, f"{timing.accuracy:.3f}",
                      time_text(None if timing.train_us_per_image is None else timing.train_us_per_image / 1e6),
                      time_text(timing.predict_us_per_image / 1e6), f"{timing.n_train:,}"]
            for c, text in enumerate(values):
                cell = QTableWidgetItem(text)
                if c:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if timing.note:
                    cell.setToolTip(timing.note)
                self.compare_table.setItem(r, c, cell)
        self.compare_table.setVisible(True)
        what = "test" if result.split == "test" else "validation (no test split)"
        slower = result.knn.predict_seconds / max(result.linear.predict_seconds, 1e-9)
        self.compare_note.setText(f"On {len(result.labels):,} {what} images: kNN is right on "
                                  f"{result.knn.accuracy:.1%} with k = {result.k}, "
                                  f"{len(result.mistakes):,} mistakes (Next mistake shows them); it takes "
                                  f"{slower:,.0f}x the linear model's time to test. Training: kNN only "
                                  f"memorizes; {result.linear.note}.")

    def _show_neighbors(self, found, message: str = "", selected=None) -> None:
        self.neighbors_view.clear()
        if found is None:
            self.cancel("neighbors")
            self.neighbors = None
            self.query_picture.clear()
            if message:
                self.query_text.setText(message)
            return
        data = self.workbench.data
        names = data.class_names
        truth = selected.true_class
        self.query_picture.setPixmap(rgb_pixmap(framed(selected.image, UNKNOWN, QUERY_THUMB), QUERY_THUMB + 2 * FRAME))
        verdict = ""
        if truth is not None:
            verdict = (' <span style="color:#289640">✔ right</span>' if found.predicted == truth
                       else ' <span style="color:#c83228">✘ wrong</span>')
        order = np.argsort(-found.votes, kind="stable")
        votes = ", ".join(f"{names[c]} {found.votes[c]}" for c in order if found.votes[c])
        true_text = f"true class <b>{names[truth]}</b>" if truth is not None else "no label (your image)"
        left_out = " (itself left out)" if selected.selection.split == "train" else ""
        shown = f"; the first {MAX_SHOWN} shown" if found.k > MAX_SHOWN else ""
        nearest = "Its nearest training image" if found.k == 1 else f"Its {found.k} nearest training images"
        self.query_text.setText(f"{selected.caption}: {true_text}<br>{nearest}"
                                f"{left_out}{shown}, nearest first. Vote: {votes} → <b>{names[found.predicted]}</b>"
                                f"{verdict}")
        images = data.train.images
        for rank in range(min(found.k, MAX_SHOWN)):
            label = int(found.labels[rank])
            color = UNKNOWN if truth is None else SAME if label == truth else OTHER
            picture = framed(images[found.indices[rank]], color, THUMB)
            entry = QListWidgetItem(QIcon(rgb_pixmap(picture, THUMB + 2 * FRAME)),
                                    f"{rank + 1}. {names[label]}\nd = {distance_text(found.distances[rank])}")
            entry.setForeground(QColor(*color) if truth is not None else QColor(40, 40, 40))
            entry.setToolTip(f"training image {found.indices[rank]:,}: {names[label]}, distance "
                             f"{found.distances[rank]:.6g}")
            self.neighbors_view.addItem(entry)


def framed(image: np.ndarray, color, size: int) -> np.ndarray:
    """The image scaled to ``size`` (nearest neighbour) with a colored frame around it."""
    from linviz.workbench.pictures import upscale

    out = np.empty((size + 2 * FRAME, size + 2 * FRAME, 3), np.uint8)
    out[...] = color
    out[FRAME:FRAME + size, FRAME:FRAME + size] = upscale(np.ascontiguousarray(image), size)
    return out
