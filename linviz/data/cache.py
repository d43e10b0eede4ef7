"""The decoded-dataset cache: a second load of the same source reads one raw file.

One file per (source path, image size) in ``<cache dir>/datasets/``; its header records the
source's fingerprint (size, modification and change times and inode; for folders also the
file count and a digest of every file's name, inode, size and times). A changed source, a
different loader version, a short file or a failed integrity check make the entry stale:
it is deleted and rebuilt, never trusted. Files are written to a temporary name and
renamed, so a crash never leaves a half-written entry under the real name; temporary files
of writers that died (SIGTERM, power loss) are removed on the next start.

Format: ``LINVIZDS`` magic, format version (u32), header length (u64), CRC-32 of the header
(u32), JSON header, then the raw arrays at 64-byte aligned offsets. No pickle anywhere.

An entry is read like any hostile input. The header is checked field by field: exactly the
expected arrays, uint8 images of the requested size and int64 labels of as many rows, at
the offsets the writer would have used, within the file's exact length and half of the
machine's memory, class names as text, labels in range. The *whole* payload is
integrity-checked: Adler-32 of every 4 MB chunk, computed on a second thread while the
main thread reads the next chunk, and combined into one SHA-256, so any damaged image or
name is caught at a fraction of the cost of reading (a reload stays >= 15x faster than the
first load).

The cache is an optimization: an unusable cache folder means loading without it
(:func:`unavailable_reason` says why), and a failed write only costs speed next time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import struct
import threading
import weakref
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional

import numpy as np

from linviz.data.dataset import Dataset, Split
from linviz.limits import memory_limit
from linviz.paths import CacheUnavailableError, cache_dir
from linviz.safe_files import FileRefusedError, atomic_write, open_regular, own_folder, remove_stale_temporaries

MAGIC = b"LINVIZDS"
FORMAT_VERSION = 2
#: Bump when decoding changes (crop, resize, color conversion): old entries become stale.
LOADER_VERSION = 2
_ALIGN = 64
_PREFIX = struct.Struct("<IQI")  # format version, header length, CRC-32 of the header
_CHUNK = 4 * 1024 * 1024
_MAX_HEADER_BYTES = 64 * 1024 * 1024
_TEMP_PREFIX = ".tmp-"

_hits: "weakref.WeakSet[Dataset]" = weakref.WeakSet()
# (thread, abort, finished) of each background write. Waiting uses ``finished``, never
# Thread.join: on Python 3.11 a join interrupted by Ctrl+C marks a running thread as
# stopped, and the interpreter then exits in the middle of its write.
_writers: list[tuple[threading.Thread, threading.Event, threading.Event]] = []
_writers_lock = threading.Lock()
_unavailable: list[str] = []   # the newest reason the cache folder could not be used
_cleaned: set[str] = set()     # folders whose stale temporary files were removed


class _Aborted(Exception):
    """A background write told to stop (Ctrl+C while the process waited for it)."""


def was_cache_hit(dataset: Dataset) -> bool:
    """True when ``dataset`` came from the cache (for the benchmark and tests)."""
    return dataset in _hits


def unavailable_reason() -> Optional[str]:
    """Why the cache folder could not be used the last time it was needed, or None (it could)."""
    return _unavailable[-1] if _unavailable else None


def _datasets_dir() -> Optional[Path]:
    """``<cache dir>/datasets`` (stale temporary files removed once), or None when unusable."""
    try:
        # The cache's own folder, where finished entries are moved: a real folder, never a
        # link (what is moved in would land wherever it points).
        folder = own_folder(cache_dir() / "datasets")
    except FileRefusedError as exc:
        _note_unavailable(f"cache folder {exc}")
        return None
    except CacheUnavailableError as exc:
        _note_unavailable(str(exc))
        return None
    except OSError as exc:
        _note_unavailable(f"cache folder {cache_dir()}/datasets is unusable ({exc.strerror or exc})")
        return None
    _unavailable.clear()  # usable again (say, LINVIZ_CACHE_DIR was fixed): no stale reason
    key = str(folder)
    if key not in _cleaned:
        _cleaned.add(key)
        remove_stale_temporaries(folder, _TEMP_PREFIX)
    return folder


def _note_unavailable(reason: str) -> None:
    if not _unavailable or _unavailable[-1] != reason:
        _unavailable.append(reason)


def source_fingerprint(path: Path) -> dict:
    """What identifies the source's content cheaply: path, sizes, times, inodes."""
    path = Path(path).resolve()
    st = path.stat()
    if not path.is_dir():
        return {"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns,
                "inode": st.st_ino, "device": st.st_dev}
    files = 0
    total = 0
    newest = max(st.st_mtime_ns, st.st_ctime_ns)
    listing = hashlib.sha256()
    for folder, dirs, names in os.walk(path):
        dirs.sort()
        try:
            folder_st = os.stat(folder)
            newest = max(newest, folder_st.st_mtime_ns, folder_st.st_ctime_ns)
        except OSError:
            pass
        for name in sorted(names):
            try:
                child = os.stat(os.path.join(folder, name))
            except OSError:
                continue
            files += 1
            total += child.st_size
            newest = max(newest, child.st_mtime_ns, child.st_ctime_ns)
            listing.update(f"{folder}/{name}\0{child.st_ino}\0{child.st_size}\0{child.st_mtime_ns}\0"
                           f"{child.st_ctime_ns}\n".encode("utf-8", "surrogateescape"))
    return {"path": str(path), "size": total, "files": files, "mtime_ns": newest, "inode": st.st_ino,
            "device": st.st_dev, "listing": listing.hexdigest()[:32]}


def entry_path(path: Path, image_size: int) -> Path:
    """Where the entry of ``path`` at ``image_size`` lives (CacheUnavailableError if nowhere)."""
    ident = json.dumps([str(Path(path).resolve()), int(image_size)])
    name = hashlib.sha256(ident.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return cache_dir() / "datasets" / f"{name}.lvds"


def _arrays_of(dataset: Dataset) -> dict[str, np.ndarray]:
    arrays = {"train_images": dataset.train.images, "train_labels": dataset.train.labels}
    if dataset.test is not None:
        arrays["test_images"] = dataset.test.images
        arrays["test_labels"] = dataset.test.labels
    return arrays


def _layout(arrays: dict[str, tuple[str, list]]) -> tuple[list[dict], int]:
    """Offsets of each array (name -> (dtype str, shape)) in the payload, and its size."""
    layout, offset = [], 0
    for name, (dtype, shape) in arrays.items():
        layout.append({"name": name, "dtype": dtype, "shape": list(shape), "offset": offset})
        nbytes = int(np.prod(shape, dtype=object)) * np.dtype(dtype).itemsize
        offset += (nbytes + _ALIGN - 1) // _ALIGN * _ALIGN
    return layout, offset


class _PayloadDigest:
    """Adler-32 of each chunk (on ``pool``'s thread, overlapping the I/O), then one SHA-256."""

    def __init__(self, pool: Optional[ThreadPoolExecutor] = None):
        self.pool = pool
        self.sums = []

    def add(self, chunk: memoryview) -> None:
        self.sums.append(self.pool.submit(zlib.adler32, chunk) if self.pool is not None else zlib.adler32(chunk))

    def hexdigest(self) -> str:
        sums = [s if isinstance(s, int) else s.result() for s in self.sums]
        return hashlib.sha256(struct.pack(f"<{len(sums)}I", *sums)).hexdigest()


def _chunks(array: np.ndarray):
    view = memoryview(array).cast("B") if array.nbytes else memoryview(b"")
    for start in range(0, len(view), _CHUNK):
        yield view[start:start + _CHUNK]


def _target(path: Path, image_size: int) -> Optional[Path]:
    """The entry file for ``path``, or None when the cache folder is unusable."""
    if _datasets_dir() is None:
        return None
    try:
        return entry_path(path, image_size)
    except CacheUnavailableError:
        return None


def store(dataset: Dataset, path: Path, fingerprint: dict, image_size: int,
          abort: Optional[threading.Event] = None, *, target: Optional[Path] = None) -> Optional[Path]:
    """Write ``dataset`` as the cache entry of ``path``; None when the cache is not writable.

    ``abort`` (an Event) stops the write between chunks; the temporary file is removed.
    ``target``: the entry file, when the caller resolved it already (see store_in_background).
    """
    target = target if target is not None else _target(path, image_size)
    if target is None:
        return None
    arrays = _arrays_of(dataset)
    layout, data_bytes = _layout({name: (a.dtype.str, a.shape) for name, a in arrays.items()})
    # Computed here, not on a pool: this usually runs while the interpreter exits, when
    # concurrent.futures no longer accepts work.
    digest = _PayloadDigest()
    for array in arrays.values():
        contiguous = np.ascontiguousarray(array)
        for chunk in _chunks(contiguous):
            if abort is not None and abort.is_set():
                return None
            digest.add(chunk)
        if contiguous.nbytes % _ALIGN:
            digest.add(memoryview(b"\0" * (-contiguous.nbytes % _ALIGN)))
    payload_digest = digest.hexdigest()
    header = {
        "loader_version": LOADER_VERSION,
        "fingerprint": fingerprint,
        "image_size": int(image_size),
        "class_names": dataset.class_names,
        "skipped": [list(item) for item in dataset.skipped],
        "source": dataset.source,
        "key": dataset.key,
        "arrays": layout,
        "data_bytes": data_bytes,
        "payload_sha256_of_adler32": payload_digest,
    }
    header_bytes = json.dumps(header).encode("utf-8", "surrogateescape")
    prefix = MAGIC + _PREFIX.pack(FORMAT_VERSION, len(header_bytes), zlib.crc32(header_bytes)) + header_bytes
    prefix += b"\0" * (-len(prefix) % _ALIGN)
    try:
        with atomic_write(target, prefix=_TEMP_PREFIX) as f:
            f.write(prefix)
            for array in arrays.values():
                for chunk in _chunks(np.ascontiguousarray(array)):
                    if abort is not None and abort.is_set():
                        raise _Aborted()
                    f.write(chunk)
                f.write(b"\0" * (-array.nbytes % _ALIGN))
        return target
    except (OSError, _Aborted):
        # Caching is an optimization: a full disk or a read-only cache never fails a load.
        return None


def store_in_background(dataset: Dataset, path: Path, fingerprint: dict, image_size: int) -> threading.Thread:
    """:func:`store` in a (non-daemon) thread, so the first load returns without waiting.

    Writing 180 MB costs a few tenths of a second that the caller need not wait for
    (splits are never modified in place, see :class:`Split`). Python waits for the thread
    at exit, so the entry is complete even when a script ends right away; the CLI waits
    for it explicitly (:func:`wait_for_pending_writes`) so that Ctrl+C there can
    :func:`abort_pending_writes` instead of printing a traceback.
    """
    abort, finished = threading.Event(), threading.Event()
    # Where to write is decided now, in the caller's context: the cache folder can change
    # (LINVIZ_CACHE_DIR) before the thread runs, and the entry must not land elsewhere.
    target = _target(path, image_size)

    def write():
        try:
            if target is not None:
                store(dataset, path, fingerprint, image_size, abort, target=target)
        except Exception:  # noqa: BLE001 - a failed cache write only costs speed next time
            pass
        finally:
            finished.set()

    thread = threading.Thread(target=write, name="linviz-cache-write", daemon=False)
    with _writers_lock:
        _writers[:] = [w for w in _writers if not w[2].is_set()]
        _writers.append((thread, abort, finished))
    thread.start()
    return thread


def wait_for_pending_writes(timeout: Optional[float] = None) -> None:
    """Block until background cache writes have finished (tests, the benchmark, loads)."""
    with _writers_lock:
        writers = list(_writers)
    for _, _, finished in writers:
        finished.wait(timeout)


def abort_pending_writes() -> None:
    """Stop background cache writes now (their temporary files are removed) and wait for them."""
    with _writers_lock:
        writers = list(_writers)
    for _, abort, _ in writers:
        abort.set()
    for _, _, finished in writers:
        finished.wait()


def _expected_arrays(header: dict, image_size: int) -> dict[str, tuple[str, list]]:
    """The arrays a genuine entry holds, from its header, each field checked."""
    items = header.get("arrays")
    if not isinstance(items, list) or len(items) not in (2, 4):
        raise ValueError("bad array list")
    shapes = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("shape"), list):
            raise ValueError("bad array entry")
        if not all(type(n) is int and 0 <= n < 2**40 for n in item["shape"]):
            raise ValueError("bad array shape")
        shapes[item.get("name")] = item["shape"]
    names = ["train_images", "train_labels"] + (["test_images", "test_labels"] if len(items) == 4 else [])
    if list(shapes) != names:
        raise ValueError("unexpected arrays")
    expected = {}
    for split in ("train", "test")[: len(items) // 2]:
        images, labels = shapes[f"{split}_images"], shapes[f"{split}_labels"]
        if len(images) != 4 or images[1:] != [image_size, image_size, 3] or labels != images[:1]:
            raise ValueError("unexpected array shapes")
        expected[f"{split}_images"] = ("|u1", images)
        expected[f"{split}_labels"] = ("<i8", labels)
    return expected


def _text_list(value, pairs: bool = False) -> bool:
    if not isinstance(value, list):
        return False
    if pairs:
        return all(isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) for s in p) for p in value)
    return all(isinstance(s, str) for s in value)


def _read_entry(entry: Path, fingerprint: dict, image_size: int) -> Dataset:
    """Read and check one entry; ValueError (or OSError) when it must not be trusted."""
    with open_regular(entry, None) as f:
        file_size = os.fstat(f.fileno()).st_size
        head = f.read(len(MAGIC) + _PREFIX.size)
        if len(head) < len(MAGIC) + _PREFIX.size or head[: len(MAGIC)] != MAGIC:
            raise ValueError("bad magic")
        version, header_len, header_crc = _PREFIX.unpack(head[len(MAGIC):])
        if version != FORMAT_VERSION or header_len > min(_MAX_HEADER_BYTES, file_size):
            raise ValueError("other format version")
        header_bytes = f.read(header_len)
        if len(header_bytes) != header_len or zlib.crc32(header_bytes) != header_crc:
            raise ValueError("damaged header")
        header = json.loads(header_bytes.decode("utf-8", "surrogateescape"))
        if not isinstance(header, dict) or header.get("loader_version") != LOADER_VERSION:
            raise ValueError("other loader version")
        if header.get("fingerprint") != fingerprint or header.get("image_size") != int(image_size):
            raise ValueError("stale: the source changed")
        class_names = header.get("class_names")
        if not _text_list(class_names) or not class_names or not _text_list(header.get("skipped"), pairs=True):
            raise ValueError("bad names")
        if not isinstance(header.get("source"), str) or not isinstance(header.get("key"), str):
            raise ValueError("bad source")
        expected = _expected_arrays(header, image_size)
        layout, data_bytes = _layout(expected)
        if header["arrays"] != layout or header.get("data_bytes") != data_bytes:
            raise ValueError("unexpected layout")
        if data_bytes > memory_limit():
            raise ValueError("larger than half of the memory")
        data_start = len(head) + header_len
        data_start += -data_start % _ALIGN
        if file_size != data_start + data_bytes:
            raise ValueError("wrong length (truncated?)")
        arrays = {}
        f.seek(data_start)
        with ThreadPoolExecutor(1, thread_name_prefix="linviz-cache-sum") as pool:
            digest = _PayloadDigest(pool)
            for item in layout:
                array = np.empty(tuple(item["shape"]), np.dtype(item["dtype"]))
                for chunk in _chunks(array):
                    if f.readinto(chunk) != len(chunk):
                        raise ValueError("short read")
                    digest.add(chunk)
                padding = -array.nbytes % _ALIGN
                if padding:
                    pad = f.read(padding)
                    if len(pad) != padding:
                        raise ValueError("short read")
                    digest.add(memoryview(pad))
                arrays[item["name"]] = array
            if digest.hexdigest() != header.get("payload_sha256_of_adler32"):
                raise ValueError("integrity check failed")
    n_classes = len(class_names)
    for name, labels in arrays.items():
        if name.endswith("labels") and len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError("labels out of range")
    test = None
    if "test_images" in arrays:
        test = Split(arrays["test_images"], arrays["test_labels"])
    return Dataset(
        class_names=class_names,
        train=Split(arrays["train_images"], arrays["train_labels"]),
        test=test,
        skipped=[tuple(item) for item in header["skipped"]],
        source=header["source"],
        key=header["key"],
    )


def load(path: Path, fingerprint: dict, image_size: int) -> Optional[Dataset]:
    """The cached dataset of ``path``, or None (absent, stale or corrupt: then deleted).

    Never raises for the cache's sake: an unusable cache folder means None (and
    :func:`unavailable_reason` says why).
    """
    wait_for_pending_writes()  # a load right after the first one reads the finished entry
    if _datasets_dir() is None:
        return None
    try:
        entry = entry_path(path, image_size)
        if not os.path.lexists(entry):
            return None
    except (OSError, CacheUnavailableError):  # no usable cache folder: load without the cache
        return None
    try:
        dataset = _read_entry(entry, fingerprint, image_size)
    except FileRefusedError:
        return None  # not a regular file: not ours to delete
    except (ValueError, KeyError, TypeError, OSError, MemoryError, OverflowError, RecursionError,
            UnicodeDecodeError):
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
