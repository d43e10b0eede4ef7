"""Features: which blocks, with their parameters, the presets, Extract with progress and
timing; the selected image's HOG glyphs and hue histogram.

The block controls are made from the blocks' declarations (:mod:`linviz.features.blocks`):
a check box per block type and, while it is checked, a spin box, choice box or check box per
parameter, with the declared range, default and help line. A new block appears here without
any change to this panel."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import (QAbstractSpinBox, QCheckBox, QComboBox, QFormLayout, QGridLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from linviz.features.blocks import block_types
from linviz.gui.views.empty_plot import EmptyHint
from linviz.gui.views.plot_style import show_colors
from linviz.workbench.pictures import hue_colors
from linviz.gui.widgets.progress_row import ProgressRow

PARAMS_PER_ROW = 2


class BlockControls:
    """One block type's check box and parameter widgets, made from its declaration."""

    def __init__(self, kind):
        self.kind = kind
        self.box = QCheckBox(kind.title)
        self.box.setObjectName(f"{kind.name}Block")
        self.box.setToolTip(kind.summary)
        self.widgets: dict[str, QWidget] = {}
        self.params = QWidget()
        grid = QGridLayout(self.params)
        grid.setContentsMargins(18, 0, 0, 4)  # under its check box
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        for k, param in enumerate(kind.params):
            widget = self._widget(param)
            widget.setObjectName(f"{kind.name}_{param.name}")
            widget.setToolTip(param.describe())
            self.widgets[param.name] = widget
            label = QLabel(param.name)
            label.setToolTip(param.describe())
            row, col = divmod(k, PARAMS_PER_ROW)
            if param.is_switch:
                grid.addWidget(widget, row, 2 * col, 1, 2)
            else:
                grid.addWidget(label, row, 2 * col)
                grid.addWidget(widget, row, 2 * col + 1)
        for col in range(PARAMS_PER_ROW):
            grid.setColumnStretch(2 * col + 1, 1)
        self.params.setVisible(False)

    @staticmethod
    def _widget(param) -> QWidget:
        if param.is_switch:
            box = QCheckBox(param.name)
            box.setChecked(bool(param.default))
            return box
        if param.kind is int:
            spin = QSpinBox(minimum=param.low, maximum=param.high, value=param.default)
            spin.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
            if param.high >= 10_000:
                spin.setGroupSeparatorShown(True)
            return spin
        combo = QComboBox()
        combo.addItems(list(param.choices))
        combo.setCurrentText(param.default)
        return combo

    def value(self, name: str):
        widget = self.widgets[name]
        if isinstance(widget, QCheckBox):
            return int(widget.isChecked())
        if isinstance(widget, QSpinBox):
            return widget.value()
        return widget.currentText()

    def set_value(self, name: str, value) -> None:
        widget = self.widgets[name]
        if isinstance(widget, QCheckBox):
            widget.setChecked(bool(int(value)))
        elif isinstance(widget, QSpinBox):
            widget.setValue(int(value))
        else:
            widget.setCurrentText(str(value))

    def reset(self) -> None:
        for param in self.kind.params:
            self.set_value(param.name, param.default)

    def item_text(self) -> str:
        """The block's spec item: its name and every parameter not at its default."""
        changed = [f"{p.name}={self.value(p.name)}" for p in self.kind.params if self.value(p.name) != p.default]
        return ":".join([self.kind.name] + changed)

    def signals(self):
        yield self.box.toggled
        for widget in self.widgets.values():
            if isinstance(widget, QCheckBox):
                yield widget.toggled
            elif isinstance(widget, QSpinBox):
                yield widget.valueChanged
            else:
                yield widget.currentIndexChanged

    def all_widgets(self) -> list[QWidget]:
        return [self.box, *self.widgets.values()]

    def update_enabled(self) -> None:
        """Parameters are shown, and enabled, only while their block is checked."""
        checked = self.box.isChecked()
        self.params.setVisible(checked)
        for widget in self.widgets.values():
            widget.setEnabled(checked)


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

        self.blocks = {kind.name: BlockControls(kind) for kind in block_types()}
        grid = QVBoxLayout()
        grid.setSpacing(2)
        for controls in self.blocks.values():
            grid.addWidget(controls.box)
            grid.addWidget(controls.params)

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

        for controls in self.blocks.values():
            for signal in controls.signals():
                signal.connect(self._on_controls_changed)
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

    def block_box(self, name: str) -> QCheckBox:
        """The check box of the block type ``name``."""
        return self.blocks[name].box

    def param_widget(self, block: str, param: str) -> QWidget:
        """The widget of one parameter of one block type."""
        return self.blocks[block].widgets[param]

    def controls_spec(self) -> str:
        return ",".join(c.item_text() for c in self.blocks.values() if c.box.isChecked())

    def _update_enabled(self) -> None:
        for controls in self.blocks.values():
            controls.update_enabled()

    def _sync_controls(self, text: str) -> None:
        """Check the blocks a spec text names and show their parameters (the first item of
        each block type; the text stays the truth)."""
        from linviz.errors import LinvizError
        from linviz.features import parse_feature_spec

        try:
            items = parse_feature_spec(text).items
        except LinvizError:
            return  # the spec error says what is wrong; the controls stay as they were
        widgets = [w for c in self.blocks.values() for w in c.all_widgets()]
        for w in widgets:
            w.blockSignals(True)
        first = {}
        for item in items:
            first.setdefault(item.name, item)
        for name, controls in self.blocks.items():
            controls.box.setChecked(name in first)
            if name in first:
                for key, value in first[name].params:
                    controls.set_value(key, value)
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
        show_colors(self.image_item, image)
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
