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

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional

import numpy as np

from linviz.data.archives import ImageSource, TarSource, open_image_source
from linviz.data.dataset import Dataset, Split
from linviz.data.images import decode_images_into, decode_workers, image_extensions
from linviz.errors import DatasetError
from linviz.limits import format_bytes, memory_limit
from linviz.progress import CancelCheck, ProgressCallback, check_cancelled, report
from linviz.text import counted

CHUNK_SIZE = 512
#: Up-front allocation limit for the decoded images (grown by doubling past it).
_MAX_PREALLOCATED_BYTES = 512 * 1024 * 1024
#: Bytes of streamed archive members read ahead of the decoders (one chunk more is allowed).
MAX_HELD_BYTES = 256 * 1024 * 1024
TRAIN_NAMES = ("train", "training")
TEST_NAMES = ("test", "testing", "val", "validation", "valid")


def _decode_chunk(payloads: list, read, out: np.ndarray, image_size: int) -> list:
    """Decode one chunk into its slice of the shared output array (runs in a worker)."""
    return decode_images_into(payloads, read, out, image_size)


class _GrowableImages:
    """The output array, preallocated from the source's size estimate, grown by doubling.

    Workers write straight into their slice, so the decoded images are never concatenated.
    Growing copies the array, so it first waits for the chunks still being written. The
    images together may take at most half of the machine's memory (DatasetError beyond,
    with the figure), and growing never asks for more than that.
    """

    def __init__(self, capacity: int, image_size: int, label: str = ""):
        self.image_size = image_size
        self.label = label
        self.limit = memory_limit()
        self.per_image = 3 * image_size * image_size
        capacity = min(max(capacity, 1), max(1, self.limit // self.per_image))
        self.array = np.empty((capacity, image_size, image_size, 3), np.uint8)
        self.used = 0

    def reserve(self, n: int, wait_for_pending) -> np.ndarray:
        if self.used + n > len(self.array):
            needed = (self.used + n) * self.per_image
            if needed > self.limit:
                raise DatasetError(
                    f"{self.label}: too many images to hold: {self.used + n:,} images of {self.image_size}x"
                    f"{self.image_size} need {format_bytes(needed)}, more than half of this machine's memory "
                    f"({format_bytes(self.limit)})")
            wait_for_pending()
            rows = min(max(2 * len(self.array), self.used + n), self.limit // self.per_image)
            bigger = np.empty((rows,) + self.array.shape[1:], np.uint8)
            bigger[: self.used] = self.array[: self.used]
            self.array = bigger
        view = self.array[self.used : self.used + n]
        self.used += n
        return view


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


def _classes_left_out(paths: list[str], class_of: list, class_names: list[str], seen: list[str],
                      label: str) -> list[tuple[str, str]]:
    """(folder, reason) for each folder beside the classes (under the folder that holds them:
    the source, its wrapper, train/ or test/) that holds no readable image: left out of the
    classes, which a user with a folder of unsupported files (or none) is otherwise not told."""
    parents = set()
    for relative, name in zip(paths, class_of):
        if name is not None:
            parts = relative.split("/")
            parents.add("/".join(parts[:parts.index(name)]))
    names = set(class_names)
    left: set = set()
    for relative in seen:
        for parent in parents:
            if parent and not relative.startswith(parent + "/"):
                continue
            rest = (relative[len(parent) + 1:] if parent else relative).split("/")
            if len(rest) >= 2 and rest[0] not in names:
                left.add(f"{parent}/{rest[0]}" if parent else rest[0])
    return [(f"{label}/{folder}", "no readable image in this class folder: the class is left out")
            for folder in sorted(left)]


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
    paths: list[str] = []
    seen: list[str] = []  # every member, image or not: which class folders there were
    reasons: list = []
    workers = decode_workers()
    with open_image_source(path) as source:
        report(progress, 0, source.total)
        output = _GrowableImages(min(source.estimated_count(), _MAX_PREALLOCATED_BYTES // (3 * image_size**2)),
                                 image_size, source.label)
        pending: deque = deque()  # (future, bytes its payloads hold)
        held = [0]

        def collect_one():
            future, nbytes = pending.popleft()
            held[0] -= nbytes
            reasons.extend(future.result())

        def collect_all():
            while pending:
                collect_one()

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="linviz-decode") as pool:
            try:
                for chunk in source.chunks(CHUNK_SIZE):
                    check_cancelled(cancel)
                    payloads = []
                    for relative, payload in chunk:
                        seen.append(relative)
                        extension = relative[relative.rfind("."):].lower() if "." in relative else ""
                        if source.is_empty(payload):  # no slot for it: a million empty members cost nothing
                            skipped.append((_member_label(source, relative), "empty file"))
                        elif extension in extensions and "/" not in extension:
                            paths.append(relative)
                            payloads.append(payload)
                        else:
                            skipped.append(
                                (_member_label(source, relative),
                                 f"not an image file (extension {extension or 'none'})")
                            )
                    if payloads:
                        out = output.reserve(len(payloads), collect_all)
                        nbytes = sum(source.payload_bytes(p) for p in payloads)
                        pending.append((pool.submit(_decode_chunk, payloads, source.read, out, image_size), nbytes))
                        held[0] += nbytes
                    # Bounded look-ahead: memory stays at a few chunks (and at most MAX_HELD_BYTES
                    # of members read ahead) whatever the archive size.
                    while len(pending) > 2 * workers or (len(pending) > 1 and held[0] > MAX_HELD_BYTES):
                        collect_one()
                    report(progress, source.progress_done(), source.total)
                while pending:
                    check_cancelled(cancel)
                    collect_one()
            except BaseException:
                for future, _ in pending:
                    future.cancel()
                raise
        if isinstance(source, TarSource) and source.truncated:
            skipped.append((source.label, source.truncated))
        skipped.extend(source.skipped)
        report(progress, source.total, source.total)
        label = source.label
        seen += [f"{folder}/." for folder in source.folders]  # a file in each: empty folders count

    all_images = output.array[: output.used]
    failed = [i for i, reason in enumerate(reasons) if reason is not None]
    if failed:
        for i in failed:
            skipped.append((f"{label}/{paths[i]}", reasons[i]))
        keep = np.ones(len(paths), bool)
        keep[failed] = False
        all_images = all_images[keep]
        paths = [p for p, k in zip(paths, keep) if k]
    if not paths:
        detail = f" ({counted(len(skipped), 'file')} skipped, e.g. {skipped[0][0]}: {skipped[0][1]})" if skipped else ""
        raise DatasetError(f"{path}: no readable images found{detail}")

    split_of, class_of, class_names, problems = assign_layout(paths)
    for relative, problem in zip(paths, problems):
        if problem is not None:
            skipped.append((f"{label}/{relative}", problem))
    if not class_names:
        raise DatasetError(f"{path}: no class folders (put the images of each class in a sub-folder named after it)")
    skipped += _classes_left_out(paths, class_of, class_names, seen, label)
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
