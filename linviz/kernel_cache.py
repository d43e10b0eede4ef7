"""Where linviz's compiled Numba kernels are kept, and when they are stale.

Numba compiles a kernel at its first call (about a second each; the first training run
meets 20 to 30 of them) and, with ``cache=True``, keeps the machine code on disk for the
next process. This module tells Numba where, and how to tell a stale entry:

* **One folder for all of linviz's kernels**, the first usable of: ``$NUMBA_CACHE_DIR``
  (the user's choice; a sub-folder per installed copy of linviz), the package's own
  ``__pycache__/kernels`` (a checkout, an editable or a per-user install), linviz's cache
  folder (``~/.cache/linviz/kernels/<copy>``: a system-wide install whose package folder is
  read-only), the temporary folder. Numba's own choice is a ``__pycache__`` per source
  folder, or ``~/.cache/numba`` when that is read-only.
* **A stamp per kernel module that covers what gets compiled into its kernels**: a digest
  of the module's source and of every linviz module it imports, directly or through
  others. Numba's own stamp is the kernel's file alone, but a kernel compiles in the
  kernels it calls and the constants it reads from other modules (``hog_descriptor``'s
  kernels contain ``color.hue_and_chroma``): change that function and Numba would keep
  serving the old machine code. Numba itself discards entries of another Numba version or
  another CPU, and a kernel whose own bytecode changed.
* **Warm marks**: a warm-up that compiled a group of kernels (say, the features of
  ``hog+hue`` and softmax training with SGD) leaves a mark named after the group and a
  digest of every kernel module's stamp, the Numba version and the CPU. A run that finds
  the marks of what it needs loads the kernels from disk (a fraction of a second); one
  that does not knows it is the first, says so, and compiles ahead in other processes
  (:mod:`linviz.training.warmup`).

Only linviz's own kernels are placed here (the locator declines every other function).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Optional

import numba
from numba.core import caching, config

PACKAGE_DIR = Path(__file__).resolve().parent
_IMPORT = re.compile(r"^\s*(?:from\s+(linviz(?:\.\w+)*)\s+import\s+(\([^)]*\)|[^\n#]+)|import\s+(linviz(?:\.\w+)*))",
                     re.MULTILINE)


# --------------------------------------------------------------------------- the folder


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
        return True
    except OSError:
        return False


def _copy_id() -> str:
    """Which installed copy of linviz: its folder's name and a digest of its path."""
    return f"linviz_{hashlib.sha1(str(PACKAGE_DIR).encode()).hexdigest()[:16]}"


def candidate_folders() -> list[Path]:
    """Where the kernels may be kept, in order of preference (see the module docstring)."""
    from linviz.paths import cache_root

    folders = []
    if config.CACHE_DIR:
        folders.append(Path(config.CACHE_DIR).expanduser() / _copy_id())
    folders.append(PACKAGE_DIR / "__pycache__" / "kernels")
    folders.append(cache_root() / "kernels" / _copy_id())
    folders.append(Path(tempfile.gettempdir()) / f"linviz-kernels-{os.getuid() if hasattr(os, 'getuid') else 0}"
                   / _copy_id())
    return folders


@functools.lru_cache(maxsize=None)
def _folder_for(candidates: tuple) -> Optional[Path]:
    for folder in candidates:
        if _writable(folder):
            return folder
    return None


def kernel_folder() -> Optional[Path]:
    """The folder linviz's kernels are cached in (created, checked writable; once per
    process and configuration), or None when no folder is writable (Numba then picks)."""
    return _folder_for(tuple(candidate_folders()))


# --------------------------------------------------------------------------- stamps


@functools.lru_cache(maxsize=None)
def _module_file(name: str) -> Optional[Path]:
    """The source file of the linviz module ``name`` (a package: its ``__init__.py``)."""
    rel = Path(*name.split(".")[1:])
    candidates = [PACKAGE_DIR / rel / "__init__.py"]
    if rel.parts:
        candidates.insert(0, PACKAGE_DIR / rel.with_suffix(".py"))
    for path in candidates:
        if path.is_file():
            return path
    return None


def _imported_files(path: Path, text: str) -> set[Path]:
    """The source files of the linviz modules ``text`` (the source of ``path``) imports.

    ``from linviz.x import y`` counts ``y`` alone when it is a module (not ``x``'s
    ``__init__``, which only gathers names), and ``x`` when ``y`` is a name defined there."""
    found = set()
    for source_module, names, plain_module in _IMPORT.findall(text):
        if plain_module:
            target = _module_file(plain_module)
            if target is not None:
                found.add(target)
            continue
        for name in re.split(r"[\s,()]+", names):
            name = name.strip()
            if not name.isidentifier() or name == "as":
                continue
            target = _module_file(f"{source_module}.{name}") or _module_file(source_module)
            if target is not None:
                found.add(target)
    found.discard(path)
    return found


@functools.lru_cache(maxsize=None)
def _source(path: Path) -> bytes:
    return path.read_bytes()


@functools.lru_cache(maxsize=None)
def _imports_of(path: Path) -> frozenset:
    """:func:`_imported_files` of ``path``, once per process (every stamp walks the same
    modules: a warm run checks all of them)."""
    return frozenset(_imported_files(path, _source(path).decode("utf-8", "replace")))


@functools.lru_cache(maxsize=None)
def module_stamp(path: Path) -> str:
    """Digest of the source of ``path`` and of every linviz module it imports, transitively."""
    seen = {path}
    todo = [path]
    while todo:
        current = todo.pop()
        for target in _imports_of(current):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    digest = hashlib.sha256()
    for file in sorted(seen):
        digest.update(str(file.relative_to(PACKAGE_DIR)).encode() + b"\0" + _source(file) + b"\0")
    return digest.hexdigest()


# --------------------------------------------------------------------------- Numba's locator


class KernelLocator(caching._CacheLocator):
    """Numba's cache locator for linviz's kernels: :func:`kernel_folder`, :func:`module_stamp`."""

    def __init__(self, py_func, py_file: Path, folder: Path):
        self._path = py_file
        self._py_file = str(py_file)  # Numba's name for it, as text (its warnings print it)
        self._folder = folder
        # several modules share the folder: the file name carries the sub-package, e.g.
        # "color._histogram_of_bins-features-36.py311.nbi" (the module's own name comes first)
        package = py_file.relative_to(PACKAGE_DIR).parent.as_posix().replace("/", ".") or "linviz"
        self._disambiguator = f"{package}-{py_func.__code__.co_firstlineno}"

    def ensure_cache_path(self):
        pass  # checked once for the whole folder by kernel_folder()

    def get_cache_path(self):
        return str(self._folder)

    def get_source_stamp(self):
        return module_stamp(self._path)

    def get_disambiguator(self):
        return self._disambiguator

    @classmethod
    def from_function(cls, py_func, py_file):
        try:
            path = Path(py_file).resolve()
            path.relative_to(PACKAGE_DIR)
        except (ValueError, OSError, TypeError):
            return None  # not linviz's: Numba's own locators
        folder = kernel_folder()
        if folder is None or not path.is_file():
            return None
        return cls(py_func, path, folder)


def install_locator() -> None:
    """Put :class:`KernelLocator` first in Numba's list (once; before any kernel is defined).
    A user's ``$NUMBA_CACHE_LOCATOR_CLASSES`` replaces that list and is left alone."""
    impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl  # renamed in Numba 0.6x
    classes = impl._locator_classes
    if KernelLocator not in classes:
        classes.insert(0, KernelLocator)


# --------------------------------------------------------------------------- warm marks


def _kernel_module_files() -> list[Path]:
    """Every linviz module that defines kernels (it imports ``linviz.numba_setup``)."""
    files = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        try:
            if b"numba_setup" in _source(path) and path.name != "numba_setup.py":
                files.append(path)
        except OSError:
            continue
    return files


@functools.lru_cache(maxsize=None)
def sources_digest() -> str:
    """One digest of every kernel module's stamp, the Python and Numba versions and the CPU:
    what a warm mark is valid for."""
    import llvmlite.binding as llvm

    digest = hashlib.sha256()
    digest.update(f"{sys.version}\0{numba.__version__}\0{llvm.get_host_cpu_name()}\0".encode())
    for path in _kernel_module_files():
        digest.update(module_stamp(path).encode())
    return digest.hexdigest()[:20]


def _mark_path(group: str) -> Optional[Path]:
    folder = kernel_folder()
    if folder is None:
        return None
    return folder / mark_pattern(group).replace("*", sources_digest())


def mark_pattern(group: str) -> str:
    """The warm mark of ``group`` inside a kernel folder, as a glob pattern (any sources'
    digest): how a process with another kernel folder (a benchmark) sees a mark come."""
    name = re.sub(r"[^A-Za-z0-9_.+=-]", "_", group)[:120]
    return f"warm/{name}.*"


def is_warm(group: str) -> bool:
    """True when a warm-up compiled ``group`` into the kernel folder for these sources."""
    path = _mark_path(group)
    return path is not None and path.is_file()


def mark_warm(group: str) -> None:
    """Leave the mark of ``group`` (after its kernels were compiled and saved)."""
    path = _mark_path(group)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError:
        pass  # no mark: the next run compiles ahead again, and finds the kernels on disk
