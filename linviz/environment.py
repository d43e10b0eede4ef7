"""Environment variables linviz reads, checked like any other input.

A variable that is set but not usable (``LINVIZ_FEATURE_CACHE_MB=abc``, ``nan``, ``inf``,
``1e400``, a number out of range) never stops a command or the app: it falls back to its
default with one warning line on stderr that names the variable, the accepted range and the
default. Unset or empty means the default, silently.
"""

from __future__ import annotations

import math
import os
import sys
import threading

from linviz.text import bound, printable

_warned: set = set()
_lock = threading.Lock()


def number(name: str, default: float, lo: float, hi: float) -> float:
    """The finite number from ``lo`` to ``hi`` in ``$name``, else ``default`` (and one warning)."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if math.isfinite(value) and lo <= value <= hi:
        return value
    _warn(name, text, f"is not a number from {bound(lo)} to {bound(hi)}", bound(default))
    return default


YES = ("1", "yes", "true", "on")
NO = ("0", "no", "false", "off")


def flag(name: str, default: bool) -> bool:
    """Yes or no in ``$name`` (1 / yes / true / on, 0 / no / false / off, any case), else
    ``default`` (and one warning)."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if text.lower() in YES:
        return True
    if text.lower() in NO:
        return False
    _warn(name, text, "is not one of 1, yes, true, on, 0, no, false, off", "yes" if default else "no")
    return default


def _warn(name: str, text: str, problem: str, default: str) -> None:
    key = (name, text)
    with _lock:
        if key in _warned:
            return
        _warned.add(key)
    print(f"warning: ${name}={printable(text)[:60]!s} {problem}; using the default, {default}", file=sys.stderr)
