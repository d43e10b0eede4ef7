"""``load_dataset``: one entry point for every image source."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

from linviz.data.dataset import Dataset
from linviz.data.demo import make_demo_dataset
from linviz.data.folders import load_image_folder
from linviz.errors import DatasetError
from linviz.progress import CancelCheck, ProgressCallback

MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 4, 512


def load_dataset(
    source: Union[str, os.PathLike],
    *,
    image_size: int = 32,
    progress: Optional[ProgressCallback] = None,
    cancel: CancelCheck = None,
) -> Dataset:
    """Load ``source`` ("demo", "cifar10", or a path) into a :class:`Dataset`."""
    if not MIN_IMAGE_SIZE <= int(image_size) <= MAX_IMAGE_SIZE:
        raise DatasetError(f"image size must be between {MIN_IMAGE_SIZE} and {MAX_IMAGE_SIZE}, got {image_size}")
    if isinstance(source, str) and source == "demo":
        return make_demo_dataset(image_size=image_size)
    path = Path(source).expanduser()
    if not path.exists():
        raise DatasetError(f"{path}: no such file or folder")
    return load_image_folder(path, image_size=image_size, progress=progress, cancel=cancel)
