"""``python main.py bench``: linviz side by side with the reference tools, in one run.

Every figure is a ratio measured in the same process on the same images (see
docs/benchmarks in the shared folder): warm up first, take medians, print images/s and the
ratio, and say which comparisons were skipped because a reference tool is not installed
(``pip install -e ".[bench]"``).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Optional

SECTIONS = ("load", "features", "study", "sgd", "gui")


def find_shared_archive(explicit: Optional[str] = None) -> Optional[Path]:
    """The shared CIFAR-10 JPEG archive: ``--data``, else ``../shared/datasets`` of the repo."""
    if explicit:
        return Path(explicit)
    candidate = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "cifar10-jpeg.tar.gz"
    return candidate if candidate.is_file() else None


def median_time(fn: Callable[[], object], repeats: int = 3) -> float:
    """Median wall time of ``repeats`` calls of ``fn`` (call once before to warm up)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def machine_line() -> str:
    import numba
    import numpy

    return (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, numpy {numpy.__version__}, "
        f"numba {numba.__version__}"
    )


def _say(text: str) -> None:
    print(text, flush=True)


# --------------------------------------------------------------------------- sections


def bench_load(archive: Optional[Path], quick: bool) -> dict:
    return {"skipped": "not implemented yet"}


def bench_features(archive: Optional[Path], quick: bool) -> dict:
    return {"skipped": "not implemented yet"}


def bench_study(archive: Optional[Path], quick: bool) -> dict:
    return {"skipped": "not implemented yet"}


def bench_sgd(archive: Optional[Path], quick: bool) -> dict:
    return {"skipped": "not implemented yet"}


def bench_gui(archive: Optional[Path], quick: bool) -> dict:
    return {"skipped": "not implemented yet"}


# --------------------------------------------------------------------------- driver


def run(args) -> int:
    from linviz.cli import UsageError

    only = args.only.split(",") if args.only else [s for s in SECTIONS if s != "study"]
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        raise UsageError(f"bench: unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    archive = find_shared_archive(args.data)
    if archive is not None and not archive.is_file():
        raise UsageError(f"bench: {archive}: no such file")
    sections = {
        "load": bench_load,
        "features": bench_features,
        "study": bench_study,
        "sgd": bench_sgd,
        "gui": bench_gui,
    }
    results = {"machine": machine_line(), "archive": str(archive) if archive else None}
    if not args.json:
        _say(f"linviz bench on {results['machine']}")
    for name in only:
        if not args.json:
            _say(f"\n== {name} ==")
        results[name] = sections[name](archive, args.quick)
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0
