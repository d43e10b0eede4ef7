"""The benchmark driver: check the arguments and the archive, run the chosen sections in
order, print the JSON document with ``--json``."""

from __future__ import annotations

import json
import sys
import tarfile
import zlib
from pathlib import Path
from typing import TextIO

from linviz.bench.cold import bench_cold
from linviz.bench.common import find_shared_archive, machine_line
from linviz.bench.e2e import bench_e2e
from linviz.bench.features import bench_features
from linviz.bench.few_shot import bench_fewshot
from linviz.bench.gui import bench_gui
from linviz.bench.knn import bench_knn
from linviz.bench.landscape import bench_landscape
from linviz.bench.load import bench_load
from linviz.bench.sgd import bench_sgd
from linviz.bench.study import bench_study
from linviz.bench.tune import bench_tune
from linviz.bench.words import bench_words
from linviz.errors import UsageError

SECTIONS = ("load", "features", "study", "fewshot", "sgd", "e2e", "gui", "knn", "tune", "landscape", "words",
            "cold")
# the study and the words (two trainings end to end) take many minutes, the few-shot comparison a
# few; cold compiles every kernel from scratch in each of its runs
DEFAULT_SECTIONS = tuple(s for s in SECTIONS if s not in ("study", "fewshot", "words", "cold"))


def _section(name: str):
    """The function of a section, looked up when it runs."""
    return {
        "load": bench_load,
        "features": bench_features,
        "study": bench_study,
        "fewshot": bench_fewshot,
        "sgd": bench_sgd,
        "e2e": bench_e2e,
        "gui": bench_gui,
        "knn": bench_knn,
        "tune": bench_tune,
        "landscape": bench_landscape,
        "words": bench_words,
        "cold": bench_cold,
    }[name]


def run(args) -> int:
    """``python main.py bench [--data ARCHIVE] [--only SECTIONS] [--quick] [--json]``.

    Bad arguments (an unknown section, an archive that is not a readable tar) raise
    :class:`~linviz.errors.UsageError` before any section runs.
    """
    only = args.only.split(",") if args.only else list(DEFAULT_SECTIONS)
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        raise UsageError(f"bench: unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    archive = find_shared_archive(args.data)
    if archive is not None:
        _check_archive(archive)
    # With --json, stdout carries only the JSON document; the running commentary goes to stderr.
    commentary: TextIO = sys.stderr if args.json else sys.stdout

    def say(text: str) -> None:
        print(text, file=commentary, flush=True)

    results = {"machine": machine_line(), "archive": str(archive) if archive else None}
    say(f"linviz bench on {results['machine']}")
    for name in only:
        say(f"\n== {name} ==")
        try:
            results[name] = _section(name)(archive, args.quick, say)
        except (tarfile.TarError, EOFError, zlib.error) as exc:
            # A damaged archive (is_tarfile only reads its first header): a user's file, not a bug.
            raise UsageError(f"bench: {archive}: truncated or corrupt archive ({exc})") from None
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 0


def _check_archive(archive: Path) -> None:
    """A regular file that starts like a tar archive (a FIFO or a device is refused, not read)."""
    from linviz.safe_files import failure_reason, open_regular

    try:
        with open_regular(archive, None) as f:
            is_tar = tarfile.is_tarfile(f)
    except OSError as exc:
        raise UsageError(f"bench: {archive}: {failure_reason(exc)}") from None
    if not is_tar:
        raise UsageError(f"bench: {archive}: not a tar archive (expected the CIFAR-10 JPEG .tar.gz)")


__all__ = ["DEFAULT_SECTIONS", "SECTIONS", "run"]
