"""Loading the shared archive: a Pillow loop vs linviz with an empty cache vs linviz from its cache."""

from __future__ import annotations

import os
import statistics
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Optional

import numpy as np
from PIL import Image

from linviz.bench.common import NO_ARCHIVE, Say
from linviz.data import cache as dataset_cache
from linviz.data import load_dataset


def _pillow_loop_load(archive: Path, limit: Optional[int] = None) -> int:
    """The reference: every JPEG of the .tar.gz decoded with Pillow, one after the other."""
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


def bench_load(archive: Optional[Path], quick: bool, say: Say) -> dict:
    """Shared archive: Pillow loop vs linviz (empty cache) vs linviz from its cache.

    The loop and linviz's first load alternate, ``rounds`` times, each linviz load with an
    empty private cache; medians are reported (the machine is shared and noisy). CPU
    seconds are printed too: on a busy machine the wall-clock ratio drifts towards the CPU
    ratio, because the loop uses one core and linviz all of them.
    """
    if archive is None:
        say(NO_ARCHIVE)
        return {"skipped": "shared archive not found"}
    rounds = 1 if quick else 3
    n_loop = 10_000 if quick else None
    old_cache = os.environ.get("LINVIZ_CACHE_DIR")
    reference, first, reference_cpu, first_cpu, cached_times = [], [], [], [], []
    n_reference = n_images = 0
    try:
        for _ in range(rounds):
            start, cpu = time.perf_counter(), time.process_time()
            n_reference = _pillow_loop_load(archive, n_loop)
            reference.append(time.perf_counter() - start)
            reference_cpu.append(time.process_time() - cpu)
            with tempfile.TemporaryDirectory(prefix="linviz-bench-cache-") as private_cache:
                # A private, empty cache: the first load really decodes, later ones hit.
                os.environ["LINVIZ_CACHE_DIR"] = private_cache
                start, cpu = time.perf_counter(), time.process_time()
                dataset = load_dataset(archive)
                first.append(time.perf_counter() - start)
                first_cpu.append(time.process_time() - cpu)
                n_images = len(dataset.train) + (len(dataset.test) if dataset.test is not None else 0)
                del dataset
                dataset_cache.wait_for_pending_writes()  # the cache is written in the background
                for _ in range(3 if not cached_times else 1):
                    start = time.perf_counter()
                    cached = load_dataset(archive)
                    cached_times.append(time.perf_counter() - start)
                    assert dataset_cache.was_cache_hit(cached), "second load did not come from the cache"
                    del cached
    finally:
        if old_cache is None:
            os.environ.pop("LINVIZ_CACHE_DIR", None)
        else:
            os.environ["LINVIZ_CACHE_DIR"] = old_cache

    reference_s, first_s = statistics.median(reference), statistics.median(first)
    cached_s = statistics.median(cached_times)
    # The loop may have run on a subset (--quick): compare per-image rates.
    reference_rate = n_reference / reference_s
    first_rate = n_images / first_s
    cpu_ratio = (n_images / statistics.median(first_cpu)) / (n_reference / statistics.median(reference_cpu))
    result = {
        "images": n_images,
        "reference_images": n_reference,
        "rounds": rounds,
        "pillow_loop_s": round(reference_s, 3),
        "pillow_loop_images_per_s": round(reference_rate),
        "linviz_first_load_s": round(first_s, 3),
        "linviz_images_per_s": round(first_rate),
        "linviz_cached_load_s": round(cached_s, 4),
        "cached_images_per_s": round(n_images / cached_s),
        "speedup_vs_pillow_loop": round(first_rate / reference_rate, 2),
        "cpu_speedup_vs_pillow_loop": round(cpu_ratio, 2),
        "cache_speedup_vs_first_load": round(first_s / cached_s, 1),
        "targets": {"speedup_vs_pillow_loop": 2.5, "cache_speedup_vs_first_load": 20},
    }
    say(f"Pillow one-by-one loop:  {reference_s:7.3f} s  {reference_rate:10,.0f} images/s  "
        f"({n_reference:,} images, median of {rounds})")
    say(f"linviz first load:       {first_s:7.3f} s  {first_rate:10,.0f} images/s  "
        f"({n_images:,} images, empty cache, median of {rounds})")
    say(f"linviz from its cache:   {cached_s:7.3f} s  {n_images / cached_s:10,.0f} images/s  "
        f"(median of {len(cached_times)})")
    say(
        f"ratios: {result['speedup_vs_pillow_loop']:.2f}x faster than the loop (target >= 2.5x; "
        f"{cpu_ratio:.2f}x in CPU time), cache {result['cache_speedup_vs_first_load']:.1f}x faster than "
        "the first load (target >= 20x)"
    )
    return result
