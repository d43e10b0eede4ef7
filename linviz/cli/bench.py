"""``python main.py bench``: the side-by-side benchmarks (linviz.bench)."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from linviz.bench import run as run_benchmarks

    return run_benchmarks(args)
