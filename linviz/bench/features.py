"""Feature extraction: HOG (9, 8x8, 1x1 blocks, L2-Hys) + 10-bin hue on all images, linviz vs
scikit-image vs OpenCV, and the memory linviz needs beyond its output."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from linviz.bench.common import NO_ARCHIVE, Say, load_shared, peak_memory, verdict
from linviz.features import FeaturePipeline

# the benchmark's HOG is scikit-image's default (L2-Hys), so that both sides do the same work
SPEC = "hog:orient=9:cell=8:block=1:norm=L2-Hys,hue:bins=10"
NOT_INSTALLED = "not installed (pip install -e '.[bench]')"
# (label, target speed-up) of each reference
REFERENCES = {
    "skimage": ("scikit-image per image (rgb2gray + hog, rgb2hsv + weighted hue histogram)", 60),
    "opencv": ("OpenCV per image, cvtColor to gray + HOGDescriptor.compute (HOG alone)", 3),
    "opencv_gray_given": ("OpenCV HOGDescriptor.compute alone, gray image given", None),
    "opencv_hog_hue": ("OpenCV per image, cvtColor + HOG + cvtColor HSV + calcHist", None),
}


def bench_features(archive: Optional[Path], quick: bool, say: Say) -> dict:
    """HOG (9, 8x8, 1x1 blocks, L2-Hys) + 10-bin hue on all images: linviz vs skimage vs OpenCV.

    The machine is shared, so the tools run in alternating rounds (linviz on all images, then
    each reference on a sample, then again); per-image wall times are compared round by
    round and the median and best ratios printed, along with CPU-time ratios.
    """
    dataset = load_shared(archive)
    if dataset is None:
        say(NO_ARCHIVE)
        return {"skipped": "no archive"}
    splits = [dataset.train.images] + ([dataset.test.images] if dataset.test is not None else [])
    n_images = sum(len(s) for s in splits)
    input_bytes = sum(s.nbytes for s in splits)
    pipeline = FeaturePipeline(SPEC)
    pipeline.extract(splits[0][:200])  # compile or load the kernels

    def run_linviz():
        return [pipeline.extract(s) for s in splits]

    # memory: NumPy allocations traced by tracemalloc, and the process's peak RSS (reset first)
    outputs, traced_peak, rss_peak_extra = peak_memory(run_linviz)
    output_bytes = sum(o.nbytes for o in outputs)
    del outputs

    sample = np.ascontiguousarray(
        dataset.train.images[:: max(1, len(dataset.train.images) // (1000 if quick else 3000))])
    tools, notes = _reference_tools(sample)
    for name, note in notes.items():
        say(f"skipped {name}: {note}")
    for fn in tools.values():
        fn()  # warm up
    rounds = 2 if quick else 5
    walls, cpus = _alternating_rounds({"linviz": (run_linviz, n_images), **{
        name: (fn, len(sample)) for name, fn in tools.items()}}, rounds)
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
    say(f"linviz HOG + hue on {n_images:,} images: {med['linviz']:.2f} us/image = {1e6 / med['linviz']:,.0f} images/s "
        f"(median of {rounds} rounds; best {best['linviz']:.2f} us; CPU {cpu['linviz']:.2f} us/image on both cores)")
    extra = max(traced_peak, rss_peak_extra or 0) - output_bytes
    say(f"memory: input {input_bytes / 2**20:.0f} MB (already loaded), output {output_bytes / 2**20:.1f} MB, "
        f"peak during extraction +{traced_peak / 2**20:.1f} MB traced (tracemalloc)"
        + (f", +{rss_peak_extra / 2**20:.1f} MB peak RSS (VmHWM after clear_refs)"
           if rss_peak_extra is not None else "")
        + f" -> {extra / 2**20:.1f} MB beyond the output (target < 100 MB: {verdict(extra < 100 * 2**20)})")
    for name in tools:
        label, target = REFERENCES[name]
        ratio = med[name] / med["linviz"]
        ratio_best = best[name] / best["linviz"]
        ratio_cpu = cpu[name] / cpu["linviz"]
        result[f"speedup_vs_{name}"] = ratio
        result[f"speedup_vs_{name}_best"] = ratio_best
        result[f"cpu_speedup_vs_{name}"] = ratio_cpu
        goal = "" if target is None else f" (target >= {target}x: {verdict(ratio >= target)})"
        say(f"{label}, {len(sample):,} images: {med[name]:.1f} us/image -> linviz HOG + hue is {ratio:.1f}x faster"
            f"{goal}; best-of-rounds {ratio_best:.1f}x; CPU time {ratio_cpu:.1f}x")
    return result


def _alternating_rounds(contenders: dict, rounds: int) -> tuple[dict, dict]:
    """({name: wall us per image, one per round}, {name: CPU us per image, one per round}):
    every contender ``(fn, images)`` once per round, in turn."""
    walls: dict[str, list] = {name: [] for name in contenders}
    cpus: dict[str, list] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, (fn, count) in contenders.items():
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            walls[name].append((time.perf_counter() - wall) / count * 1e6)
            cpus[name].append((time.process_time() - cpu) / count * 1e6)
    return walls, cpus


def _reference_tools(sample: np.ndarray) -> tuple[dict[str, Callable[[], object]], dict[str, str]]:
    """({name: a function computing the features of ``sample`` image by image}, {name: why
    it is skipped}) for scikit-image and OpenCV."""
    tools: dict[str, Callable[[], object]] = {}
    notes: dict[str, str] = {}
    try:
        from skimage.color import rgb2gray, rgb2hsv
        from skimage.feature import hog as sk_hog
    except ImportError:
        notes["skimage"] = NOT_INSTALLED
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
        notes["opencv"] = NOT_INSTALLED
        return tools, notes
    if not hasattr(cv2, "HOGDescriptor"):
        # OpenCV 5 moved HOGDescriptor out of the main modules
        notes["opencv"] = (f"this build ({cv2.__version__}) has no cv2.HOGDescriptor (OpenCV 5 moved it out "
                           f"of the main package; pip install 'opencv-python-headless<5')")
        return tools, notes
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
    return tools, notes
