"""Where linviz keeps its files: the cache (decoded datasets, features, downloads).

``$LINVIZ_CACHE_DIR`` overrides the location (tests point it at a temporary folder);
otherwise ``$XDG_CACHE_HOME/linviz`` or ``~/.cache/linviz``.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """linviz's cache directory, created on first use."""
    override = os.environ.get("LINVIZ_CACHE_DIR")
    if override:
        root = Path(override)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = (Path(xdg) if xdg else Path.home() / ".cache") / "linviz"
    root.mkdir(parents=True, exist_ok=True)
    return root
