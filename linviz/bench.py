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


def _pillow_loop_load(archive: Path, limit: Optional[int] = None) -> int:
    """The reference: every JPEG of the .tar.gz decoded with Pillow, one after the other."""
    import tarfile

    import numpy as np
    from PIL import Image

    images = []
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            if not member.isfile():
                continue
            with tar.extractfile(member) as f, Image.open(f) as image:
                images.append(np.asarray(image.convert("RGB")))
            if limit is not None and len(images) >= limit:
                break
    np.stack(images)
    return len(images)


def bench_load(archive: Optional[Path], quick: bool) -> dict:
    """Shared archive: Pillow loop vs linviz (cold, no cache) vs linviz from its cache."""
    if archive is None:
        _say("skipped: the shared CIFAR-10 archive was not found (pass --data)")
        return {"skipped": "shared archive not found"}
    import tempfile

    from linviz.data import load_dataset
    from linviz.data import cache as dataset_cache

    n_loop = 10_000 if quick else None
    start = time.perf_counter()
    n_reference = _pillow_loop_load(archive, n_loop)
    reference_s = time.perf_counter() - start

    old_cache = os.environ.get("LINVIZ_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="linviz-bench-cache-") as private_cache:
        # A private, empty cache: the first load really decodes, the second really hits.
        os.environ["LINVIZ_CACHE_DIR"] = private_cache
        try:
            start = time.perf_counter()
            dataset = load_dataset(archive)
            first_s = time.perf_counter() - start
            n_images = len(dataset.train) + (len(dataset.test) if dataset.test is not None else 0)
            del dataset
            cached_times = []
            for _ in range(3):
                start = time.perf_counter()
                cached = load_dataset(archive)
                cached_times.append(time.perf_counter() - start)
                assert dataset_cache.was_cache_hit(cached), "second load did not come from the cache"
                del cached
            cached_s = statistics.median(cached_times)
        finally:
            if old_cache is None:
                os.environ.pop("LINVIZ_CACHE_DIR", None)
            else:
                os.environ["LINVIZ_CACHE_DIR"] = old_cache

    # The loop may have run on a subset (--quick): compare per-image rates.
    reference_rate = n_reference / reference_s
    first_rate = n_images / first_s
    result = {
        "images": n_images,
        "reference_images": n_reference,
        "pillow_loop_s": round(reference_s, 3),
        "pillow_loop_images_per_s": round(reference_rate),
        "linviz_first_load_s": round(first_s, 3),
        "linviz_images_per_s": round(first_rate),
        "linviz_cached_load_s": round(cached_s, 4),
        "cached_images_per_s": round(n_images / cached_s),
        "speedup_vs_pillow_loop": round(first_rate / reference_rate, 2),
        "cache_speedup_vs_first_load": round(first_s / cached_s, 1),
        "targets": {"speedup_vs_pillow_loop": 2.5, "cache_speedup_vs_first_load": 20},
    }
    _say(f"Pillow one-by-one loop:  {reference_s:7.3f} s  {reference_rate:10,.0f} images/s  ({n_reference:,} images)")
    _say(f"linviz first load:       {first_s:7.3f} s  {first_rate:10,.0f} images/s  ({n_images:,} images)")
    _say(f"linviz from its cache:   {cached_s:7.3f} s  {n_images / cached_s:10,.0f} images/s  (median of 3)")
    _say(
        f"ratios: {result['speedup_vs_pillow_loop']:.2f}x faster than the loop (target >= 2.5x), "
        f"cache {result['cache_speedup_vs_first_load']:.1f}x faster than the first load (target >= 20x)"
    )
    return result


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
