"""Files of an image folder, a .zip or a .tar[.gz|.tgz|.bz2|.xz], read in place.

Nothing is ever extracted to disk: ``extractall`` is unsafe on Python before 3.11.13, even
with a filter (docs/pitfalls.md, 'Never extractall a downloaded tar').
Each source yields chunks of ``(relative_path, payload)`` and offers ``read(payload)`` that
returns the member's bytes and is safe to call from worker threads.

Tar archives are parsed here rather than by :mod:`tarfile`: tarfile spends tens of
microseconds of Python per member (TarInfo objects, seeks, header re-parsing), which is a
third of the whole budget for a 1 KB CIFAR JPEG. The parser below reads the decompressed
stream in large blocks and slices members out of them (ustar, GNU long names and pax paths
are understood; links, devices and folders are passed over). Its buffer only grows at the
end and shrinks at the front, so a member of any size costs time linear in its size.

Decompression bombs: a member is at most :data:`~linviz.limits.MAX_FILE_BYTES`, and the
bytes decompressed across the whole archive at most
:func:`~linviz.limits.decompression_budget` of its size (zip: the declared sizes, summed
before anything is read; tar: a running count of the stream). Chunks of members are cut at
:data:`CHUNK_BYTES` too, so that the bytes held at once stay bounded whatever the members.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import re
import zipfile
import zlib
from pathlib import Path
from struct import error as struct_error
from typing import Iterator, Optional

from linviz.data.images import is_hidden
from linviz.errors import DatasetError
from linviz.limits import MAX_ARCHIVE_MEMBERS, MAX_FILE_BYTES, decompression_budget, format_bytes
from linviz.safe_files import open_regular, open_regular_or, read_regular

#: Archives with more members than this are refused (zip: before the index is read; tar:
#: as soon as the streamed index passes it).
MAX_MEMBERS = MAX_ARCHIVE_MEMBERS

TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
#: A chunk of a streamed archive's members is handed on once it holds this many bytes.
CHUNK_BYTES = 32 * 1024 * 1024
#: A GNU long name or a pax record longer than this is not one (passed over, unread).
MAX_NAME_RECORD = 1024 * 1024

Chunk = list  # list[tuple[str, object]]


def archive_kind(path: Path) -> Optional[str]:
    """"zip", "tar" or None, from the name and (for misnamed files) the first bytes."""
    name = path.name.lower()
    if name.endswith(".zip"):
        return "zip"
    if name.endswith(TAR_SUFFIXES):
        return "tar"
    try:
        with open_regular(path, None) as f:
            head = f.read(512)
    except OSError:
        return None
    if head[:4] == b"PK\x03\x04":
        return "zip"
    if head[:2] == b"\x1f\x8b" or head[:3] == b"BZh" or head[:6] == b"\xfd7zXZ\x00" or head[257:262] == b"ustar":
        return "tar"
    return None


_DRIVE = re.compile(r"^[A-Za-z]:")


def member_path(name: str, backslashes: bool = False) -> tuple[Optional[str], Optional[str]]:
    """``(relative path, None)`` for a usable member name, ``(None, reason)`` for an unsafe one.

    Nothing is ever extracted, but a name still becomes a class: an absolute name or one
    with ``..`` is not read and is listed with the reason. ``./`` and doubled slashes go;
    with ``backslashes`` (zips made on Windows) ``\\`` separates folders too.
    """
    if backslashes and "\\" in name:
        name = name.replace("\\", "/")
    if "./" not in name and "//" not in name and ".." not in name and name[:1] != "/" and name[1:2] != ":":
        return name, None  # the common case, decided without splitting the name
    if name.startswith("/") or _DRIVE.match(name):
        return None, "absolute path in the archive, not read"
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        return None, "'..' in the path inside the archive, not read"
    return "/".join(parts), None


class ImageSource:
    """Base: ``chunks(n)`` yields lists of (relative path, payload); ``read(payload)`` -> bytes.

    ``skipped`` collects what the source itself refused while listing (unreadable folders,
    unsafe member names), as (path, reason). ``folders``: the relative paths of the folders it
    holds, where it knows them (an archive lists no empty folder).
    """

    folders: tuple = ()

    label: str  # how skipped members are named: "<archive path>/<member>"
    total: int  # progress units (files, or compressed bytes for streamed tars)
    skipped: list

    def is_empty(self, payload) -> bool:
        """True when the payload is known to be an empty file (skipped before decoding)."""
        return False

    def chunks(self, size: int) -> Iterator[Chunk]:
        raise NotImplementedError

    def progress_done(self) -> int:
        raise NotImplementedError

    def estimated_count(self) -> int:
        """How many files to expect (an upper estimate; used to preallocate the output)."""
        return self.total

    def payload_bytes(self, payload) -> int:
        """Bytes a payload holds in memory until it is decoded (members of streamed archives)."""
        return 0

    def read(self, payload) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class DirectorySource(ImageSource):
    """A folder on disk, walked in sorted order; files are read by the worker threads."""

    def __init__(self, root: Path):
        self.root = root
        self.label = str(root)
        self.hidden = 0
        self.files: list[str] = []
        self.folders: list[str] = []
        self.skipped = []

        def unreadable(exc: OSError) -> None:
            self.skipped.append((str(exc.filename or root), f"cannot read folder ({exc.strerror or exc})"))

        for folder, dirs, names in os.walk(root, onerror=unreadable):
            dirs[:] = sorted(d for d in dirs if not is_hidden(d))
            relative_folder = os.path.relpath(folder, root)
            if relative_folder != ".":
                self.folders.append(relative_folder.replace(os.sep, "/"))
            for name in sorted(names):
                if is_hidden(name):
                    continue
                rel = name if relative_folder == "." else f"{relative_folder}/{name}".replace(os.sep, "/")
                self.files.append(rel)
        self.total = len(self.files)
        self._done = 0

    def chunks(self, size: int) -> Iterator[Chunk]:
        for start in range(0, len(self.files), size):
            part = self.files[start : start + size]
            self._done = start + len(part)
            yield [(rel, rel) for rel in part]

    def progress_done(self) -> int:
        return self._done

    def read(self, payload) -> bytes:
        # Regular files only (a FIFO named pipe.jpg would block forever), capped.
        return read_regular(self.root / payload, MAX_FILE_BYTES)


class ZipSource(ImageSource):
    """A .zip read in place; declared sizes and the member count are checked up front."""

    def __init__(self, path: Path):
        self.label = str(path)
        self.skipped = []
        self._file = open_regular_or(DatasetError, path, None)
        try:
            declared = zip_member_count(self._file)
            if declared is not None and declared > MAX_MEMBERS:
                raise DatasetError(f"{path}: too many members ({declared:,} > {MAX_MEMBERS:,})")
            self.zip = zipfile.ZipFile(self._file)
            infos = self.zip.infolist()
            if len(infos) > MAX_MEMBERS:
                raise DatasetError(f"{path}: too many members ({len(infos):,} > {MAX_MEMBERS:,})")
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            self._file.close()
            raise DatasetError(f"{path}: not a readable zip archive ({exc})") from None
        except BaseException:
            self._file.close()
            raise
        declared = sum(info.file_size for info in infos)
        compressed = os.fstat(self._file.fileno()).st_size
        if declared > decompression_budget(compressed):
            self.close()
            raise DatasetError(_bomb_message(path, decompression_budget(compressed), compressed))
        self.infos = []
        for info in infos:
            if info.is_dir() or is_hidden(info.filename):
                continue
            name, problem = member_path(info.filename, backslashes=True)
            if problem is not None:
                self.skipped.append((f"{self.label}/{info.filename}", problem))
            elif not is_hidden(name):
                self.infos.append((name, info))
        self.total = len(self.infos)
        self._done = 0

    def is_empty(self, payload) -> bool:
        return payload.file_size == 0

    def chunks(self, size: int) -> Iterator[Chunk]:
        for start in range(0, len(self.infos), size):
            part = self.infos[start : start + size]
            self._done = start + len(part)
            yield list(part)

    def progress_done(self) -> int:
        return self._done

    def read(self, info: zipfile.ZipInfo) -> bytes:
        # The declared size is checked before decompressing: a zip bomb never inflates.
        if info.file_size > MAX_FILE_BYTES:
            raise OSError(f"member too large ({info.file_size:,} bytes declared)")
        try:
            return self.zip.read(info)
        except NotImplementedError as exc:  # a compression method or zip version Python lacks
            raise OSError(f"unsupported zip member ({exc})") from None
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, RuntimeError) as exc:
            raise OSError(f"corrupt zip member ({exc})") from None
        except (OSError, zlib.error, lzma.LZMAError) as exc:
            raise OSError(f"corrupt zip member ({exc})") from None

    def close(self) -> None:
        try:
            self.zip.close()
        finally:
            self._file.close()


def zip_member_count(f) -> Optional[int]:
    """The member count a zip declares in its end record (read before its index), or None."""
    try:
        end = zipfile._EndRecData(f)  # noqa: SLF001 - the standard library's own end-record reader
    except (AttributeError, OSError, ValueError, struct_error):
        return None
    finally:
        f.seek(0)
    if not end:
        return None
    return int(end[zipfile._ECD_ENTRIES_TOTAL])  # noqa: SLF001


def _bomb_message(path: Path, budget: int, compressed: int) -> str:
    return (f"{path}: decompresses to more than {format_bytes(budget)}, over "
            f"{budget // max(1, compressed):,} times its {format_bytes(compressed)}; refused as a decompression bomb")


class _CountingFile:
    """Wraps the raw archive file to count compressed bytes read (progress for .tar.gz)."""

    def __init__(self, f):
        self.f = f
        self.count = 0

    def read(self, n=-1):
        data = self.f.read(n)
        self.count += len(data)
        return data

    def readinto(self, b):
        n = self.f.readinto(b)
        self.count += n or 0
        return n

    def __getattr__(self, name):
        return getattr(self.f, name)


def _parse_octal(field: bytes) -> int:
    if field and field[0] & 0x80:  # GNU base-256 for sizes over 8 GB
        value = int.from_bytes(field[1:], "big")
        return value
    text = field.split(b"\0", 1)[0].strip()
    return int(text, 8) if text else 0


def _header_checksum_ok(header: bytes) -> bool:
    try:
        stored = _parse_octal(header[148:156])
    except ValueError:
        return False
    unsigned = sum(header[:148]) + 256 + sum(header[156:])  # checksum field counted as spaces
    return stored == unsigned


def _pax_path(data: bytes) -> Optional[str]:
    """The ``path`` record of a pax extended header, if any."""
    pos = 0
    found = None
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            break
        if length <= 0:
            break
        record = data[space + 1 : pos + length - 1]
        key, _, value = record.partition(b"=")
        if key == b"path":
            found = value.decode("utf-8", "surrogateescape")
        pos += length
    return found


class TarSource(ImageSource):
    """A tar archive (optionally gzip/bz2/xz compressed), streamed once, members sliced out."""

    BLOCK = 2 * 1024 * 1024  # decompressed bytes per read: smooth progress, little overhead

    def __init__(self, path: Path):
        self.path = path
        self.label = str(path)
        self.skipped = []
        self._raw = open_regular_or(DatasetError, path, None)
        self.total = os.fstat(self._raw.fileno()).st_size
        self._counter = _CountingFile(self._raw)
        head = self._raw.read(6)
        self._raw.seek(0)
        self._gzip_size = 0
        if head[:2] == b"\x1f\x8b":
            if self.total >= 18:
                self._raw.seek(-4, os.SEEK_END)
                self._gzip_size = int.from_bytes(self._raw.read(4), "little")
                self._raw.seek(0)
            self._stream = gzip.GzipFile(fileobj=self._counter, mode="rb")
        elif head[:3] == b"BZh":
            self._stream = bz2.BZ2File(self._counter, "rb")
        elif head[:6] == b"\xfd7zXZ\x00":
            self._stream = lzma.LZMAFile(self._counter, "rb")
        else:
            self._stream = self._counter
        self.truncated: Optional[str] = None
        self.decompressed = 0
        self.budget = decompression_budget(self.total)

    def progress_done(self) -> int:
        return self._counter.count

    def estimated_count(self) -> int:
        # Every member takes at least 1024 bytes of tar (512 header + 512 data), so the
        # uncompressed size bounds the count; gzip stores it (mod 4 GB) in its last 4 bytes.
        uncompressed = self.total
        if self._stream is not self._counter:
            uncompressed = self.total * 8
            if self._gzip_size and self._gzip_size >= self.total // 2:
                uncompressed = self._gzip_size
        return uncompressed // 1024 + 16

    def read(self, payload) -> bytes:
        if isinstance(payload, OSError):
            raise payload
        return payload

    def is_empty(self, payload) -> bool:
        return isinstance(payload, bytes) and not payload

    def payload_bytes(self, payload) -> int:
        return len(payload) if isinstance(payload, bytes) else 0

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            self._raw.close()

    def _read_block(self) -> bytes:
        """Up to BLOCK decompressed bytes; b"" at the end.

        ``read1`` in a loop rather than one ``read(BLOCK)``: on a truncated stream ``read``
        raises and drops everything it had decompressed, ``read1`` keeps all but the tail.
        """
        if self.truncated is not None:
            return b""
        read = getattr(self._stream, "read1", self._stream.read)
        parts = []
        got = 0
        try:
            while got < self.BLOCK:
                part = read(self.BLOCK - got)
                if not part:
                    break
                parts.append(part)
                got += len(part)
        except (EOFError, OSError, lzma.LZMAError, zlib.error) as exc:
            self.truncated = f"archive is truncated or corrupt ({exc})"
        self.decompressed += got
        if self.decompressed > self.budget:
            raise DatasetError(_bomb_message(self.path, self.budget, self.total))
        return b"".join(parts)

    def members(self) -> Iterator[tuple[str, bytes]]:
        """(path, bytes) of every regular file, in archive order.

        ``buf[pos:]`` is what has been read and not yet used. It never holds more than a
        block and a small member (:meth:`need` is only asked for up to BLOCK bytes), so that
        joining a new block to it copies little; a bigger member is gathered block by block
        on its own (``read_member``). Linear time whatever the members' sizes.
        """
        buf = b""
        pos = 0
        eof = False
        first = True
        long_name: Optional[str] = None
        pax_name: Optional[str] = None
        count = 0

        def need(n: int) -> bool:
            nonlocal buf, pos, eof
            while len(buf) - pos < n and not eof:
                block = self._read_block()
                if not block:
                    eof = True
                    break
                buf = buf[pos:] + block
                pos = 0
            return len(buf) - pos >= n

        def take(n: int) -> bytes:
            return buf[pos : pos + n]

        def skip(n: int) -> bool:
            """Pass over ``n`` bytes without holding them; False at a premature end."""
            nonlocal pos
            while n > 0:
                if len(buf) - pos == 0 and not need(1):
                    return False
                step = min(n, len(buf) - pos)
                pos += step
                n -= step
            return True

        def read_member(n: int) -> Optional[bytes]:
            """``n`` bytes as one ``bytes`` (the decoders read it without a copy); None at a
            premature end. A big member is gathered block by block, never held in ``buf``."""
            nonlocal pos
            if n <= self.BLOCK:
                if len(buf) - pos < n and not need(n):
                    return None
                data = take(n)
                pos += n
                return data
            parts, filled = [], 0
            while filled < n:
                if len(buf) - pos == 0 and not need(1):
                    return None
                step = min(n - filled, len(buf) - pos)
                parts.append(take(step))
                pos += step
                filled += step
            return b"".join(parts)

        def premature_end() -> None:
            self.truncated = self.truncated or "archive ends in the middle of a member (truncated)"

        while True:
            if len(buf) - pos < 512 and not need(512):  # (inline test: the common case is cheap)
                if len(buf) - pos > 0 or not first:
                    if self.truncated is None and len(buf) - pos > 0:
                        self.truncated = "archive ends in the middle of a header (truncated)"
                if first and self.truncated is None:
                    raise DatasetError(f"{self.path}: empty archive")
                return
            header = buf[pos : pos + 512]
            if header.count(0) == 512:  # end-of-archive marker
                return
            if first:
                if not _header_checksum_ok(header):
                    raise DatasetError(f"{self.path}: not a tar archive (bad header checksum)")
                first = False
            try:
                size = _parse_octal(header[124:136])
            except ValueError:
                if not _header_checksum_ok(header):
                    self.truncated = f"corrupt tar header after {count:,} members"
                    return
                raise
            kind = header[156:157]
            pos += 512
            padded = (size + 511) & ~511
            count += 1
            if count > MAX_MEMBERS:
                raise DatasetError(f"{self.path}: too many members (over {MAX_MEMBERS:,})")
            if kind in (b"L", b"x") and size > MAX_NAME_RECORD:
                if not skip(padded):  # a "long name" of megabytes: not one
                    return premature_end()
                continue
            if kind in (b"0", b"\0", b"7", b"L", b"x"):
                if size > MAX_FILE_BYTES:
                    # Too big to be a useful image: pass over its bytes without holding them.
                    name = self._member_name(header, long_name, pax_name)
                    long_name = pax_name = None
                    if not skip(padded):
                        return premature_end()
                    yield name, OSError(f"member too large ({size:,} bytes)")
                    continue
                data = read_member(size)
                if data is None or not skip(padded - size):
                    return premature_end()
                if kind == b"L":
                    long_name = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
                    continue
                if kind == b"x":
                    pax_name = _pax_path(data) or pax_name
                    continue
                name = self._member_name(header, long_name, pax_name)
                long_name = pax_name = None
                yield name, data
            else:
                # folders, links, devices, global pax headers, GNU long link names: no image
                if not skip(padded):
                    return premature_end()
                if kind not in (b"K", b"g"):
                    long_name = pax_name = None

    @staticmethod
    def _member_name(header: bytes, long_name: Optional[str], pax_name: Optional[str]) -> str:
        if pax_name:
            return pax_name
        if long_name:
            return long_name
        name = header[:100].split(b"\0", 1)[0]
        if header[257:262] == b"ustar":
            prefix = header[345:500].split(b"\0", 1)[0]
            if prefix:
                name = prefix + b"/" + name
        return name.decode("utf-8", "surrogateescape")

    def chunks(self, size: int) -> Iterator[Chunk]:
        """Chunks of ``size`` members, or fewer holding :data:`CHUNK_BYTES`."""
        chunk: Chunk = []
        held = 0
        for raw_name, data in self.members():
            name, problem = member_path(raw_name)
            if problem is not None:
                self.skipped.append((f"{self.label}/{raw_name}", problem))
                continue
            if not name or is_hidden(name):
                continue
            chunk.append((name, data))
            held += self.payload_bytes(data)
            if len(chunk) >= size or held >= CHUNK_BYTES:
                yield chunk
                chunk, held = [], 0
        if chunk:
            yield chunk


def open_image_source(path: Path) -> ImageSource:
    """The right reader for a folder, a zip or a tar; DatasetError for anything else."""
    if path.is_dir():
        return DirectorySource(path)
    kind = archive_kind(path)
    if kind == "zip":
        return ZipSource(path)
    if kind == "tar":
        return TarSource(path)
    raise DatasetError(
        f"{path}: not a dataset (expected a folder, .zip, .tar, .tar.gz/.tgz, "
        "or CIFAR-10's cifar-10-python.tar.gz / cifar-10-batches-py)"
    )
