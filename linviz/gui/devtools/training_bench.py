"""The GUI benchmark: does training keep its speed inside the window, does the GUI stay live?

Three figures, measured side by side in one process (offscreen is fine):
- training throughput (samples per wall-clock second of the whole training loop) headless
  vs the same run started from the window's Train button at full speed, with every live
  view redrawing (the loop's own ``samples_per_second`` counts only its compute time, so it
  would hide time lost waiting between calls);
- the GUI thread's longest stall: a 10 ms QTimer records the largest gap between ticks;
- redraws per second of the live views (frames drawn by the display timer).

Each in-window run is repeated with the "Inside one image" lab showing instead of the training
view: the lab then follows the model on the quick lane (a few computations a second) while
training runs, and the same targets must hold. And all of it twice: on the machine as it is
("quiet"), and with a process the bench starts that keeps one core busy ("loaded"; a
student's laptop with a browser open), where the headless run has the other core.

On Linux each in-window run also says where the training loop's thread spent the loop
(:mod:`linviz.workbench.thread_times`: running, waiting for a core, or blocked; in the
window's own process, blocked means waiting for the GIL) and how much of a core the GUI
thread used (:mod:`linviz.gui.devtools.cpu_clock`).
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import time
from typing import Optional

import numpy as np

from linviz.gui.devtools.cpu_clock import CpuClock
from linviz.workbench.thread_times import ThreadStopwatch

TRAINING_SETTINGS = {"loss": "softmax", "reg": 1e-3, "reg_type": "l2", "optimizer": "sgd",
                     "learning_rate": 1e-2, "batch_size": 200}


def _headless(features, prepared, settings: dict, times: Optional[dict] = None) -> float:
    """Samples per wall-clock second of a plain loop over the training generator; ``times``
    gets the cores the process used meanwhile (all its threads: BLAS too)."""
    from linviz.workbench.jobs import make_training_config
    from linviz.training import train

    config = make_training_config(settings)
    last = None
    cpu_before = os.times()
    start = time.perf_counter()
    stopwatch = ThreadStopwatch()
    for last in train(features.X_train, prepared.train.labels, features.X_val, prepared.val.labels, config,
                      n_classes=len(prepared.class_names)):
        pass
    wall = time.perf_counter() - start
    samples = last.iteration * config.batch_size
    if times is not None:
        cpu_after = os.times()
        times["cores"] = ((cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)) / wall
        loop = stopwatch.stop()
        if loop is not None and loop.running > 0:
            times["samples_per_cpu_second"] = samples / loop.running
    return samples / wall


@contextlib.contextmanager
def one_busy_core():
    """Another app keeping one core busy (a plain Python loop, in a session of its own like
    any app the user started) for the duration."""
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(0.3)  # running before the first measurement
        yield burner
    finally:
        burner.kill()
        burner.wait()


class _StallProbe:
    """A 10 ms timer on the GUI thread; the largest gap between its ticks is the worst stall.
    ``ticks``: when each tick came (perf_counter), for tools that look inside the gaps."""

    def __init__(self):
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.ticks: list[float] = []

    @property
    def gaps(self) -> list[float]:
        return [b - a for a, b in zip(self.ticks, self.ticks[1:])]

    def _tick(self) -> None:
        self.ticks.append(time.perf_counter())

    def start(self) -> None:
        self.ticks.clear()
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


def _where_time_went(frame, samples: int, clock: Optional[CpuClock], before) -> dict:
    """Where the training loop's thread (its own measurement) and the GUI thread spent the run
    (Linux), as text and shares."""
    out = {}
    if frame.loop_times is not None:
        out["training_time"] = dict(zip(("running", "waiting_for_a_core", "blocked"), frame.loop_times.shares()))
        out["training_text"] = frame.loop_times.text()
        if frame.loop_times.running > 0:
            out["samples_per_cpu_second"] = samples / frame.loop_times.running
    gui = clock.since(before, main=True) if clock is not None else None
    if gui is not None:
        out["gui_thread_cores"] = gui.running / max(gui.wall, 1e-9)
    return out


def _in_window(window, features, prepared, settings: dict, app, tab: int = 0,
               probe: Optional[_StallProbe] = None) -> dict:
    """Train from the window (the views of tab ``tab`` live) and measure; the window is shown.
    ``probe``: the stall probe to use (a new one by default), for callers that read its ticks."""
    from PySide6.QtCore import QEventLoop

    panel = window.training_panel
    panel.apply_settings(settings)
    window.workbench.set_data(prepared)
    window.features_panel.set_spec_text(features.spec_text)  # Train then reuses these features
    window.workbench.set_features(features)
    window.gallery_view.select("validation", 0)
    window.view_tabs.setCurrentIndex(tab)
    probe = probe or _StallProbe()
    app.processEvents()
    draws_before = window.training_controller.redraw_count
    quick_before = window.job_runner.quick.completed
    clock = CpuClock() if CpuClock.available() else None
    before = clock.read() if clock is not None else None
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
    samples = frame.snapshot.iteration * settings["batch_size"]
    wall_rate = samples / frame.wall_seconds
    return {
        "samples_per_second": wall_rate,
        "max_stall_ms": 1000 * max(gaps),
        "p99_gap_ms": 1000 * float(np.percentile(gaps, 99)),
        "redraws_per_second": (window.training_controller.redraw_count - draws_before) / wall,
        "quick_jobs_per_second": (window.job_runner.quick.completed - quick_before) / wall,
        "seconds": wall,
        **_where_time_went(frame, samples, clock, before),
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


VIEWS = ("Training tab", "Inside lab")
LOADS = ("quiet", "loaded")
ROUNDS = 5  # per row; each round its own headless reference
TARGETS = {"quiet": 0.90, "loaded": 0.60, "max_stall_ms": 50.0, "redraws_per_second": 20.0}


def run_gui_bench(prepared, features, seconds: float = 5.0, repeats: int = ROUNDS, say=print) -> dict:
    """Headless and in-window runs (Training tab, Inside lab) in ``repeats`` rounds, quiet
    and with one core kept busy; medians and ratios per row.

    Each round compares its window runs with its own headless run (the machine's speed
    drifts between rounds), and every other round runs in the reverse order (Inside lab,
    Training tab, headless), so that no view always comes furthest from its reference: a
    row's throughput is the median of its rounds' ratios."""
    app = bench_application()
    from linviz.gui.runtime.blas_threads import limit_loaded_blas

    # Both runs use the app's BLAS setting (one core left to the GUI); MainWindow would
    # apply it anyway, this only makes the calibration run match.
    limited = limit_loaded_blas()
    say(f"BLAS threads: {'limited to cores - 1, as in the app' if limited else 'as configured by the environment'}")

    # Calibrate: enough epochs for ``seconds`` of training (after a first run that compiles).
    iterations_per_epoch = max(1, len(prepared.train.labels) // TRAINING_SETTINGS["batch_size"])
    _headless(features, prepared, {**TRAINING_SETTINGS, "epochs": 1})
    rate = _headless(features, prepared, {**TRAINING_SETTINGS, "epochs": 2})
    samples_per_epoch = iterations_per_epoch * TRAINING_SETTINGS["batch_size"]
    epochs = int(max(2, min(500, round(seconds * rate / samples_per_epoch))))
    settings = {**TRAINING_SETTINGS, "epochs": epochs}
    say(f"training: {len(prepared.train.labels):,} images x {features.X_train.shape[1]:,} features, "
        f"batch {settings['batch_size']}, {epochs} epochs ({epochs * iterations_per_epoch:,} iterations) per run")

    window = bench_window(app)
    runner = window.job_runner
    if runner.trains_in_worker:
        started = time.perf_counter()
        runner.worker_process.warm_up()  # as the app's start-up warm-up does
        say(f"design: training in the worker process (ready {time.perf_counter() - started:.1f} s after it was "
            f"asked for); LINVIZ_TRAINING_IN_WINDOW=1 measures the window's own training thread instead")
    else:
        say("design: training in a thread of the window's process (LINVIZ_TRAINING_IN_WINDOW is set)")
    lab_tab = window.view_tabs.index_of_title("Inside one image")
    idle = _idle_stall(app, 2.0)
    say(f"  machine noise: the idle window's longest stall over 2 s is {idle:.0f} ms")
    runs: dict = {(view, load): [] for view in VIEWS for load in LOADS}
    headless: dict = {load: [] for load in LOADS}
    cores: dict = {load: [] for load in LOADS}
    per_cpu: dict = {load: [] for load in LOADS}  # headless samples per CPU second of the loop's thread
    try:
        for load in LOADS:
            with one_busy_core() if load == "loaded" else contextlib.nullcontext():
                for k in range(repeats):
                    times: dict = {}
                    order = [None, *zip(VIEWS, (0, lab_tab))]  # None: the headless run
                    for step in (order if k % 2 == 0 else order[::-1]):
                        if step is None:
                            headless[load].append(_headless(features, prepared, settings, times))
                            continue
                        view, tab = step
                        runs[view, load].append(_in_window(window, features, prepared, settings, app, tab=tab))
                    cores[load].append(times["cores"])
                    if "samples_per_cpu_second" in times:
                        per_cpu[load].append(times["samples_per_cpu_second"])
                    tab_run, lab_run = runs[VIEWS[0], load][-1], runs[VIEWS[1], load][-1]
                    say(f"  {load} run {k + 1}: headless {headless[load][-1]:,.0f} samples/s ({times['cores']:.2f} "
                        f"cores); Training tab {tab_run['samples_per_second']:,.0f} samples/s, longest stall "
                        f"{tab_run['max_stall_ms']:.0f} ms, {tab_run['redraws_per_second']:.1f} redraws/s; Inside lab "
                        f"{lab_run['samples_per_second']:,.0f} samples/s, "
                        f"longest stall {lab_run['max_stall_ms']:.0f} ms, "
                        f"{lab_run['redraws_per_second']:.1f} redraws/s, {lab_run['quick_jobs_per_second']:.1f} lab "
                        f"computations/s")
                    for view, r in zip(VIEWS, (tab_run, lab_run)):
                        if "training_text" in r:
                            say(f"      {view}: training {r['training_text']}; GUI thread "
                                f"{r.get('gui_thread_cores', 0):.0%} of a core")
    finally:
        window.shutdown()
        window.close()
        window.deleteLater()
        app.processEvents()
    rows = {f"{view} / {load}": summarize_row(view, load, results, headless[load], cores[load], per_cpu[load])
            for (view, load), results in runs.items()}
    return {
        "design": "worker process" if runner.trains_in_worker else "thread",
        "images": len(prepared.train.labels),
        "features": int(features.X_train.shape[1]),
        "epochs": epochs,
        "idle_max_stall_ms": idle,
        "rows": rows,
        "targets": TARGETS,
    }


def summarize_row(view: str, load: str, results: list[dict], headless: list[float], cores: list[float],
                  per_cpu: list[float]) -> dict:
    """One row of the bench from its rounds: ``results`` the window's runs and ``headless``
    the headless rates, round by round (``per_cpu``: the headless samples per CPU second of
    the loop's thread). Throughput and CPU efficiency are medians of each round's window
    run against the same round's headless run."""
    reference = statistics.median(headless)
    ratios = [r["samples_per_second"] / h for r, h in zip(results, headless) if h]
    row = {
        "view": view, "load": load,
        "headless_samples_per_second": reference,
        "headless_cores": statistics.median(cores),
        "samples_per_second": statistics.median(r["samples_per_second"] for r in results),
        "throughput_ratio": statistics.median(ratios) if ratios else None,
        "round_ratios": [round(r, 3) for r in ratios],
        "max_stall_ms": max(r["max_stall_ms"] for r in results),
        "median_max_stall_ms": statistics.median(r["max_stall_ms"] for r in results),
        "p99_gap_ms": statistics.median(r["p99_gap_ms"] for r in results),
        "redraws_per_second": statistics.median(r["redraws_per_second"] for r in results),
        "lab_computations_per_second": statistics.median(r["quick_jobs_per_second"] for r in results),
    }
    shares = [r["training_time"] for r in results if "training_time" in r]
    if shares:
        row["training_time"] = {k: statistics.median(s[k] for s in shares) for k in shares[0]}
        row["gui_thread_cores"] = statistics.median(r["gui_thread_cores"] for r in results)
    efficiency = [r["samples_per_cpu_second"] for r in results if "samples_per_cpu_second" in r]
    pairs = [e / h for e, h in zip(efficiency, per_cpu) if h]
    if pairs and len(efficiency) == len(per_cpu):
        # the CPU the loop spends per sample, against headless in the same round: the cost
        # of being watched whatever else the machine runs
        row["cpu_efficiency"] = statistics.median(pairs)
    return row


def row_verdicts(row: dict) -> dict:
    """Each figure of a row against its target: name -> met."""
    return {"throughput": row["throughput_ratio"] is not None and row["throughput_ratio"] >= TARGETS[row["load"]],
            "stall": row["max_stall_ms"] <= TARGETS["max_stall_ms"],
            "redraws": row["redraws_per_second"] >= TARGETS["redraws_per_second"]}


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
