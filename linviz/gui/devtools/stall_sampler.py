"""What the GUI thread is doing when it stalls: its Python stack, sampled while a run trains.

A thread samples the GUI thread's stack every few milliseconds (``sys._current_frames``)
while the GUI bench's 10 ms probe timer records its ticks; the samples that fall inside a gap
between two ticks longer than the threshold say where the stall went. A sample whose
innermost frame is the event loop means Qt's own C++ (painting, layouts) or waiting for the
GIL. Run it on the CIFAR-10 archive, as the GUI bench does (without ``--data``: the demo set):

    python -m linviz.gui.devtools.stall_sampler hog+hue "Training tab" --data cifar10-jpeg.tar.gz
    python -m linviz.gui.devtools.stall_sampler raw "Inside lab" --rounds 3 --data cifar10-jpeg.tar.gz

``--loaded`` keeps one core busy meanwhile (the GUI bench's loaded rows); ``--per-gap``
lists the longest gaps one by one, each with when it came in its run and what its samples
were doing.
"""

from __future__ import annotations

import collections
import contextlib
import os
import sys
import threading
import time
import traceback
from typing import Optional


class StackSampler:
    """Samples one thread's Python stack (innermost frame first) every ``interval_s``."""

    def __init__(self, thread_id: int, interval_s: float = 0.002):
        self.thread_id = thread_id
        self.interval_s = interval_s
        self.samples: list[tuple[float, tuple[str, ...]]] = []
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="stackSampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            frame = sys._current_frames().get(self.thread_id)
            if frame is not None:
                stack = tuple(f"{os.path.basename(f.f_code.co_filename)}:{f.f_code.co_name}"
                              for f, _ in traceback.walk_stack(frame))
                self.samples.append((time.perf_counter(), stack))
            time.sleep(self.interval_s)


def gaps_longer_than(ticks: list[float], threshold_s: float) -> list[tuple[float, float]]:
    """(start, end) of every gap between consecutive ticks longer than ``threshold_s``."""
    return [(a, b) for a, b in zip(ticks, ticks[1:]) if b - a > threshold_s]


def functions_in_gaps(samples: list[tuple[float, tuple[str, ...]]], gaps: list[tuple[float, float]]):
    """(share of the samples inside the gaps, share of all samples) per function, counted once
    per sample wherever it is on the stack; most frequent in the gaps first."""
    inside, everywhere = collections.Counter(), collections.Counter()
    n_inside = 0
    for t, stack in samples:
        functions = set(stack)
        everywhere.update(functions)
        if any(a <= t <= b for a, b in gaps):
            inside.update(functions)
            n_inside += 1
    return [(name, count / max(n_inside, 1), everywhere[name] / max(len(samples), 1))
            for name, count in inside.most_common()]


def gap_report(samples: list[tuple[float, tuple[str, ...]]], gap: tuple[float, float], common: set,
               top: int = 6) -> str:
    """The functions most often on the stack in one gap, leaving out ``common`` (the frames
    every sample has: the event loop and the tool itself)."""
    counts = collections.Counter()
    n = 0
    for t, stack in samples:
        if gap[0] <= t <= gap[1]:
            n += 1
            counts.update(set(stack) - common)
    if n == 0:
        return "no sample (Qt's own C++ or waiting for the GIL)"
    return ", ".join(f"{name} {count / n:.0%}" for name, count in counts.most_common(top))


def main(argv: Optional[list[str]] = None) -> int:
    import argparse

    from linviz.gui.devtools import training_bench as bench

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", nargs="?", default="hog+hue")
    parser.add_argument("view", nargs="?", default="Training tab", choices=bench.VIEWS)
    parser.add_argument("--epochs", type=int, default=None, help="per run (default: about 10 s of HOG + hue)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threshold-ms", type=float, default=40.0)
    parser.add_argument("--data", default=None, help="the CIFAR-10 JPEG archive (default: the demo set)")
    parser.add_argument("--loaded", action="store_true", help="one other process keeps a core busy meanwhile")
    parser.add_argument("--per-gap", action="store_true", help="the longest gaps one by one")
    args = parser.parse_args(argv)
    prepared, features = bench.prepare_bench_data(args.data, False, spec=args.spec)
    app = bench.bench_application()
    from linviz.gui.runtime.blas_threads import limit_loaded_blas

    limit_loaded_blas()
    epochs = args.epochs or (300 if args.spec == "hog+hue" else 20)
    settings = {**bench.TRAINING_SETTINGS, "epochs": epochs}
    window = bench.bench_window(app)
    if window.job_runner.trains_in_worker:
        window.job_runner.worker_process.warm_up()
    tab = 0 if args.view == bench.VIEWS[0] else window.view_tabs.index_of_title("Inside one image")
    probe = bench._StallProbe()
    sampler = StackSampler(threading.main_thread().ident)
    sampler.start()
    gaps, runs = [], []  # runs: (first tick, last tick) of each run
    try:
        with bench.one_busy_core() if args.loaded else contextlib.nullcontext():
            for k in range(args.rounds):
                result = bench._in_window(window, features, prepared, settings, app, tab=tab, probe=probe)
                gaps += gaps_longer_than(probe.ticks, args.threshold_ms / 1000)
                runs.append((probe.ticks[0], probe.ticks[-1]) if probe.ticks else (0.0, 0.0))
                print(f"run {k + 1}: longest stall {result['max_stall_ms']:.0f} ms, "
                      f"{result['redraws_per_second']:.1f} redraws/s")
    finally:
        sampler.stop()
        window.shutdown()
    if not gaps:
        print(f"no gap over {args.threshold_ms:.0f} ms")
        return 0
    longest = sorted(gaps, key=lambda g: g[0] - g[1])[:20]
    print(f"{len(gaps)} gaps over {args.threshold_ms:.0f} ms, the longest: "
          f"{', '.join(f'{1000 * (b - a):.0f}' for a, b in longest)} ms")
    if args.per_gap:
        common = set.intersection(*(set(stack) for _, stack in sampler.samples)) if sampler.samples else set()
        for a, b in longest[:10]:
            start, end = next(((r0, r1) for r0, r1 in runs if r0 <= a <= r1), (a, b))
            print(f"  {1000 * (b - a):4.0f} ms at {a - start:5.1f} s of a {end - start:.1f} s run: "
                  f"{gap_report(sampler.samples, (a, b), common)}")
    print("share of the samples in those gaps (and of all samples) per function on the stack:")
    for name, share, overall in functions_in_gaps(sampler.samples, gaps)[:40]:
        print(f"  {share:6.1%} ({overall:6.1%})  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
