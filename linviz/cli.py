"""The headless commands: ``python main.py info|features|train|predict|bench``.

Every command prints human-readable text, or one JSON document with ``--json``. Bad input
(a :class:`~linviz.errors.LinvizError`, or bad arguments) exits with code 2 and exactly one
line on stderr; no traceback for a user mistake. Progress bars go to stderr so that
stdout stays clean for ``--json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Optional, Sequence, TextIO

from linviz.errors import Cancelled, LinvizError

EXIT_OK = 0
EXIT_BAD_INPUT = 2


class UsageError(LinvizError):
    """Bad command-line arguments."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing the usage block, so errors stay one line."""

    def error(self, message: str):  # noqa: D401 (argparse API)
        raise UsageError(f"{self.prog}: {message}")


class ProgressBar:
    """A throttled one-line progress bar on stderr: ``label [#####.....]  45%  12.3 s``.

    Usable directly as a ``progress(done, total)`` callback.
    """

    def __init__(self, label: str, stream: TextIO = sys.stderr, min_interval: float = 0.1):
        self.label = label
        self.stream = stream
        self.min_interval = min_interval
        self._start = time.perf_counter()
        self._last = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - self._last < self.min_interval and done < total:
            return
        self._last = now
        elapsed = now - self._start
        if total > 0:
            fraction = min(max(done / total, 0.0), 1.0)
            filled = int(round(30 * fraction))
            text = f"{self.label} [{'#' * filled}{'.' * (30 - filled)}] {fraction:5.0%} {elapsed:6.1f} s"
        else:
            text = f"{self.label} {done:,} {elapsed:6.1f} s"
        self.stream.write("\r" + text)
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def print_json(obj) -> None:
    json.dump(obj, sys.stdout, indent=2)
    sys.stdout.write("\n")


# --------------------------------------------------------------------------- commands


def cmd_info(args: argparse.Namespace) -> int:
    """Print classes, split counts, per-class counts, image shape, skipped files, load time."""
    from linviz.data import load_dataset

    bar = ProgressBar("loading")
    start = time.perf_counter()
    try:
        dataset = load_dataset(args.source, image_size=args.image_size, progress=bar)
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    summary = dataset.summary()
    summary["seconds"] = round(seconds, 3)
    if args.json:
        print_json(summary)
        return EXIT_OK
    splits = summary["splits"]
    width = max(len(name) for name in dataset.class_names)
    print(f"source:      {dataset.source}")
    print(f"classes:     {len(dataset.class_names)} ({', '.join(dataset.class_names)})")
    print("splits:      " + ", ".join(f"{name} {count:,}" for name, count in splits.items()))
    print(f"image shape: {' x '.join(str(n) for n in summary['image_shape'])}")
    print(f"load time:   {seconds:.2f} s")
    print()
    print(f"{'class':<{width}}  " + "  ".join(f"{name:>8}" for name in splits))
    for cls in dataset.class_names:
        print(f"{cls:<{width}}  " + "  ".join(f"{summary['per_class'][name][cls]:>8,}" for name in splits))
    skipped = summary["skipped"]
    print()
    print(f"skipped:     {len(skipped)} file(s)")
    for item in skipped[:50]:
        print(f"  {item['path']}: {item['reason']}")
    if len(skipped) > 50:
        print(f"  ... and {len(skipped) - 50} more (use --json for the full list)")
    return EXIT_OK


def cmd_features(args: argparse.Namespace) -> int:
    """Load a dataset, extract ``--features`` from every split; print dims per block and speed."""
    from linviz.data import load_dataset
    from linviz.features import FeaturePipeline, parse_feature_spec

    spec = parse_feature_spec(args.features)  # a bad spec fails before the (slow) load
    bar = None if args.json else ProgressBar("loading")
    try:
        dataset = load_dataset(args.source, image_size=args.image_size, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    pipeline = FeaturePipeline(spec)
    splits = [("train", dataset.train)] + ([("test", dataset.test)] if dataset.test is not None else [])
    pipeline.extract(dataset.train.images[:2])  # compile / load the kernels outside the timing
    timings = {}
    total_images, total_seconds = 0, 0.0
    for name, split in splits:
        bar = None if args.json else ProgressBar(f"{name} features")
        start = time.perf_counter()
        try:
            features = pipeline.extract(split.images, progress=bar)
        finally:
            if bar is not None:
                bar.close()
        seconds = time.perf_counter() - start
        timings[name] = {
            "images": len(split),
            "seconds": seconds,
            "images_per_second": len(split) / seconds if seconds > 0 else None,
            "shape": list(features.shape),
        }
        total_images += len(split)
        total_seconds += seconds
    blocks = [
        {"name": b.name, "kind": b.kind, "dims": b.size, "shape": list(b.shape), "start": b.start, "stop": b.stop}
        for b in pipeline.blocks
    ]
    result = {
        "source": dataset.source,
        "spec": str(spec),
        "image_shape": list(pipeline.image_shape),
        "dims": pipeline.dim,
        "blocks": blocks,
        "splits": timings,
        "images": total_images,
        "seconds": total_seconds,
        "images_per_second": total_images / total_seconds if total_seconds > 0 else None,
    }
    if args.json:
        print_json(result)
        return EXIT_OK
    print(f"source     {dataset.source}")
    print(f"features   {spec}")
    print(f"dims       {pipeline.dim} (+1 bias column after standardization)")
    for b in blocks:
        print(f"  {b['dims']:6d}  {b['kind']:6s}  {'x'.join(map(str, b['shape'])):14s}  {b['name']}")
    for name, t in timings.items():
        print(f"{name:10s} {t['images']:,} images in {t['seconds']:.2f} s ({t['images_per_second'] or 0:,.0f} images/s)")
    rate = result["images_per_second"] or 0
    print(f"total      {total_images:,} images in {total_seconds:.2f} s ({rate:,.0f} images/s)")
    return EXIT_OK


def cmd_train(args: argparse.Namespace) -> int:
    raise UsageError("train: not implemented yet")


def cmd_predict(args: argparse.Namespace) -> int:
    raise UsageError("predict: not implemented yet")


def cmd_bench(args: argparse.Namespace) -> int:
    from linviz import bench

    return bench.run(args)


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="linviz", description="Linear image classifiers, visualized.")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)

    info = commands.add_parser("info", help="describe a dataset source")
    info.add_argument("source", help='CIFAR-10 folder or tarball, image folder/.zip/.tar[.gz], or "demo"')
    info.add_argument("--image-size", type=int, default=32)
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.set_defaults(func=cmd_info)

    features = commands.add_parser("features", help="extract features and report timing")
    features.add_argument("source", help='CIFAR-10 folder or tarball, image folder/.zip/.tar[.gz], or "demo"')
    features.add_argument(
        "--features", default="hog+hue",
        help='a preset (raw, hog+hue, best, ...) or a spec like "hog:cell=8:block=2,hue:bins=10" (default hog+hue)',
    )
    features.add_argument("--image-size", type=int, default=32)
    features.add_argument("--json", action="store_true", help="print one JSON object")
    features.set_defaults(func=cmd_features)

    train = commands.add_parser("train", help="train a linear classifier and save it")
    train.set_defaults(func=cmd_train)

    predict = commands.add_parser("predict", help="classify image files with a saved model")
    predict.set_defaults(func=cmd_predict)

    bench = commands.add_parser("bench", help="side-by-side benchmarks against reference tools")
    bench.add_argument("--data", default=None, help="the shared CIFAR-10 JPEG archive (found automatically)")
    bench.add_argument("--only", default=None, help="comma-separated sections: load,features,study,sgd,gui (default: all but study)")
    bench.add_argument("--quick", action="store_true", help="fewer images and repeats")
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``python main.py CMD``; with no command, starts the desktop app."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("--data") or argv[0] in ("gui",):
        from linviz.gui.app import run_app

        return run_app(argv[1:] if argv and argv[0] == "gui" else argv)
    try:
        args = build_parser().parse_args(argv)
        if getattr(args, "func", None) is None:
            raise UsageError("linviz: give a command: info, features, train, predict or bench")
        return args.func(args)
    except LinvizError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Cancelled:
        print("cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
