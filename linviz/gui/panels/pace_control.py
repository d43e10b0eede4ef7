"""Pace and Step, beside Train: watch a run learn at a chosen number of iterations per second,
or one minibatch (or one epoch) at a time.

Pace and steps only change *when* minibatches run (:class:`linviz.training.TrainingControl`),
never what they compute: a paced run ends with the weights of an unpaced one.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QGridLayout, QLabel, QPushButton, QWidget

from linviz.gui.widgets.log_slider import LogSlider

PACE_RANGE = (1.0, 1000.0)  # iterations per second on the slider
DEFAULT_PACE = 20.0
STEP_UNITS = [("one minibatch", "minibatch"), ("one epoch", "epoch")]


class PaceControl(QWidget):
    paceChanged = Signal(object)  # iterations per second (float), or None: as fast as possible
    stepRequested = Signal(str)  # "minibatch" | "epoch"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("paceControl")
        self.fast_box = QCheckBox("Full speed")
        self.fast_box.setObjectName("fastBox")
        self.fast_box.setChecked(True)
        self.fast_box.setToolTip("Train at full speed; untick to choose a pace and watch every view follow")
        self.pace_slider = LogSlider(*PACE_RANGE, DEFAULT_PACE)
        self.pace_slider.setObjectName("paceSlider")
        self.pace_slider.setToolTip("Iterations (minibatches) per second, 1 to 1,000 on a log scale. The weights "
                                    "are exactly those of a run at full speed")
        self.step_button = QPushButton("Step")
        self.step_button.setObjectName("stepButton")
        self.step_button.setToolTip("Pause and run one minibatch (or the rest of the epoch), then update every "
                                    "view; starts a paused run when none is running")
        self.step_unit_box = QComboBox()
        self.step_unit_box.setObjectName("stepUnitBox")
        for text, unit in STEP_UNITS:
            self.step_unit_box.addItem(text, unit)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(QLabel("Pace (it/s)"), 0, 0)
        grid.addWidget(self.pace_slider, 0, 1, 1, 2)
        grid.addWidget(self.fast_box, 1, 0)
        grid.addWidget(self.step_button, 1, 1)
        grid.addWidget(self.step_unit_box, 1, 2)
        grid.setColumnStretch(2, 1)
        self.fast_box.toggled.connect(self._on_changed)
        self.pace_slider.valueChanged.connect(self._on_changed)
        self.step_button.clicked.connect(self._on_step)
        self._on_changed()

    def pace(self) -> Optional[float]:
        """Iterations per second, or None for as fast as possible."""
        return None if self.fast_box.isChecked() else float(self.pace_slider.value())

    def set_pace(self, pace: Optional[float]) -> None:
        if pace is None:
            self.fast_box.setChecked(True)
        else:
            self.pace_slider.setValue(float(pace))
            self.fast_box.setChecked(False)

    def step_unit(self) -> str:
        return self.step_unit_box.currentData()

    @Slot()
    def _on_changed(self, *_) -> None:
        self.pace_slider.setEnabled(not self.fast_box.isChecked())
        self.paceChanged.emit(self.pace())

    @Slot()
    def _on_step(self) -> None:
        self.stepRequested.emit(self.step_unit())
