"""The GUI benchmark: does training keep its speed inside the window, does the GUI stay live?

Three figures, measured side by side in one process (offscreen is fine):
- training throughput (samples per wall-clock second of the whole training loop) headless
  vs the same run started from the window's Train button at full speed, with every live
  view redrawing (the loop's own ``samples_per_second`` counts only its compute time, so it
  would hide time lost waiting for the GIL between calls);
- the GUI thread's longest stall: a 10 ms QTimer records the largest gap between ticks;
- redraws per second of the live views (frames drawn by the display timer).

Each in-window run is repeated with the "Inside one image" lab showing instead of the training
view: the lab then follows the model on the quick lane (a few computations a second) while
training runs on the heavy lane, and the same targets must hold.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Optional

import numpy as np

TRAINING_SETTINGS = {"loss": "softmax", "reg": 1e-3, "reg_type": "l2", "optimizer": "sgd",
                     "learning_rate": 1e-2, "batch_size": 200}


def _headless(features, prepared, settings: dict) -> float:
    """Samples per wall-clock second of a plain loop over the training generator."""
    from linviz.workbench.jobs import make_training_config
    from linviz.training import train

    config = make_training_config(settings)
    last = None
    start = time.perf_counter()
    for last in train(features.X_train, prepared.train.labels, features.X_val, prepared.val.labels, config,
                      n_classes=len(prepared.class_names)):
        pass
    return last.iteration * config.batch_size / (time.perf_counter() - start)


class _StallProbe:
    """A 10 ms timer on the GUI thread; the largest gap between its ticks is the worst stall."""

    def __init__(self):
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self._last: Optional[float] = None

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.gaps.append(now - self._last)
        self._last = now

    def start(self) -> None:
        self._last = None
        self.gaps.clear()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()


def _idle_stall(app, seconds: float) -> float:
    """The probe with nothing running: how much the machine alone delays the GUI thread."""
    from PySide6.QtCore import QEventLoop, QTimer

    probe = _StallProbe()
    loop = QEventLoop()
    probe.start()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    probe.stop()
    return 1000 * max(probe.gaps or [0.0])


def _in_window(window, features, prepared, settings: dict, app, tab: int = 0) -> dict:
    """Train from the window (the views of tab ``tab`` live) and measure; the window is shown."""
    from PySide6.QtCore import QEventLoop

    panel = window.training_panel
    panel.apply_settings(settings)
    window.workbench.set_data(prepared)
    window.features_panel.set_spec_text(features.spec_text)  # Train then reuses these features
    window.workbench.set_features(features)
    window.gallery_view.select("validation", 0)
    window.view_tabs.setCurrentIndex(tab)
    probe = _StallProbe()
    app.processEvents()
    draws_before = window.training_controller.redraw_count
    quick_before = window.job_runner.quick.completed
    probe.start()
    start = time.perf_counter()
    # Wait in a real event loop (a processEvents() busy loop would itself steal the GIL).
    loop = QEventLoop()
    window.job_runner.finished.connect(loop.quit)
    window.training_controller.train()
    if window.job_runner.busy:
        loop.exec()
    window.job_runner.finished.disconnect(loop.quit)
    wall = time.perf_counter() - start
    probe.stop()
    frame = window.workbench.frame
    if window.workbench.features is not features:
        raise RuntimeError("the window extracted its own features: the runs would not compare")
    if frame is None or window.error_messages:
        raise RuntimeError(f"training in the window failed: {window.error_messages}")
    gaps = probe.gaps or [0.0]
    wall_rate = frame.snapshot.iteration * settings["batch_size"] / frame.wall_seconds
    return {
        "samples_per_second": wall_rate,
        "max_stall_ms": 1000 * max(gaps),
        "p99_gap_ms": 1000 * float(np.percentile(gaps, 99)),
        "redraws_per_second": (window.training_controller.redraw_count - draws_before) / wall,
        "quick_jobs_per_second": (window.job_runner.quick.completed - quick_before) / wall,
        "seconds": wall,
    }


def bench_application():
    """The QApplication for a GUI bench: offscreen unless a display is set, test-mode paths."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QStandardPaths
    from PySide6.QtWidgets import QApplication

    QStandardPaths.setTestModeEnabled(True)  # never touch the user's settings
    if "LINVIZ_DATA_DIR" not in os.environ:  # ... nor the user's run history (every run is recorded)
        import tempfile

        os.environ["LINVIZ_DATA_DIR"] = tempfile.mkdtemp(prefix="linviz-bench-data-")
    QCoreApplication.setOrganizationName("linviz-bench")
    QCoreApplication.setApplicationName("linviz-bench")
    app = QApplication.instance() or QApplication(["linviz-bench"])
    from linviz.gui.runtime.garbage import collect_on_gui_thread

    collect_on_gui_thread()  # as in the app
    return app


def bench_window(app):
    """A shown 1400 x 900 window on the demo set with its own settings file, no warm-up."""
    from linviz.gui.main_window import MainWindow
    from linviz.settings_file import SettingsFile

    window = MainWindow("demo", settings=SettingsFile.in_memory())
    window.job_queue.warmup_state = "done"
    window.resize(1400, 900)
    window.show()
    app.processEvents()
    from linviz.gui.runtime.garbage import freeze_survivors

    freeze_survivors()  # as in the app
    return window


def run_gui_bench(prepared, features, seconds: float = 5.0, repeats: int = 3, say=print) -> dict:
    """Headless and in-window runs alternated ``repeats`` times; medians and ratio."""
    app = bench_application()
    from linviz.gui.runtime.blas_threads import limit_loaded_blas

    # Both runs use the app's BLAS setting (one core left to the GUI); MainWindow would
    # apply it anyway, this only makes the calibration run match.
    limited = limit_loaded_blas()
    say(f"BLAS threads: {'limited to cores - 1, as in the app' if limited else 'as configured by the environment'}")

    # Calibrate: enough epochs for ``seconds`` of training (compiles the kernels too).
    iterations_per_epoch = max(1, len(prepared.train.labels) // TRAINING_SETTINGS["batch_size"])
    rate = _headless(features, prepared, {**TRAINING_SETTINGS, "epochs": 2})
    samples_per_epoch = iterations_per_epoch * TRAINING_SETTINGS["batch_size"]
    epochs = int(max(2, min(500, round(seconds * rate / samples_per_epoch))))
    settings = {**TRAINING_SETTINGS, "epochs": epochs}
    say(f"training: {len(prepared.train.labels):,} images x {features.X_train.shape[1]:,} features, "
        f"batch {settings['batch_size']}, {epochs} epochs ({epochs * iterations_per_epoch:,} iterations) per run")

    window = bench_window(app)
    headless, gui, lab = [], [], []
    lab_tab = [window.view_tabs.tabText(i) for i in range(window.view_tabs.count())].index("Inside one image")
    idle = _idle_stall(app, 2.0)
    say(f"  machine noise: the idle window's longest stall over 2 s is {idle:.0f} ms")
    try:
        for k in range(repeats):
            headless.append(_headless(features, prepared, settings))
            gui.append(_in_window(window, features, prepared, settings, app))
            lab.append(_in_window(window, features, prepared, settings, app, tab=lab_tab))
            say(f"  run {k + 1}: headless {headless[-1]:,.0f} samples/s, in the window "
                f"{gui[-1]['samples_per_second']:,.0f} samples/s, max stall {gui[-1]['max_stall_ms']:.0f} ms, "
                f"{gui[-1]['redraws_per_second']:.1f} redraws/s; with the lab on the quick lane "
                f"{lab[-1]['samples_per_second']:,.0f} samples/s, max stall {lab[-1]['max_stall_ms']:.0f} ms, "
                f"{lab[-1]['quick_jobs_per_second']:.1f} lab computations/s")
    finally:
        window.shutdown()
        window.close()
        window.deleteLater()
        app.processEvents()
    headless_rate = statistics.median(headless)
    gui_rate = statistics.median(g["samples_per_second"] for g in gui)
    lab_rate = statistics.median(g["samples_per_second"] for g in lab)
    return {
        "images": len(prepared.train.labels),
        "features": int(features.X_train.shape[1]),
        "epochs": epochs,
        "headless_samples_per_second": headless_rate,
        "gui_samples_per_second": gui_rate,
        "throughput_ratio": gui_rate / headless_rate if headless_rate else None,
        "max_stall_ms": max(g["max_stall_ms"] for g in gui),
        "median_max_stall_ms": statistics.median(g["max_stall_ms"] for g in gui),
        "p99_gap_ms": statistics.median(g["p99_gap_ms"] for g in gui),
        "redraws_per_second": statistics.median(g["redraws_per_second"] for g in gui),
        "idle_max_stall_ms": idle,
        "lab_throughput_ratio": lab_rate / headless_rate if headless_rate else None,
        "lab_max_stall_ms": max(g["max_stall_ms"] for g in lab),
        "lab_median_max_stall_ms": statistics.median(g["max_stall_ms"] for g in lab),
        "lab_computations_per_second": statistics.median(g["quick_jobs_per_second"] for g in lab),
        "targets": {"throughput_ratio": 0.85, "max_stall_ms": 50, "redraws_per_second": 20},
    }


def prepare_bench_data(archive, quick: bool, spec: str = "hog+hue"):
    """CIFAR-10 from the shared archive when given (else the demo set), split and featurized."""
    from linviz.data import load_dataset
    from linviz.workbench.jobs import QuietContext, extract_features, prepare_splits
    from linviz.workbench import SplitSettings

    dataset = load_dataset(str(archive) if archive is not None else "demo")
    # The app's default split: every training image (49,000 on CIFAR-10), so that epochs are as
    # long as a user's; --quick takes a 3,000-image subsample.
    per_class = 300 if quick else 0
    prepared = prepare_splits(dataset, SplitSettings(val_size=1000, per_class=per_class))
    features = extract_features(prepared, spec, QuietContext())
    return prepared, features
