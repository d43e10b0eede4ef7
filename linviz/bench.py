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

SECTIONS = ("load", "features", "study", "sgd", "e2e", "gui", "knn", "tune", "landscape")


def find_shared_archive(explicit: Optional[str] = None) -> Optional[Path]:
    """The shared CIFAR-10 JPEG archive: ``--data``, else ``shared/datasets`` beside the
    checkout or one of its parent folders (a git worktree may sit a level deeper)."""
    if explicit:
        return Path(explicit)
    for folder in Path(__file__).resolve().parents[1:4]:
        candidate = folder / "shared" / "datasets" / "cifar10-jpeg.tar.gz"
        if candidate.is_file():
            return candidate
    return None


def machine_line() -> str:
    import numba
    import numpy

    return (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, numpy {numpy.__version__}, "
        f"numba {numba.__version__}"
    )


# With --json, stdout carries only the JSON document; the running commentary goes to stderr.
_commentary = sys.stdout


def _say(text: str) -> None:
    print(text, file=_commentary, flush=True)


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
    """Shared archive: Pillow loop vs linviz (empty cache) vs linviz from its cache.

    The loop and linviz's first load alternate, ``rounds`` times, each linviz load with an
    empty private cache; medians are reported (the machine is shared and noisy). CPU
    seconds are printed too: on a busy machine the wall-clock ratio drifts towards the CPU
    ratio, because the loop uses one core and linviz all of them.
    """
    if archive is None:
        _say("skipped: the shared CIFAR-10 archive was not found (pass --data)")
        return {"skipped": "shared archive not found"}
    import tempfile

    from linviz.data import cache as dataset_cache
    from linviz.data import load_dataset

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
    _say(f"Pillow one-by-one loop:  {reference_s:7.3f} s  {reference_rate:10,.0f} images/s  ({n_reference:,} images, median of {rounds})")
    _say(f"linviz first load:       {first_s:7.3f} s  {first_rate:10,.0f} images/s  ({n_images:,} images, empty cache, median of {rounds})")
    _say(f"linviz from its cache:   {cached_s:7.3f} s  {n_images / cached_s:10,.0f} images/s  (median of {len(cached_times)})")
    _say(
        f"ratios: {result['speedup_vs_pillow_loop']:.2f}x faster than the loop (target >= 2.5x; "
        f"{cpu_ratio:.2f}x in CPU time), cache {result['cache_speedup_vs_first_load']:.1f}x faster than "
        "the first load (target >= 20x)"
    )
    return result


def bench_features(archive: Optional[Path], quick: bool) -> dict:
    """HOG (9, 8x8, 1x1 blocks, L2-Hys) + 10-bin hue on all images: linviz vs skimage vs OpenCV.

    The machine is shared, so the tools run in alternating rounds (linviz on all images, then
    each reference on a sample, then again); per-image wall times are compared round by
    round and the median and best ratios printed, along with CPU-time ratios.
    """
    import numpy as np

    from linviz.features import FeaturePipeline

    dataset = _load_shared(archive)
    if dataset is None:
        _say("skipped: the shared CIFAR-10 archive was not found (pass --data)")
        return {"skipped": "no archive"}
    splits = [dataset.train.images] + ([dataset.test.images] if dataset.test is not None else [])
    n_images = sum(len(s) for s in splits)
    input_bytes = sum(s.nbytes for s in splits)
    # the benchmark's HOG is scikit-image's default (L2-Hys), so that both sides do the same work
    pipeline = FeaturePipeline("hog:orient=9:cell=8:block=1:norm=L2-Hys,hue:bins=10")
    pipeline.extract(splits[0][:200])  # compile or load the kernels

    def run_linviz():
        return [pipeline.extract(s) for s in splits]

    # memory: NumPy allocations traced by tracemalloc, and the process's peak RSS (reset first)
    import tracemalloc

    rss_before = _proc_status_kb("VmRSS")
    rss_reset = _peak_rss_reset()
    tracemalloc.start()
    outputs = run_linviz()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    hwm = _proc_status_kb("VmHWM")
    output_bytes = sum(o.nbytes for o in outputs)
    del outputs
    rss_peak_extra = (hwm - rss_before) * 1024 if (rss_reset and hwm and rss_before) else None

    sample = np.ascontiguousarray(dataset.train.images[:: max(1, len(dataset.train.images) // (1000 if quick else 3000))])
    tools: dict[str, Callable[[], object]] = {}
    notes: dict[str, str] = {}
    try:
        from skimage.color import rgb2gray, rgb2hsv
        from skimage.feature import hog as sk_hog
    except ImportError:
        notes["skimage"] = "not installed (pip install -e '.[bench]')"
    else:
        def run_skimage():
            for img in sample:
                sk_hog(rgb2gray(img), 9, (8, 8), (1, 1), "L2-Hys", feature_vector=True)
                hsv = rgb2hsv(img)
                np.histogram(hsv[..., 0], bins=10, range=(0, 1), weights=hsv[..., 1] * hsv[..., 2])

        tools["skimage"] = run_skimage
    try:
        import cv2
    except ImportError:
        cv2 = None
        notes["opencv"] = "not installed (pip install -e '.[bench]')"
    if cv2 is not None and not hasattr(cv2, "HOGDescriptor"):
        # OpenCV 5 moved HOGDescriptor out of the main modules
        notes["opencv"] = (f"this build ({cv2.__version__}) has no cv2.HOGDescriptor (OpenCV 5 moved it out "
                           f"of the main package; pip install 'opencv-python-headless<5')")
    elif cv2 is not None:
        cv2.setNumThreads(1)
        descriptor = cv2.HOGDescriptor((32, 32), (8, 8), (8, 8), (8, 8), 9)
        gray = [cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) for img in sample]

        def run_cv_hog():
            # from the RGB image, as linviz starts from it (its luma pass is in its time)
            for img in sample:
                descriptor.compute(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))

        def run_cv_hog_gray_given():
            for g in gray:
                descriptor.compute(g)

        def run_cv_hog_hue():
            for img in sample:
                descriptor.compute(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))
                hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
                cv2.calcHist([hsv], [0], None, [10], [0, 180])

        tools["opencv"] = run_cv_hog
        tools["opencv_gray_given"] = run_cv_hog_gray_given
        tools["opencv_hog_hue"] = run_cv_hog_hue
    for name, note in notes.items():
        _say(f"skipped {name}: {note}")
    for fn in tools.values():
        fn()  # warm up

    def timed(fn, count):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        return (time.perf_counter() - wall) / count * 1e6, (time.process_time() - cpu) / count * 1e6

    rounds = 2 if quick else 5
    walls: dict[str, list] = {"linviz": []}
    cpus: dict[str, list] = {"linviz": []}
    for _ in range(rounds):
        w, c = timed(run_linviz, n_images)
        walls["linviz"].append(w)
        cpus["linviz"].append(c)
        for name, fn in tools.items():
            w, c = timed(fn, len(sample))
            walls.setdefault(name, []).append(w)
            cpus.setdefault(name, []).append(c)
    med = {k: statistics.median(v) for k, v in walls.items()}
    best = {k: min(v) for k, v in walls.items()}
    cpu = {k: statistics.median(v) for k, v in cpus.items()}
    result = {
        "images": n_images,
        "spec": str(pipeline.spec),
        "rounds": rounds,
        "reference_sample": len(sample),
        "us_per_image_median": med,
        "us_per_image_best": best,
        "cpu_us_per_image_median": cpu,
        "linviz_images_per_second": 1e6 / med["linviz"],
        "input_bytes": input_bytes,
        "output_bytes": output_bytes,
        "traced_peak_bytes": traced_peak,
        "rss_peak_above_start_bytes": rss_peak_extra,
        "skipped": notes,
    }
    _say(f"linviz HOG + hue on {n_images:,} images: {med['linviz']:.2f} us/image = {1e6 / med['linviz']:,.0f} images/s "
         f"(median of {rounds} rounds; best {best['linviz']:.2f} us; CPU {cpu['linviz']:.2f} us/image on both cores)")
    extra = max(traced_peak, rss_peak_extra or 0) - output_bytes
    _say(f"memory: input {input_bytes / 2**20:.0f} MB (already loaded), output {output_bytes / 2**20:.1f} MB, "
         f"peak during extraction +{traced_peak / 2**20:.1f} MB traced (tracemalloc)"
         + (f", +{rss_peak_extra / 2**20:.1f} MB peak RSS (VmHWM after clear_refs)" if rss_peak_extra is not None else "")
         + f" -> {extra / 2**20:.1f} MB beyond the output (target < 100 MB: {'ok' if extra < 100 * 2**20 else 'MISSED'})")
    labels = {
        "skimage": ("scikit-image per image (rgb2gray + hog, rgb2hsv + weighted hue histogram)", 60),
        "opencv": ("OpenCV per image, cvtColor to gray + HOGDescriptor.compute (HOG alone)", 3),
        "opencv_gray_given": ("OpenCV HOGDescriptor.compute alone, gray image given", None),
        "opencv_hog_hue": ("OpenCV per image, cvtColor + HOG + cvtColor HSV + calcHist", None),
    }
    for name in tools:
        label, target = labels[name]
        ratio = med[name] / med["linviz"]
        ratio_best = best[name] / best["linviz"]
        ratio_cpu = cpu[name] / cpu["linviz"]
        result[f"speedup_vs_{name}"] = ratio
        result[f"speedup_vs_{name}_best"] = ratio_best
        result[f"cpu_speedup_vs_{name}"] = ratio_cpu
        verdict = "" if target is None else f" (target >= {target}x: {'ok' if ratio >= target else 'MISSED'})"
        _say(f"{label}, {len(sample):,} images: {med[name]:.1f} us/image -> linviz HOG + hue is {ratio:.1f}x faster"
             f"{verdict}; best-of-rounds {ratio_best:.1f}x; CPU time {ratio_cpu:.1f}x")
    return result


def _peak_rss_reset() -> bool:
    """Reset the kernel's peak-RSS counter (Linux ``clear_refs``); False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _proc_status_kb(field: str) -> Optional[int]:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _load_shared(archive: Optional[Path]):
    from linviz.data import load_dataset

    if archive is None:
        return None
    return load_dataset(archive)


# (name, spec) of the accuracy study, in the order printed; the winner is PRESETS["best"]
STUDY_SETS = [
    ("raw pixels", "raw"),
    ("course: HOG 9/8x8 (unnormalized) + hue 10", "hog+hue"),
    ("HOG 9/8x8 L2-Hys cells + hue 10", "hog:norm=L2-Hys,hue"),
    ("HOG 8x8, 2x2 blocks", "hog:cell=8:block=2"),
    ("color: hue/sat/val + layout 4", "color"),
    ("HOG 4+8, 2x2, L2-Hys, sqrt", "hog:cell=4:block=2:sqrt=1,hog:cell=8:block=2:sqrt=1"),
    ("+ channel max + colors (L2-Hys)", "hog:cell=4:block=2:color=max:sqrt=1,hog:cell=8:block=2:color=max:sqrt=1,"
     "hue:bins=12:sqrt=1,sat:bins=8:sqrt=1,val:bins=8:sqrt=1,layout:grid=4"),
    ("best (L1-sqrt, cells 4+8+16, layout 8)", "best"),
]


def _softmax_sgd(X, y, *, classes: int, epochs: int, reg: float, seed: int = 0):
    """Plain NumPy softmax regression, momentum SGD with a cosine learning-rate schedule."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n, d = X.shape
    W = np.zeros((d, classes), np.float32)
    V = np.zeros_like(W)
    lr = 0.01 if d > 1000 else 0.05
    batch = 256
    for epoch in range(epochs):
        order = rng.permutation(n)
        step = np.float32(lr * 0.5 * (1 + np.cos(np.pi * epoch / epochs)))
        for s in range(0, n, batch):
            idx = order[s : s + batch]
            xb = X[idx]
            z = xb @ W
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(len(idx)), y[idx]] -= 1
            grad = xb.T @ p / np.float32(len(idx)) + np.float32(reg) * W
            V *= np.float32(0.9)
            V -= step * grad
            W += V
    return W


def bench_study(archive: Optional[Path], quick: bool) -> dict:
    """Which feature set gives the best linear (softmax) test accuracy on the shared CIFAR-10."""

    from linviz.features import FeaturePipeline

    dataset = _load_shared(archive)
    if dataset is None or dataset.test is None:
        _say("skipped: the shared CIFAR-10 archive was not found (pass --data)")
        return {"skipped": "no archive"}
    train_x, train_y = dataset.train.images, dataset.train.labels
    if quick:
        train_x, train_y = train_x[::5], train_y[::5]
    epochs = 8 if quick else 20
    _say(f"softmax regression (NumPy, momentum SGD, {epochs} epochs, L2 3e-4) on standardized features; "
         f"{len(train_x):,} train / {len(dataset.test):,} test images")
    _say(f"{'feature set':42s} {'dims':>6s} {'extract s':>10s} {'train acc':>10s} {'test acc':>9s}")
    rows = []
    for label, spec in STUDY_SETS:
        pipeline = FeaturePipeline(spec)
        pipeline.extract(train_x[:2])
        start = time.perf_counter()
        f_train = pipeline.extract(train_x)
        f_test = pipeline.extract(dataset.test.images)
        seconds = time.perf_counter() - start
        pipeline.fit(f_train)
        X_train = pipeline.transform_features(f_train)
        X_test = pipeline.transform_features(f_test)
        del f_train, f_test
        W = _softmax_sgd(X_train, train_y, classes=len(dataset.class_names), epochs=epochs, reg=3e-4)
        train_acc = float(((X_train @ W).argmax(axis=1) == train_y).mean())
        test_acc = float(((X_test @ W).argmax(axis=1) == dataset.test.labels).mean())
        rows.append({"set": label, "spec": str(pipeline.spec), "dims": pipeline.dim, "extract_seconds": seconds,
                     "train_accuracy": train_acc, "test_accuracy": test_acc})
        _say(f"{label:42s} {pipeline.dim:6d} {seconds:10.2f} {train_acc:10.3f} {test_acc:9.3f}")
    best = max(rows, key=lambda r: r["test_accuracy"])
    _say(f"best: {best['set']} ({best['test_accuracy']:.3f}; target >= 0.60: "
         f"{'ok' if best['test_accuracy'] >= 0.60 else 'MISSED'})")
    return {"rows": rows, "best": best}


def _sgd_feature_sets(archive: Optional[Path], quick: bool):
    """(name, X float32 with bias column, y, origin) for raw pixels and HOG + hue."""
    import numpy as np

    n = 5_000 if quick else 20_000
    if archive is not None:
        from linviz.data import load_dataset, subsample_per_class
        from linviz.features import FeaturePipeline

        dataset = load_dataset(archive)
        split = subsample_per_class(dataset.train, n // len(dataset.class_names), seed=0)
        sets = []
        for name, spec in (("raw pixels", "raw"), ("HOG + hue", "hog+hue")):
            X = FeaturePipeline(spec).fit_transform(split.images)
            sets.append((name, X, split.labels, f"CIFAR-10 ({len(split):,} training images)"))
        return sets
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, n)
    sets = []
    for name, d in (("raw pixels", 3072), ("HOG + hue", 154)):
        X = np.c_[rng.standard_normal((n, d)), np.ones(n)].astype(np.float32)
        sets.append((name, X, y, "random N(0, 1) data (shared archive not found)"))
    return sets


# test accuracy of `train` with no options against scikit-learn's tuned LogisticRegression
ONE_CLICK_TARGETS = {"raw softmax": (0.39, "LogisticRegression 0.399"),
                     "best softmax": (0.64, "LogisticRegression 0.650")}


def _sgd_accuracy(archive: Path, quick: bool) -> dict:
    """Test accuracy of ``python main.py train`` with its defaults: HOG + hue, and the best preset."""
    from linviz.cli import main as cli_main
    import contextlib
    import io
    import tempfile

    runs = {"hog+hue softmax": ["--features", "hog+hue", "--model", "softmax"]}
    if not quick:
        # the one-click targets: within a point of a tuned scikit-learn LogisticRegression
        runs["raw softmax"] = ["--features", "raw", "--model", "softmax"]
        runs["best softmax"] = ["--features", "best", "--model", "softmax"]
    results = {}
    with tempfile.TemporaryDirectory(prefix="linviz-bench-") as tmp:
        for name, flags in runs.items():
            out = io.StringIO()
            argv = ["train", str(archive), *flags, "--out", f"{tmp}/model.npz", "--json"]
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
                code = cli_main(argv)
            if code != 0:
                results[name] = {"error": f"exit code {code}"}
                continue
            report = json.loads(out.getvalue())
            results[name] = {k: report[k] for k in ("train_accuracy", "val_accuracy", "test_accuracy", "seconds",
                                                    "training_seconds", "n_features")}
            results[name]["command"] = "python main.py " + " ".join(argv[:-3] + ["--out", "model.npz"])
            target = ONE_CLICK_TARGETS.get(name)
            verdict = "" if target is None else (
                f"; target >= {target[0]} ({target[1]}): {'ok' if report['test_accuracy'] >= target[0] else 'MISSED'}")
            _say(f"{name:18s} test accuracy {report['test_accuracy']:.4f}{verdict} (val {report['val_accuracy']:.4f}, "
                 f"train {report['train_accuracy']:.4f}; {report['n_features']} features; "
                 f"{report['seconds']:.1f} s in all, {report['training_seconds']:.1f} s training)")
    return results


def bench_sgd(archive: Optional[Path], quick: bool) -> dict:
    """One SGD iteration (batch 200: loss + gradient + update), linviz vs vectorized NumPy, float32.

    Both sides start from the same W, the same minibatch and the same seed; the loss values
    of that first step must agree to 1e-4. Two timings per case: on a batch already gathered
    into a contiguous array (pure compute, the same input for both), and a whole training-loop
    iteration from the full training matrix (NumPy must gather ``X[idx]`` first; linviz's kernel
    reads the rows in place).
    """
    import numpy as np

    from linviz.models import reference_losses as ref
    from linviz.models.losses import LossFunction
    from linviz.training.optimizers import SGD

    reg, lr, batch, repeats = 1e-3, 1e-3, 200, (5 if quick else 15)
    inner = 20 if quick else 50
    results = {"batch": batch, "dtype": "float32", "cases": []}
    for name, X, y, origin in _sgd_feature_sets(archive, quick):
        N, D = X.shape
        C = int(y.max()) + 1
        rng = np.random.default_rng(0)
        W0 = (1e-3 * rng.standard_normal((D, C))).astype(np.float32)
        idx = rng.choice(N, batch, replace=False).astype(np.int64)
        Xb, yb = np.ascontiguousarray(X[idx]), np.ascontiguousarray(y[idx])
        arange = np.arange(batch, dtype=np.int64)
        _say(f"{name}: D = {D} (with bias), C = {C}, {origin}")
        steps, losses_of = {}, {}
        for loss in ("svm", "softmax"):
            reference = ref.svm_loss_vectorized if loss == "svm" else ref.softmax_loss_vectorized
            loss_fn = LossFunction(loss, reg, n_reg_rows=D - 1)
            W_ref = W0.copy()
            W0t = np.ascontiguousarray(W0.T)
            Wt = W0t.copy()
            dWt = np.empty_like(Wt)
            opt = SGD(lr)
            losses_of[loss] = (reference(W0, Xb, yb, reg, n_reg_rows=D - 1)[0],
                               loss_fn.transposed(Wt, X, y, idx, dWt))

            # Each timed step restarts from W0 (on both sides): thousands of steps on one batch
            # would overfit it, push the scores apart and time exp() on denormals instead.
            def numpy_step(Xs=Xb, ys=yb, reference=reference, W_ref=W_ref):
                np.copyto(W_ref, W0)
                _, dW = reference(W_ref, Xs, ys, reg, n_reg_rows=D - 1)
                W_ref[...] -= lr * dW

            def linviz_step(Xs=Xb, rows=arange, ys=yb, Wt=Wt, W0t=W0t, loss_fn=loss_fn, dWt=dWt, opt=opt):
                np.copyto(Wt, W0t)
                loss_fn.transposed(Wt, Xs, ys, rows, dWt)
                opt.step(Wt, dWt)

            steps[(loss, "numpy")] = numpy_step
            steps[(loss, "linviz")] = linviz_step
            steps[(loss, "numpy_gather")] = lambda numpy_step=numpy_step: numpy_step(X[idx], y[idx])
            steps[(loss, "linviz_in_place")] = lambda linviz_step=linviz_step: linviz_step(X, idx, y)
        for fn in steps.values():
            for _ in range(5):
                fn()  # warm up: compile, caches
        # Interleaved rounds, medians: on a shared machine the load drifts, and every
        # contender -- both losses included -- should see the same drift. (Timed one loss after
        # the other, a load change between them once showed as a 0.76 vs 0.48 ms "softmax
        # penalty" that the kernels do not have.) CPU time of the thread is kept as well: it
        # moves less with the other jobs on the machine than the wall clock.
        wall = {key: [] for key in steps}
        cpu = {key: [] for key in steps}
        for _ in range(repeats):
            for key, fn in steps.items():
                start, start_cpu = time.perf_counter(), time.thread_time()
                for _ in range(inner):
                    fn()
                cpu[key].append((time.thread_time() - start_cpu) / inner * 1e3)
                wall[key].append((time.perf_counter() - start) / inner * 1e3)
        med = {key: statistics.median(v) for key, v in wall.items()}
        med_cpu = {key: statistics.median(v) for key, v in cpu.items()}
        for loss in ("svm", "softmax"):
            ref_loss, lin_loss = losses_of[loss]
            case = {
                "features": name, "D": D, "loss": loss, "origin": origin,
                "numpy_ms": round(med[(loss, "numpy")], 4), "linviz_ms": round(med[(loss, "linviz")], 4),
                "speedup": round(med[(loss, "numpy")] / med[(loss, "linviz")], 2),
                "numpy_with_gather_ms": round(med[(loss, "numpy_gather")], 4),
                "linviz_in_place_ms": round(med[(loss, "linviz_in_place")], 4),
                "speedup_training_iteration": round(med[(loss, "numpy_gather")] / med[(loss, "linviz_in_place")], 2),
                "cpu_ms": {kind: round(med_cpu[(loss, kind)], 4) for kind in ("numpy", "linviz", "numpy_gather",
                                                                            "linviz_in_place")},
                "numpy_loss": float(ref_loss), "linviz_loss": float(lin_loss),
                "loss_difference": float(abs(ref_loss - lin_loss)),
                "target_speedup": 1.5 if D > 1000 else 3.0,
            }
            results["cases"].append(case)
            _say(f"  {loss:8s} batch only: numpy {case['numpy_ms']:.3f} ms, linviz {case['linviz_ms']:.3f} ms "
                 f"-> {case['speedup']:.2f}x (target >= {case['target_speedup']}x); "
                 f"training iteration with sampling: numpy {case['numpy_with_gather_ms']:.3f} ms, "
                 f"linviz {case['linviz_in_place_ms']:.3f} ms -> {case['speedup_training_iteration']:.2f}x; "
                 f"|loss difference| {case['loss_difference']:.1e} (must be < 1e-4)")
        # the least disturbed round (the minimum) says most about the kernels on a busy machine
        least_cpu = {key: min(v) for key, v in cpu.items()}
        ratio = med[("softmax", "linviz_in_place")] / med[("svm", "linviz_in_place")]
        ratio_cpu = med_cpu[("softmax", "linviz_in_place")] / med_cpu[("svm", "linviz_in_place")]
        ratio_least = least_cpu[("softmax", "linviz_in_place")] / least_cpu[("svm", "linviz_in_place")]
        results.setdefault("softmax_over_svm", {})[name] = {
            "wall": round(ratio, 3), "cpu": round(ratio_cpu, 3), "cpu_least": round(ratio_least, 3)}
        _say(f"  softmax / SVM, linviz training iteration: {ratio:.2f}x wall, {ratio_cpu:.2f}x CPU (medians), "
             f"{ratio_least:.2f}x CPU (least disturbed rounds; same two matrix products, the softmax adds "
             f"exp() and log() of {batch} x {C} scores)")
    if archive is not None:
        _say("accuracy on the shared CIFAR-10 (python main.py train, defaults):")
        results["accuracy"] = _sgd_accuracy(archive, quick)
    else:
        results["accuracy"] = {"skipped": "shared archive not found"}
    return results


# `python main.py train <archive> --features best --json`, from process start, as issue 13
# measured it before the standardization kernels, the shared-gradient HOG and the new
# defaults (10 epochs at lr 0.03, decay 0.95): 11-16 s on this machine
E2E_BEFORE = "11-16 s (issue 13, before: 2-3 s of standardization, three HOG passes, copies)"
E2E_TARGET_S = 8.0
_E2E_STAGES = (("startup", "Python start, main.py, the CLI"), ("imports", "imports (numpy, numba, linviz)"),
               ("dataset", "dataset from linviz's cache + split"),
               ("kernels_wait", "Numba cache: waited for the warm-up"),
               ("features", "features (train, val, test)"), ("fit", "standardization statistics"),
               ("standardize", "standardization"), ("training", "training"),
               ("evaluation", "evaluation"), ("save", "save"))


def bench_e2e(archive: Optional[Path], quick: bool) -> dict:
    """``train --features best --json`` end to end, in a fresh process each time, with its
    stages; and the standardization statistics against plain NumPy on the same matrix."""
    import subprocess
    import tempfile

    if archive is None:
        _say("skipped: the shared CIFAR-10 archive was not found (pass --data)")
        return {"skipped": "shared archive not found"}
    main_py = Path(__file__).resolve().parents[1] / "main.py"
    rounds = 1 if quick else 3
    runs = []
    with tempfile.TemporaryDirectory(prefix="linviz-bench-e2e-") as tmp:
        argv = [sys.executable, str(main_py), "train", str(archive), "--features", "best", "--json",
                "--out", str(Path(tmp) / "model.npz")]
        # one run first: a cold Numba cache or dataset cache is not what this measures
        warm = subprocess.run(argv, capture_output=True, text=True)
        if warm.returncode != 0:
            _say(f"skipped: train failed: {warm.stderr.strip().splitlines()[-1:]}")
            return {"skipped": f"train exited {warm.returncode}"}
        for _ in range(rounds):
            start = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, text=True)
            wall = time.perf_counter() - start
            report = json.loads(done.stdout)
            runs.append({"wall_s": wall, "test_accuracy": report["test_accuracy"],
                         "val_accuracy": report["val_accuracy"], "timings": report["timings"]})
    walls = [r["wall_s"] for r in runs]
    median = statistics.median(walls)
    typical = min(runs, key=lambda r: abs(r["wall_s"] - median))
    stages = {}
    for name, _ in _E2E_STAGES:
        values = [r["timings"].get(name) for r in runs if r["timings"].get(name) is not None]
        stages[name] = statistics.median(values) if values else None
    accounted = sum(v for v in stages.values() if v is not None)
    _say(f"python main.py train <shared CIFAR-10> --features best --json, from process start to exit, "
         f"{rounds} run(s) after a warm one:")
    _say(f"  {median:.2f} s (median; runs {', '.join(f'{w:.2f}' for w in walls)}); before: {E2E_BEFORE}; "
         f"target < {E2E_TARGET_S:.0f} s: {'ok' if median < E2E_TARGET_S else 'MISSED'}")
    _say(f"  test accuracy {typical['test_accuracy']:.4f} (val {typical['val_accuracy']:.4f})")
    for name, label in _E2E_STAGES:
        value = stages[name]
        _say(f"  {label:40s} {'-' if value is None else f'{value:6.2f} s'}")
    _say(f"  {'(interpreter exit and the rest)':40s} {median - accounted:6.2f} s")
    background = [r["timings"].get("kernels_background") for r in runs]
    if all(b is not None for b in background):
        _say(f"  (the kernels' warm-up itself: {statistics.median(background):.2f} s, in a thread while the "
             "dataset loads)")
    result = {"rounds": rounds, "wall_s": walls, "median_wall_s": median, "before": E2E_BEFORE,
              "target_s": E2E_TARGET_S, "stages_median_s": stages, "runs": runs,
              "statistics": _bench_statistics(archive, quick)}
    return result


def _bench_statistics(archive: Path, quick: bool) -> dict:
    """FeaturePipeline.fit (column means and variances in float64) vs plain NumPy computing
    the same statistics on the same ``best`` training matrix."""
    import numpy as np

    from linviz.data import load_dataset
    from linviz.features import FeaturePipeline

    dataset = load_dataset(archive)
    images = dataset.train.images[::5] if quick else dataset.train.images
    pipeline = FeaturePipeline("best")
    F = pipeline.extract(images)
    pipeline.fit(F[:100])  # load the kernels

    def numpy_float32():
        return F.mean(axis=0), F.var(axis=0)

    def numpy_float64():
        return F.mean(axis=0, dtype=np.float64), F.var(axis=0, dtype=np.float64)

    contenders = {"linviz fit": lambda: pipeline.fit(F), "NumPy float32 mean + var": numpy_float32,
                  "NumPy float64 mean + var": numpy_float64}
    samples = {name: [] for name in contenders}
    for _ in range(2 if quick else 5):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    med = {name: statistics.median(v) for name, v in samples.items()}
    _say(f"standardization statistics of {F.shape[0]:,} x {F.shape[1]:,} best features (median of "
         f"{len(samples['linviz fit'])}):")
    for name, value in med.items():
        ratio = "" if name == "linviz fit" else f"  -> linviz {value / med['linviz fit']:.1f}x faster"
        _say(f"  {name:26s} {value:6.3f} s{ratio}")
    ok = med["linviz fit"] <= med["NumPy float32 mean + var"]
    _say(f"  target: no slower than plain NumPy: {'ok' if ok else 'MISSED'} (before: 2-3 s, 4x NumPy)")
    return {"shape": list(F.shape), "median_s": med}


def bench_gui(archive: Optional[Path], quick: bool) -> dict:
    """Training inside the window (offscreen, every view live) vs headless; GUI-thread stalls.

    Two workloads: HOG + hue (155 columns: ~50 us per iteration, the hardest case for the
    GUI, since the loop then spends most of its time in Python holding the GIL) and raw
    pixels (3073 columns: the compiled kernels dominate).
    """
    try:
        from linviz.gui.devtools.training_bench import prepare_bench_data, run_gui_bench  # Qt only in here
    except ImportError as exc:
        _say(f"skipped: the GUI needs PySide6 and pyqtgraph ({exc})")
        return {"skipped": str(exc)}
    results = {}
    for spec in ("hog+hue", "raw"):
        _say(f"-- features {spec}")
        prepared, features = prepare_bench_data(archive, quick, spec=spec)
        result = run_gui_bench(prepared, features, seconds=2.0 if quick else 5.0, repeats=3, say=_say)
        ok = lambda good: "ok" if good else "MISSED"  # noqa: E731
        _say(f"throughput in the window: {result['gui_samples_per_second']:,.0f} samples/s vs headless "
             f"{result['headless_samples_per_second']:,.0f} = {result['throughput_ratio']:.0%} "
             f"(target >= 85%: {ok(result['throughput_ratio'] >= 0.85)})")
        _say(f"GUI thread: longest stall {result['max_stall_ms']:.0f} ms (median over runs "
             f"{result['median_max_stall_ms']:.0f} ms, 99th percentile gap {result['p99_gap_ms']:.0f} ms, idle window "
             f"{result['idle_max_stall_ms']:.0f} ms; target <= 50 ms: {ok(result['max_stall_ms'] <= 50)})")
        _say(f"redraws: {result['redraws_per_second']:.1f} per second (target >= 20: "
             f"{ok(result['redraws_per_second'] >= 20)})")
        _say(f"with the Inside-one-image lab computing on the quick lane "
             f"({result['lab_computations_per_second']:.1f} computations/s): throughput "
             f"{result['lab_throughput_ratio']:.0%} of headless (target >= 85%: {ok(result['lab_throughput_ratio'] >= 0.85)}), "
             f"longest stall {result['lab_max_stall_ms']:.0f} ms (median {result['lab_median_max_stall_ms']:.0f} ms; "
             f"target <= 50 ms: {ok(result['lab_max_stall_ms'] <= 50)})")
        results[spec] = result
    return results

KNN_PREDICT_K = 5  # k of the prediction benchmark (the course's second test)


def _exact_knn_reference(X_train, y_train, X, ks, metric: str, n_classes: int, chunk: int = 4096):
    """The independent reference: float64 distances by direct differences (NumPy, in chunks of
    training rows), a stable argsort (equal distances: the lower index), and a vote per k
    (``np.argmax`` of the counts: the smaller class on equal votes). (neighbours, votes)."""
    import numpy as np

    kmax = max(ks)
    neighbours = np.empty((len(X), kmax), np.int64)
    votes = np.empty((len(X), len(ks)), np.int64)
    for q, x in enumerate(np.asarray(X, dtype=np.float64)):
        parts = []
        for start in range(0, len(X_train), chunk):
            diff = X_train[start:start + chunk].astype(np.float64) - x
            parts.append(np.abs(diff).sum(1) if metric == "l1" else np.einsum("ij,ij->i", diff, diff))
        order = np.argsort(np.concatenate(parts), kind="stable")[:kmax]
        neighbours[q] = order
        for t, k in enumerate(ks):
            votes[q, t] = np.argmax(np.bincount(y_train[order[:k]], minlength=n_classes))
    return neighbours, votes


def _sklearn_metric(metric: str) -> str:
    return {"l1": "manhattan", "l2": "euclidean", "cosine": "cosine"}[metric]


def _course_no_loops(X_train, y_train, X, k: int, n_classes: int):
    """The course's fully vectorized L2 (``compute_distances_no_loops``) on float64 data as the
    course loads it, then its ``predict_labels``: a full argsort of each row, a bincount vote."""
    import numpy as np

    dists = np.sqrt(np.maximum(-2.0 * X @ X_train.T + np.sum(X ** 2, axis=1)[:, None]
                               + np.sum(X_train ** 2, axis=1)[None, :], 0.0))
    predicted = np.empty(len(X), np.int64)
    for i in range(len(X)):
        closest = y_train[np.argsort(dists[i])[:k]]
        predicted[i] = np.argmax(np.bincount(closest, minlength=n_classes))
    return predicted


def bench_knn(archive: Optional[Path], quick: bool) -> dict:
    """kNN on raw pixels: 5-fold CV over the course's k list on 5,000 training images, and
    predicting the test images against all 50,000, L2 and L1; side by side with scikit-learn's
    ``KNeighborsClassifier(algorithm="brute")`` and, for L2, the course's "no loops" NumPy form.

    The references are slow, so they run on part of the work and their time is scaled (said
    so in each line). Ratios come from alternating rounds on the same rows, medians (the
    machine is shared). linviz's predictions are checked against an exact float64 brute force
    (direct differences) on a sample of rows; the agreement with scikit-learn is reported.
    """
    import tracemalloc

    import numpy as np

    from linviz.explore.knn import DEFAULT_KS, run_cross_validation, training_subset
    from linviz.features import raw_pixels
    from linviz.models.knn import KNearestNeighbor, fold_parts, vote

    dataset = _load_shared(archive)
    if dataset is None or dataset.test is None:
        _say("skipped: the shared CIFAR-10 archive was not found (pass --data)")
        return {"skipped": "no archive"}
    try:
        from sklearn.neighbors import KNeighborsClassifier
    except ImportError:
        KNeighborsClassifier = None
        _say("skipped scikit-learn: not installed (pip install -e '.[bench]')")
    n_classes = len(dataset.class_names)
    X_train, y_train = raw_pixels(dataset.train.images), np.asarray(dataset.train.labels)
    X_test, y_test = raw_pixels(dataset.test.images), np.asarray(dataset.test.labels)
    N, D = X_train.shape
    rounds = 1 if quick else 3
    results: dict = {"features": "raw pixels in [0, 1], float32", "D": D, "rounds": rounds, "cv": {}, "predict": {}}

    def timed(fn):
        start = time.perf_counter()
        value = fn()
        return time.perf_counter() - start, value

    # ---------------------------------------------------------------- cross-validation
    subset = training_subset(N, 5000, seed=0)
    Xs, ys = np.ascontiguousarray(X_train[subset]), y_train[subset]
    folds = 5
    ks = [k for k in DEFAULT_KS if k <= len(ys) - -(-len(ys) // folds)]
    val = fold_parts(len(ys), folds, 0)[0]
    train_rows = np.setdiff1d(np.arange(len(ys)), val)
    _say(f"5-fold cross-validation on {len(ys):,} training images, k in {ks}:")
    for metric in ("l2", "l1"):
        run_cross_validation(Xs[:60], ys[:60], [1], folds=2, metric=metric)  # compile / load the kernels
        n_exact = min(len(val), 40 if quick else 100)
        n_sk = min(len(val), (300 if quick else 1000) if metric == "l2" else (60 if quick else 200))
        scale = folds * len(val) / n_sk
        sk = None
        if KNeighborsClassifier is not None:
            sk = KNeighborsClassifier(n_neighbors=max(ks), algorithm="brute", metric=_sklearn_metric(metric))

        def sklearn_fold():  # one search per fold up to the largest k, as linviz does, on n_sk rows
            sk.fit(Xs[train_rows], ys[train_rows])
            return sk.kneighbors(Xs[val[:n_sk]], return_distance=False)

        ours_s, sk_s = [], []
        for _ in range(rounds):  # alternating: both see the same drift of the machine's load
            seconds, cv = timed(lambda: run_cross_validation(Xs, ys, ks, folds=folds, metric=metric))
            ours_s.append(seconds)
            if sk is not None:
                seconds, sk_neighbours = timed(sklearn_fold)
                sk_s.append(seconds * scale)
        linviz_s = statistics.median(ours_s)
        row = {"linviz_s": round(linviz_s, 3), "best_k": cv.best_k, "mean": [round(m, 4) for m in cv.mean]}
        model = KNearestNeighbor(metric=metric).fit(Xs[train_rows], ys[train_rows])
        _, positions = model.kneighbors(Xs[val[:max(n_exact, n_sk)]], max(ks))
        ours = model.classes_[vote(model.y_train_[positions], ks, len(model.classes_))]  # (rows, len(ks)) labels
        _, exact = _exact_knn_reference(Xs[train_rows], ys[train_rows], Xs[val[:n_exact]], ks, metric, n_classes)
        row["identical_to_exact_reference"] = bool((ours[:n_exact] == exact).all())
        row["exact_reference_rows"] = n_exact
        line = (f"  {metric.upper()}: linviz {linviz_s:.2f} s for the whole CV (median of {rounds}; best k "
                f"{cv.best_k}, mean accuracy {cv.mean[cv.best_index]:.3f}); predictions identical to the exact "
                f"float64 reference on {n_exact} validation rows x {len(ks)} k: "
                f"{'yes' if row['identical_to_exact_reference'] else 'NO'}")
        if sk is not None:
            ratios = [s / o for s, o in zip(sk_s, ours_s)]
            one_search = statistics.median(sk_s)
            ratio = statistics.median(ratios)
            sk_votes = vote(ys[train_rows][sk_neighbours], ks, n_classes)
            agreement = float(np.mean(sk_votes == ours[:n_sk]))
            row.update({"sklearn_one_search_per_fold_s": round(one_search, 2),
                        "sklearn_per_k_s": round(one_search * len(ks), 2), "sklearn_rows_timed": n_sk,
                        "speedup_vs_sklearn_one_search": round(ratio, 2),
                        "speedup_vs_sklearn_per_k": round(ratio * len(ks), 2), "sklearn_agreement": agreement})
            line += (f"\n      scikit-learn brute, one kneighbors per fold up to k = {max(ks)}: {one_search:.1f} s "
                     f"(timed on {n_sk} validation rows of a fold, scaled x{scale:.0f}) -> linviz {ratio:.1f}x faster; "
                     f"with one predict per k and fold (the usual loop) {ratio * len(ks):.0f}x; same votes "
                     f"(scikit-learn's neighbours, our vote) for {agreement:.1%} of rows x k")
        _say(line)
        results["cv"][metric] = row

    # ---------------------------------------------------------------- prediction
    n_test = min(len(X_test), 2000 if quick else 10000)
    Xq, yq = np.ascontiguousarray(X_test[:n_test]), y_test[:n_test]
    k = KNN_PREDICT_K
    _say(f"predicting {n_test:,} test images against {N:,} training images (D = {D}, k = {k}):")
    for metric in ("l2", "l1"):
        model = KNearestNeighbor(k=k, metric=metric).fit(X_train, y_train)
        model.predict(Xq[:16])  # compile / load, outside the timing
        rss_before = _proc_status_kb("VmRSS")
        rss_reset = _peak_rss_reset()
        tracemalloc.start()
        linviz_s, predicted = timed(lambda: model.predict(Xq))
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        hwm = _proc_status_kb("VmHWM")
        rss_extra = (hwm - rss_before) * 1024 if (rss_reset and hwm and rss_before) else None
        accuracy = float(np.mean(predicted == yq))
        n_exact = min(n_test, 20 if quick else 50)
        exact_neighbours, exact_votes = _exact_knn_reference(X_train, y_train, Xq[:n_exact], [k], metric, n_classes)
        identical = bool((exact_votes[:, 0] == predicted[:n_exact]).all())
        same_neighbours = bool((model.kneighbors(Xq[:n_exact])[1] == exact_neighbours).all())
        peak = max(traced_peak, rss_extra or 0)
        row = {"images": n_test, "linviz_s": round(linviz_s, 3), "linviz_ms_per_image": round(1e3 * linviz_s / n_test, 3),
               "test_accuracy": accuracy, "identical_to_exact_reference": identical,
               "same_neighbours_as_exact_reference": same_neighbours, "exact_reference_rows": n_exact,
               "traced_peak_bytes": traced_peak, "rss_peak_above_start_bytes": rss_extra,
               "full_matrix_bytes": n_test * N * 4, "memory_target_met": peak < 300 * 2**20}
        _say(f"  {metric.upper()}: linviz {linviz_s:.1f} s = {1e3 * linviz_s / n_test:.2f} ms per image (all "
             f"{n_test:,}), accuracy {accuracy:.4f}; predictions and neighbour lists identical to the exact float64 "
             f"reference on {n_exact} images: {'yes' if identical and same_neighbours else 'NO'}; peak extra memory "
             f"{traced_peak / 2**20:.0f} MB traced" + (f", {rss_extra / 2**20:.0f} MB RSS" if rss_extra is not None else "")
             + f" (a full matrix: {n_test * N * 4 / 2**20:,.0f} MB; target < 300 MB: "
             f"{'ok' if peak < 300 * 2**20 else 'MISSED'})")
        if KNeighborsClassifier is not None:
            n_sk = min(n_test, (300 if quick else 1000) if metric == "l2" else (50 if quick else 200))
            sk = KNeighborsClassifier(n_neighbors=k, algorithm="brute", metric=_sklearn_metric(metric)).fit(X_train,
                                                                                                            y_train)
            sk.predict(Xq[:4])
            ours_s, sk_s = [], []
            for _ in range(rounds):  # alternating rounds on the same images
                ours_s.append(timed(lambda: model.predict(Xq[:n_sk]))[0])
                seconds, sk_predicted = timed(lambda: sk.predict(Xq[:n_sk]))
                sk_s.append(seconds)
            ratio = statistics.median([s / o for s, o in zip(sk_s, ours_s)])
            sk_total = statistics.median(sk_s) * n_test / n_sk
            agreement = float(np.mean(sk_predicted == predicted[:n_sk]))
            target = 1.0 if metric == "l2" else 3.0
            row.update({"sklearn_s": round(sk_total, 2), "sklearn_rows_timed": n_sk, "speedup_vs_sklearn": round(ratio, 2),
                        "sklearn_agreement": agreement, "target_speedup": target})
            _say(f"      scikit-learn brute: {1e3 * sk_total / n_test:.2f} ms per image ({sk_total:.0f} s for all, "
                 f"scaled from {n_sk:,} images) -> linviz {ratio:.2f}x faster (median of {rounds} alternating rounds "
                 f"on those images; target >= {target:g}x: {'ok' if ratio >= target else 'MISSED'}); same predictions "
                 f"on {agreement:.2%} of them")
        if metric == "l2":
            n_course = min(n_test, 300 if quick else 1000)
            X64, Xq64 = X_train.astype(np.float64), Xq[:n_course].astype(np.float64)
            course_s, course = timed(lambda: _course_no_loops(X64, y_train, Xq64, k, n_classes))
            del X64
            ours_course = timed(lambda: model.predict(Xq[:n_course]))[0]
            agreement = float(np.mean(course == predicted[:n_course]))
            ratio = course_s / ours_course
            row.update({"course_no_loops_s": round(course_s * n_test / n_course, 2), "course_rows_timed": n_course,
                        "speedup_vs_course_no_loops": round(ratio, 2), "course_agreement": agreement})
            _say(f"      the course's no-loops NumPy (float64 as the course loads CIFAR-10, then a full argsort per "
                 f"row): {1e3 * course_s / n_course:.2f} ms per image (on {n_course:,} images: a "
                 f"{n_course * N * 8 / 2**20:,.0f} MB matrix) -> linviz {ratio:.1f}x faster on the same images; same "
                 f"predictions on {agreement:.2%}")
        results["predict"][metric] = row
    return results


TUNE_LRS, TUNE_REGS, TUNE_EPOCHS = "1e-3:1e-1:5", "1e-4:1:5", 5
TUNE_TARGET = 3.0  # x the NumPy loop in one process


def _numpy_search_run(X, y, X_val, y_val, lr, reg, *, epochs, batch, decay, seed):
    """One run of the course's NumPy loop: minibatches drawn with np.random.choice, the
    vectorized softmax loss and gradient (float32), W -= lr * dW, the rate decayed per epoch,
    the validation accuracy at every epoch end and the best epoch's weights kept."""
    import numpy as np

    from linviz.models.reference_losses import softmax_loss_vectorized

    rng = np.random.default_rng(seed)
    n, d = X.shape
    C = int(y.max()) + 1
    W = (0.001 * rng.standard_normal((d, C))).astype(np.float32)
    per_epoch = n // batch
    best, best_W = -1.0, W.copy()
    for _ in range(epochs):
        for _ in range(per_epoch):
            idx = rng.choice(n, batch)
            _, dW = softmax_loss_vectorized(W, X[idx], y[idx], reg)
            W -= np.float32(lr) * dW.astype(np.float32)
        val = float(np.mean(np.argmax(X_val @ W, axis=1) == y_val))
        if val > best:
            best, best_W = val, W.copy()
        lr *= decay
    return best, float(np.mean(np.argmax(X @ best_W, axis=1) == y))


def bench_tune(archive: Optional[Path], quick: bool) -> dict:
    """A 5 x 5 learning rate x regularization search of 5-epoch softmax runs on hog+hue:
    linviz (both cores, and one) against the course's NumPy loop in one process and
    scikit-learn's SGDClassifier, same epochs, same data; the references time a few of the
    25 runs and are scaled to 25."""
    import numpy as np

    from linviz.data import split_validation, subsample_per_class
    from linviz.explore.tuning import SearchPlan, best_result, parse_values, run_search
    from linviz.features import FeaturePipeline
    from linviz.training import TrainingConfig, recommended_settings

    dataset = _load_shared(archive)
    if dataset is None:
        _say("skipped: the shared CIFAR-10 archive was not found (pass --data)")
        return {"skipped": "shared archive not found"}
    train_split, val_split = split_validation(dataset.train, 1000, seed=0)
    if quick:  # the archive is sorted by class: a stratified tenth, not the first images
        train_split = subsample_per_class(train_split, 1000, seed=0)
    pipeline = FeaturePipeline("hog+hue")
    X = pipeline.fit_transform(train_split.images)
    X_val = pipeline.transform(val_split.images)
    y, y_val = train_split.labels, val_split.labels
    C = len(dataset.class_names)
    settings = recommended_settings("hog+hue", "softmax", "sgd")
    settings["epochs"] = TUNE_EPOCHS
    base = TrainingConfig(loss="softmax", optimizer="sgd", **settings)
    plan = SearchPlan(parse_values(TUNE_LRS), parse_values(TUNE_REGS))
    points = plan.points()
    _say(f"{len(plan.learning_rates)} x {len(plan.regs)} search (lr {TUNE_LRS}, reg {TUNE_REGS}) of "
         f"{TUNE_EPOCHS}-epoch softmax runs, batch {base.batch_size}, decay {base.lr_decay}, on hog+hue: "
         f"{len(y):,} training images x {X.shape[1]} columns, {len(y_val):,} validation images")
    run_search(X[:2000], y[:2000], X_val, y_val, base, SearchPlan([0.1], [1e-3]), n_classes=C)  # kernels loaded
    # Alternating rounds (the machine is shared): the whole search on both cores, two runs of the
    # NumPy loop (different ones each round, scaled to 25), the whole search on one core.
    rounds = 1 if quick else 3
    per_round = 2
    order = np.linspace(0, len(points) - 1, rounds * per_round).round().astype(int)
    two, one, numpy_runs, numpy_vals, cpu_two = [], [], [], [], []
    best = None
    for k in range(rounds):
        start, cpu = time.perf_counter(), time.process_time()
        results = run_search(X, y, X_val, y_val, base, plan, n_classes=C, workers=2)
        two.append(time.perf_counter() - start)
        cpu_two.append(time.process_time() - cpu)
        best = best_result(results)
        for index in order[k * per_round:(k + 1) * per_round]:
            lr, reg = points[index]
            start = time.perf_counter()
            numpy_vals.append(_numpy_search_run(X, y, X_val, y_val, lr, reg, epochs=TUNE_EPOCHS, batch=base.batch_size,
                                                decay=base.lr_decay, seed=0)[0])
            numpy_runs.append(time.perf_counter() - start)
        start = time.perf_counter()
        run_search(X, y, X_val, y_val, base, plan, n_classes=C, workers=1)
        one.append(time.perf_counter() - start)
        numpy_round = statistics.mean(numpy_runs[-per_round:]) * len(points)
        _say(f"  round {k + 1}: linviz {two[-1]:.2f} s on both cores (CPU {cpu_two[-1]:.2f} s), {one[-1]:.2f} s on one; "
             f"NumPy loop {numpy_round:.2f} s (scaled from {per_round} runs) -> {numpy_round / two[-1]:.1f}x, "
             f"{numpy_round / one[-1]:.1f}x")
    numpy_run = statistics.median(numpy_runs)
    numpy_total = numpy_run * len(points)
    ratios = [statistics.mean(numpy_runs[k * per_round:(k + 1) * per_round]) * len(points) / two[k] for k in range(rounds)]
    ratios_one = [statistics.mean(numpy_runs[k * per_round:(k + 1) * per_round]) * len(points) / one[k]
                  for k in range(rounds)]
    ratio, ratio_one = statistics.median(ratios), statistics.median(ratios_one)
    _say(f"  linviz: {statistics.median(two):.2f} s on both cores ({statistics.median(two) / len(points) * 1000:.0f} ms "
         f"a run), {statistics.median(one):.2f} s on one (medians of {rounds}); best lr {best.learning_rate:g}, "
         f"reg {best.reg:g}: val {best.val_accuracy:.4f}")
    _say(f"  NumPy loop, one process: {numpy_run * 1000:.0f} ms a run (median of {len(numpy_runs)} of the "
         f"{len(points)} runs) -> {numpy_total:.2f} s for the search; val accuracies of those runs "
         f"{', '.join(f'{v:.3f}' for v in numpy_vals)}")
    result = {"runs": len(points), "epochs": TUNE_EPOCHS, "n_train": len(y), "n_val": len(y_val), "rounds": rounds,
              "linviz_two_workers_s": two, "linviz_two_workers_cpu_s": cpu_two, "linviz_one_worker_s": one,
              "best": best.as_json(), "numpy_loop_runs_s": numpy_runs, "numpy_loop_search_s_scaled": numpy_total,
              "ratios_vs_numpy": ratios, "ratios_vs_numpy_one_worker": ratios_one, "ratio_vs_numpy": ratio,
              "ratio_vs_numpy_one_worker": ratio_one, "target": TUNE_TARGET}
    _say(f"  linviz vs the NumPy loop: {ratio:.1f}x on both cores (rounds {', '.join(f'{r:.1f}' for r in ratios)}), "
         f"{ratio_one:.1f}x on one (target >= {TUNE_TARGET:g}x on both: {'ok' if ratio >= TUNE_TARGET else 'MISSED'})")
    linviz = {2: {"seconds": statistics.median(two)}, 1: {"seconds": statistics.median(one)}}
    try:
        import warnings

        from sklearn.linear_model import SGDClassifier
    except ImportError:
        _say("  skipped scikit-learn's SGDClassifier (pip install -e \".[bench]\")")
        return result
    sk_sample = [points[k] for k in order[: 1 if quick else 2]]
    start = time.perf_counter()
    sk_vals = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached: the epochs are the point
        for lr, reg in sk_sample:
            model = SGDClassifier(loss="log_loss", penalty="l2", alpha=reg, learning_rate="constant", eta0=lr,
                                  max_iter=TUNE_EPOCHS, tol=None, shuffle=True, random_state=0)
            model.fit(X, y)
            sk_vals.append(float(model.score(X_val, y_val)))
    sk_run = (time.perf_counter() - start) / len(sk_sample)
    sk_total = sk_run * len(points)
    result.update(sgdclassifier_run_s=sk_run, sgdclassifier_search_s_scaled=sk_total,
                  sgdclassifier_runs_timed=len(sk_sample), ratio_vs_sgdclassifier=sk_total / linviz[2]["seconds"],
                  ratio_vs_sgdclassifier_one_worker=sk_total / linviz[1]["seconds"])
    _say(f"  scikit-learn SGDClassifier (log loss, one-vs-rest, per-sample SGD, {TUNE_EPOCHS} epochs, one core): "
         f"{sk_run * 1000:.0f} ms a run ({len(sk_sample)} timed) -> {sk_total:6.2f} s; val accuracies "
         f"{', '.join(f'{v:.3f}' for v in sk_vals)}; linviz is {result['ratio_vs_sgdclassifier']:.1f}x faster on both "
         f"cores, {result['ratio_vs_sgdclassifier_one_worker']:.1f}x on one")
    return result


def _numpy_loss_only(W, X, y, loss: str, reg: float) -> float:
    """The total loss in plain NumPy with no gradient (float32 scores, bias row unregularized):
    the leanest per-point reference for the loss surface."""
    import numpy as np

    scores = X @ W
    n = X.shape[0]
    correct = scores[np.arange(n), y][:, None]
    if loss == "svm":
        margins = np.maximum(0.0, scores - correct + 1.0)
        data = (margins.sum() - n) / n  # the true class's own margin is exactly 1
    else:
        top = scores.max(axis=1, keepdims=True)
        data = float(np.mean(np.log(np.exp(scores - top).sum(axis=1)) + top[:, 0] - correct[:, 0]))
    return float(data + reg * np.sum(W[:-1].astype(np.float64) ** 2))


def bench_landscape(archive: Optional[Path], quick: bool) -> dict:
    """The 2-D loss surface (101 x 101 grid, 10,000 images, hog+hue and raw pixels, SVM and
    softmax) vs the NumPy reference loss evaluated at each grid point (timed on a sample of
    grid points and scaled to the grid). Targets: under 0.5 s, and >= 20x."""
    import numpy as np

    from linviz.explore.loss_surface import grid, loss_surface, random_directions
    from linviz.models.reference_losses import softmax_loss_vectorized, svm_loss_vectorized
    from linviz.training import TrainingConfig, recommended_settings, run_to_end, train

    n, steps, sample = (2_000, 51, 8) if quick else (10_000, 101, 24)
    if archive is not None:
        from linviz.data import load_dataset, subsample_per_class
        from linviz.features import FeaturePipeline

        dataset = load_dataset(archive)
        split = subsample_per_class(dataset.train, n // len(dataset.class_names), seed=0)
        sets = [(spec, FeaturePipeline(spec).fit_transform(split.images), split.labels) for spec in ("hog+hue", "raw")]
        origin = f"CIFAR-10, {len(split):,} training images"
    else:
        rng = np.random.default_rng(0)
        y = rng.integers(0, 10, n)
        sets = [(spec, np.c_[rng.standard_normal((n, d)), np.ones(n)].astype(np.float32), y)
                for spec, d in (("hog+hue", 154), ("raw", 3072))]
        origin = "random N(0, 1) data (shared archive not found)"
    _say(f"{steps} x {steps} grid over a, b in [-1, 1], random directions scaled to W per class; {origin}; "
         f"W: 2 epochs of SGD with the recommended settings; reference: NumPy's loss at {sample} random grid "
         "points, scaled")
    results = {}
    alphas = betas = grid(1.0, steps)
    for spec, X, y in sets:
        for loss in ("svm", "softmax"):
            settings = {**recommended_settings(spec, loss), "epochs": 2}
            W = run_to_end(train(X, y, config=TrainingConfig(loss=loss, **settings), n_classes=10)).best_W
            options = dict(loss=loss, reg=settings["reg"], n_reg_rows=W.shape[0] - 1)
            dirs = [d.astype(np.float32) for d in random_directions(W, 2, seed=1)]
            loss_surface(W, X[:64], y[:64], dirs, alphas[:9], betas[:9], **options)  # compile / load
            loss_surface(W, X[:64], y[:64], dirs, alphas[:9], betas[:9], parallel=False, **options)
            times, serial = [], []
            for _ in range(1 if quick else 3):
                start = time.perf_counter()
                surface = loss_surface(W, X, y, dirs, alphas, betas, **options)
                times.append(time.perf_counter() - start)
                start = time.perf_counter()
                loss_surface(W, X, y, dirs, alphas, betas, parallel=False, **options)
                serial.append(time.perf_counter() - start)
            reference = svm_loss_vectorized if loss == "svm" else softmax_loss_vectorized
            picks = np.random.default_rng(2).choice(steps * steps, sample, replace=False)
            points = [divmod(int(p), steps) for p in picks]
            start = time.perf_counter()
            worst = 0.0
            for k, m in points:
                Wp = W + alphas[m] * dirs[0] + betas[k] * dirs[1]
                value = reference(Wp, X, y, settings["reg"], n_reg_rows=W.shape[0] - 1)[0]
                worst = max(worst, abs(value - surface.total[k, m]) / abs(value))
            numpy_grid = (time.perf_counter() - start) / sample * steps * steps
            start = time.perf_counter()
            for k, m in points:
                _numpy_loss_only(W + alphas[m] * dirs[0] + betas[k] * dirs[1], X, y, loss, settings["reg"])
            lean_grid = (time.perf_counter() - start) / sample * steps * steps
            best = statistics.median(times)
            ratio, lean_ratio = numpy_grid / best, lean_grid / best
            ok = lambda good: "ok" if good else "MISSED"  # noqa: E731
            _say(f"  {spec:8s} {loss:7s}: linviz {best:.3f} s (serial {statistics.median(serial):.3f} s); the NumPy "
                 f"reference (loss and gradient) {numpy_grid:,.0f} s for the grid = {ratio:,.0f}x, NumPy loss only "
                 f"(float32 scores, no gradient) {lean_grid:,.0f} s = {lean_ratio:,.0f}x; largest difference "
                 f"{worst:.1e}; targets < 0.5 s: {ok(best < 0.5)}, >= 20x: {ok(min(ratio, lean_ratio) >= 20)}")
            results[f"{spec} {loss}"] = {"seconds": best, "serial_seconds": statistics.median(serial),
                                         "numpy_reference_seconds": numpy_grid, "numpy_loss_only_seconds": lean_grid,
                                         "ratio": ratio, "loss_only_ratio": lean_ratio, "max_rel_diff": worst}
    results["gui"] = _landscape_gui(archive, quick)
    return results


def _landscape_gui(archive: Optional[Path], quick: bool) -> dict:
    """Training in the window with the loss landscape live (a coarse surface a second)."""
    try:
        from linviz.gui.devtools.training_bench import prepare_bench_data
        from linviz.gui.devtools.landscape_bench import run_landscape_gui_bench  # Qt only in here
    except ImportError as exc:
        _say(f"skipped the GUI part: the GUI needs PySide6 and pyqtgraph ({exc})")
        return {"skipped": str(exc)}
    out = {}
    for spec in ("hog+hue", "raw"):
        _say(f"-- training in the window with the loss landscape live, features {spec}")
        prepared, features = prepare_bench_data(archive, quick, spec=spec)
        r = run_landscape_gui_bench(prepared, features, seconds=2.0 if quick else 5.0, repeats=3, say=_say)
        ok = lambda good: "ok" if good else "MISSED"  # noqa: E731
        _say(f"the live surface's own cost: following {r['live_samples_per_second']:,.0f} samples/s vs not following "
             f"{r['still_samples_per_second']:,.0f} = {r['live_vs_still']:.0%} (median of the rounds' ratios; target "
             f">= 90%: {ok(r['live_vs_still'] >= 0.9)}); vs headless {r['headless_samples_per_second']:,.0f}: "
             f"{r['throughput_ratio']:.0%}; {r['surfaces_per_second']:.2f} coarse surfaces/s")
        _say(f"GUI thread, following: longest stall {r['max_stall_ms']:.0f} ms (median over runs "
             f"{r['median_max_stall_ms']:.0f} ms; not following {r['still_max_stall_ms']:.0f} ms; idle "
             f"{r['idle_max_stall_ms']:.0f} ms; target <= 50 ms: {ok(r['max_stall_ms'] <= 50)})")
        out[spec] = r
    return out

# --------------------------------------------------------------------------- driver


def run(args) -> int:
    from linviz.cli import UsageError

    only = args.only.split(",") if args.only else [s for s in SECTIONS if s != "study"]
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        raise UsageError(f"bench: unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    archive = find_shared_archive(args.data)
    if archive is not None:
        import tarfile

        from linviz.safe_files import failure_reason, open_regular

        try:
            with open_regular(archive, None) as f:  # a FIFO or a device is refused, not read
                is_tar = tarfile.is_tarfile(f)
        except OSError as exc:
            raise UsageError(f"bench: {archive}: {failure_reason(exc)}") from None
        if not is_tar:
            raise UsageError(f"bench: {archive}: not a tar archive (expected the CIFAR-10 JPEG .tar.gz)")
    sections = {
        "load": bench_load,
        "features": bench_features,
        "study": bench_study,
        "sgd": bench_sgd,
        "e2e": bench_e2e,
        "gui": bench_gui,
        "knn": bench_knn,
        "tune": bench_tune,
        "landscape": bench_landscape,
    }
    global _commentary
    _commentary = sys.stderr if args.json else sys.stdout
    results = {"machine": machine_line(), "archive": str(archive) if archive else None}
    _say(f"linviz bench on {results['machine']}")
    import tarfile
    import zlib

    for name in only:
        _say(f"\n== {name} ==")
        try:
            results[name] = sections[name](archive, args.quick)
        except (tarfile.TarError, EOFError, zlib.error) as exc:
            # A damaged archive (is_tarfile only reads its first header): a user's file, not a bug.
            raise UsageError(f"bench: {archive}: truncated or corrupt archive ({exc})") from None
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0
