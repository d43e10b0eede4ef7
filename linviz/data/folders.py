"""Image folders: one sub-folder per class, from a directory, a .zip or a .tar[.gz], in place.

Layout rules (after dropping a single wrapper folder that contains everything, as zips of a
folder usually have):

* ``train/<class>/...`` and ``test/<class>/...`` at the top become the splits (``val/`` or
  ``validation/`` stand in for a missing ``test/``); without them every ``<class>/...``
  folder is one class of the train split and there is no test split;
* class names are the folder names, sorted (CIFAR-10's alphabetical folder names give its
  official label order); images within a class are ordered by path, so the same pictures
  give the same dataset (and the same ``Dataset.key``) from a folder or from its archive;
* files that cannot be used (broken, not images, outside any class folder) are listed in
  ``Dataset.skipped`` with the reason; they never stop the load.

Decoding runs in a thread pool, one chunk of files per task, each chunk filling its own
preallocated array; the main thread only lists (or, for tars, decompresses and slices) the
archive, which overlaps with the decoding.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional

import numpy as np

from linviz.data.archives import ImageSource, TarSource, open_image_source
from linviz.data.dataset import Dataset, Split
from linviz.data.images import decode_images_into, image_extensions
from linviz.errors import DatasetError
from linviz.progress import CancelCheck, ProgressCallback, check_cancelled, report

CHUNK_SIZE = 512
TRAIN_NAMES = ("train", "training")
TEST_NAMES = ("test", "testing", "val", "validation", "valid")


def decode_workers() -> int:
    """Threads for decoding: one per core (Pillow's decoders release the GIL), at most 8."""
    return max(1, min(8, os.cpu_count() or 1))


def _decode_chunk(items: list, read, image_size: int):
    out = np.empty((len(items), image_size, image_size, 3), np.uint8)
    reasons = decode_images_into([payload for _, payload in items], read, out, image_size)
    return [path for path, _ in items], out, reasons


def _member_label(source: ImageSource, relative: str) -> str:
    return f"{source.label}/{relative}" if source.label else relative


def _strip_wrapper(parts_list: list[list[str]]) -> int:
    """How many leading folders every path shares and that are only a wrapper."""
    depth = 0
    while parts_list:
        first = parts_list[0]
        if len(first) <= depth + 2:
            break
        name = first[depth]
        if name.lower() in TRAIN_NAMES + TEST_NAMES:
            break
        if not all(len(p) > depth + 2 and p[depth] == name for p in parts_list):
            break
        depth += 1
    return depth


def assign_layout(paths: list[str]):
    """Split and class of each relative path.

    Returns ``(split_of, class_of, class_names, problems)``: ``split_of[i]`` is "train",
    "test" or None (unusable; ``problems[i]`` says why), ``class_of[i]`` a class name.
    """
    parts_list = [p.split("/") for p in paths]
    depth = _strip_wrapper(parts_list)
    parts_list = [p[depth:] for p in parts_list]
    tops = {p[0].lower() for p in parts_list if len(p) > 1}
    has_train = any(name in tops for name in TRAIN_NAMES)
    test_name = next((name for name in TEST_NAMES if name in tops), None)
    split_of: list[Optional[str]] = []
    class_of: list[Optional[str]] = []
    problems: list[Optional[str]] = []
    for parts in parts_list:
        split, cls, problem = None, None, None
        if has_train:
            top = parts[0].lower() if len(parts) > 1 else ""
            if top in TRAIN_NAMES or (test_name and top == test_name):
                if len(parts) >= 3:
                    split, cls = ("train" if top in TRAIN_NAMES else "test"), parts[1]
                else:
                    problem = f"not inside a class folder of {parts[0]}/"
            else:
                problem = "outside the train/ and test/ folders"
        elif len(parts) >= 2:
            split, cls = "train", parts[0]
        else:
            problem = "not inside a class folder (put images in one sub-folder per class)"
        split_of.append(split)
        class_of.append(cls)
        problems.append(problem)
    class_names = sorted({c for c in class_of if c is not None})
    return split_of, class_of, class_names, problems


def _take(images: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """``images[indices]``, as a view (no copy) when the indices are one contiguous run."""
    if len(indices) and indices[-1] - indices[0] + 1 == len(indices) and np.all(np.diff(indices) == 1):
        return images[indices[0] : indices[-1] + 1]
    return images[indices]


def load_image_folder(
    path: Path,
    *,
    image_size: int = 32,
    progress: Optional[ProgressCallback] = None,
    cancel: CancelCheck = None,
) -> Dataset:
    """Decode every image under ``path`` (folder, zip or tar) into a :class:`Dataset`."""
    extensions = image_extensions()
    skipped: list[tuple[str, str]] = []
    results = []
    workers = decode_workers()
    with open_image_source(path) as source:
        report(progress, 0, source.total)
        pending: deque = deque()
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="linviz-decode") as pool:
            try:
                for chunk in source.chunks(CHUNK_SIZE):
                    check_cancelled(cancel)
                    wanted = []
                    for relative, payload in chunk:
                        extension = os.path.splitext(relative)[1].lower()
                        if extension in extensions:
                            wanted.append((relative, payload))
                        else:
                            skipped.append(
                                (_member_label(source, relative), f"not an image file (extension {extension or 'none'})")
                            )
                    if wanted:
                        pending.append(pool.submit(_decode_chunk, wanted, source.read, image_size))
                    # Bounded look-ahead: memory stays at a few chunks whatever the archive size.
                    while len(pending) > 2 * workers:
                        results.append(pending.popleft().result())
                    report(progress, source.progress_done(), source.total)
                while pending:
                    check_cancelled(cancel)
                    results.append(pending.popleft().result())
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
        if isinstance(source, TarSource) and source.truncated:
            skipped.append((source.label, source.truncated))
        report(progress, source.total, source.total)
        label = source.label

    paths: list[str] = []
    good_images = []
    for chunk_paths, images, reasons in results:
        ok = np.array([reason is None for reason in reasons], bool)
        for relative, reason in zip(chunk_paths, reasons):
            if reason is not None:
                skipped.append((f"{label}/{relative}", reason))
        if ok.all():
            good_images.append(images)
            paths.extend(chunk_paths)
        elif ok.any():
            good_images.append(images[ok])
            paths.extend(p for p, keep in zip(chunk_paths, ok) if keep)
    if not paths:
        detail = f" ({len(skipped)} file(s) skipped, e.g. {skipped[0][0]}: {skipped[0][1]})" if skipped else ""
        raise DatasetError(f"{path}: no readable images found{detail}")

    split_of, class_of, class_names, problems = assign_layout(paths)
    for relative, problem in zip(paths, problems):
        if problem is not None:
            skipped.append((f"{label}/{relative}", problem))
    if not class_names:
        raise DatasetError(f"{path}: no class folders (put the images of each class in a sub-folder named after it)")
    all_images = good_images[0] if len(good_images) == 1 else np.concatenate(good_images)
    class_index = {name: i for i, name in enumerate(class_names)}

    splits = {}
    for split_name in ("train", "test"):
        members = [i for i, s in enumerate(split_of) if s == split_name]
        if not members:
            continue
        members.sort(key=lambda i: (class_index[class_of[i]], paths[i]))
        indices = np.asarray(members, np.int64)
        labels = np.fromiter((class_index[class_of[i]] for i in members), np.int64, len(members))
        splits[split_name] = Split(_take(all_images, indices), labels)
    if "train" not in splits:
        raise DatasetError(f"{path}: the train/ folder has no readable images")
    skipped.sort()
    return Dataset(
        class_names=class_names,
        train=splits["train"],
        test=splits.get("test"),
        skipped=skipped,
        source=str(path),
    )
