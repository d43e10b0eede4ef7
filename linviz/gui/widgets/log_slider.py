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
        self._exact = None  # a value set in code, kept exactly until the slider is moved
        self._setting = False
        self.slider.valueChanged.connect(self._on_slider)
        self.setValue(value)
        self.label.setText(self.format(self.value()))

    def minimum(self) -> float:
        """The smallest value the slider can show (0 with ``allow_zero``)."""
        return 0.0 if self._allow_zero else float(f"{10 ** self._lo:.3g}")

    def maximum(self) -> float:
        return float(f"{10 ** (self._lo + self.slider.maximum() / STEPS_PER_DECADE):.3g}")

    def value(self) -> float:
        if self._exact is not None:
            return self._exact
        position = self.slider.value()
        if self._allow_zero and position < 0:
            return 0.0
        return float(f"{10 ** (self._lo + position / STEPS_PER_DECADE):.3g}")

    def setValue(self, value: float) -> None:
        """Show ``value``: the slider goes to the nearest step, the value itself is kept exactly
        (a recommended 0.0098 stays 0.0098) until the user moves the slider."""
        before = self.value()
        if value <= 0 and self._allow_zero:
            position, exact = -1, None
        else:
            position = round((math.log10(max(value, 1e-30)) - self._lo) * STEPS_PER_DECADE)
            position = int(min(max(position, self.slider.minimum()), self.slider.maximum()))
            inside = 10 ** self._lo <= value <= 10 ** (self._lo + self.slider.maximum() / STEPS_PER_DECADE)
            exact = float(f"{value:.3g}") if inside else None
        self._setting = True
        try:
            self.slider.setValue(position)
        finally:
            self._setting = False
        self._exact = exact
        if self.value() != before:
            self.label.setText(self.format(self.value()))
            self.valueChanged.emit(self.value())

    def bounds(self) -> tuple[float, float]:
        """The smallest and largest value the slider shows (0 too when it allows zero)."""
        return 10 ** self._lo, 10 ** (self._lo + self.slider.maximum() / STEPS_PER_DECADE)

    @property
    def allows_zero(self) -> bool:
        return self._allow_zero

    @staticmethod
    def format(value: float) -> str:
        if value == 0:
            return "0"
        if 1e-3 <= abs(value) < 1e4:
            return f"{value:.3g}"
        return f"{value:.1e}"

    @Slot(int)
    def _on_slider(self, _position: int) -> None:
        if self._setting:
            return  # setValue shows and announces the exact value
        self._exact = None
        value = self.value()
        self.label.setText(self.format(value))
        self.valueChanged.emit(value)
