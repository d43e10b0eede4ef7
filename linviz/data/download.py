"""Downloading CIFAR-10: streamed, cancellable, md5-verified, moved into place atomically.

The bytes go to a hidden temporary file next to the destination
(:func:`linviz.safe_files.atomic_write`); only a complete download whose md5 matches is
renamed to ``cifar-10-python.tar.gz`` (``os.replace`` is atomic on one file system).
Whatever goes wrong (network error, cancel, short read, bad checksum), the partial file is
deleted, so nothing that looks like a valid archive is ever left behind.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

from linviz.data.cifar10 import CIFAR10_ARCHIVE, CIFAR10_MD5, CIFAR10_URL
from linviz.errors import DatasetError
from linviz.paths import cache_dir
from linviz.progress import CancelCheck, ProgressCallback, check_cancelled, report
from linviz.safe_files import FileRefusedError, atomic_write, check_write_target, open_regular

CHUNK_BYTES = 256 * 1024
TIMEOUT_S = 30


def file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with open_regular(path, None) as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_cifar10(
    *,
    url: str = CIFAR10_URL,
    md5: Optional[str] = CIFAR10_MD5,
    dest_dir: Optional[Path] = None,
    progress: Optional[ProgressCallback] = None,
    cancel: CancelCheck = None,
) -> Path:
    """Download the CIFAR-10 python archive into ``dest_dir`` (linviz's cache by default).

    Reports ``progress(bytes_done, bytes_total)`` (total 0 when the server sends no length);
    ``cancel`` raises :class:`~linviz.errors.Cancelled`. Returns the archive's path. An
    archive already there with the right md5 is reused without downloading.
    """
    folder = Path(dest_dir) if dest_dir is not None else cache_dir()
    target = folder / CIFAR10_ARCHIVE
    try:
        check_write_target(target)  # a FIFO or a device there is never read or replaced
        folder.mkdir(parents=True, exist_ok=True)
    except FileRefusedError as exc:
        raise DatasetError(f"cannot download to {target}: {exc.reason}") from None
    except OSError as exc:
        raise DatasetError(f"cannot download to {target} ({exc.strerror or exc})") from None
    if target.is_file() and (md5 is None or file_md5(target) == md5):
        return target

    try:
        # Written to a temporary file beside the target and renamed when complete and
        # md5-checked (atomic_write); any failure, Ctrl+C included, removes it.
        with atomic_write(target) as out:
            _download_into(out, url, md5, progress, cancel)
    except FileRefusedError as exc:
        raise DatasetError(f"cannot download to {target}: {exc.reason}") from None
    return target


def _download_into(out, url: str, md5: Optional[str], progress, cancel) -> None:
    """Stream ``url`` into the open file ``out``; DatasetError if it fails or its md5 is wrong."""
    digest = hashlib.md5()
    done = 0
    try:
        response = urllib.request.urlopen(url, timeout=TIMEOUT_S)
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise DatasetError(f"cannot download {url}: {reason}") from None
    with response:
        total = int(response.headers.get("Content-Length") or 0)
        report(progress, 0, total)
        while True:
            check_cancelled(cancel)
            try:
                block = response.read(CHUNK_BYTES)
            except (OSError, urllib.error.URLError, http.client.HTTPException) as exc:
                raise DatasetError(f"download of {url} interrupted after {done:,} bytes ({exc})") from None
            if not block:
                break
            out.write(block)
            digest.update(block)
            done += len(block)
            report(progress, done, total)
    if total and done != total:
        raise DatasetError(f"download of {url} interrupted: got {done:,} of {total:,} bytes")
    out.flush()
    os.fsync(out.fileno())
    if md5 is not None and digest.hexdigest() != md5.lower():
        raise DatasetError(
            f"download of {url} is corrupt: md5 {digest.hexdigest()} instead of {md5}; deleted, try again"
        )
