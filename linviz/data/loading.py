"""``load_dataset``: one entry point for every image source, with the decoded-dataset cache."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Optional, Union

from linviz.data import cache
from linviz.data.cifar10 import is_cifar10_batches, load_cifar10_batches, require_cifar10
from linviz.data.dataset import Dataset
from linviz.data.demo import make_demo_dataset
from linviz.data.folders import load_image_folder
from linviz.errors import DatasetError
from linviz.limits import MAX_IMAGE_SIZE, MIN_IMAGE_SIZE
from linviz.progress import CancelCheck, ProgressCallback, check_cancelled
from linviz.safe_files import not_regular_reason


def load_dataset(
    source: Union[str, os.PathLike],
    *,
    image_size: int = 32,
    progress: Optional[ProgressCallback] = None,
    cancel: CancelCheck = None,
) -> Dataset:
    """Load ``source`` into a :class:`Dataset`.

    ``source`` is ``"demo"`` (generated), ``"cifar10"`` (an existing copy found by
    :func:`~linviz.data.find_cifar10`, else DatasetError), or a path: the
    ``cifar-10-batches-py`` folder or ``cifar-10-python.tar.gz``, or an image folder /
    .zip / .tar[.gz|.tgz] with one sub-folder per class (optionally under ``train/`` and
    ``test/``). Decoded file sources are cached; the cache is checked against the source's
    size and modification time and rebuilt when stale or damaged.
    """
    try:
        image_size = int(image_size)
    except (TypeError, ValueError):
        raise DatasetError(f"image size must be a whole number, got {image_size!r}") from None
    if not MIN_IMAGE_SIZE <= image_size <= MAX_IMAGE_SIZE:
        raise DatasetError(f"image size must be between {MIN_IMAGE_SIZE} and {MAX_IMAGE_SIZE}, got {image_size}")
    check_cancelled(cancel)
    if isinstance(source, str) and source == "demo":
        return make_demo_dataset(image_size=image_size)
    if isinstance(source, str) and source.lower() in ("cifar10", "cifar-10"):
        path = require_cifar10()
    else:
        path = Path(source).expanduser()
    try:
        mode = os.stat(path).st_mode  # links followed: a link to a FIFO is a FIFO
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file or folder") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        raise DatasetError(f"{path}: {not_regular_reason(mode)}; give a dataset folder or archive")
    try:
        fingerprint = cache.source_fingerprint(path)
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from None
    cached = cache.load(path, fingerprint, image_size)
    if cached is not None:
        return cached
    if is_cifar10_batches(path):
        dataset = load_cifar10_batches(path, image_size=image_size, progress=progress, cancel=cancel)
    else:
        dataset = load_image_folder(path, image_size=image_size, progress=progress, cancel=cancel)
    cache.store_in_background(dataset, path, fingerprint, image_size)
    return dataset
