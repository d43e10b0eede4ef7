"""A first run: each command from process start with an empty Numba cache (a private
``$NUMBA_CACHE_DIR``, emptied first), then once more with the cache it filled: ``train demo``,
``predict`` (the demo model on a few image files), ``train --features best`` on the shared
CIFAR-10 archive (its images already in linviz's data cache); and the window opened on the
demo set, Train pressed in its first second, with an empty cache and then warm.

Every run is a fresh process, timed from its start to its exit (the window: to the end of
its training) by this one. The kernels each cold run compiled are logged
(``$LINVIZ_KERNEL_LOG``, :mod:`linviz.numba_setup`): their count, their CPU seconds (in
every process of the run: the command's and its warm-up's), and the dearest ones.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Optional

from linviz.bench.common import REPOSITORY, Say, verdict

DEMO_TARGET_S = 8.0
BEST_TARGET_S = 12.0
WINDOW_TARGET_S = 10.0  # Train pressed in the window's first second: trained within this


def _compile_log(path: Path) -> dict:
    """Kernels compiled, their CPU seconds, processes, and the dearest five, from a log."""
    if not path.is_file():
        return {"kernels": 0, "cpu_s": 0.0, "processes": 0, "dearest": []}
    per_kernel: dict = defaultdict(lambda: [0, 0.0])
    pids = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        pids.add(entry["pid"])
        per_kernel[entry["kernel"]][0] += 1
        per_kernel[entry["kernel"]][1] += entry["cpu_s"]
    linviz = {k: v for k, v in per_kernel.items() if k.startswith("linviz.")}
    table = [{"kernel": k.split(".", 1)[-1], "signatures": n, "cpu_s": round(c, 2)}
             for k, (n, c) in sorted(linviz.items(), key=lambda kv: -kv[1][1])]
    return {"kernels": sum(n for n, _ in linviz.values()), "cpu_s": round(sum(c for _, c in per_kernel.values()), 2),
            "processes": len(pids), "dearest": table[:5], "table": table}


def _run(argv: list, env: dict, log: Path, cache: Path) -> dict:
    """One fresh process; its wall time, exit code, JSON report (if any) and compile log
    (with what its warm-up children compiled after it ended, waited for)."""
    if log.exists():
        log.unlink()
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env={**env, "LINVIZ_KERNEL_LOG": str(log)})
    wall = time.perf_counter() - start
    after = _background_compile(cache) if "train" in argv and done.returncode == 0 else None
    report = None
    try:
        report = json.loads(done.stdout)
    except ValueError:
        pass
    notice = [line for line in done.stderr.splitlines() if "first run only" in line]
    return {"wall_s": round(wall, 2), "code": done.returncode, "report": report, "compiled": _compile_log(log),
            "background_s": after, "said": notice[-1].strip() if notice else None,
            "error": done.stderr.strip()[-300:] if done.returncode else None}


def _background_compile(cache: Path, timeout: float = 120.0) -> Optional[float]:
    """Seconds until the training loop's kernel is in ``cache`` (a train command's warm-up
    child compiles it on a first run after the command has ended, :mod:`linviz.training.
    warmup`): the next run must not find that compile still running. None: it never came."""
    from linviz.kernel_cache import mark_pattern
    from linviz.training.warmup import TRAINING_LOOP

    pattern = "*/" + mark_pattern(TRAINING_LOOP)
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if any(cache.glob(pattern)):
            return time.perf_counter() - start
        time.sleep(0.05)
    return None


def _say_background(seconds: Optional[float], after: str, expected: bool, say: Say) -> None:
    """What became of the training loop's background compile (a wait of a few ms is only the
    mark being looked for)."""
    if seconds is None and expected:
        say("    the training loop's kernel never came to the cache (its background compile stopped)")
    elif seconds is not None and seconds > 0.1:
        say(f"    the training loop's kernel compiled in the background, ready {seconds:.1f} s after {after} "
            "(its CPU counted above)")


def _cold_then_warm(name: str, argv: list, env: dict, cache: Path, log: Path, say: Say,
                    target: Optional[float]) -> dict:
    shutil.rmtree(cache, ignore_errors=True)
    cold = _run(argv, env, log, cache)
    warm = _run(argv, env, log, cache)
    for label, run in (("empty cache", cold), ("second run", warm)):
        if run["code"] != 0:
            say(f"  {name}, {label}: FAILED (exit {run['code']}): {run['error']}")
            continue
        compiled = run["compiled"]
        extra = (f"; {compiled['kernels']} linviz kernels compiled, {compiled['cpu_s']:.1f} s of CPU in "
                 f"{compiled['processes']} process(es)") if compiled["kernels"] else ""
        goal = f" (target < {target:.0f} s: {verdict(run['wall_s'] < target)})" if run is cold and target else ""
        say(f"  {name}, {label}: {run['wall_s']:.1f} s{goal}{extra}")
        _say_background(run.get("background_s"), "the command ended", "train" in argv, say)
    if cold["said"]:
        say(f"    said on stderr: {cold['said']}")
    if cold["compiled"]["dearest"]:
        say("    dearest compiles: " + ", ".join(f"{d['kernel']} {d['cpu_s']:.1f} s"
                                                 for d in cold["compiled"]["dearest"]))
    return {"cold": cold, "warm": warm, "target_s": target}


def bench_cold(archive: Optional[Path], quick: bool, say: Say) -> dict:
    """The commands and the window from an empty Numba cache, then warm (see the module
    docstring)."""
    main_py = str(REPOSITORY / "main.py")
    results = {}
    with tempfile.TemporaryDirectory(prefix="linviz-bench-cold-") as tmp:
        tmp = Path(tmp)
        cache = tmp / "numba-cache"
        log = tmp / "compiles.jsonl"
        env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "LINVIZ_DATA_DIR": str(tmp / "data")}
        say(f"each run a fresh process; 'empty cache': NUMBA_CACHE_DIR={cache} emptied first; "
            "'second run': the cache the first filled")
        results["train_demo"] = _cold_then_warm(
            "train demo", [sys.executable, main_py, "train", "demo", "--json", "--out", str(tmp / "demo.npz")],
            env, cache, log, say, DEMO_TARGET_S)
        images = _demo_image_files(tmp / "images")
        results["predict"] = _cold_then_warm(
            "predict (the demo model, 6 image files)",
            [sys.executable, main_py, "predict", str(tmp / "demo.npz"), *map(str, images), "--json"],
            env, cache, log, say, None)
        if archive is not None and not quick:
            from linviz.bench.common import load_shared

            load_shared(archive)  # the dataset from linviz's cache from now on: not what this measures
            results["train_best"] = _cold_then_warm(
                "train <shared CIFAR-10> --features best",
                [sys.executable, main_py, "train", str(archive), "--features", "best", "--json", "--out",
                 str(tmp / "best.npz")], env, cache, log, say, BEST_TARGET_S)
        elif archive is None:
            say("  train --features best: skipped (the shared CIFAR-10 archive was not found; pass --data)")
        shutil.rmtree(cache, ignore_errors=True)
        results["window"] = _window(env, log, say, "empty cache")
        results["window_warm"] = _window(env, log, say, "second run")
    return results


def _demo_image_files(folder: Path) -> list:
    """A few demo-set images as PNG files (what ``predict`` reads)."""
    from PIL import Image

    from linviz.data.demo import make_demo_dataset

    folder.mkdir(parents=True, exist_ok=True)
    images = make_demo_dataset(n_train_per_class=1, n_test_per_class=1).test.images[:6]
    paths = [folder / f"image{i}.png" for i in range(len(images))]
    for image, path in zip(images, paths):
        Image.fromarray(image).save(path)
    return paths


# --------------------------------------------------------------------------- the window


def _window(env: dict, log: Path, say: Say, label: str) -> dict:
    if log.exists():
        log.unlink()
    code = "import sys; from linviz.bench.cold import window_child; window_child(float(sys.argv[1]))"
    started = time.time()
    done = subprocess.run([sys.executable, "-c", code, repr(started)], capture_output=True, text=True,
                          env={**env, "LINVIZ_KERNEL_LOG": str(log), "QT_QPA_PLATFORM": "offscreen"},
                          cwd=str(REPOSITORY))
    try:
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        say(f"  the window, {label}: FAILED (exit {done.returncode}): {done.stderr.strip()[-300:]}")
        return {"error": done.stderr.strip()[-300:]}
    result["background_s"] = _background_compile(Path(env["NUMBA_CACHE_DIR"]))
    result["compiled"] = _compile_log(log)
    result["target_s"] = WINDOW_TARGET_S
    trained = result.get("trained_s")
    after_press = None if trained is None else trained - result["pressed_s"]
    result["train_after_press_s"] = after_press
    picture = result.get("picture_s")
    say(f"  the window on the demo set, {label}: shown after {result['shown_s']:.1f} s, the image's pictures at "
        f"{'-' if picture is None else f'{picture:.1f}'} s, Train pressed at "
        f"{result['pressed_s']:.1f} s, trained at {'-' if trained is None else f'{trained:.1f}'} s, "
        f"{'-' if after_press is None else f'{after_press:.1f}'} s after the press "
        f"(target < {WINDOW_TARGET_S:.0f} s: {verdict(after_press is not None and after_press < WINDOW_TARGET_S)}); "
        f"longest GUI stall after it was shown {result['max_stall_ms']:.0f} ms; "
        f"{result['compiled']['kernels']} linviz kernels compiled, none on the window's thread: "
        f"{verdict(result['compiled_in_window'] == 0)}")
    for at, text in result["strip"]:
        if "first run only" in text:
            say(f"    the status strip at {at:.1f} s: {text}")
            break
    _say_background(result["background_s"], "the window closed", True, say)
    return result


def window_child(started: float) -> None:
    """In a fresh process (the bench's child): open the window as ``python main.py --data
    demo`` does, press Train as soon as it is shown, wait for the training to end; print one
    JSON line of times in seconds from ``started`` (the parent's clock, since the epoch)."""
    from linviz.gui.runtime.blas_threads import set_env_before_numpy

    set_env_before_numpy()
    from linviz.gui.app import prepare_first_kernels

    prepare_first_kernels()  # as run_app does, before the window is built
    from numba.core import event
    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    from linviz.gui.devtools.training_bench import bench_application
    from linviz.gui.main_window import MainWindow
    from linviz.workbench.template_pictures import image_pictures_pending

    app = bench_application()  # noqa: F841  (held: a QApplication whose last reference goes is deleted)
    gui_thread_compiles = []

    class OnGuiThread(event.Listener):
        def on_start(self, ev):
            import threading

            if threading.current_thread() is threading.main_thread():
                gui_thread_compiles.append(ev.data["dispatcher"].py_func.__qualname__)

        def on_end(self, ev):
            pass

    event.register("numba:compile", OnGuiThread())
    settings = QSettings(os.path.join(tempfile.mkdtemp(prefix="linviz-cold-"), "window.ini"),
                         QSettings.Format.IniFormat)
    window = MainWindow("demo", settings=settings)
    window.resize(1400, 900)
    gaps = []
    last = [None]

    def tick() -> None:
        now = time.perf_counter()
        if last[0] is not None:
            gaps.append(now - last[0])
        last[0] = now

    probe = QTimer()
    probe.setInterval(10)
    probe.timeout.connect(tick)
    strip = []

    def watch() -> None:
        if "picture_s" not in result and not image_pictures_pending():
            result["picture_s"] = time.time() - started
        text = window.job_status.label.text()
        if not strip or strip[-1][1] != text:
            strip.append((round(time.time() - started, 2), text))

    result = {}
    watcher = QTimer()
    watcher.setInterval(50)
    watcher.timeout.connect(watch)
    window.show()
    probe.start()
    watcher.start()
    result["shown_s"] = time.time() - started
    loop = QEventLoop()

    def press() -> None:
        result["pressed_s"] = time.time() - started
        window.training_controller.train()

    def finished(outcome) -> None:
        if outcome.name == "train":
            result["trained_s"] = time.time() - started if outcome.ok else None
            loop.quit()

    window.job_runner.finished.connect(finished)
    QTimer.singleShot(0, press)  # the first thing the event loop does once the window is up
    QTimer.singleShot(180_000, loop.quit)
    loop.exec()
    probe.stop()
    result.update(max_stall_ms=1000 * max(gaps) if gaps else 0.0,
                  median_gap_ms=1000 * statistics.median(gaps) if gaps else 0.0, strip=strip,
                  errors=list(window.error_messages), compiled_in_window=len(gui_thread_compiles))
    window.shutdown()
    window.close()
    print(json.dumps(result))
