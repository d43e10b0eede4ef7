"""The values of a panel's or a lab's controls, as plain values to save and restore.

A lab's settings are its controls: the combo boxes, spin boxes, sliders and check boxes it
keeps as attributes (``self.compare_box``), and those of the labs inside it (the optimization
lab's views). :func:`capture` reads them by attribute name ("compare_box",
"landscape.direction_box"); :func:`restore` sets them back, checking each value against the
control (a combo box takes only one of its entries, a spin box only a value in its range), and
returns what it refused: saved values are input like any other.
"""

from __future__ import annotations

import math

from PySide6.QtWidgets import QAbstractButton, QComboBox, QDoubleSpinBox, QSlider, QSpinBox, QWidget

from linviz.gui.widgets.log_slider import LogSlider

MAX_NESTING = 3
MAX_TEXT = 256  # a combo box's entry kept by a workspace (what it accepts back)


def _controls(owner, prefix: str = "", depth: int = 0) -> dict[str, QWidget]:
    from linviz.gui.labs.lab import Lab

    found = {}
    for name, value in vars(owner).items():
        if name.startswith("_") or not isinstance(value, QWidget):
            continue
        if isinstance(value, Lab) and value is not owner and depth < MAX_NESTING:
            found.update(_controls(value, f"{prefix}{name}.", depth + 1))
        elif isinstance(value, (QComboBox, QSpinBox, QDoubleSpinBox, QSlider, LogSlider)) or (
                isinstance(value, QAbstractButton) and value.isCheckable()):
            found[prefix + name] = value
    return found


def capture(owner) -> dict:
    """{attribute name: value} of the controls of ``owner`` (and of the labs inside it)."""
    values = {}
    for name, widget in _controls(owner).items():
        if isinstance(widget, QComboBox):
            if len(widget.currentText()) <= MAX_TEXT:
                values[name] = widget.currentText()
        elif isinstance(widget, QAbstractButton):
            values[name] = widget.isChecked()
        elif isinstance(widget, (QDoubleSpinBox, LogSlider)):
            values[name] = float(widget.value())
        else:
            values[name] = int(widget.value())
    return values


def restore(owner, values: dict) -> list[str]:
    """Set the controls named in ``values``; returns the refused ones ("name=value")."""
    controls = _controls(owner)
    refused = []
    for name, value in values.items():
        widget = controls.get(name)
        if widget is None or not _set(widget, value):
            refused.append(f"{name}={value!r:.40}")
    return refused


def _set(widget: QWidget, value) -> bool:
    if isinstance(widget, QComboBox):
        index = widget.findText(value) if isinstance(value, str) else -1
        if index < 0:
            return False
        widget.setCurrentIndex(index)
        return True
    if isinstance(widget, QAbstractButton):
        if not isinstance(value, bool):
            return False
        widget.setChecked(value)
        return True
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return False
    if isinstance(widget, LogSlider):
        lo, hi = widget.bounds()
        if not (lo * (1 - 1e-9) <= value <= hi * (1 + 1e-9) or (value == 0 and widget.allows_zero)):
            return False
        widget.setValue(float(value))
        return True
    if not widget.minimum() <= value <= widget.maximum():
        return False
    if isinstance(widget, (QSpinBox, QSlider)):
        if not float(value).is_integer():
            return False
        widget.setValue(int(value))
    else:
        widget.setValue(float(value))
    return True
