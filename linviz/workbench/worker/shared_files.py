"""Arrays that two processes map: memory-mapped files in one folder per app.

The window and its worker process read the same feature matrices and the same live training
state without copying them through a pipe. Each array is a file of raw bytes that both map
(:class:`ArrayFile` names it: path, shape, dtype); a file in ``/dev/shm`` lives in memory, a
file in the temporary folder in the page cache, and both are read at memory speed.

Why files rather than :mod:`multiprocessing.shared_memory`: one folder per app that the
window removes when it closes takes every file with it, including those of a worker that was
killed half-way; a file that holds a shape can be sized to what the run needs, and ``/dev/shm``
is skipped when it is too small (a container's is often 64 MB, and writing past a full tmpfs
kills the writer with SIGBUS instead of raising).

Files are unlinked as soon as nobody will open them again: a mapping stays valid after its
file is gone, and its memory is returned when the last array viewing it is freed.
"""

from __future__ import annotations

import itertools
import mmap
import os
import shutil
import tempfile
import threading
import weakref
from dataclasses import dataclass
from typing import Optional

import numpy as np

from linviz.errors import LinvizError

SHM_ROOT = "/dev/shm"
SHM_RESERVE = 256 * 2**20  # left free in /dev/shm for everyone else
FOLDER_PREFIX = "linviz-shared-"


@dataclass(frozen=True)
class ArrayFile:
    """Where a shared array lives: a file of ``shape`` x ``dtype`` bytes (C order)."""

    path: str
    shape: tuple
    dtype: str

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize

    def open(self, writable: bool = False) -> np.ndarray:
        """Map the file; the array is read-only unless ``writable``."""
        return map_file(self.path, self.shape, self.dtype, writable)

    def open_private(self) -> np.ndarray:
        """Map the file copy-on-write: the array reads the shared pages (no copy) and is
        writable to NumPy and Numba, but a write would stay in this process. Numba compiles
        a kernel again for read-only arrays (a different type), so the worker maps the
        features this way and its kernels are the ones every other caller uses."""
        return map_file(self.path, self.shape, self.dtype, writable=False, private=True)


def map_file(path: str, shape: tuple, dtype, writable: bool = False, private: bool = False) -> np.ndarray:
    """An array over the whole file ``path`` (its size must match ``shape`` x ``dtype``):
    read-only, ``writable`` (shared), or ``private`` (copy-on-write)."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    flags = os.O_RDWR if writable else os.O_RDONLY
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    try:
        size = os.fstat(fd).st_size
        if size != nbytes:
            raise LinvizError(f"{path}: shared file holds {size:,} bytes, expected {nbytes:,}")
        if nbytes == 0:
            return np.zeros(shape, dtype)
        access = mmap.ACCESS_COPY if private else mmap.ACCESS_WRITE if writable else mmap.ACCESS_READ
        mapping = mmap.mmap(fd, nbytes, access=access)
    finally:
        os.close(fd)
    # The array keeps the mapping alive: no explicit close, it goes with the last view.
    array = np.frombuffer(mapping, dtype=dtype).reshape(shape)
    if not (writable or private):
        array.flags.writeable = False
    return array


def _free_bytes(folder: str) -> int:
    try:
        stats = os.statvfs(folder)
    except (OSError, AttributeError):
        return 0
    return stats.f_bavail * stats.f_frsize


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_folders(roots=None) -> int:
    """Remove the folders of linviz apps that are no longer running (killed before they could
    clean up); how many went. POSIX only: the owner is the pid in the folder's name."""
    if os.name != "posix":
        return 0
    removed = 0
    for root in roots or (SHM_ROOT, tempfile.gettempdir()):
        try:
            names = os.listdir(root)
        except OSError:
            continue
        for name in names:
            if not name.startswith(FOLDER_PREFIX):
                continue
            pid_text = name[len(FOLDER_PREFIX):].split("-", 1)[0]
            if not pid_text.isdigit() or _pid_alive(int(pid_text)):
                continue
            path = os.path.join(root, name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
                removed += 1
    return removed


class SharedFiles:
    """The app's shared files: :meth:`empty` makes one, :meth:`share` finds (or makes) the file
    of an array, :meth:`close` removes them all. Used from any thread."""

    def __init__(self, roots: Optional[tuple[str, ...]] = None):
        # Memory first (/dev/shm, where it exists), else the temporary folder on disk.
        self.roots = roots or ((SHM_ROOT,) if os.path.isdir(SHM_ROOT) else ()) + (tempfile.gettempdir(),)
        self._folders: dict[str, str] = {}
        self._lock = threading.Lock()
        self._counter = itertools.count()
        self._files: dict[int, tuple[weakref.ref, ArrayFile]] = {}  # id(array) -> (array, its file)
        self._closed = False

    # ------------------------------------------------------------------ places
    def folder(self, nbytes: int = 0) -> str:
        """A folder of this app with room for ``nbytes`` more (LinvizError with the figures
        when none has)."""
        with self._lock:
            if self._closed:
                raise LinvizError("shared files: the app is closing")
            figures = []
            for root in self.roots:
                reserve = SHM_RESERVE if root == SHM_ROOT else 0
                free = _free_bytes(root)
                if free >= nbytes + reserve:
                    return self._folder_in(root)
                figures.append(f"{root} has {free / 2**20:,.0f} MB free")
            raise LinvizError(f"no room for {nbytes / 2**20:,.0f} MB of shared data ({'; '.join(figures)})")

    def _folder_in(self, root: str) -> str:
        folder = self._folders.get(root)
        if folder is None or not os.path.isdir(folder):
            sweep_stale_folders((root,))
            folder = tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-", dir=root)
            self._folders[root] = folder
        return folder

    def new_path(self, stem: str, nbytes: int) -> str:
        return os.path.join(self.folder(nbytes), f"{stem}-{next(self._counter)}")

    # ------------------------------------------------------------------ arrays
    def empty(self, shape, dtype, stem: str = "array") -> np.ndarray:
        """A new writable shared array (zeros). Its file is removed when the array itself is
        freed: views of it keep the memory, not the name."""
        shape = tuple(int(n) for n in shape)
        dtype = np.dtype(dtype)
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        path = self.new_path(stem, nbytes)
        create_file(path, nbytes)
        try:
            array = map_file(path, shape, dtype, writable=True)
        except BaseException:
            _unlink(path)
            raise
        self._remember(array, ArrayFile(path, shape, dtype.str))
        return array

    def describe(self, array: np.ndarray) -> Optional[ArrayFile]:
        """The file of ``array`` when it is one made here (the array itself, not a view)."""
        with self._lock:
            entry = self._files.get(id(array))
        if entry is None or entry[0]() is not array:
            return None
        return entry[1]

    def share(self, array: np.ndarray, stem: str = "array") -> ArrayFile:
        """The file of ``array``: its own when made here, else a copy made once (the copy is
        remembered for as long as ``array`` lives)."""
        known = self.describe(array)
        if known is not None:
            return known
        source = np.ascontiguousarray(array)
        copy = self.empty(source.shape, source.dtype, stem)
        copy[...] = source
        copy.flags.writeable = False
        described = self.describe(copy)
        try:
            # The copy lives as long as the original: the next run finds it (no second copy).
            weakref.finalize(array, _keep_alive, copy)
            self._remember(array, described, owned=False)
        except TypeError:  # an object without weak references: copied again next time
            pass
        return described

    def _remember(self, array: np.ndarray, described: ArrayFile, owned: bool = True) -> None:
        """Index ``array`` by identity; an ``owned`` file is removed when the array goes."""
        key = id(array)

        def forget(ref, key=key, path=described.path) -> None:
            with self._lock:
                entry = self._files.get(key)
                if entry is not None and entry[0] is ref:
                    del self._files[key]
            if owned:
                _unlink(path)  # nobody opens it again; mappings stay valid

        with self._lock:
            self._files[key] = (weakref.ref(array, forget), described)

    def close(self) -> None:
        """Remove every file and folder (mappings stay valid until their arrays go)."""
        with self._lock:
            self._closed = True
            folders, self._folders = list(self._folders.values()), {}
            self._files.clear()
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)


def _keep_alive(_copy) -> None:
    """Held by a finalizer: the copy of an array lives until the original goes."""


def create_file(path: str, nbytes: int) -> None:
    """A new file of ``nbytes`` (sparse: no page is used before it is written)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        os.ftruncate(fd, nbytes)
    except BaseException:
        os.close(fd)
        _unlink(path)
        raise
    os.close(fd)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:  # gone already, or (Windows) still mapped: the folder goes at close
        pass
