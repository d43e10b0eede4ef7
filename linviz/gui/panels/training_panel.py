"""Model and training: loss, regularization, optimizer, Train / Pause / Stop / Reset, rates."""

from __future__ import annotations

import math

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFormLayout, QGridLayout, QGroupBox, QHBoxLayout,
                               QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from linviz.gui.log_slider import LogSlider
from linviz.gui.panels.pace_control import PaceControl
from linviz.gui.redraw import Redraw

LOSSES = [("Softmax (cross-entropy)", "softmax"), ("Multiclass SVM (hinge)", "svm")]
REG_TYPES = [("L2", "l2"), ("L1", "l1"), ("Elastic net", "elastic")]
OPTIMIZERS = [("SGD", "sgd"), ("Momentum", "momentum"), ("Nesterov", "nesterov"), ("Adam", "adam"), ("Full-batch GD", "gd")]
SANITY_IDLE = "Sanity check: shown when training starts"
TEXT_MS = 250  # labels relayout their dock when their text changes: a few times a second


def _combo(items) -> QComboBox:
    box = QComboBox()
    for text, data in items:
        box.addItem(text, data)
    return box


class TrainingPanel(QWidget):
    trainRequested = Signal()
    pauseToggled = Signal(bool)  # True = pause
    stopRequested = Signal()
    resetRequested = Signal()
    saveRequested = Signal()
    loadRequested = Signal()

    def __init__(self, bench=None, parent=None):
        super().__init__(parent)
        self.loss_box = _combo(LOSSES)
        self.delta_spin = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=100.0, singleStep=0.5, value=1.0)
        self.delta_spin.setToolTip("SVM margin: the correct score must beat the others by delta")
        self.reg_type_box = _combo(REG_TYPES)
        self.reg_slider = LogSlider(1e-6, 10.0, 1e-3, allow_zero=True)
        self.reg_slider.setToolTip("Regularization strength (log scale; far left = none)")
        self.optimizer_box = _combo(OPTIMIZERS)
        self.lr_slider = LogSlider(1e-5, 1.0, 1e-2)
        self.lr_slider.setToolTip("Learning rate (log scale)")
        self.batch_spin = QSpinBox(minimum=1, maximum=8192, value=200, singleStep=50)
        self.epochs_spin = QSpinBox(minimum=1, maximum=100_000, value=10)

        form = QFormLayout()
        form.addRow("Loss", self.loss_box)
        form.addRow("Delta", self.delta_spin)
        form.addRow("Regularization", self.reg_type_box)
        form.addRow("Strength", self.reg_slider)
        form.addRow("Optimizer", self.optimizer_box)
        form.addRow("Learning rate", self.lr_slider)
        form.addRow("Batch size", self.batch_spin)
        form.addRow("Epochs", self.epochs_spin)
        model_box = QGroupBox("Model")
        model_box.setLayout(form)

        self.train_button = QPushButton("Train")
        self.train_button.setObjectName("trainButton")
        self.train_button.setToolTip("Extracts the features first when needed, then trains")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setObjectName("pauseButton")
        self.pause_button.setCheckable(True)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stopButton")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Forget the trained weights and the curves")
        buttons = QGridLayout()
        buttons.addWidget(self.train_button, 0, 0)
        buttons.addWidget(self.pause_button, 0, 1)
        buttons.addWidget(self.stop_button, 1, 0)
        buttons.addWidget(self.reset_button, 1, 1)

        self.sanity_label = QLabel(SANITY_IDLE)
        self.sanity_label.setWordWrap(True)
        self.rate_label = QLabel(" ")
        self.rate_label.setWordWrap(True)
        self.result_label = QLabel(" ")
        self.result_label.setWordWrap(True)
        self.save_button = QPushButton("Save model...")
        self.load_button = QPushButton("Load model...")
        files = QHBoxLayout()
        files.addWidget(self.save_button)
        files.addWidget(self.load_button)

        layout = QVBoxLayout(self)
        layout.addWidget(model_box)
        layout.addLayout(buttons)
        self.pace = PaceControl()  # pace and Step (their own module)
        layout.addWidget(self.pace)
        layout.addWidget(self.sanity_label)
        layout.addWidget(self.rate_label)
        layout.addWidget(self.result_label)
        layout.addLayout(files)
        layout.addStretch(1)

        self.loss_box.currentIndexChanged.connect(self._on_loss_changed)
        self.train_button.clicked.connect(self.trainRequested)
        self.pause_button.toggled.connect(self._on_pause_toggled)
        self.stop_button.clicked.connect(self.stopRequested)
        self.reset_button.clicked.connect(self.resetRequested)
        self.save_button.clicked.connect(self.saveRequested)
        self.load_button.clicked.connect(self.loadRequested)
        self._on_loss_changed()
        self.set_running(False)
        self._run = None  # the run whose sanity check is shown
        self._sanity_before = None  # (text, style) to restore when a run ends before its first frame
        if bench is not None:
            self._redraw_rates = Redraw(bench, self._show_frame_rates, TEXT_MS)
            bench.training_changed.connect(self._on_training_changed)
            bench.frame_changed.connect(self._on_frame)

    # ------------------------------------------------------------------ the workbench
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
            self.show_sanity(snap.sanity_check, frame.model.loss if frame.model else "softmax")
        self._redraw_rates(frame)
        if frame.final or snap.done:
            self._show_frame_rates(frame)
            self.show_result(snap)

    def _show_frame_rates(self, frame) -> None:
        snap = frame.snapshot
        self.show_rates(float(snap.iterations_per_second or 0), float(snap.samples_per_second or 0),
                        int(snap.iteration), float(snap.epoch))

    def show_result(self, snap) -> None:
        val = list(snap.val_accuracies or [])
        text = f"Finished after {int(snap.iteration):,} iterations in {float(snap.elapsed):.1f} s"
        if snap.stop_reason:
            text += f" ({snap.stop_reason})"
        if val:
            text += f"; validation accuracy {val[-1]:.1%}"
        if snap.best_val_accuracy is not None:
            text += f", best {snap.best_val_accuracy:.1%} (these weights are kept)"
        self.result_label.setText(text)

    def settings(self) -> dict:
        """The panel's choices under TrainingConfig's field names."""
        return {
            "loss": self.loss_box.currentData(),
            "delta": float(self.delta_spin.value()),
            "reg_type": self.reg_type_box.currentData(),
            "reg": self.reg_slider.value(),
            "optimizer": self.optimizer_box.currentData(),
            "learning_rate": self.lr_slider.value(),
            "batch_size": int(self.batch_spin.value()),
            "epochs": int(self.epochs_spin.value()),
        }

    def apply_settings(self, values) -> list[str]:
        """Show saved or given choices; returns what was refused (each refused value keeps the
        panel's current one). Saved settings are input like any other: wrong types, NaN,
        infinities and out-of-range numbers never reach a widget."""
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
        for key, widget, lo, hi, integer in (
                ("delta", self.delta_spin, 0.0, 100.0, False), ("reg", self.reg_slider, 0.0, 10.0, False),
                ("learning_rate", self.lr_slider, 1e-5, 1.0, False), ("batch_size", self.batch_spin, 1, 8192, True),
                ("epochs", self.epochs_spin, 1, 100_000, True)):
            if key not in values:
                continue
            value = values[key]
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
                and lo <= value <= hi and (not integer or float(value).is_integer())
            if ok:
                widget.setValue(int(value) if integer else float(value))
            else:
                refused.append(f"{key}={value!r:.40}")
        return refused

    def set_running(self, running: bool, paused: bool = False) -> None:
        self.train_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.reset_button.setEnabled(not running)
        self.load_button.setEnabled(not running)
        self.pause_button.blockSignals(True)
        self.pause_button.setChecked(running and paused)
        self.pause_button.setText("Resume" if running and paused else "Pause")
        self.pause_button.blockSignals(False)

    def show_sanity(self, check: str, loss: str) -> None:
        """``check``: the training loop's own verdict (Snapshot.sanity_check), shown as is."""
        if not check:
            self.sanity_label.setText("Sanity check: not available")
            return
        rule = "the SVM starts near (C - 1) × delta" if loss == "svm" else "softmax starts near ln C"
        self.sanity_label.setText(f"Sanity check ({rule}): {check}")
        self.sanity_label.setStyleSheet("")

    def show_rates(self, iterations_per_s: float, samples_per_s: float, iteration: int, epoch: float) -> None:
        self.rate_label.setText(
            f"Iteration {iteration:,} (epoch {epoch:.1f}): {iterations_per_s:,.0f} iterations/s, {samples_per_s:,.0f} samples/s"
        )

    @Slot(bool)
    def _on_pause_toggled(self, paused: bool) -> None:
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pauseToggled.emit(paused)

    @Slot()
    def _on_loss_changed(self, *_):
        self.delta_spin.setEnabled(self.loss_box.currentData() == "svm")
