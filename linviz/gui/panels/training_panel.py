"""Model and training: loss, regularization, optimizer, an "Advanced" section, the recommended
defaults, Train / Pause / Stop / Reset, Score on test, rates and the result of a run."""

from __future__ import annotations

import math
from collections import deque

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout,
                               QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget)
from superqt import QCollapsible

from linviz.gui.panels.pace_control import PaceControl
from linviz.gui.runtime.redraw import Redraw
from linviz.gui.widgets.buttons import narrow
from linviz.gui.widgets.choices import choice_box
from linviz.gui.widgets.log_slider import LogSlider
from linviz.models.losses import LOSSES
from linviz.models.regularizers import REG_TYPES
from linviz.text import duration
from linviz.training.optimizers import OPTIMIZERS

SANITY_IDLE = "Sanity check: shown when training starts"
RATE_WINDOW_S = 1.0  # the rate shown is over the last second of training
TEXT_MS = 250  # labels relayout their dock when their text changes: a few times a second
LOCKED_NOTE = "Settings are locked while training: Stop, change them, Train again."
# Settings the recommendation fills in (linviz.training.recommended_settings), with their words.
RECOMMENDED = {"learning_rate": "learning rate", "lr_decay": "decay", "epochs": "epochs", "batch_size": "batch",
               "momentum": "momentum", "reg": "strength", "search_step": "search step",
               "search_sample": "search sample"}
# The order the recommendation lists them in; epochs and the strength count for every optimizer.
LISTED = ("learning_rate", "lr_decay", "epochs", "batch_size", "reg", "momentum", "search_step", "search_sample")
EVERY_RUN = ("epochs", "reg")


def _combo(table) -> QComboBox:
    box = choice_box(table)
    # Narrow docks (1024 px screens): the box may be narrower than its longest entry.
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(10)
    return box


def _double(decimals: int, lo: float, hi: float, step: float, value: float, tip: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox(decimals=decimals, minimum=lo, maximum=hi, singleStep=step, value=value)
    spin.setToolTip(tip)
    return spin


def _format(key: str, value) -> str:
    if key in ("epochs", "batch_size"):
        return f"{int(value):,}"
    if key == "search_sample":
        return "all images" if int(value) == 0 else f"{int(value):,}"
    return LogSlider.format(float(value))


class TrainingPanel(QWidget):
    trainRequested = Signal()
    pauseToggled = Signal(bool)  # True = pause
    stopRequested = Signal()
    resetRequested = Signal()
    saveRequested = Signal()
    loadRequested = Signal()
    scoreTestRequested = Signal()

    def __init__(self, workbench=None, parent=None):
        super().__init__(parent)
        self.loss_box = _combo(LOSSES)
        self.delta_spin = _double(2, 0.0, 100.0, 0.5, 1.0,
                                  "SVM margin: the correct score must beat the others by delta")
        self.reg_type_box = _combo(REG_TYPES)
        self.reg_slider = LogSlider(1e-6, 10.0, 1e-3, allow_zero=True)
        self.reg_slider.setToolTip("Regularization strength (log scale; far left = none)")
        self.optimizer_box = _combo(OPTIMIZERS)
        self.optimizer_box.setToolTip("Random search and random local search are the lecture's strawmen: every "
                                      "candidate is judged on the same fixed sample of training images")
        self.lr_slider = LogSlider(1e-5, 1.0, 1e-2)
        self.lr_slider.setToolTip("Learning rate (log scale)")
        self.batch_spin = QSpinBox(minimum=1, maximum=8192, value=200, singleStep=50)
        self.epochs_spin = QSpinBox(minimum=1, maximum=100_000, value=10)

        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setVerticalSpacing(4)
        form.addRow("Loss", self.loss_box)
        form.addRow("Delta", self.delta_spin)
        form.addRow("Regularization", self.reg_type_box)
        form.addRow("Strength", self.reg_slider)
        form.addRow("Optimizer", self.optimizer_box)
        form.addRow("Learning rate", self.lr_slider)
        form.addRow("Batch size", self.batch_spin)
        form.addRow("Epochs", self.epochs_spin)
        self.recommended_label = QLabel(" ")
        self.recommended_label.setObjectName("recommendedLabel")
        self.recommended_label.setWordWrap(True)
        self.recommended_label.setToolTip(
            "linviz.training.recommended_settings for the features, the loss and the optimizer chosen: filled in "
            "whenever one of them changes, except the values you set by hand (they are kept and listed)")
        self.recommended_button = QPushButton("Use recommended")
        self.recommended_button.setToolTip("Set every recommended value again, also those you changed")
        # No frame or title around the settings (the dock's title says what they are): the
        # panel shows all of itself without scrolling on a 1024 x 700 screen.
        self.model_box = QWidget()
        self.model_box.setObjectName("modelSettings")
        model_layout = QVBoxLayout(self.model_box)
        model_layout.setContentsMargins(0, 0, 0, 0)
        model_layout.setSpacing(4)
        model_layout.addLayout(form)
        model_layout.addWidget(self.recommended_label)
        model_layout.addWidget(self.recommended_button)

        # Advanced: everything TrainingConfig has that one rarely changes.
        self.decay_spin = _double(3, 0.001, 1.0, 0.05, 0.8, "Learning rate multiplied by this after every epoch")
        self.momentum_spin = _double(3, 0.0, 0.999, 0.05, 0.9, "Momentum and Nesterov: the velocity's decay")
        self.beta1_spin = _double(3, 0.0, 0.999, 0.01, 0.9, "Adam: decay of the gradient's running mean")
        self.beta2_spin = _double(4, 0.0, 0.9999, 0.001, 0.999, "Adam: decay of the squared gradient's running mean")
        self.init_slider = LogSlider(1e-6, 1.0, 1e-3)
        self.init_slider.setToolTip("Initial weights: this times N(0, 1) (small: the loss starts near ln C or C - 1)")
        self.elastic_spin = _double(3, 0.0, 100.0, 0.1, 1.0, "Elastic net: R(W) = sum(beta W² + |W|)")
        self.seed_spin = QSpinBox(minimum=0, maximum=2**31 - 1, value=0)
        self.seed_spin.setToolTip("Seed of the initial weights, the minibatches and the searches")
        self.early_spin = QSpinBox(minimum=0, maximum=10_000, value=0)
        self.early_spin.setSpecialValueText("off")
        self.early_spin.setSuffix(" epochs")
        self.early_spin.setToolTip("Stop after this many epochs without a better validation accuracy")
        self.search_step_slider = LogSlider(1e-5, 10.0, 1e-2)
        self.search_step_slider.setToolTip("Random (local) search: the scale of each proposal")
        self.search_sample_spin = QSpinBox(minimum=0, maximum=10_000_000, value=0, singleStep=1000)
        self.search_sample_spin.setSpecialValueText("all images")
        self.search_sample_spin.setToolTip("Random (local) search: every candidate is judged on the same "
                                           "training images, drawn once per run (all of them: the loss never rises)")
        advanced_form = QFormLayout()
        advanced_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # narrow docks
        advanced_form.addRow("LR decay", self.decay_spin)
        advanced_form.addRow("Momentum", self.momentum_spin)
        advanced_form.addRow("Adam β1", self.beta1_spin)
        advanced_form.addRow("Adam β2", self.beta2_spin)
        advanced_form.addRow("Initial scale", self.init_slider)
        advanced_form.addRow("Elastic β", self.elastic_spin)
        advanced_form.addRow("Seed", self.seed_spin)
        advanced_form.addRow("Early stopping", self.early_spin)
        advanced_form.addRow("Search step", self.search_step_slider)
        advanced_form.addRow("Search sample", self.search_sample_spin)
        advanced_inner = QWidget()
        advanced_inner.setLayout(advanced_form)
        self.advanced = QCollapsible("Advanced")
        self.advanced.setObjectName("advancedSection")
        self.advanced.setDuration(0)  # no animation: the panel scrolls, nothing to watch
        self.advanced.addWidget(advanced_inner)

        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("trainButton")
        self.train_button.setToolTip("Extracts the features first when needed, then trains")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("pauseButton")
        self.pause_button.setCheckable(True)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopButton")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setObjectName("resetButton")
        self.reset_button.setToolTip("Forget the trained weights and the curves")
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        for button, texts in ((self.train_button, ()), (self.pause_button, ("Pause", "Resume")),
                              (self.stop_button, ()), (self.reset_button, ())):
            buttons.addWidget(narrow(button, *texts))

        self.locked_label = QLabel(LOCKED_NOTE)
        self.locked_label.setWordWrap(True)
        self.locked_label.setObjectName("viewCaption")
        self.locked_label.setVisible(False)
        self.sanity_label = QLabel(SANITY_IDLE)
        self.sanity_label.setWordWrap(True)
        self.rate_label = QLabel(" ")
        self.rate_label.setWordWrap(True)
        self.result_label = QLabel(" ")
        self.result_label.setObjectName("resultLabel")
        self.result_label.setWordWrap(True)
        self.test_button = QPushButton("Score on test")
        self.test_button.setObjectName("scoreTestButton")
        self.test_button.setToolTip("The test accuracy of the current model. The only place the app scores the "
                                    "test split: nothing is ever chosen on it")
        self.test_label = QLabel("")
        self.test_label.setObjectName("testScoreLabel")
        self.test_label.setWordWrap(True)
        self.save_button = QPushButton("Save model...")
        self.save_button.setToolTip("Save the weights with their feature pipeline as one .npz file (also File > "
                                    "Save model)")
        self.load_button = QPushButton("Load model...")
        files = QHBoxLayout()
        files.setSpacing(4)
        for button in (self.test_button, self.save_button, self.load_button):
            files.addWidget(narrow(button))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.model_box)
        layout.addLayout(buttons)
        self.pace = PaceControl()  # pace and Step (their own module)
        layout.addWidget(self.pace)
        layout.addWidget(self.advanced)
        layout.addWidget(self.locked_label)
        layout.addWidget(self.sanity_label)
        layout.addWidget(self.rate_label)
        layout.addWidget(self.result_label)
        layout.addLayout(files)
        layout.addWidget(self.test_label)
        layout.addStretch(1)

        # What the recommendation sets, and what the user changed by hand since.
        self._fields = {"learning_rate": self.lr_slider, "lr_decay": self.decay_spin, "epochs": self.epochs_spin,
                        "batch_size": self.batch_spin, "momentum": self.momentum_spin, "reg": self.reg_slider,
                        "search_step": self.search_step_slider, "search_sample": self.search_sample_spin}
        self.recommended: dict = {}
        self.by_hand: set[str] = set()
        self._recommending = False
        self._features = "hog+hue"
        self._image_shape = (32, 32)
        for key, widget in self._fields.items():
            widget.valueChanged.connect(lambda *_, key=key: self._on_field_edited(key))

        self.loss_box.currentIndexChanged.connect(self._on_choice_changed)
        self.optimizer_box.currentIndexChanged.connect(self._on_choice_changed)
        self.reg_type_box.currentIndexChanged.connect(self._update_enabled)
        self.recommended_button.clicked.connect(self.use_recommended)
        self.train_button.clicked.connect(self.trainRequested)
        self.pause_button.toggled.connect(self._on_pause_toggled)
        self.stop_button.clicked.connect(self.stopRequested)
        self.reset_button.clicked.connect(self.resetRequested)
        self.test_button.clicked.connect(self.scoreTestRequested)
        self.save_button.clicked.connect(self.saveRequested)
        self.load_button.clicked.connect(self.loadRequested)
        self._running = False
        self._has_model = False
        self._has_test = False
        self._update_enabled()
        self.recommend()
        self.set_running(False)
        self._run = None  # the run whose sanity check is shown
        self._recent: deque = deque()  # (training seconds, iteration) of the last second's frames
        self._rate_run = None
        self._sanity_before = None  # (text, style) to restore when a run ends before its first frame
        self._bench = workbench
        if workbench is not None:
            self._redraw_rates = Redraw(workbench, self._show_frame_rates, TEXT_MS)
            workbench.training_changed.connect(self._on_training_changed)
            workbench.frame_changed.connect(self._on_frame)
            workbench.model_changed.connect(self._on_model)
            workbench.data_changed.connect(self._on_data)

    # ------------------------------------------------------------------ the workbench
    def _on_data(self, prepared) -> None:
        self._has_test = prepared is not None and prepared.test is not None and len(prepared.test.labels) > 0
        if prepared is not None and len(prepared.train.labels):
            self.set_image_shape(tuple(prepared.train.images.shape[1:3]))
        self._update_buttons()

    def _on_model(self, model) -> None:
        self._has_model = model is not None
        if model is None or getattr(model, "test_accuracy", None) is None:
            self.test_label.setText("")
        else:
            self.show_test_score(model.test_accuracy, len(model.test_predictions))
        self._update_buttons()

    def _on_training_changed(self, training: bool) -> None:
        self.set_running(training)
        if training:
            self._sanity_before = (self.sanity_label.text(), self.sanity_label.styleSheet())
            self.sanity_label.setText("Sanity check: waiting for the first iterations...")
            self.sanity_label.setStyleSheet("")
        elif self._sanity_before is not None:  # no frame of the run was drawn: the old model stays
            text, style = self._sanity_before
            self.sanity_label.setText(text)
            self.sanity_label.setStyleSheet(style)
            self._sanity_before = None

    def _on_frame(self, frame) -> None:
        if frame is None:
            self._run = None
            self.rate_label.setText(" ")
            self.result_label.setText(" ")
            self.sanity_label.setText(SANITY_IDLE)
            self.sanity_label.setStyleSheet("")
            return
        snap = frame.snapshot
        if frame.run != self._run:
            self._run, self._sanity_before = frame.run, None
            self.show_sanity(snap.sanity_check, frame.model.loss if frame.model else self.loss_box.currentData())
            self.result_label.setText(" ")
        self._note_progress(frame)
        self._redraw_rates(frame)
        if frame.final or snap.done:
            self._show_frame_rates(frame)
            self.show_result(snap)

    def _note_progress(self, frame) -> None:
        """Remember (training seconds, iteration) of the newest frames: the rate shown is that
        of the last second, not the average since the start (which lagged every change)."""
        snap = frame.snapshot
        point = (float(snap.elapsed), int(snap.iteration))
        if frame.run != self._rate_run or (self._recent and point[0] < self._recent[-1][0]):
            self._recent.clear()
            self._rate_run = frame.run
        if not self._recent or point != self._recent[-1]:
            self._recent.append(point)
        while len(self._recent) > 2 and self._recent[-1][0] - self._recent[1][0] >= RATE_WINDOW_S:
            self._recent.popleft()

    def _show_frame_rates(self, frame) -> None:
        snap = frame.snapshot
        rate = float(snap.iterations_per_second or 0)
        per_iteration = float(snap.samples_per_second or 0) / rate if rate > 0 else 0.0
        if not (frame.final or snap.done) and len(self._recent) >= 2:
            (t0, i0), (t1, i1) = self._recent[0], self._recent[-1]
            if t1 - t0 >= 0.2:
                rate = (i1 - i0) / (t1 - t0)
        self.show_rates(rate, rate * per_iteration, int(snap.iteration), float(snap.epoch),
                        getattr(snap, "search_note", None))

    def show_result(self, snap) -> None:
        val = list(snap.val_accuracies or [])
        reason = str(snap.stop_reason or "")
        note = getattr(snap, "search_note", None)
        if note and reason.endswith(f"; {note}"):
            reason = reason[: -len(note) - 2]  # said once, below
        text = f"Finished after {int(snap.iteration):,} iterations in {duration(snap.elapsed)}"
        if reason:
            text += f" ({reason})"
        if val:
            text += f"; last validation accuracy {val[-1]:.1%}"
        if snap.best_val_accuracy is not None:
            text += f", best {snap.best_val_accuracy:.1%}"
        kept = getattr(snap, "kept", None)
        if kept:
            text += f".\nKept: {kept}."
        if note:
            text += f"\nSearch: {note}."
        self.result_label.setText(text)

    def show_test_score(self, accuracy: float, n: int) -> None:
        self.test_label.setText(f"Test accuracy of this model: {accuracy:.1%} ({n:,} test images)")

    # ------------------------------------------------------------------ settings
    def settings(self) -> dict:
        """The panel's choices under TrainingConfig's field names."""
        early = int(self.early_spin.value())
        return {
            "loss": self.loss_box.currentData(),
            "delta": float(self.delta_spin.value()),
            "reg_type": self.reg_type_box.currentData(),
            "reg": self.reg_slider.value(),
            "elastic_beta": float(self.elastic_spin.value()),
            "optimizer": self.optimizer_box.currentData(),
            "learning_rate": self.lr_slider.value(),
            "lr_decay": float(self.decay_spin.value()),
            "momentum": float(self.momentum_spin.value()),
            "adam_beta1": float(self.beta1_spin.value()),
            "adam_beta2": float(self.beta2_spin.value()),
            "init_scale": self.init_slider.value(),
            "seed": int(self.seed_spin.value()),
            "early_stopping": early if early > 0 else None,
            "search_step": self.search_step_slider.value(),
            "search_sample": int(self.search_sample_spin.value()),
            "batch_size": int(self.batch_spin.value()),
            "epochs": int(self.epochs_spin.value()),
        }

    def apply_settings(self, values) -> list[str]:
        """Show saved or given choices; returns what was refused (each refused value keeps the
        panel's current one). Saved settings are input like any other: wrong types, NaN,
        infinities and out-of-range numbers never reach a widget. Values given here count as
        set by hand, unless they equal the recommended ones."""
        if not isinstance(values, dict):
            return [f"training settings: expected a mapping, found {type(values).__name__}"]
        refused = []
        for key, box in (("loss", self.loss_box), ("reg_type", self.reg_type_box), ("optimizer", self.optimizer_box)):
            if key in values:
                i = box.findData(values[key]) if isinstance(values[key], str) else -1
                if i >= 0:
                    box.setCurrentIndex(i)
                else:
                    refused.append(f"{key}={values[key]!r:.40}")
        if "early_stopping" in values and values["early_stopping"] is None:
            self.early_spin.setValue(0)
        for key, widget, lo, hi, integer in (
                ("delta", self.delta_spin, 0.0, 100.0, False), ("reg", self.reg_slider, 0.0, 10.0, False),
                ("learning_rate", self.lr_slider, 1e-5, 1.0, False), ("batch_size", self.batch_spin, 1, 8192, True),
                ("epochs", self.epochs_spin, 1, 100_000, True), ("lr_decay", self.decay_spin, 0.001, 1.0, False),
                ("momentum", self.momentum_spin, 0.0, 0.999, False), ("adam_beta1", self.beta1_spin, 0.0, 0.999, False),
                ("adam_beta2", self.beta2_spin, 0.0, 0.9999, False), ("init_scale", self.init_slider, 1e-6, 1.0, False),
                ("elastic_beta", self.elastic_spin, 0.0, 100.0, False), ("seed", self.seed_spin, 0, 2**31 - 1, True),
                ("early_stopping", self.early_spin, 0, 10_000, True),
                ("search_step", self.search_step_slider, 1e-5, 10.0, False),
                ("search_sample", self.search_sample_spin, 0, 10_000_000, True)):
            if key not in values or (key == "early_stopping" and values[key] is None):
                continue
            value = values[key]
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
                and lo <= value <= hi and (not integer or float(value).is_integer())
            if ok:
                widget.setValue(int(value) if integer else float(value))
            else:
                refused.append(f"{key}={value!r:.40}")
        self._forget_matching_hand_values()
        self._show_recommended()
        return refused

    # ------------------------------------------------------------------ recommended values
    def set_features(self, spec_text: str) -> None:
        """The features Train will use (the features panel's spec): new recommended values."""
        if spec_text and spec_text != self._features:
            self._features = spec_text
            self.recommend()

    def set_image_shape(self, shape: tuple) -> None:
        if tuple(shape) != self._image_shape:
            self._image_shape = tuple(shape)
            self.recommend()

    def recommend(self) -> None:
        """Fill in linviz.training.recommended_settings for the features, loss and optimizer,
        except the values set by hand (they stay, and the panel says so)."""
        from linviz.errors import LinvizError
        from linviz.training import recommended_settings

        try:
            values = recommended_settings(self._features, self.loss_box.currentData(),
                                          self.optimizer_box.currentData(), image_shape=self._image_shape)
        except (LinvizError, ValueError):
            return  # a spec being typed: the previous recommendation stays
        self.recommended = {key: values[key] for key in RECOMMENDED if key in values}
        self._apply_recommended(keep=self.by_hand)

    @Slot()
    def use_recommended(self) -> None:
        self.by_hand.clear()
        self._apply_recommended(keep=set())

    def _apply_recommended(self, keep: set) -> None:
        self._recommending = True
        try:
            for key, value in self.recommended.items():
                if key in keep or (key == "learning_rate" and value <= 0):
                    continue  # set by hand; or the searches, which use no learning rate
                self._fields[key].setValue(value)
        finally:
            self._recommending = False
        self._forget_matching_hand_values()
        self._show_recommended()

    def _on_field_edited(self, key: str) -> None:
        if self._recommending:
            return
        self.by_hand.add(key)
        self._forget_matching_hand_values()
        self._show_recommended()

    def _forget_matching_hand_values(self) -> None:
        for key in list(self.by_hand):
            if key in self.recommended and self._same(key, self._fields[key].value(), self.recommended[key]):
                self.by_hand.discard(key)

    @staticmethod
    def _same(key: str, a, b) -> bool:
        return math.isclose(float(a), float(b), rel_tol=1e-3, abs_tol=1e-12)

    def _relevant(self) -> list[str]:
        """The recommended settings the chosen optimizer uses."""
        uses = OPTIMIZERS[self.optimizer_box.currentData()].settings
        return [key for key in LISTED if key in uses or key in EVERY_RUN]

    def _show_recommended(self) -> None:
        if not self.recommended:
            return
        relevant = self._relevant()
        mine = [k for k in relevant if k in self.by_hand]
        own = ", ".join(f"{RECOMMENDED[k]} {_format(k, self._fields[k].value())} (recommended "
                        f"{_format(k, self.recommended[k])})" for k in mine)
        listed = ", ".join(f"{RECOMMENDED[k]} {_format(k, self.recommended[k])}" for k in relevant if k not in mine)
        text = f"Recommended: {listed or 'none left'}."
        if own:
            text += f"\nSet by hand (kept): {own}."
        self.recommended_label.setText(text)
        self.recommended_button.setEnabled(bool(mine) and not self._running)
        self.recommended_button.setVisible(bool(mine))  # only when there is something to bring back

    # ------------------------------------------------------------------ enabled state
    @Slot()
    def _on_choice_changed(self, *_):
        self._update_enabled()
        self.recommend()

    @Slot()
    def _update_enabled(self, *_):
        """Only the settings the chosen loss, regularization and optimizer use are enabled."""
        self.delta_spin.setEnabled(LOSSES[self.loss_box.currentData()].hinge)
        self.elastic_spin.setEnabled(REG_TYPES[self.reg_type_box.currentData()].uses_beta)
        uses = OPTIMIZERS[self.optimizer_box.currentData()].settings
        for key, widget in (("learning_rate", self.lr_slider), ("lr_decay", self.decay_spin),
                            ("batch_size", self.batch_spin), ("momentum", self.momentum_spin),
                            ("adam_beta1", self.beta1_spin), ("adam_beta2", self.beta2_spin),
                            ("search_step", self.search_step_slider), ("search_sample", self.search_sample_spin)):
            widget.setEnabled(key in uses)
        if self.recommended:
            self._show_recommended()

    def set_running(self, running: bool, paused: bool = False) -> None:
        self._running = running
        self.train_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.load_button.setEnabled(not running)
        # A run uses the settings it started with: while it trains they are locked (and say so).
        self.model_box.setEnabled(not running)
        self.advanced.setEnabled(not running)
        self.locked_label.setVisible(running)
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(running and paused)
        self.pause_button.setText("Resume" if running and paused else "Pause")
        self.pause_button.blockSignals(False)
        self._update_buttons()
        if self.recommended:
            self._show_recommended()

    def _update_buttons(self) -> None:
        self.reset_button.setEnabled(self._has_model and not self._running)
        self.test_button.setEnabled(self._has_model and self._has_test and not self._running)
        self.save_button.setEnabled(self._has_model)

    def show_sanity(self, check: str, loss: str) -> None:
        """``check``: the training loop's own verdict (Snapshot.sanity_check), shown as is."""
        if not check:
            self.sanity_label.setText("Sanity check: not available")
            return
        spec = LOSSES[loss]
        self.sanity_label.setText(f"Sanity check ({spec.short_label} starts near {spec.initial_loss_rule}): {check}")
        self.sanity_label.setStyleSheet("")

    def show_rates(self, iterations_per_s: float, samples_per_s: float, iteration: int, epoch: float,
                   search_note: str | None = None) -> None:
        text = (f"Iteration {iteration:,} (epoch {epoch:.1f}): {iterations_per_s:,.0f} iterations/s, "
                f"{samples_per_s:,.0f} samples/s")
        if search_note:
            text += f"\n{search_note[:1].upper()}{search_note[1:]}"
        self.rate_label.setText(text)

    @Slot(bool)
    def _on_pause_toggled(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pauseToggled.emit(paused)
