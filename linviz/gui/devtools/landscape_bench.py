"""Training with the loss landscape live: throughput and GUI-thread stalls (``bench --only landscape``).

The same measurement as :mod:`linviz.gui.devtools.training_bench`, with the Optimization lab's loss
landscape showing. Three runs alternate, ``repeats`` times: headless; in the window with the
landscape shown but not following training ("Follow training" off); and following it (a
coarse surface around the newest W about once a second on the quick lane). The live
surface's own cost is the ratio of the last two (target: training keeps >= 90% of its
speed); the ratio to headless includes the window's (see the gui section). GUI-thread
stalls: target <= 50 ms.
"""

from __future__ import annotations

import statistics

from linviz.gui.devtools.training_bench import (TRAINING_SETTINGS, _headless, _idle_stall, _in_window,
                                                bench_application, bench_window)


def run_landscape_gui_bench(prepared, features, seconds: float = 5.0, repeats: int = 3, say=print) -> dict:
    app = bench_application()
    from linviz.gui.runtime.blas_threads import limit_loaded_blas
    from linviz.gui.labs.optimization import OptimizationLab

    limit_loaded_blas()
    per_epoch = max(1, len(prepared.train.labels) // TRAINING_SETTINGS["batch_size"]) * TRAINING_SETTINGS["batch_size"]
    rate = _headless(features, prepared, {**TRAINING_SETTINGS, "epochs": 2})
    epochs = int(max(2, min(500, round(seconds * rate / per_epoch))))
    settings = {**TRAINING_SETTINGS, "epochs": epochs}
    window = bench_window(app)
    lab = next(lab for lab in window.labs if isinstance(lab, OptimizationLab))
    tab = window.view_tabs.indexOf(lab)
    lab.tabs.setCurrentWidget(lab.landscape)
    idle = _idle_stall(app, 2.0)
    say(f"  training {len(prepared.train.labels):,} images x {features.X_train.shape[1]:,} features, {epochs} epochs "
        f"per run; the idle window's longest stall over 2 s: {idle:.0f} ms")
    headless, still, live = [], [], []
    follow = lab.landscape.live_box
    try:
        for k in range(repeats):
            headless.append(_headless(features, prepared, settings))
            follow.setChecked(False)
            still.append(_in_window(window, features, prepared, settings, app, tab=tab))
            follow.setChecked(True)
            before = lab.landscape.live_jobs
            live.append(_in_window(window, features, prepared, settings, app, tab=tab))
            live[-1]["surfaces_per_second"] = (lab.landscape.live_jobs - before) / live[-1]["seconds"]
            say(f"  run {k + 1}: headless {headless[-1]:,.0f} samples/s; landscape shown, not following "
                f"{still[-1]['samples_per_second']:,.0f} samples/s (longest stall {still[-1]['max_stall_ms']:.0f} ms); "
                f"following {live[-1]['samples_per_second']:,.0f} samples/s ({live[-1]['surfaces_per_second']:.2f} "
                f"surfaces/s, longest stall {live[-1]['max_stall_ms']:.0f} ms)")
    finally:
        window.shutdown()
        window.close()
    headless_rate = statistics.median(headless)
    live_rate = statistics.median(g["samples_per_second"] for g in live)
    still_rate = statistics.median(g["samples_per_second"] for g in still)
    # per round: following / not following, both in the window (the live surface's own cost)
    own = statistics.median(b["samples_per_second"] / a["samples_per_second"] for a, b in zip(still, live))
    return {"headless_samples_per_second": headless_rate, "live_samples_per_second": live_rate,
            "still_samples_per_second": still_rate, "live_vs_still": own,
            "throughput_ratio": live_rate / headless_rate if headless_rate else None,
            "still_max_stall_ms": max(g["max_stall_ms"] for g in still),
            "max_stall_ms": max(g["max_stall_ms"] for g in live),
            "median_max_stall_ms": statistics.median(g["max_stall_ms"] for g in live),
            "surfaces_per_second": statistics.median(g["surfaces_per_second"] for g in live),
            "idle_max_stall_ms": idle}
