"""Test-wide set-up: headless Qt, a private cache, and the shared CIFAR-10 archive.

Environment variables are set at import time, before any QApplication or numba cache
lookup can happen.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests never touch the user's cache: one private folder per test session.
_SESSION_CACHE = tempfile.mkdtemp(prefix="linviz-test-cache-")
os.environ["LINVIZ_CACHE_DIR"] = _SESSION_CACHE
# The decoded shared archive alone is ~180 MB: never leave it behind in /tmp.
atexit.register(shutil.rmtree, _SESSION_CACHE, ignore_errors=True)

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_ARCHIVE = REPO_ROOT.parent / "shared" / "datasets" / "cifar10-jpeg.tar.gz"


@pytest.fixture(scope="session")
def shared_cifar10_archive() -> Path:
    """The 60,000-image CIFAR-10 JPEG archive of this workplace; skip when absent."""
    if not SHARED_ARCHIVE.is_file():
        pytest.skip(f"shared dataset not found at {SHARED_ARCHIVE} (outside the workplace)")
    return SHARED_ARCHIVE


@pytest.fixture(scope="session")
def shared_cifar10(shared_cifar10_archive):
    """The shared archive loaded once per test session (decoded, then cached)."""
    from linviz.data import load_dataset

    return load_dataset(shared_cifar10_archive)
