"""What the benchmark sections share: finding the shared archive, the machine line, memory
counters, and the verdict words.

Every section is a function ``bench_<name>(archive, quick, say) -> dict``: ``archive`` the
shared CIFAR-10 JPEG archive (None when it was not found), ``quick`` fewer images and
repeats, ``say(text)`` prints one line of running commentary (to stdout, or to stderr when
stdout carries the JSON document). It returns its figures for ``--json``.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Callable, Optional

Say = Callable[[str], None]

NO_ARCHIVE = "skipped: the shared CIFAR-10 archive was not found (pass --data)"
REPOSITORY = Path(__file__).resolve().parents[2]  # the checkout: main.py, linviz/, tests/


def find_shared_archive(explicit: Optional[str] = None) -> Optional[Path]:
    """The shared CIFAR-10 JPEG archive: ``--data``, else ``shared/datasets`` beside the
    checkout or one of its parent folders (a git worktree may sit a level deeper)."""
    if explicit:
        return Path(explicit)
    for folder in (REPOSITORY, *REPOSITORY.parents[:2]):
        candidate = folder / "shared" / "datasets" / "cifar10-jpeg.tar.gz"
        if candidate.is_file():
            return candidate
    return None


def machine_line() -> str:
    import numba
    import numpy

    return (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, numpy {numpy.__version__}, "
        f"numba {numba.__version__}"
    )


def load_shared(archive: Optional[Path]):
    """The shared archive as a Dataset (from linviz's cache after the first time), or None."""
    from linviz.data import load_dataset

    if archive is None:
        return None
    return load_dataset(archive)


def verdict(good: bool) -> str:
    """How a figure compares with its target, in the commentary."""
    return "ok" if good else "MISSED"


def peak_rss_reset() -> bool:
    """Reset the kernel's peak-RSS counter (Linux ``clear_refs``); False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def proc_status_kb(field: str) -> Optional[int]:
    """A field of /proc/self/status in kB (VmRSS, VmHWM); None where unavailable."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def peak_memory(fn):
    """(fn(), peak bytes NumPy allocated meanwhile (tracemalloc), peak RSS above the start
    in bytes (VmHWM after clear_refs; None where the counters are unavailable))."""
    import tracemalloc

    rss_before = proc_status_kb("VmRSS")
    rss_reset = peak_rss_reset()
    tracemalloc.start()
    try:
        value = fn()
        _, traced_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    hwm = proc_status_kb("VmHWM")
    rss_extra = (hwm - rss_before) * 1024 if (rss_reset and hwm and rss_before) else None
    return value, traced_peak, rss_extra
