"""Training with the loss landscape live: throughput and GUI-thread stalls (``bench --only landscape``).

The same measurement as :mod:`linviz.gui.gui_bench` (headless runs alternated with runs in the
window, medians), with the Optimization lab's loss landscape showing: while the run trains it
computes a coarse surface around the newest W about once a second on the quick lane. Targets:
training keeps >= 90% of its headless throughput; the GUI thread never stalls > 50 ms.
"""

from __future__ import annotations

import os
import statistics

from linviz.gui.gui_bench import TRAINING_SETTINGS, _headless, _idle_stall, _in_window


def run_landscape_gui_bench(prepared, features, seconds: float = 5.0, repeats: int = 3, say=print) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QSettings, QStandardPaths
    from PySide6.QtWidgets import QApplication

    QStandardPaths.setTestModeEnabled(True)
    QCoreApplication.setOrganizationName("linviz-bench")
    QCoreApplication.setApplicationName("linviz-bench")
    app = QApplication.instance() or QApplication(["linviz-bench"])

    from linviz.gui.blas_threads import limit_loaded_blas
    from linviz.gui.labs.optimization import OptimizationLab
    from linviz.gui.main_window import MainWindow

    limit_loaded_blas()
    per_epoch = max(1, len(prepared.train.labels) // TRAINING_SETTINGS["batch_size"]) * TRAINING_SETTINGS["batch_size"]
    rate = _headless(features, prepared, {**TRAINING_SETTINGS, "epochs": 2})
    epochs = int(max(2, min(500, round(seconds * rate / per_epoch))))
    settings = {**TRAINING_SETTINGS, "epochs": epochs}
    settings_file = QSettings(os.path.join(os.environ.get("TMPDIR", "/tmp"), "linviz-bench.ini"),
                              QSettings.Format.IniFormat)
    window = MainWindow("demo", settings=settings_file)
    window.queue.warmup_state = "done"
    window.resize(1400, 900)
    window.show()
    app.processEvents()
    lab = next(lab for lab in window.labs if isinstance(lab, OptimizationLab))
    tab = window.view_tabs.indexOf(lab)
    lab.tabs.setCurrentWidget(lab.landscape)
    idle = _idle_stall(app, 2.0)
    say(f"  training {len(prepared.train.labels):,} images x {features.X_train.shape[1]:,} features, {epochs} epochs "
        f"per run; the idle window's longest stall over 2 s: {idle:.0f} ms")
    headless, live = [], []
    try:
        for k in range(repeats):
            headless.append(_headless(features, prepared, settings))
            before = lab.landscape.live_jobs
            live.append(_in_window(window, features, prepared, settings, app, tab=tab))
            live[-1]["surfaces_per_second"] = (lab.landscape.live_jobs - before) / live[-1]["seconds"]
            say(f"  run {k + 1}: headless {headless[-1]:,.0f} samples/s, with the landscape live "
                f"{live[-1]['samples_per_second']:,.0f} samples/s ({live[-1]['surfaces_per_second']:.2f} surfaces/s), "
                f"longest stall {live[-1]['max_stall_ms']:.0f} ms")
    finally:
        window.shutdown()
        window.close()
    headless_rate = statistics.median(headless)
    live_rate = statistics.median(g["samples_per_second"] for g in live)
    return {"headless_samples_per_second": headless_rate, "live_samples_per_second": live_rate,
            "throughput_ratio": live_rate / headless_rate if headless_rate else None,
            "max_stall_ms": max(g["max_stall_ms"] for g in live),
            "median_max_stall_ms": statistics.median(g["max_stall_ms"] for g in live),
            "surfaces_per_second": statistics.median(g["surfaces_per_second"] for g in live),
            "idle_max_stall_ms": idle}
