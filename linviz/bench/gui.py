"""Training inside the window (offscreen, every view live) vs headless, and the GUI thread's
stalls (linviz.gui.devtools.training_bench does the Qt part)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from linviz.bench.common import Say, verdict


def bench_gui(archive: Optional[Path], quick: bool, say: Say) -> dict:
    """Training inside the window (offscreen, every view live) vs headless; GUI-thread stalls.

    Two workloads: HOG + hue (155 columns: ~50 us per iteration, the hardest case for the
    GUI, since the loop then spends most of its time in Python holding the GIL) and raw
    pixels (3073 columns: the compiled kernels dominate).
    """
    try:
        from linviz.gui.devtools.training_bench import prepare_bench_data, run_gui_bench  # Qt only in here
    except ImportError as exc:
        say(f"skipped: the GUI needs PySide6 and pyqtgraph ({exc})")
        return {"skipped": str(exc)}
    results = {}
    for spec in ("hog+hue", "raw"):
        say(f"-- features {spec}")
        prepared, features = prepare_bench_data(archive, quick, spec=spec)
        result = run_gui_bench(prepared, features, seconds=2.0 if quick else 5.0, repeats=3, say=say)
        say(f"throughput in the window: {result['gui_samples_per_second']:,.0f} samples/s vs headless "
            f"{result['headless_samples_per_second']:,.0f} = {result['throughput_ratio']:.0%} "
            f"(target >= 85%: {verdict(result['throughput_ratio'] >= 0.85)})")
        say(f"GUI thread: longest stall {result['max_stall_ms']:.0f} ms (median over runs "
            f"{result['median_max_stall_ms']:.0f} ms, 99th percentile gap {result['p99_gap_ms']:.0f} ms, idle window "
            f"{result['idle_max_stall_ms']:.0f} ms; target <= 50 ms: {verdict(result['max_stall_ms'] <= 50)})")
        say(f"redraws: {result['redraws_per_second']:.1f} per second (target >= 20: "
            f"{verdict(result['redraws_per_second'] >= 20)})")
        say(f"with the Inside-one-image lab computing on the quick lane "
            f"({result['lab_computations_per_second']:.1f} computations/s): throughput "
            f"{result['lab_throughput_ratio']:.0%} of headless (target >= 85%: {verdict(result['lab_throughput_ratio'] >= 0.85)}), "
            f"longest stall {result['lab_max_stall_ms']:.0f} ms (median {result['lab_median_max_stall_ms']:.0f} ms; "
            f"target <= 50 ms: {verdict(result['lab_max_stall_ms'] <= 50)})")
        results[spec] = result
    return results
