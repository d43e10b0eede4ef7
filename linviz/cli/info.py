"""``python main.py info SOURCE``: classes, split counts, per-class counts, image shape,
skipped files and load time of a dataset source."""

from __future__ import annotations

import argparse
import time

from linviz.cli.common import EXIT_OK, ProgressBar, print_json, warn_if_cache_unavailable
from linviz.text import counted, duration, printable

MAX_SKIPPED_SHOWN = 50  # files listed in the text output (--json lists them all)


def run(args: argparse.Namespace) -> int:
    """Print classes, split counts, per-class counts, image shape, skipped files, load time."""
    from linviz.data import download_cifar10, find_cifar10, load_dataset

    if args.download and args.source.lower() in ("cifar10", "cifar-10") and find_cifar10() is None:
        with ProgressBar("downloading CIFAR-10") as download_bar:
            download_cifar10(progress=download_bar)
    start = time.perf_counter()
    with ProgressBar("loading") as bar:
        dataset = load_dataset(args.source, image_size=args.image_size, progress=bar)
    seconds = time.perf_counter() - start
    warn_if_cache_unavailable()
    summary = dataset.summary()
    summary["seconds"] = round(seconds, 3)
    if args.json:
        print_json(summary)
    else:
        _print_summary(dataset, summary, seconds)
    return EXIT_OK


def _print_summary(dataset, summary: dict, seconds: float) -> None:
    splits = summary["splits"]
    names = [printable(name) for name in dataset.class_names]
    width = max(len(name) for name in names)
    print(f"source:      {printable(dataset.source)}")
    print(f"classes:     {len(names)} ({', '.join(names)})")
    print("splits:      " + ", ".join(f"{name} {count:,}" for name, count in splits.items()))
    print(f"image shape: {' x '.join(str(n) for n in summary['image_shape'])}")
    print(f"load time:   {duration(seconds)}")
    print()
    print(f"{'class':<{width}}  " + "  ".join(f"{name:>8}" for name in splits))
    for cls, shown in zip(dataset.class_names, names):
        print(f"{shown:<{width}}  " + "  ".join(f"{summary['per_class'][name][cls]:>8,}" for name in splits))
    skipped = summary["skipped"]
    print()
    print(f"skipped:     {counted(len(skipped), 'file')}")
    for item in skipped[:MAX_SKIPPED_SHOWN]:
        print(f"  {printable(item['path'])}: {printable(item['reason'])}")
    if len(skipped) > MAX_SKIPPED_SHOWN:
        print(f"  ... and {len(skipped) - MAX_SKIPPED_SHOWN} more (use --json for the full list)")
