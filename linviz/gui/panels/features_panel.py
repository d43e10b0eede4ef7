"""Features: which blocks (raw pixels, hue histogram, HOG, color layout), their parameters,
the presets, Extract with progress and timing; the selected image's HOG glyphs and hue
histogram."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from linviz.gui.views.empty_plot import EmptyHint
from linviz.workbench.pictures import hue_colors
from linviz.gui.widgets.progress_row import ProgressRow


class FeaturesPanel(QWidget):
    extractRequested = Signal()
    specChanged = Signal(str)

    def __init__(self, presets: dict[str, str] | None = None, workbench=None, parent=None):
        super().__init__(parent)
        self.preset_box = QComboBox()
        self.preset_box.addItem("custom", "")
        for name, text in (presets or {}).items():
            self.preset_box.addItem(name, text)
        self.preset_box.setToolTip("Feature sets from the course and beyond; 'best' is the most accurate")

        self.raw_box = QCheckBox("Raw pixels")
        self.raw_gray = QCheckBox("gray")
        self.hue_box = QCheckBox("Hue histogram")
        self.hue_bins = QSpinBox(minimum=2, maximum=64, value=10)
        self.hog_box = QCheckBox("HOG")
        self.hog_orientations = QSpinBox(minimum=2, maximum=36, value=9)
        self.hog_cell = QSpinBox(minimum=2, maximum=32, value=8)
        self.hog_block = QSpinBox(minimum=1, maximum=4, value=1)
        self.layout_box = QCheckBox("Color layout")
        self.layout_grid = QSpinBox(minimum=1, maximum=16, value=4)
        grid = QGridLayout()
        grid.addWidget(self.raw_box, 0, 0)
        grid.addWidget(self.raw_gray, 0, 1)
        grid.addWidget(self.hue_box, 1, 0)
        grid.addWidget(self._labelled("bins", self.hue_bins), 1, 1)
        grid.addWidget(self.hog_box, 2, 0)
        grid.addWidget(self._labelled("orient.", self.hog_orientations), 2, 1)
        grid.addWidget(self._labelled("cell", self.hog_cell), 3, 0)
        grid.addWidget(self._labelled("block", self.hog_block), 3, 1)
        grid.addWidget(self.layout_box, 4, 0)
        grid.addWidget(self._labelled("grid", self.layout_grid), 4, 1)

        self.spec_summary = QLabel("")  # a spec the boxes cannot show whole, in words
        self.spec_summary.setObjectName("viewCaption")
        self.spec_summary.setWordWrap(True)
        self.spec_summary.setVisible(False)
        self.spec_edit = QLineEdit()
        self.spec_edit.setToolTip("The feature spec (a preset name or e.g. hog:cell=8,hue:bins=10); editable")
        self.spec_error = QLabel("")
        self.spec_error.setWordWrap(True)
        self.spec_error.setStyleSheet("color: #b03020;")
        self.spec_error.setVisible(False)
        self.extract_button = QPushButton("Extract")
        self.progress = ProgressRow()
        self.progress.setVisible(False)
        self.timing_label = QLabel("Not extracted yet")
        self.timing_label.setWordWrap(True)

        choose = QGroupBox("Feature set")
        self.choose_box = choose
        form = QFormLayout()
        form.addRow("Preset", self.preset_box)
        choose_layout = QVBoxLayout(choose)
        choose_layout.addLayout(form)
        choose_layout.addLayout(grid)
        choose_layout.addWidget(self.spec_summary)
        choose_layout.addWidget(QLabel("Spec"))
        choose_layout.addWidget(self.spec_edit)
        choose_layout.addWidget(self.spec_error)
        choose_layout.addWidget(self.extract_button)
        choose_layout.addWidget(self.progress)
        choose_layout.addWidget(self.timing_label)

        # The selected image, seen through the features: HOG glyphs and hue histogram.
        self.image_caption = QLabel("Select an image to see its HOG glyphs and hue histogram")
        self.image_caption.setWordWrap(True)
        self.glyph_view = pg.GraphicsLayoutWidget()
        self.glyph_view.setFixedHeight(130)
        self.glyph_box = self.glyph_view.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.glyph_box.setMouseEnabled(x=False, y=False)
        self.image_item = pg.ImageItem()
        self.glyph_item = pg.ImageItem()
        self.glyph_box.addItem(self.image_item)
        self.glyph_box.addItem(self.glyph_item)
        self.hist_plot = pg.PlotWidget()
        self.hist_plot.setFixedHeight(130)
        self.hist_plot.getPlotItem().hideButtons()
        self.hist_plot.getPlotItem().setMouseEnabled(x=False, y=False)
        self.hist_plot.getPlotItem().setLabel("bottom", "hue bin")
        self.hist_bars = pg.BarGraphItem(x=[], height=[], width=0.8, brushes=[])
        self.hist_plot.addItem(self.hist_bars)
        self.hist_hint = EmptyHint(self.hist_plot.getPlotItem())
        selected = QGroupBox("Selected image")
        pictures = QHBoxLayout()
        pictures.addWidget(self.glyph_view, 3)
        pictures.addWidget(self.hist_plot, 2)
        selected_layout = QVBoxLayout(selected)
        selected_layout.addWidget(self.image_caption)
        selected_layout.addLayout(pictures)

        layout = QVBoxLayout(self)
        layout.addWidget(choose)
        layout.addWidget(selected)
        layout.addStretch(1)

        for box in (self.raw_box, self.raw_gray, self.hue_box, self.hog_box, self.layout_box):
            box.toggled.connect(self._on_controls_changed)
        for spin in (self.hue_bins, self.hog_orientations, self.hog_cell, self.hog_block, self.layout_grid):
            spin.valueChanged.connect(self._on_controls_changed)
        self.preset_box.currentIndexChanged.connect(self._on_preset_chosen)
        self.spec_edit.editingFinished.connect(self._on_spec_edited)
        self.extract_button.clicked.connect(self.extractRequested)
        self._bench = workbench
        self._canonical_presets: dict[int, str] = {}
        self._picture_retry = QTimer(self)  # the selected image's pictures, once the kernels are ready
        self._picture_retry.setSingleShot(True)
        self._picture_retry.setInterval(250)
        self._picture_retry.timeout.connect(self.show_selected_image)
        self._update_enabled()
        if workbench is not None:
            workbench.features_changed.connect(self._on_features)
            workbench.data_changed.connect(self._on_features)
            workbench.training_changed.connect(self._on_training_changed)
            workbench.selection_changed.connect(self.show_selected_image)
            self.specChanged.connect(self._on_spec_changed)

    def _on_training_changed(self, training: bool) -> None:
        """A run trains on the features it started with: locked (and said) while it runs."""
        self.choose_box.setEnabled(not training)
        self.choose_box.setTitle("Feature set (locked while training)" if training else "Feature set")

    def _on_features(self, features) -> None:
        self._describe_features()

    @Slot(str)
    def _on_spec_changed(self, _text: str) -> None:
        self.show_spec_error("")
        self._describe_features()
        self.show_selected_image()  # the glyphs follow the HOG settings

    def _describe_features(self) -> None:
        """The extracted features when they are this spec's; else what this spec will give."""
        from linviz.errors import LinvizError
        from linviz.features import FeaturePipeline, parse_feature_spec

        features = self._bench.features if self._bench is not None else None
        try:
            spec = parse_feature_spec(self.spec_text())
        except LinvizError:
            spec = None
        if features is not None and spec is not None and features.spec_text == str(spec):
            self.show_timing(f"{features.timing_text()} · {features.dim - 1:,} features per image")
            return
        data = self._bench.data if self._bench is not None else None
        shape = tuple(data.train.images.shape[1:3]) if data is not None and len(data.train.labels) else (32, 32)
        try:
            dim = FeaturePipeline(spec).blocks_for(shape)[-1].stop if spec is not None else None
        except (LinvizError, ValueError, IndexError):
            dim = None
        what = f"{dim:,} features per image with this spec; " if dim else ""
        self.show_timing(f"Not extracted yet: {what}Extract, or Train extracts them when needed")

    def show_selected_image(self, *_) -> None:
        """The selected image's HOG glyphs and hue histogram, with the HOG settings chosen
        here, so changing them shows at once what the classifier will see. While a first run
        compiles their kernels (in another process), the image alone, and again in a moment:
        compiling here would freeze the window."""
        from linviz.errors import LinvizError
        from linviz.features import parse_feature_spec
        from linviz.workbench.template_pictures import image_hog_and_hue, image_pictures_pending

        selected = self._bench.selected_image()
        if selected is None:
            return
        if image_pictures_pending():
            self.show_image_features(f"{selected.caption}: HOG glyphs and hue histogram as soon as linviz's "
                                     "kernels are ready", selected.image, None, None)
            self._picture_retry.start()
            return
        try:
            items = parse_feature_spec(self.spec_text()).items
        except LinvizError:
            items = ()
        # what the spec extracts, with its own parameters: its first HOG block and its hue histogram
        hog = next((dict(i.params) for i in items if i.name == "hog"), None)
        hue = next((dict(i.params) for i in items if i.name == "hue"), None)
        orientations, cell = (hog["orient"], hog["cell"]) if hog else (9, 8)
        bins = hue["bins"] if hue else 10
        try:
            glyphs, hist = image_hog_and_hue(selected.image, orientations=orientations, cell=cell, bins=bins)
            words = [f"HOG glyphs ({orientations} orientations, {cell} px cells)" if hog else "no HOG",
                     f"{bins}-bin hue histogram" if hue else "no hue histogram"]
            what = ", ".join(words) + " in this spec"
        except (LinvizError, ValueError, TypeError):
            glyphs, hist, what = None, None, "HOG needs a smaller cell for this image"
        self.show_image_features(f"{selected.caption}: {what}", selected.image, glyphs if hog else None,
                                 hist if hue else None)

    @staticmethod
    def _labelled(text: str, widget: QWidget) -> QWidget:
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel(text))
        row.addWidget(widget, 1)
        return holder

    # ------------------------------------------------------------------ the spec
    def spec_text(self) -> str:
        return self.spec_edit.text().strip()

    def set_spec_text(self, text: str) -> None:
        """Show ``text`` (a preset's name or spec selects that preset) and sync the check boxes."""
        i = self._preset_index(text)
        if i > 0:
            if i == self.preset_box.currentIndex():
                self._on_preset_chosen()
            else:
                self.preset_box.setCurrentIndex(i)
            return
        self._show_spec(text)
        self._sync_controls(text)
        self.specChanged.emit(text)

    def _preset_index(self, text: str) -> int:
        """The preset named ``text`` or whose spec is ``text`` (in any spelling), else 0 (custom)."""
        from linviz.errors import LinvizError
        from linviz.features import parse_feature_spec

        i = self.preset_box.findText(text)
        if i > 0:
            return i
        try:
            canonical = str(parse_feature_spec(text))
        except LinvizError:
            return 0
        for k in range(1, self.preset_box.count()):
            if self._canonical_presets.setdefault(k, str(parse_feature_spec(self.preset_box.itemData(k)))) == canonical:
                return k
        return 0

    def _show_spec(self, text: str) -> None:
        self.spec_edit.setText(text)
        self.spec_edit.setCursorPosition(0)  # the start of the spec says what it is

    def controls_spec(self) -> str:
        parts = []
        if self.raw_box.isChecked():
            parts.append("raw:gray=1" if self.raw_gray.isChecked() else "raw")
        if self.hog_box.isChecked():
            parts.append(f"hog:orient={self.hog_orientations.value()}:cell={self.hog_cell.value()}"
                         f":block={self.hog_block.value()}")
        if self.hue_box.isChecked():
            parts.append(f"hue:bins={self.hue_bins.value()}")
        if self.layout_box.isChecked():
            parts.append(f"layout:grid={self.layout_grid.value()}")
        return ",".join(parts)

    def _update_enabled(self) -> None:
        """A block's parameters are enabled only when the block is checked."""
        self.raw_gray.setEnabled(self.raw_box.isChecked())
        self.hue_bins.setEnabled(self.hue_box.isChecked())
        for spin in (self.hog_orientations, self.hog_cell, self.hog_block):
            spin.setEnabled(self.hog_box.isChecked())
        self.layout_grid.setEnabled(self.layout_box.isChecked())

    def _sync_controls(self, text: str) -> None:
        """Tick the boxes that a spec text mentions (best effort: the text stays the truth)."""
        from linviz.errors import LinvizError
        from linviz.features import parse_feature_spec

        try:  # every parameter, the defaults included: a box never keeps a value of the spec before
            text = str(parse_feature_spec(text))
        except LinvizError:
            pass
        widgets = [self.raw_box, self.raw_gray, self.hue_box, self.hog_box, self.layout_box, self.hue_bins,
                   self.hog_orientations, self.hog_cell, self.hog_block, self.layout_grid]
        for w in widgets:
            w.blockSignals(True)
        kinds = {}
        for part in text.split(","):
            name, *params = part.strip().split(":")
            kinds[name] = dict(p.split("=", 1) for p in params if "=" in p)
        self.raw_box.setChecked("raw" in kinds)
        self.raw_gray.setChecked(kinds.get("raw", {}).get("gray", "0") not in ("0", "false"))
        self.hue_box.setChecked("hue" in kinds)
        self.hog_box.setChecked("hog" in kinds)
        self.layout_box.setChecked("layout" in kinds)
        for kind, key, spin in (("hue", "bins", self.hue_bins), ("hog", "orient", self.hog_orientations),
                                ("hog", "cell", self.hog_cell), ("hog", "block", self.hog_block),
                                ("layout", "grid", self.layout_grid)):
            try:
                spin.setValue(int(kinds.get(kind, {}).get(key, spin.value())))
            except ValueError:
                pass
        for w in widgets:
            w.blockSignals(False)
        self._update_enabled()
        self._describe_beyond_the_boxes(text)

    def _describe_beyond_the_boxes(self, text: str) -> None:
        """A spec the boxes cannot show whole (several HOG blocks, other histograms, other
        parameters): the boxes show part of it, this line says all of it."""
        from linviz.errors import LinvizError
        from linviz.features import parse_feature_spec
        from linviz.workbench.spec_names import describe_spec

        try:
            spec = str(parse_feature_spec(text))
            shown = str(parse_feature_spec(self.controls_spec())) if self.controls_spec() else ""
        except LinvizError:
            self.spec_summary.setVisible(False)
            return
        beyond = spec != shown
        self.spec_summary.setText(f"This spec: {describe_spec(spec)}. The boxes above show only part of it; the spec "
                                  "line below is what is extracted." if beyond else "")
        self.spec_summary.setVisible(beyond)

    def show_spec_error(self, message: str) -> None:
        self.spec_error.setText(message)
        self.spec_error.setVisible(bool(message))

    @Slot()
    def _on_controls_changed(self, *_):
        self.preset_box.blockSignals(True)
        self.preset_box.setCurrentIndex(0)
        self.preset_box.blockSignals(False)
        self._update_enabled()
        text = self.controls_spec()
        self.spec_summary.setVisible(False)  # the boxes are the spec now
        self._show_spec(text)
        self.specChanged.emit(text)

    @Slot()
    def _on_preset_chosen(self, *_):
        text = self.preset_box.currentData()
        if text:
            self._show_spec(text)
            self._sync_controls(text)
            self.specChanged.emit(text)

    @Slot()
    def _on_spec_edited(self):
        self.preset_box.blockSignals(True)
        self.preset_box.setCurrentIndex(self._preset_index(self.spec_text()))
        self.preset_box.blockSignals(False)
        self._sync_controls(self.spec_text())
        self.specChanged.emit(self.spec_text())

    # ------------------------------------------------------------------ progress
    def show_progress(self, done: int, total: int) -> None:
        self.progress.setVisible(True)
        self.progress.show_progress(done, total)

    def show_timing(self, text: str) -> None:
        self.progress.setVisible(False)
        self.timing_label.setText(text)

    # ------------------------------------------------------------------ selected image
    def show_image_features(self, caption: str, image: np.ndarray, glyphs: np.ndarray | None,
                            hue_hist: np.ndarray | None) -> None:
        """The image, its HOG glyph picture beside it, and its hue histogram."""
        self.image_caption.setText(caption)
        h, w = image.shape[:2]
        self.image_item.setImage(np.ascontiguousarray(image), levels=(0, 255), autoLevels=False)
        self.image_item.setRect(0, 0, w, h)
        if glyphs is not None:
            g = np.asarray(glyphs, dtype=np.float32)
            top = float(g.max()) if g.size and g.max() > 0 else 1.0
            # White strokes on black, the usual way HOG glyphs are shown.
            self.glyph_item.setImage(np.ascontiguousarray(g), levels=(0, top), autoLevels=False)
            self.glyph_item.setRect(w + 2, 0, w, h)
        else:
            self.glyph_item.clear()
        self.glyph_box.autoRange(padding=0.02)
        if hue_hist is None:
            self.hist_bars.setOpts(x=[], height=[], width=0.8, brushes=[])
            self.hist_hint.show("No hue histogram in this spec")
        else:
            self.hist_hint.filled()
            n = len(hue_hist)
            colors = hue_colors(n)
            self.hist_bars.setOpts(x=np.arange(n), height=np.asarray(hue_hist, dtype=np.float32), width=0.8,
                                   brushes=[pg.mkBrush(*c) for c in colors])
            self.hist_plot.getPlotItem().setXRange(-0.6, n - 0.4, padding=0)
            self.hist_plot.getPlotItem().setYRange(0, max(0.05, float(np.max(hue_hist)) * 1.1), padding=0)
