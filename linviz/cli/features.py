"""``python main.py features SOURCE``: extract features from every split of a source; the
dimensions per block and the speed."""

from __future__ import annotations

import argparse
import time
from contextlib import nullcontext

from linviz.cli.common import (EXIT_OK, ProgressBar, kernels_ready, print_json, warn_about_skipped,
                               warn_if_cache_unavailable)
from linviz.text import duration, printable


def run(args: argparse.Namespace) -> int:
    """Load a dataset, extract ``--features`` from every split; print dims per block and speed."""
    from linviz.data import load_dataset
    from linviz.features import FeaturePipeline, parse_feature_spec
    from linviz.training.warmup import features_part, prepare

    spec = parse_feature_spec(args.features)  # a bad spec fails before the (slow) load
    kernels = [features_part(spec, (args.image_size, args.image_size))]
    prepare(kernels)  # the kernels get ready (on a first run: compile elsewhere) while the data loads
    with nullcontext() if args.json else ProgressBar("loading") as bar:
        dataset = load_dataset(args.source, image_size=args.image_size, progress=bar)
    warn_if_cache_unavailable()
    warn_about_skipped(dataset, "features")
    pipeline = FeaturePipeline(spec, seed=args.seed)
    splits = [("train", dataset.train)] + ([("test", dataset.test)] if dataset.test is not None else [])
    kernels_ready(kernels)  # compiled or loaded outside the timing (blocks that learn: on a tiny version)
    learning = _timed_learning(pipeline, dataset.train, args.json) if pipeline.has_fitted_blocks else None
    timings = {name: _timed_extraction(pipeline, name, split, args.json) for name, split in splits}
    total_images = sum(t["images"] for t in timings.values())
    total_seconds = sum(t["seconds"] for t in timings.values())
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
        "learning": learning,
        "splits": timings,
        "images": total_images,
        "seconds": total_seconds,
        "images_per_second": total_images / total_seconds if total_seconds > 0 else None,
    }
    if args.json:
        print_json(result)
        return EXIT_OK
    print(f"source     {printable(dataset.source)}")
    print(f"features   {spec}")
    print(f"dims       {pipeline.dim} (+1 bias column after standardization)")
    for b in blocks:
        print(f"  {b['dims']:6d}  {b['kind']:6s}  {'x'.join(map(str, b['shape'])):14s}  {b['name']}")
    if learning is not None:
        print(f"learning   {', '.join(learning['blocks'])} from {learning['images']:,} training images in "
              f"{duration(learning['seconds'])}")
    for name, t in timings.items():
        print(f"{name:10s} {t['images']:,} images in {duration(t['seconds'])} "
              f"({t['images_per_second'] or 0:,.0f} images/s)")
    rate = result["images_per_second"] or 0
    print(f"total      {total_images:,} images in {duration(total_seconds)} ({rate:,.0f} images/s)")
    return EXIT_OK


def _timed_learning(pipeline, split, quiet: bool) -> dict:
    """Fit the blocks that learn from images (the words' codebook) on the training split."""
    start = time.perf_counter()
    with nullcontext() if quiet else ProgressBar("learning") as bar:
        pipeline.fit_blocks(split.images, progress=bar)
    return {"blocks": [b.name for b in pipeline.blocks if b.type.fitted], "images": len(split),
            "seconds": time.perf_counter() - start}


def _timed_extraction(pipeline, name: str, split, quiet: bool) -> dict:
    """Extract one split's features (a progress bar unless ``quiet``); its size and speed."""
    start = time.perf_counter()
    with nullcontext() if quiet else ProgressBar(f"{name} features") as bar:
        features = pipeline.extract(split.images, progress=bar)
    seconds = time.perf_counter() - start
    return {
        "images": len(split),
        "seconds": seconds,
        "images_per_second": len(split) / seconds if seconds > 0 else None,
        "shape": list(features.shape),
    }
