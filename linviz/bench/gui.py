"""Training inside the window (offscreen, every view live) vs headless, and the GUI thread's
stalls (linviz.gui.devtools.training_bench does the Qt part)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from linviz.bench.common import Say, verdict


def bench_gui(archive: Optional[Path], quick: bool, say: Say) -> dict:
    """Training inside the window (offscreen, every view live) vs headless; GUI-thread stalls.

    Two workloads: HOG + hue (155 columns: ~50 us per iteration, the hardest case for the
    GUI, since the loop then spends much of its time in Python) and raw pixels (3073
    columns: the compiled kernels dominate). Each in the Training tab and with the Inside
    one image lab following the model, on the machine as it is and with one core kept busy.
    """
    try:
        from linviz.gui.devtools.training_bench import (ROUNDS, TARGETS, prepare_bench_data, row_verdicts,
                                                        run_gui_bench)  # Qt only in here
    except ImportError as exc:
        say(f"skipped: the GUI needs PySide6 and pyqtgraph ({exc})")
        return {"skipped": str(exc)}
    results, lines = {}, []
    for spec in ("hog+hue", "raw"):
        say(f"-- features {spec}")
        prepared, features = prepare_bench_data(archive, quick, spec=spec)
        rounds = 3 if quick else ROUNDS
        result = run_gui_bench(prepared, features, seconds=2.0 if quick else 5.0, repeats=rounds, say=say)
        for row in result["rows"].values():
            met = row_verdicts(row)
            target = TARGETS[row["load"]]
            line = (f"{spec:8s} {row['view']:13s} {row['load']:7s} {row['throughput_ratio']:4.0%} of headless "
                    f"(>= {target:.0%}: {verdict(met['throughput'])}), longest stall {row['max_stall_ms']:5.1f} ms "
                    f"(median {row['median_max_stall_ms']:.0f}; <= {TARGETS['max_stall_ms']:.0f}: "
                    f"{verdict(met['stall'])}), {row['redraws_per_second']:4.1f} redraws/s (>= "
                    f"{TARGETS['redraws_per_second']:.0f}: {verdict(met['redraws'])}); headless "
                    f"{row['headless_samples_per_second']:,.0f} samples/s on {row['headless_cores']:.2f} cores; "
                    f"rounds {'/'.join(f'{r:.0%}' for r in row['round_ratios'])}")
            if "training_time" in row:
                shares = row["training_time"]
                line += (f"; the loop's thread {shares['running']:.0%} running, {shares['waiting_for_a_core']:.0%} "
                         f"waiting for a core, {shares['blocked']:.0%} blocked; GUI thread "
                         f"{row['gui_thread_cores']:.0%} of a core")
            if "cpu_efficiency" in row:
                line += f"; samples per CPU second of the loop: {row['cpu_efficiency']:.0%} of headless"
            lines.append(line)
        results[spec] = result
    say(f"every row ({results['raw']['design']}; medians of {rounds} rounds, each window run against the "
        "headless run of its round, every other round in reverse order):")
    for line in lines:
        say("  " + line)
    return results
