"""What the window remembers between runs (QSettings): layout, splitters, last choices.

The organization and application names must be set before the QSettings is made (app.py
does it), or the file lands under a nameless folder.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QByteArray

SETTINGS_VERSION = 1  # bump when docks or splitters change, so old layouts are not restored
DEFAULT_SPEC = "hog+hue"
DEFAULT_SIZE = (1400, 900)


def _bytes(value) -> QByteArray | None:
    return value if isinstance(value, QByteArray) and not value.isEmpty() else None


def restore_window(window, s) -> None:
    if s.value("version", 0, type=int) != SETTINGS_VERSION:
        window.resize(*DEFAULT_SIZE)
    else:
        geometry = _bytes(s.value("window/geometry"))
        if geometry is not None:
            window.restoreGeometry(geometry)
        else:
            window.resize(*DEFAULT_SIZE)
        state = _bytes(s.value("window/state"))
        if state is not None:
            window.restoreState(state, SETTINGS_VERSION)
        for splitter in window.splitters:
            value = _bytes(s.value(f"splitters/{splitter.objectName()}"))
            if value is not None:
                splitter.restoreState(value)
    try:
        training = json.loads(s.value("training/settings", "{}", type=str) or "{}")
    except json.JSONDecodeError:
        training = {}
    window.training_panel.apply_settings(training)
    window.features_panel.set_spec_text(s.value("features/spec", DEFAULT_SPEC, type=str) or DEFAULT_SPEC)
    window.data_panel.set_split_values(s.value("data/val_size", 1000, type=int), s.value("data/per_class", 0, type=int))
    window.loss_view.log_box.setChecked(s.value("loss/log", False, type=bool))  # booleans need type=bool


def save_window(window, s) -> None:
    s.setValue("version", SETTINGS_VERSION)
    s.setValue("window/geometry", window.saveGeometry())
    s.setValue("window/state", window.saveState(SETTINGS_VERSION))
    for splitter in window.splitters:
        s.setValue(f"splitters/{splitter.objectName()}", splitter.saveState())
    s.setValue("training/settings", json.dumps(window.training_panel.settings()))
    s.setValue("features/spec", window.features_panel.spec_text())
    val_size, per_class = window.data_panel.split_values()
    s.setValue("data/val_size", val_size)
    s.setValue("data/per_class", per_class)
    s.setValue("loss/log", window.loss_view.log_box.isChecked())
    s.sync()
