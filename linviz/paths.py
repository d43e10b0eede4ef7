"""Where linviz keeps its files: the cache (decoded datasets, features, downloads), the
user's data (the run history) and the window's settings.

``$LINVIZ_CACHE_DIR`` overrides the cache's location (tests point it at a temporary folder);
otherwise ``$XDG_CACHE_HOME/linviz`` or ``~/.cache/linviz``. ``$LINVIZ_DATA_DIR`` overrides the
data folder (tests and CI never touch a real home); otherwise ``$XDG_DATA_HOME/linviz`` or
``~/.local/share/linviz``. The window's settings live in ``$XDG_CONFIG_HOME/linviz`` or
``~/.config/linviz``.

The folder may be unusable (a read-only home, ``~/.cache`` that is a file, a bad
``$LINVIZ_CACHE_DIR``): :func:`cache_dir` then raises :class:`CacheUnavailableError`, which
the cache turns into "run without the cache" and a download into a one-line error.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from linviz.errors import LinvizError


class FolderUnavailableError(LinvizError, OSError):
    """A folder of linviz's own cannot be created or written; the message says which and why."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class CacheUnavailableError(FolderUnavailableError):
    """linviz's cache folder cannot be created or written; the message says which and why.

    Also an OSError, like the failed ``mkdir`` behind it, for callers that catch that.
    """


class DataDirUnavailableError(FolderUnavailableError):
    """linviz's data folder (the run history) cannot be created or written."""


_checked: dict[str, Path] = {}
_lock = threading.Lock()


def cache_root() -> Path:
    """The configured cache folder, whether or not it exists or is usable."""
    override = os.environ.get("LINVIZ_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "linviz"


def cache_dir() -> Path:
    """linviz's cache directory, created on first use and checked to be a writable folder.

    Raises :class:`CacheUnavailableError` when it cannot be created or written (checked
    once per folder and process, by creating and removing a file in it).
    """
    return _usable_folder(cache_root(), "cache folder", CacheUnavailableError)


def data_root() -> Path:
    """The configured data folder, whether or not it exists or is usable."""
    override = os.environ.get("LINVIZ_DATA_DIR")
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "linviz"


def config_root() -> Path:
    """The folder of the window's settings file (not created here)."""
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else Path.home() / ".config") / "linviz"


def data_dir() -> Path:
    """linviz's data folder (the run history), created on first use and checked writable;
    :class:`DataDirUnavailableError` when it cannot be."""
    return _usable_folder(data_root(), "data folder", DataDirUnavailableError)


def _usable_folder(root: Path, what: str, error: type) -> Path:
    key = str(root)
    with _lock:
        if key in _checked and _checked[key].is_dir():
            return _checked[key]
    try:
        root.mkdir(parents=True, exist_ok=True)
        if not root.is_dir():
            raise NotADirectoryError(20, "not a folder")
        fd, probe = tempfile.mkstemp(dir=root, prefix=".linviz-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise error(f"{what} {root} is unusable ({exc.strerror or exc})") from None
    with _lock:
        _checked[key] = root
    return root
