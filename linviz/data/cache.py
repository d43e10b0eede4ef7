"""The decoded-dataset cache: a second load of the same source reads one raw file.

One file per (source path, image size) in ``<cache dir>/datasets/``; its header records the
source's fingerprint (size and modification time; for folders also the file count and the
newest modification time inside). A changed source, a different loader version, a short
file or a failed integrity check make the entry stale: it is deleted and rebuilt, never
trusted. Files are written to a temporary name and renamed, so a crash never leaves a
half-written entry under the real name.

Format: ``LINVIZDS`` magic, format version (u32), header length (u64), JSON header, then
the raw arrays at 64-byte aligned offsets. No pickle anywhere. The integrity check is cheap
by design (the 20x target leaves no time to hash 180 MB): exact file length, header
fields, and a SHA-256 over the labels and an evenly spaced sample of images.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import struct
import tempfile
import threading
import weakref
from pathlib import Path
from typing import Optional

import numpy as np

from linviz.data.dataset import Dataset, Split
from linviz.paths import cache_dir

MAGIC = b"LINVIZDS"
FORMAT_VERSION = 1
#: Bump when decoding changes (crop, resize, color conversion): old entries become stale.
LOADER_VERSION = 1
_ALIGN = 64
_SAMPLES = 512

_hits: "weakref.WeakSet[Dataset]" = weakref.WeakSet()
_writers: list[threading.Thread] = []
_writers_lock = threading.Lock()


def was_cache_hit(dataset: Dataset) -> bool:
    """True when ``dataset`` came from the cache (for the benchmark and tests)."""
    return dataset in _hits


def source_fingerprint(path: Path) -> dict:
    """What identifies the source's content cheaply: path, sizes, modification times."""
    path = Path(path).resolve()
    stat = path.stat()
    if not path.is_dir():
        return {"path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    files = 0
    total = 0
    newest = stat.st_mtime_ns
    for folder, dirs, names in os.walk(path):
        newest = max(newest, os.stat(folder).st_mtime_ns)
        for name in names:
            try:
                child = os.stat(os.path.join(folder, name))
            except OSError:
                continue
            files += 1
            total += child.st_size
            newest = max(newest, child.st_mtime_ns)
    return {"path": str(path), "size": total, "files": files, "mtime_ns": newest}


def entry_path(path: Path, image_size: int) -> Path:
    ident = json.dumps([str(Path(path).resolve()), int(image_size)])
    name = hashlib.sha256(ident.encode()).hexdigest()[:24]
    return cache_dir() / "datasets" / f"{name}.lvds"


def _sample_digest(arrays: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = arrays[name]
        if name.endswith("labels"):
            digest.update(memoryview(np.ascontiguousarray(array)).cast("B"))
        elif len(array):
            picks = np.unique(np.linspace(0, len(array) - 1, min(_SAMPLES, len(array))).astype(np.int64))
            digest.update(np.ascontiguousarray(array[picks]).tobytes())
    return digest.hexdigest()


def _arrays_of(dataset: Dataset) -> dict[str, np.ndarray]:
    arrays = {"train_images": dataset.train.images, "train_labels": dataset.train.labels}
    if dataset.test is not None:
        arrays["test_images"] = dataset.test.images
        arrays["test_labels"] = dataset.test.labels
    return arrays


def store(dataset: Dataset, path: Path, fingerprint: dict, image_size: int) -> Optional[Path]:
    """Write ``dataset`` as the cache entry of ``path``; None when the cache is not writable."""
    target = entry_path(path, image_size)
    arrays = _arrays_of(dataset)
    layout = []
    offset = 0
    for name, array in arrays.items():
        layout.append({"name": name, "dtype": array.dtype.str, "shape": list(array.shape), "offset": offset})
        offset += (array.nbytes + _ALIGN - 1) // _ALIGN * _ALIGN
    header = {
        "loader_version": LOADER_VERSION,
        "fingerprint": fingerprint,
        "image_size": int(image_size),
        "class_names": dataset.class_names,
        "skipped": [list(item) for item in dataset.skipped],
        "source": dataset.source,
        "key": dataset.key,
        "arrays": layout,
        "data_bytes": offset,
        "sample_sha256": _sample_digest(arrays),
    }
    header_bytes = json.dumps(header).encode()
    prefix = MAGIC + struct.pack("<IQ", FORMAT_VERSION, len(header_bytes)) + header_bytes
    prefix += b"\0" * (-len(prefix) % _ALIGN)
    tmp_name = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".tmp-", suffix=".lvds", delete=False) as f:
            tmp_name = f.name
            f.write(prefix)
            for array in arrays.values():
                f.write(memoryview(np.ascontiguousarray(array)).cast("B"))
                f.write(b"\0" * (-array.nbytes % _ALIGN))
        os.replace(tmp_name, target)
        return target
    except OSError:
        # Caching is an optimization: a full disk or a read-only cache never fails a load.
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass
        return None


def store_in_background(dataset: Dataset, path: Path, fingerprint: dict, image_size: int) -> threading.Thread:
    """:func:`store` in a (non-daemon) thread, so the first load returns without waiting.

    Writing 180 MB costs a few tenths of a second that the caller need not wait for
    (splits are never modified in place, see :class:`Split`). Python waits
    for the thread at exit, so the entry is complete even when the CLI ends right away.
    """
    def write():
        try:
            store(dataset, path, fingerprint, image_size)
        except Exception:  # noqa: BLE001 - a failed cache write only costs speed next time
            pass

    thread = threading.Thread(target=write, name="linviz-cache-write", daemon=False)
    with _writers_lock:
        _writers[:] = [t for t in _writers if t.is_alive()]
        _writers.append(thread)
    thread.start()
    return thread


def wait_for_pending_writes(timeout: Optional[float] = None) -> None:
    """Block until background cache writes have finished (tests, the benchmark, loads)."""
    with _writers_lock:
        writers = list(_writers)
    for thread in writers:
        thread.join(timeout)


def _read_entry(entry: Path, fingerprint: dict, image_size: int) -> Dataset:
    """Read and check one entry; ValueError (or OSError) when it must not be trusted."""
    with open(entry, "rb") as f:
        file_size = os.fstat(f.fileno()).st_size
        head = f.read(len(MAGIC) + 12)
        if len(head) < len(MAGIC) + 12 or head[: len(MAGIC)] != MAGIC:
            raise ValueError("bad magic")
        version, header_len = struct.unpack("<IQ", head[len(MAGIC) :])
        if version != FORMAT_VERSION or header_len > 64 * 1024 * 1024:
            raise ValueError("other format version")
        header = json.loads(f.read(header_len))
        if header.get("loader_version") != LOADER_VERSION:
            raise ValueError("other loader version")
        if header.get("fingerprint") != fingerprint or header.get("image_size") != int(image_size):
            raise ValueError("stale: the source changed")
        data_start = len(MAGIC) + 12 + header_len
        data_start += -data_start % _ALIGN
        if file_size != data_start + int(header["data_bytes"]):
            raise ValueError("wrong length (truncated?)")
        arrays = {}
        for item in header["arrays"]:
            array = np.empty(tuple(item["shape"]), np.dtype(item["dtype"]))
            f.seek(data_start + int(item["offset"]))
            view = memoryview(array).cast("B")
            if f.readinto(view) != array.nbytes:
                raise ValueError("short read")
            arrays[item["name"]] = array
    if _sample_digest(arrays) != header["sample_sha256"]:
        raise ValueError("integrity check failed")
    test = None
    if "test_images" in arrays:
        test = Split(arrays["test_images"], arrays["test_labels"])
    return Dataset(
        class_names=header["class_names"],
        train=Split(arrays["train_images"], arrays["train_labels"]),
        test=test,
        skipped=[tuple(item) for item in header["skipped"]],
        source=header["source"],
        key=header["key"],
    )


def load(path: Path, fingerprint: dict, image_size: int) -> Optional[Dataset]:
    """The cached dataset of ``path``, or None (absent, stale or corrupt: then deleted)."""
    wait_for_pending_writes()  # a load right after the first one reads the finished entry
    try:
        entry = entry_path(path, image_size)
        if not entry.is_file():
            return None
    except OSError:  # no usable cache folder: load without the cache
        return None
    try:
        dataset = _read_entry(entry, fingerprint, image_size)
    except (ValueError, KeyError, TypeError, OSError, MemoryError, json.JSONDecodeError):
        try:
            entry.unlink()
        except OSError:
            pass
        return None
    dataset = _as_loaded_from(dataset, str(path))
    _hits.add(dataset)
    return dataset


def _as_loaded_from(dataset: Dataset, source: str) -> Dataset:
    """``dataset`` named after the path as given this time, not as given when it was cached.

    The entry is keyed by the resolved path, so ``ds.zip`` and ``/tmp/ds.zip`` share it; the
    source and the skipped files must still read the way the user wrote the path now.
    """
    old = dataset.source
    if old == source:
        return dataset

    def respelled(name: str) -> str:
        if name == old:
            return source
        if old and name.startswith(old + "/"):
            return source + name[len(old):]
        return name

    skipped = [(respelled(name), reason) for name, reason in dataset.skipped]
    return dataclasses.replace(dataset, source=source, skipped=skipped)
