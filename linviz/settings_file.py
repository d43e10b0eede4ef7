"""The window's saved settings: one JSON file of linviz's own, read and written like any file.

Qt's ``QSettings`` opens its file without looking at what it is: a FIFO there blocks the
window's start-up forever, and its writer follows a symbolic link, overwriting the link's
target (once a device node, turned into a regular file). So the settings are a flat JSON
object in a file of linviz's own (``settings.json`` in :func:`linviz.paths.config_root`),
read only when it is a regular file (``lstat``: a link is not followed), at most
:data:`MAX_SETTINGS_BYTES`, and written through :func:`linviz.safe_files.atomic_write`.

Anything else at the path (a link, a FIFO, a device, a folder) gives :attr:`SettingsFile.problem`
(a message for the status line), the defaults, and nothing saved: linviz never replaces what
it did not write. A regular file that is not valid settings gives the defaults too, and is
replaced by good settings when the window closes.

The API is the part of ``QSettings`` the window uses (``value``, ``setValue``, ``sync``,
``fileName``), so a ``QSettings`` can stand in (tests, developer tools). Values are what JSON
holds (text, numbers, booleans, None, flat lists of those: recent projects) and bytes (saved
window layouts; stored as base64).
Every value read back is input: the window checks each one's type and range.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import stat
from pathlib import Path
from typing import Any, Optional

from linviz.safe_files import FileRefusedError, atomic_write, failure_reason, kind_of, read_regular
from linviz.text import printable

MAX_SETTINGS_BYTES = 1024 * 1024  # a window's settings take a few KB
MAX_KEYS = 1000
MAX_LIST = 1000  # items of a list value
SETTINGS_NAME = "settings.json"
_NOT_SAVED = "the defaults are used, and the settings are not saved"


class SettingsFile:
    """Settings kept in the JSON file ``path`` (see the module docstring)."""

    def __init__(self, path: Optional[os.PathLike]):
        self.path = Path(path) if path is not None else None
        self.problem: Optional[str] = None  # why the saved settings were not used, for the status line
        self.writable = path is not None
        self._values: dict = {}
        self._dirty = False
        if path is not None:
            self._read()

    @classmethod
    def in_memory(cls) -> "SettingsFile":
        """Settings that start empty and are never saved (developer tools, benchmarks)."""
        return cls(None)

    # ------------------------------------------------------------------ QSettings' API
    def value(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def setValue(self, key: str, value: Any) -> None:  # noqa: N802 (QSettings' name)
        if isinstance(value, (bytes, bytearray, memoryview)):
            value = bytes(value)
        elif isinstance(value, (list, tuple)) and all(_is_scalar(v) for v in value):
            value = list(value)
        elif not _is_scalar(value):
            raise TypeError(f"settings hold text, numbers, booleans, lists of those and bytes, "
                            f"not {type(value).__name__}")
        if self._values.get(key, _MISSING) != value:
            self._values[str(key)] = value
            self._dirty = True

    def sync(self) -> None:
        """Write the settings if they changed and the file is linviz's to write; a failure
        becomes :attr:`problem` (the window is closing: nothing else to do about it)."""
        if not (self._dirty and self.writable):
            return
        document = {key: ({"base64": base64.b64encode(v).decode("ascii")} if isinstance(v, bytes) else v)
                    for key, v in self._values.items()}
        try:
            text = json.dumps(document, indent=1, sort_keys=True, allow_nan=False).encode("utf-8", "surrogatepass")
            with atomic_write(self.path) as f:
                f.write(text)
        except (OSError, ValueError) as exc:
            self.problem = f"{printable(self.path)}: not saved ({_reason(exc)})"
            return
        self._dirty = False

    def fileName(self) -> str:  # noqa: N802 (QSettings' name)
        return "" if self.path is None else str(self.path)

    # ------------------------------------------------------------------ reading
    def _refuse(self, reason: str, *, writable: bool) -> None:
        self.writable = writable
        tail = _NOT_SAVED if not writable else "the defaults are used"
        self.problem = f"{printable(self.path)}: {reason}; {tail}"

    def _read(self) -> None:
        try:
            st = os.lstat(self.path)
        except (FileNotFoundError, NotADirectoryError):
            return  # no settings yet
        except OSError as exc:
            self._refuse(f"cannot look at it ({exc.strerror or exc})", writable=False)
            return
        if stat.S_ISLNK(st.st_mode):
            self._refuse("is a symbolic link; linviz neither reads nor writes its settings through links",
                         writable=False)
            return
        if not stat.S_ISREG(st.st_mode):
            what = "is a folder" if stat.S_ISDIR(st.st_mode) else f"is {kind_of(st.st_mode)}"
            self._refuse(f"{what}, not a regular file", writable=False)
            return
        try:
            data = read_regular(self.path, MAX_SETTINGS_BYTES)  # non-blocking, checked again when open
        except FileRefusedError as exc:
            self._refuse(exc.reason, writable="too large" in exc.reason)
            return
        except OSError as exc:
            self._refuse(failure_reason(exc), writable=False)
            return
        try:
            document = json.loads(data)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            self._refuse(f"not valid JSON ({str(exc)[:60]})", writable=True)
            return
        if not isinstance(document, dict):
            self._refuse(f"not a JSON object but {type(document).__name__}", writable=True)
            return
        for key, value in list(document.items())[:MAX_KEYS]:
            if isinstance(value, dict):
                value = _bytes_of(value)
                if value is None:
                    continue  # a damaged layout: its default
            elif isinstance(value, list) and not (len(value) <= MAX_LIST and all(_is_scalar(v) for v in value)):
                continue  # nested or huge: not one of ours
            self._values[key] = value


_MISSING = object()


def _is_scalar(value) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _bytes_of(value: dict) -> Optional[bytes]:
    text = value.get("base64") if len(value) == 1 else None
    if not isinstance(text, str) or len(text) > MAX_SETTINGS_BYTES:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, FileRefusedError):
        return exc.reason
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)
