"""The playground's controls: the optimizer's bar (Step, Play, Undo, ..., the step size and the
pace), always in sight, and the settings in tabs: W and b (a row of spin boxes per class), the
loss, the data. They show the settings they are given and report what the user changes."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QGridLayout, QHBoxLayout,
                               QLabel, QPushButton, QSlider, QSpinBox, QTabWidget, QVBoxLayout, QWidget)

from linviz.explore import playground as pgd
from linviz.gui.labs._playground.items import class_color
from linviz.gui.labs._playground.layout import caption, grid
from linviz.gui.widgets.choices import choice_box
from linviz.gui.widgets.log_slider import LogSlider
from linviz.gui.widgets.scrolling import scrolling
from linviz.models.regularizers import REG_TYPES


def _button(text: str, tip: str, name: str = "") -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    if name:
        button.setObjectName(name)
    return button


def _set_quietly(widget, value) -> None:
    widget.blockSignals(True)
    widget.setValue(value)
    widget.blockSignals(False)


PLAY_TICK_MS = 30


class OptimizeBar(QWidget):
    """Step, Play, Undo, Randomize, Reset, Save, Load; the step size, the pace, the iteration
    and a status line for what went wrong. While Play is down, a timer asks the pacer how many
    steps are due and reports them (``stepsDue``)."""

    stepsDue = Signal(int)
    saveChosen = Signal(str)  # a path chosen in the Save dialog
    loadChosen = Signal(str)

    def __init__(self, settings: pgd.PlaygroundSettings, parent=None):
        super().__init__(parent)
        self.setObjectName("playgroundOptimize")
        self.pacer = pgd.Pacer(settings.pace)
        self.play_timer = QTimer(self)
        self.play_timer.setInterval(PLAY_TICK_MS)
        self.play_timer.timeout.connect(self.tick)
        self.step_button = _button("Step", "One full-batch gradient step: W −= step size × dW, "
                                           "b −= step size × db", "playgroundStep")
        self.play_button = _button("Play", "Take steps at the chosen pace until Pause", "playgroundPlay")
        self.play_button.setCheckable(True)
        self.undo_button = _button("Undo", "Back to before the last change (a drag, a step, a Play run, ...)")
        self.randomize_button = _button("Randomize", "Random W (−3..3) and b (−1..1)")
        self.reset_button = _button("Reset", "The starting W and b, iteration 0 (the points stay)")
        self.save_button = _button("Save", "Save the points, W, b and the settings as a small JSON file")
        self.load_button = _button("Load", "Load a playground JSON file")
        self.pace_spin = QDoubleSpinBox(decimals=1, minimum=0.5, maximum=60.0, singleStep=1.0, value=settings.pace)
        self.pace_spin.setSuffix(" /s")
        self.pace_spin.setToolTip("Play's pace: steps per second")
        self.step_slider = LogSlider(1e-3, 10.0, settings.step_size)
        self.step_slider.setToolTip("The step size (learning rate)")
        self.iteration_label = QLabel("")
        self.iteration_label.setObjectName("playgroundIteration")
        self.status = caption("")
        self.status.setVisible(False)

        layout = QGridLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setVerticalSpacing(3)
        for column, button in enumerate((self.step_button, self.play_button, self.undo_button)):
            layout.addWidget(button, 0, column)
        for column, button in enumerate((self.randomize_button, self.reset_button)):
            layout.addWidget(button, 1, column)
        files = QHBoxLayout()
        files.setSpacing(2)
        files.addWidget(self.save_button)
        files.addWidget(self.load_button)
        layout.addLayout(files, 1, 2)
        step_row = QHBoxLayout()
        step_row.addWidget(QLabel("Step size"))
        step_row.addWidget(self.step_slider, 1)
        layout.addLayout(step_row, 2, 0, 1, 3)
        pace_row = QHBoxLayout()
        pace_row.addWidget(QLabel("Pace"))
        pace_row.addWidget(self.pace_spin)
        pace_row.addSpacing(8)
        pace_row.addWidget(self.iteration_label, 1)
        layout.addLayout(pace_row, 3, 0, 1, 3)
        layout.addWidget(self.status, 4, 0, 1, 3)
        self.setMinimumWidth(self.minimumSizeHint().width())
        self.play_button.toggled.connect(self._on_play_toggled)
        self.pace_spin.valueChanged.connect(self.pacer.set_pace)
        self.save_button.clicked.connect(self._save_dialog)
        self.load_button.clicked.connect(self._load_dialog)

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the playground", "playground.json", "JSON (*.json)")
        if path:
            self.saveChosen.emit(path)

    def _load_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a playground", "", "JSON (*.json);;All files (*)")
        if path:
            self.loadChosen.emit(path)

    def _on_play_toggled(self, playing: bool) -> None:
        if playing:
            self.pacer.set_pace(self.pace_spin.value())
            self.pacer.start()
            self.play_timer.start()
        else:
            self.pacer.stop()
            self.play_timer.stop()
        self.play_button.setText("Pause" if playing else "Play")

    def tick(self) -> None:
        """The play timer: report the steps the pacer says are due."""
        self.stepsDue.emit(self.pacer.due())

    def show_settings(self, settings: pgd.PlaygroundSettings) -> None:
        self.pacer.set_pace(settings.pace)
        _set_quietly(self.pace_spin, settings.pace)
        self.step_slider.blockSignals(True)
        self.step_slider.setValue(settings.step_size)
        self.step_slider._on_slider(self.step_slider.slider.value())
        self.step_slider.blockSignals(False)

    def show_iteration(self, iteration: int, evaluation) -> None:
        accuracy = f" · accuracy {100 * evaluation.accuracy:.0f}%" if evaluation is not None else ""
        self.iteration_label.setText(f"Iteration {iteration}{accuracy}")

    def say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))
        self.status.setStyleSheet("QLabel { color: #b00020; }" if error else "")


class SettingsTabs(QTabWidget):
    """W and b, the loss, the data: each a tab that scrolls when the window is short."""

    settingsEdited = Signal(dict)  # PlaygroundSettings fields of the loss tab, as changed
    dataEdited = Signal(dict, str)  # the data tab's fields, and which widget changed them
    paramEdited = Signal(str, float)  # a spin box set a parameter ("w0x", "b2", ...)
    viewChanged = Signal()  # the margins or the gradient shown, or not

    def __init__(self, settings: pgd.PlaygroundSettings, parent=None):
        super().__init__(parent)
        self.setObjectName("playgroundSettingsTabs")
        self.setDocumentMode(True)
        self._syncing = False  # showing settings: widget changes are ours, not the user's
        self.params_grid = QGridLayout()
        self.param_spins: dict[str, QDoubleSpinBox] = {}
        for title, inner in (("W and b", self.params_grid), ("Loss", self._loss_tab(settings)),
                             ("Data", self._data_tab(settings))):
            self._add_page(title, inner)

    def needed_height(self) -> int:
        """Pixels the tallest page needs with the tab bar above it: the height the pane starts
        at (a shorter window scrolls the page)."""
        pages = [self.widget(k).widget() for k in range(self.count())]
        return self.tabBar().sizeHint().height() + max(page.sizeHint().height() for page in pages)

    def _add_page(self, title: str, inner) -> None:
        page = QWidget()
        page_layout = QVBoxLayout(page)
        page_layout.setContentsMargins(4, 4, 4, 4)
        page_layout.addLayout(inner)
        page_layout.addStretch(1)
        self.addTab(scrolling(page, horizontal=False), title)

    def _loss_tab(self, s: pgd.PlaygroundSettings) -> QGridLayout:
        self.loss_box = choice_box(pgd.PLAYGROUND_LOSSES)
        self.delta_spin = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=10.0, singleStep=0.25, value=s.delta)
        self.delta_spin.setToolTip("The SVM margin Δ")
        self.reg_box = choice_box(REG_TYPES)
        self.reg_box.setToolTip("The penalty on W (b is not regularized): L2 ΣW², L1 Σ|W|, elastic ΣW² + Σ|W|")
        self.reg_slider = LogSlider(1e-4, 10.0, s.reg, allow_zero=True)
        self.reg_slider.setToolTip("The regularization strength λ")
        self.shading_box = QComboBox()
        for key, text in pgd.SHADINGS.items():
            self.shading_box.addItem(text, key)
        self.shading_box.setToolTip("What the plane's color shows; its hue is always the winning class")
        self.margins_check = QCheckBox("Margins")
        self.margins_check.setChecked(True)
        self.margins_check.setToolTip("Darken the SVM's margin bands: a point there has a loss even when "
                                      "it is classified right")
        self.gradient_check = QCheckBox("Gradient")
        self.gradient_check.setChecked(True)
        self.gradient_check.setToolTip("Dashed arrows: the negative gradient of w_j (at the tip) and the shift "
                                       "of the line it brings (from b_j)")
        checks = QHBoxLayout()
        checks.addWidget(self.margins_check)
        checks.addWidget(self.gradient_check)
        checks.addStretch(1)
        for key, box in (("loss", self.loss_box), ("reg_type", self.reg_box), ("shading", self.shading_box)):
            box.activated.connect(lambda _, key=key, box=box: self._edited({key: box.currentData()}))
        self.delta_spin.valueChanged.connect(lambda v: self._edited({"delta": float(v)}))
        self.reg_slider.valueChanged.connect(lambda v: self._edited({"reg": float(v)}))
        self.margins_check.toggled.connect(lambda _: self.viewChanged.emit())
        self.gradient_check.toggled.connect(lambda _: self.viewChanged.emit())
        return grid([["Loss", (self.loss_box, 3)],
                     ["Δ", self.delta_spin, "Reg.", self.reg_box],
                     ["λ", (self.reg_slider, 3)],
                     ["Shade", (self.shading_box, 3)],
                     [(checks, 4)]])

    def _data_tab(self, s: pgd.PlaygroundSettings) -> QGridLayout:
        self.preset_box = QComboBox()
        for key, text in pgd.PRESETS.items():
            self.preset_box.addItem(text, key)
        self.classes_spin = QSpinBox(minimum=pgd.MIN_CLASSES, maximum=pgd.MAX_CLASSES, value=s.n_classes)
        self.seed_spin = QSpinBox(minimum=0, maximum=999_999, value=s.seed)
        self.count_slider = QSlider(Qt.Orientation.Horizontal)
        self.count_slider.setRange(pgd.MIN_GENERATED, pgd.MAX_GENERATED)
        self.count_slider.setValue(s.n_points)
        self.count_label = QLabel(str(s.n_points))
        self.count_label.setMinimumWidth(self.count_label.fontMetrics().horizontalAdvance("000"))
        self.noise_slider = QSlider(Qt.Orientation.Horizontal)
        self.noise_slider.setRange(0, 100)
        self.noise_slider.setValue(int(round(s.noise * 100)))
        self.noise_label = QLabel(f"{s.noise:.2f}")
        self.noise_label.setMinimumWidth(self.noise_label.fontMetrics().horizontalAdvance("0.00"))
        self.preset_box.setObjectName("playgroundPreset")
        self.classes_spin.setObjectName("playgroundClasses")
        self.seed_spin.setObjectName("playgroundSeed")
        self.count_slider.setObjectName("playgroundCount")
        self.noise_slider.setObjectName("playgroundNoise")
        self.add_class_box = QComboBox()
        self.add_class_box.setToolTip("The class of the points you add by clicking")
        # A box as wide as its longest entry widened the pane past a 1024-pixel window's room.
        for box in (self.preset_box, self.add_class_box):
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(12)
        self.preset_box.activated.connect(lambda _: self._data_edited(self.preset_box))
        for widget in (self.classes_spin, self.seed_spin, self.count_slider, self.noise_slider):
            widget.valueChanged.connect(lambda _, widget=widget: self._data_edited(widget))
        return grid([["Preset", (self.preset_box, 3)],
                     ["Classes", self.classes_spin, "Seed", self.seed_spin],
                     ["Points", (self.count_slider, 2), self.count_label],
                     ["Noise", (self.noise_slider, 2), self.noise_label],
                     ["Click adds", (self.add_class_box, 3)]])

    # ------------------------------------------------------------------ what the user changed
    def _edited(self, changes: dict) -> None:
        if not self._syncing:
            self.settingsEdited.emit(changes)

    def _data_edited(self, widget) -> None:
        if self._syncing:
            return
        self.count_label.setText(str(self.count_slider.value()))
        self.noise_label.setText(f"{self.noise_slider.value() / 100:.2f}")
        preset = self.preset_box.currentData()
        self.dataEdited.emit(dict(preset=preset, n_classes=3 if preset == "demo" else self.classes_spin.value(),
                                  seed=self.seed_spin.value(), n_points=self.count_slider.value(),
                                  noise=self.noise_slider.value() / 100), widget.objectName())

    @property
    def clicked_class(self) -> int:
        """The class of a point added by a click."""
        return self.add_class_box.currentData() or 0

    @property
    def margins(self) -> bool:
        return self.margins_check.isChecked()

    @property
    def gradient(self) -> bool:
        return self.gradient_check.isChecked()

    # ------------------------------------------------------------------ showing
    def set_classes(self, n_classes: int) -> None:
        """A row of spin boxes per class, and the classes a click can add."""
        while self.params_grid.count():
            widget = self.params_grid.takeAt(0).widget()
            if widget is not None:
                widget.setParent(None)  # gone now, not at the next return to the event loop
                widget.deleteLater()
        self.param_spins = {}
        for k, text in enumerate(("", "w·x", "w·y", "b")):
            self.params_grid.addWidget(QLabel(text), 0, k)
        for j in range(n_classes):
            name = QLabel(f"class {j}")
            name.setStyleSheet(f"QLabel {{ color: rgb{class_color(j)}; font-weight: bold; }}")
            self.params_grid.addWidget(name, j + 1, 0)
            for k, param in enumerate((f"w{j}x", f"w{j}y", f"b{j}")):
                spin = QDoubleSpinBox(decimals=2, minimum=-pgd.PARAM_LIMIT, maximum=pgd.PARAM_LIMIT, singleStep=0.1)
                spin.setMinimumWidth(spin.fontMetrics().horizontalAdvance("−00.00") + 26)
                spin.setKeyboardTracking(False)
                spin.valueChanged.connect(lambda v, p=param: None if self._syncing else self.paramEdited.emit(p, v))
                self.params_grid.addWidget(spin, j + 1, k + 1)
                self.param_spins[param] = spin
        current = self.add_class_box.currentIndex()
        self.add_class_box.clear()
        for j in range(n_classes):
            self.add_class_box.addItem(f"class {j}", j)
        self.add_class_box.setCurrentIndex(min(max(current, 0), n_classes - 1))

    def show_settings(self, s: pgd.PlaygroundSettings) -> None:
        """The widgets show ``s`` (without reporting it back)."""
        self._syncing = True
        try:
            self.preset_box.setCurrentIndex(self.preset_box.findData(s.preset))
            for widget, value in ((self.classes_spin, s.n_classes), (self.seed_spin, s.seed),
                                  (self.count_slider, s.n_points), (self.noise_slider, int(round(s.noise * 100))),
                                  (self.delta_spin, s.delta)):
                _set_quietly(widget, value)
            fixed = s.preset == "demo"  # the demo's points are fixed: its count, no noise
            self.count_label.setText(str(len(pgd.DEMO_POINTS) if fixed else s.n_points))
            self.noise_label.setText("—" if fixed else f"{s.noise:.2f}")
            for widget in (self.classes_spin, self.count_slider, self.noise_slider):
                widget.setEnabled(not fixed)
            self.loss_box.setCurrentIndex(self.loss_box.findData(s.loss))
            self.reg_box.setCurrentIndex(self.reg_box.findData(s.reg_type))
            self.shading_box.setCurrentIndex(self.shading_box.findData(s.shading))
            self.reg_slider.blockSignals(True)
            self.reg_slider.setValue(s.reg)
            self.reg_slider._on_slider(self.reg_slider.slider.value())
            self.reg_slider.blockSignals(False)
        finally:
            self._syncing = False

    def show_state(self, state: pgd.PlaygroundState) -> None:
        """The spin boxes show W and b; Δ and the margins are for the hinge losses only."""
        self._syncing = True
        try:
            for name, spin in self.param_spins.items():
                value = pgd.get_param(state.W, state.b, name)
                if spin.value() != round(value, 2):
                    spin.setValue(value)
        finally:
            self._syncing = False
        hinge = pgd.PLAYGROUND_LOSSES[state.settings.loss].hinge
        self.delta_spin.setEnabled(hinge)
        self.margins_check.setEnabled(hinge)
