"""What the window remembers between runs: layout, splitters, last choices.

They live in a file of linviz's own (:class:`linviz.settings_file.SettingsFile`,
``settings.json`` in ``$XDG_CONFIG_HOME/linviz``), never in Qt's ``QSettings`` file: QSettings
blocks on a FIFO at its path and writes through a link there. Layouts (``QByteArray``) are
saved as bytes. A ``QSettings`` can stand in for the file (tests, developer tools).
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QByteArray, QStandardPaths

from linviz.settings_file import SETTINGS_NAME, SettingsFile

SETTINGS_VERSION = 1  # bump when docks or splitters change, so old layouts are not restored
DEFAULT_SPEC = "hog+hue"
DEFAULT_SIZE = (1400, 900)


def open_settings() -> SettingsFile:
    """The window's settings file; :attr:`SettingsFile.problem` says why saved ones were not used."""
    from linviz.paths import config_root

    return SettingsFile(config_root() / SETTINGS_NAME)


def settings_problem(s) -> str | None:
    """Why the saved settings could not be used (a link, a FIFO or a device at their path, a
    corrupt file), for the status line; None when they could."""
    return getattr(s, "problem", None)


def _bytes(value) -> QByteArray | None:
    if isinstance(value, (bytes, bytearray)) and value:
        return QByteArray(bytes(value))
    return value if isinstance(value, QByteArray) and not value.isEmpty() else None


def _layout(state: QByteArray) -> bytes:
    return bytes(state.data())


def _int_setting(s, key: str, default: int, lo: int, hi: int, refused: list) -> int:
    raw = s.value(key, default)
    try:
        value = int(str(raw))
    except (TypeError, ValueError):
        value = None
    if value is None or not lo <= value <= hi:
        refused.append(f"{key}={raw!r:.40}")
        return default
    return value


def restore_window(window, s) -> list[str]:
    """Restore the layout and the last choices. Saved settings are input like any other: a
    value of the wrong type or out of range falls back to its default. Returns what was
    refused, for the status line."""
    refused: list[str] = []
    if _int_setting(s, "version", 0, 0, 1 << 30, refused) != SETTINGS_VERSION:
        window.resize(*DEFAULT_SIZE)
    else:
        geometry = _bytes(s.value("window/geometry"))
        if geometry is None or not window.restoreGeometry(geometry):
            window.resize(*DEFAULT_SIZE)
        state = _bytes(s.value("window/state"))
        if state is not None:
            window.restoreState(state, SETTINGS_VERSION)
        for splitter in window.splitters:
            value = _bytes(s.value(f"splitters/{splitter.objectName()}"))
            if value is not None:
                splitter.restoreState(value)
    try:
        training = json.loads(str(s.value("training/settings", "{}") or "{}"))
    except (json.JSONDecodeError, RecursionError):
        training = None
    refused += window.training_panel.apply_settings(training) if training is not None else ["training/settings"]
    spec = s.value("features/spec", DEFAULT_SPEC)
    if not _valid_spec(spec):
        refused.append(f"features/spec={spec!r:.40}")
        spec = DEFAULT_SPEC
    window.features_panel.set_spec_text(spec)
    # The per-class subsample is not remembered: it would silently shrink the next dataset.
    # -1: auto. A new key: the old one, data/val_size, held 1,000 for every install that never
    # chose (it was the default) and would keep them off the commands' split for good
    val_size = _int_setting(s, "data/validation_images", -1, -1, 100_000, refused)
    window.data_panel.set_split_values(None if val_size < 0 else val_size, 0)
    log = s.value("loss/log", False)
    window.loss_view.log_box.setChecked(str(log).lower() in ("true", "1"))
    return refused


def _valid_spec(text) -> bool:
    from linviz.errors import LinvizError
    from linviz.features import parse_feature_spec

    if not isinstance(text, str) or len(text) > 1000:
        return False
    try:
        parse_feature_spec(text)
    except LinvizError:
        return False
    return True


def save_window(window, s) -> None:
    s.setValue("version", SETTINGS_VERSION)
    s.setValue("window/geometry", _layout(window.saveGeometry()))
    s.setValue("window/state", _layout(window.saveState(SETTINGS_VERSION)))
    for splitter in window.splitters:
        s.setValue(f"splitters/{splitter.objectName()}", _layout(splitter.saveState()))
    s.setValue("training/settings", json.dumps(window.training_panel.settings()))
    s.setValue("features/spec", window.features_panel.spec_text())
    val_size = window.data_panel.split_values()[0]
    s.setValue("data/validation_images", -1 if val_size is None else val_size)
    s.setValue("loss/log", window.loss_view.log_box.isChecked())
    s.sync()


# ---------------------------------------------------------------------- layout and folders


def remember_default_layout(window) -> None:
    """Keep the layout as built (before any saved one is restored), for View > Reset layout."""
    window._default_layout = (window.saveState(SETTINGS_VERSION),
                              {sp.objectName(): sp.saveState() for sp in window.splitters})


def reset_layout(window) -> None:
    """Every dock back in place and shown, every splitter at its first sizes."""
    state, splitters = window._default_layout
    window.restoreState(state, SETTINGS_VERSION)
    for dock in window.docks.values():
        dock.setFloating(False)
        dock.setVisible(True)
    window.docks["training"].raise_()
    for splitter in window.splitters:
        if splitter.objectName() in splitters:
            splitter.restoreState(splitters[splitter.objectName()])


def model_folder(s) -> Path:
    """Where the model dialogs open: the folder of the last model saved or loaded, else the
    user's documents (never the working directory the app happened to start in)."""
    saved = s.value("files/model_folder", "")
    if isinstance(saved, str) and saved and len(saved) < 4096 and Path(saved).is_dir():
        return Path(saved)
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(documents) if documents and Path(documents).is_dir() else Path.home()


def remember_model_folder(s, path: str) -> None:
    s.setValue("files/model_folder", str(Path(path).resolve().parent))
