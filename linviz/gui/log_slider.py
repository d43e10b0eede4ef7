"""A slider over powers of ten with the value shown: regularization strength, learning rate."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

STEPS_PER_DECADE = 10


class LogSlider(QWidget):
    valueChanged = Signal(float)

    def __init__(self, minimum: float, maximum: float, value: float, allow_zero: bool = False, parent=None):
        """``allow_zero``: the leftmost position means exactly 0 (no regularization)."""
        super().__init__(parent)
        self._lo = math.log10(minimum)
        self._allow_zero = allow_zero
        decades = math.log10(maximum) - self._lo
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(-1 if allow_zero else 0, int(round(decades * STEPS_PER_DECADE)))
        self.label = QLabel()
        self.label.setMinimumWidth(self.label.fontMetrics().horizontalAdvance("0.000 01"))
        self.label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        self.slider.valueChanged.connect(self._on_slider)
        self.setValue(value)
        self._on_slider(self.slider.value())

    def value(self) -> float:
        position = self.slider.value()
        if self._allow_zero and position < 0:
            return 0.0
        return float(f"{10 ** (self._lo + position / STEPS_PER_DECADE):.3g}")

    def setValue(self, value: float) -> None:
        if value <= 0 and self._allow_zero:
            self.slider.setValue(-1)
            return
        position = round((math.log10(max(value, 1e-30)) - self._lo) * STEPS_PER_DECADE)
        self.slider.setValue(int(min(max(position, self.slider.minimum()), self.slider.maximum())))

    @staticmethod
    def format(value: float) -> str:
        if value == 0:
            return "0"
        if 1e-3 <= abs(value) < 1e4:
            return f"{value:.3g}"
        return f"{value:.1e}"

    @Slot(int)
    def _on_slider(self, _position: int) -> None:
        value = self.value()
        self.label.setText(self.format(value))
        self.valueChanged.emit(value)
