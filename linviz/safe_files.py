"""Opening files the user pointed at, and writing files, without hanging or clobbering.

A FIFO or a device looks like a file (see docs/pitfalls.md): ``open()`` on a named pipe blocks
until a writer appears, and ``/dev/zero`` has size 0 but never ends. So linviz reads only *regular*
files, checked with ``stat`` after following links and checked again on the opened
descriptor (no race), and never reads more than a byte cap. On the writing side, a target
that exists and is not a regular file (``/dev/null``, a FIFO) is never replaced, and a folder
where no file can be created (``/proc``, a read-only mount; permissions do not stop root) is
refused before any slow work starts.

One way to write a file (:func:`atomic_write`): never through a symbolic link at the final
path (the link's target would be overwritten: a settings file linked to a device once turned
the device node into a regular file), never into anything but a regular file, always a
temporary file in the same folder renamed over the target when complete, and the temporary
files of writers that died (SIGKILL, a power cut) removed on the next write to that folder.
A folder linviz moves things into (:func:`own_folder`, :func:`move_into`) must be a real
folder, not a link to one.

Every reader (image files, dataset folders and archives, CIFAR-10 batches, model files, the
cache) goes through :func:`open_regular` / :func:`read_regular`; every writer (models, the
cache, downloads, the run history, the window's settings, exports) through
:func:`check_write_target` and :func:`atomic_write`.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator, Optional, Union

from linviz.errors import LinvizError
from linviz.limits import MAX_FILE_BYTES

PathLike = Union[str, os.PathLike]


class FileRefusedError(LinvizError, OSError):
    """A path linviz will not read or write; ``reason`` says why (without the path).

    Also an ``OSError``, so that code catching read errors treats it as one.
    """

    def __init__(self, path: PathLike, reason: str):
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISREG, "a regular file"))


def kind_of(mode: int) -> str:
    """What a file is, for a message: "a named pipe (FIFO)", "a character device", ..."""
    return next((name for test, name in _KINDS if test(mode)), "a special file")


def not_regular_reason(mode: int) -> str:
    """The reason a non-regular file is not read: "not a regular file but a named pipe (FIFO)"."""
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    return f"not a regular file but {kind_of(mode)}"


def failure_reason(exc: OSError, missing: str = "no such file") -> str:
    """Why a file could not be opened or read, without its path (for skip lists and messages)."""
    if isinstance(exc, FileRefusedError):
        return exc.reason
    if isinstance(exc, FileNotFoundError):
        return missing
    return f"cannot read ({exc.strerror or exc})"


def _check_regular(path: PathLike, st: os.stat_result, limit: Optional[int]) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise FileRefusedError(path, not_regular_reason(st.st_mode))
    if limit is not None and st.st_size > limit:
        raise FileRefusedError(path, f"file too large ({st.st_size:,} bytes; the limit is {limit:,})")


def regular_file_size(path: PathLike, limit: Optional[int] = None) -> int:
    """The size of ``path`` if it is a regular file (links followed) within ``limit``.

    FileRefusedError for a FIFO, a device, a socket, a folder or a file over ``limit``;
    OSError (FileNotFoundError, ...) when it cannot be looked at.
    """
    st = os.stat(path)
    _check_regular(path, st, limit)
    return st.st_size


def open_regular(path: PathLike, limit: Optional[int] = MAX_FILE_BYTES) -> BinaryIO:
    """Open ``path`` for reading only if it is a regular file of at most ``limit`` bytes.

    The file is looked at before it is opened (a FIFO is never opened), then opened
    non-blocking and looked at again through the descriptor, so a file swapped for a FIFO in
    between cannot make it block either. Returns a buffered binary file; the caller still
    caps how much it reads (:func:`read_regular` does).
    """
    _check_regular(path, os.stat(path), limit)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        _check_regular(path, os.fstat(fd), limit)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: PathLike, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (never more are read)."""
    with open_regular(path, limit) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise FileRefusedError(path, f"file too large (over {limit:,} bytes)")
    return data


def open_regular_or(error: type, path: PathLike, limit: Optional[int] = MAX_FILE_BYTES, *,
                    missing: str = "no such file") -> BinaryIO:
    """:func:`open_regular`, any failure raised as ``error(f"{path}: {reason}")``."""
    try:
        return open_regular(path, limit)
    except OSError as exc:
        raise error(f"{os.fspath(path)}: {failure_reason(exc, missing)}") from None


def read_regular_or(error: type, path: PathLike, limit: int = MAX_FILE_BYTES, *,
                    missing: str = "no such file") -> bytes:
    """:func:`read_regular`, any failure raised as ``error(f"{path}: {reason}")``."""
    try:
        return read_regular(path, limit)
    except OSError as exc:
        raise error(f"{os.fspath(path)}: {failure_reason(exc, missing)}") from None


# --------------------------------------------------------------------------- writing


def _nearest_existing(folder: Path) -> Path:
    while not os.path.lexists(folder) and folder != folder.parent:
        folder = folder.parent
    return folder


def check_write_target(path: PathLike) -> Path:
    """Refuse, before any slow work, a path linviz must not or cannot write a file to.

    FileRefusedError (the reason names what is wrong) when ``path`` is a folder, exists and is
    not a regular file (a device, a FIFO, a socket: writing a file to a temporary name and
    renaming it over the target would replace it), lies under a file, or when no file can be
    created in its folder (not writable, read-only, or a pseudo file system such as
    ``/proc``). Folders that do not exist yet are fine when they can be created. Returns the
    path.
    """
    path = Path(path)
    try:
        if stat.S_ISLNK(os.lstat(path).st_mode):
            raise FileRefusedError(path, "is a symbolic link; linviz does not write through links (give the "
                                         "file it points to, or another name)")
    except (FileNotFoundError, NotADirectoryError):
        pass
    except FileRefusedError:
        raise
    except OSError as exc:
        raise FileRefusedError(path, f"cannot write there ({exc.strerror or exc})") from None
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        st = None  # a parent is a file: said below
    except OSError as exc:
        raise FileRefusedError(path, f"cannot write there ({exc.strerror or exc})") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise FileRefusedError(path, "is a folder; give a file name such as model.npz")
        if not stat.S_ISREG(st.st_mode):
            raise FileRefusedError(path, f"is {kind_of(st.st_mode)}, not a regular file; linviz does not "
                                         "write over it")
    folder = path.parent if str(path.parent) else Path(".")
    existing = _nearest_existing(folder)
    if not existing.is_dir():
        raise FileRefusedError(path, f"{existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise FileRefusedError(path, f"the folder {existing} is not writable")
    # Permissions alone do not tell (root passes every check; /proc and read-only mounts
    # refuse anyway): create and remove a file, or a folder when ours does not exist yet.
    try:
        if existing == folder:
            fd, probe = tempfile.mkstemp(dir=existing, prefix=".linviz-probe-")
            os.close(fd)
            os.unlink(probe)
        else:
            os.rmdir(tempfile.mkdtemp(dir=existing, prefix=".linviz-probe-"))
    except OSError as exc:
        raise FileRefusedError(path, f"cannot create files in {existing} ({exc.strerror or exc})") from None
    return path


@contextmanager
def atomic_write(path: PathLike, *, prefix: Optional[str] = None) -> Iterator[BinaryIO]:
    """Write ``path`` through a temporary file in its folder, renamed over it when complete.

    :func:`check_write_target` runs first (a link, a device or a FIFO is never written
    through or replaced), missing folders are created, and the temporary file is removed if
    anything fails or the ``with`` block raises; a half-written file never takes the real
    name. The temporary name is ``<prefix><pid>-<random>.tmp`` (default prefix
    ``.<name>.``), so that the next write to the folder can tell a dead writer's leftovers
    from a live one's and remove them (:func:`remove_stale_temporaries`).
    """
    path = check_write_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent)
    # Not mkstemp: its files are private (0600); a model file gets the usual permissions.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = str(path.parent / f"{prefix or f'.{path.name}.'}{os.getpid()}-{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        check_write_target(path)  # nothing special appeared there meanwhile
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


#: The temporary files :func:`atomic_write` makes: ``<prefix><pid>-<8 hex>.tmp``, the prefix
#: hidden and ending in "." or "-" (``.<name>.`` by default, the cache's ``.tmp-``). Nothing
#: else in a folder is ever taken for one.
TEMPORARY_NAME = re.compile(r"\.(?:.*[.-])?(?P<pid>[0-9]{1,10})-[0-9a-f]{8}\.tmp")


def remove_stale_temporaries(folder: PathLike, prefix: Optional[str] = None, max_age_s: float = 24 * 3600) -> int:
    """Remove the temporary files of ``folder`` left by writers that are gone.

    Without ``prefix``: the files named as :func:`atomic_write` names them
    (:data:`TEMPORARY_NAME`); with it, any ``<prefix>*`` (a cache's own folder). A file is
    stale when the process that wrote it no longer runs, or when it is older than
    ``max_age_s`` (its writer's pid may have been reused); one without a pid in its name
    (an older linviz's) when it is older than an hour. Only regular files are removed.
    Returns how many were removed; never raises for a file it cannot look at or remove.
    """
    import time

    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    now = time.time()
    for entry in entries:
        name = entry.name
        if prefix is None:
            match = TEMPORARY_NAME.fullmatch(name)
            if match is None:
                continue
            pid_text, has_pid = match.group("pid"), True
        else:
            if not name.startswith(prefix):
                continue
            pid_text = name[len(prefix):].split("-", 1)[0]
            has_pid = pid_text.isdigit() and "-" in name[len(prefix):]
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                continue
            age = now - st.st_mtime
            if has_pid:
                stale = age > max_age_s or not _pid_alive(int(pid_text))
            else:
                stale = age > 3600
            if stale:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed


# --------------------------------------------------------------------------- folders linviz moves things into


def own_folder(path: PathLike) -> Path:
    """``path`` as a folder linviz may move things into: created when missing, and refused
    (FileRefusedError) when something else is there: a link (even to a folder: what is
    moved in would land wherever it points), a file, a device."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        pass  # something that is not a folder: said below
    except OSError as exc:
        raise FileRefusedError(path, f"cannot create the folder ({exc.strerror or exc})") from None
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise FileRefusedError(path, "is a symbolic link, not a folder; linviz does not move things through links")
    if not stat.S_ISDIR(st.st_mode):
        raise FileRefusedError(path, f"is {kind_of(st.st_mode)}, not a folder")
    return path


def move_into(source: PathLike, folder: PathLike, name: str) -> Path:
    """Move ``source`` (a file, folder or link; a link is moved, never followed) into the
    folder ``folder`` as ``name``, checked by :func:`own_folder`.

    The folder is opened without following links and the move is made relative to that
    open folder, so a link put in its place after the check cannot redirect it either.
    Returns the new path; OSError (FileRefusedError for a link) when it cannot be done.
    """
    folder = own_folder(folder)
    if "/" in name or name in ("", ".", ".."):
        raise ValueError(f"not a plain name: {name!r}")
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(folder, flags)
    except OSError as exc:
        raise FileRefusedError(folder, f"cannot open the folder ({exc.strerror or exc})") from None
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            raise FileRefusedError(folder, "is not a folder")
        if os.rename in os.supports_dir_fd:
            os.rename(source, name, dst_dir_fd=fd)
        else:  # no *at() calls here: the check above is the best there is
            os.rename(source, folder / name)
    finally:
        os.close(fd)
    return folder / name
