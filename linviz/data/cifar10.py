"""CIFAR-10 in its official python format: read safely, find an existing copy, download.

The batches are pickles, and a pickle can run any code when loaded (pitfall 11). They are
read with :class:`RestrictedUnpickler`, which resolves only the three numpy names those
files use; any other global is refused before it is looked up, so nothing in the file
runs. The ``cifar-10-python.tar.gz`` archive is read in place: only the known members are
read, nothing is extracted (pitfall 12).
"""

from __future__ import annotations

import io
import os
import pickle
import tarfile
from pathlib import Path
from typing import Optional

import numpy as np

from linviz.data.dataset import Dataset, Split
from linviz.errors import DatasetError
from linviz.progress import CancelCheck, ProgressCallback, check_cancelled, report

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
META = "batches.meta"
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
#: A real batch is ~31 MB; anything far bigger is not a CIFAR-10 batch.
MAX_BATCH_BYTES = 64 * 1024 * 1024

_ALLOWED_GLOBALS = {
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles only plain containers and numpy arrays; everything else is refused."""

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED_GLOBALS:
            if name == "_reconstruct":
                from numpy._core.multiarray import _reconstruct

                return _reconstruct
            return getattr(np, name)
        raise pickle.UnpicklingError(f"refused to load '{module}.{name}' (only numpy arrays are allowed)")

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("refused a persistent reference")


def unpickle_batch(data: bytes, name: str) -> dict:
    """Bytes of one batch file -> its dict, via the restricted unpickler; DatasetError if bad."""
    try:
        obj = RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    except pickle.UnpicklingError as exc:
        message = str(exc)
        if message.startswith("refused"):
            raise DatasetError(f"{name}: {message}: not a genuine CIFAR-10 batch") from None
        if "truncated" in message:
            raise DatasetError(f"{name}: truncated batch file ({message})") from None
        raise DatasetError(f"{name}: corrupt batch file ({message})") from None
    except EOFError:
        raise DatasetError(f"{name}: truncated batch file (ends early)") from None
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, MemoryError, OverflowError) as exc:
        raise DatasetError(f"{name}: corrupt batch file ({type(exc).__name__}: {exc})") from None
    if not isinstance(obj, dict):
        raise DatasetError(f"{name}: not a CIFAR-10 batch (holds a {type(obj).__name__}, not a dict)")
    return obj


def _batch_arrays(batch: dict, name: str) -> tuple[np.ndarray, np.ndarray]:
    data = batch.get(b"data")
    labels = batch.get(b"labels")
    if not isinstance(data, np.ndarray) or labels is None:
        raise DatasetError(f"{name}: not a CIFAR-10 batch (no b'data' array / b'labels' list)")
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise DatasetError(f"{name}: wrong data shape {data.shape} {data.dtype} (expected uint8 (N, 3072))")
    try:
        labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError):
        raise DatasetError(f"{name}: labels are not integers") from None
    if len(labels) != len(data):
        raise DatasetError(f"{name}: {len(data)} images but {len(labels)} labels")
    if len(labels) and (labels.min() < 0 or labels.max() > 9):
        raise DatasetError(f"{name}: labels outside 0..9")
    return data, labels


def _to_images(rows: np.ndarray, image_size: int) -> np.ndarray:
    """(N, 3072) rows of 1024 R, 1024 G, 1024 B -> uint8 (N, S, S, 3)."""
    images = np.ascontiguousarray(rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    if image_size == 32:
        return images
    from PIL import Image

    out = np.empty((len(images), image_size, image_size, 3), np.uint8)
    for i, image in enumerate(images):
        out[i] = np.asarray(Image.fromarray(image).resize((image_size, image_size), Image.Resampling.BICUBIC))
    return out


def _read_members_from_folder(folder: Path, names: list[str]) -> dict[str, bytes]:
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise DatasetError(f"{folder}: missing CIFAR-10 file(s): {', '.join(missing)}")
    result = {}
    for n in names:
        path = folder / n
        if path.stat().st_size > MAX_BATCH_BYTES:
            raise DatasetError(f"{path}: too large for a CIFAR-10 batch ({path.stat().st_size:,} bytes)")
        result[n] = path.read_bytes()
    return result


def _read_members_from_archive(archive: Path, names: list[str], progress, cancel) -> dict[str, bytes]:
    """Read the known members straight from the tarball (no extraction, sizes checked)."""
    wanted = {f"{CIFAR10_FOLDER}/{n}": n for n in names}
    result: dict[str, bytes] = {}
    total = archive.stat().st_size
    try:
        with open(archive, "rb") as raw, tarfile.open(fileobj=raw, mode="r:*") as tar:
            for member in tar:
                check_cancelled(cancel)
                name = member.name[2:] if member.name.startswith("./") else member.name
                if name not in wanted or not member.isfile():
                    continue
                if member.size > MAX_BATCH_BYTES:
                    raise DatasetError(f"{archive}: member {name} too large ({member.size:,} bytes)")
                f = tar.extractfile(member)
                data = f.read() if f is not None else b""
                if len(data) != member.size:
                    raise DatasetError(f"{archive}: member {name} is truncated")
                result[wanted[name]] = data
                report(progress, raw.tell(), total)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DatasetError(f"{archive}: truncated or corrupt archive ({exc})") from None
    missing = [n for n in names if n not in result]
    if missing:
        raise DatasetError(f"{archive}: missing CIFAR-10 member(s): {', '.join(missing)}")
    return result


def load_cifar10_batches(
    source: Path,
    *,
    image_size: int = 32,
    progress: Optional[ProgressCallback] = None,
    cancel: CancelCheck = None,
) -> Dataset:
    """The official python batches, from the ``cifar-10-batches-py`` folder or the tarball."""
    names = [META, *TRAIN_BATCHES, TEST_BATCH]
    if source.is_dir():
        folder = source / CIFAR10_FOLDER if (source / CIFAR10_FOLDER).is_dir() else source
        files = _read_members_from_folder(folder, names)
        where = folder
    else:
        files = _read_members_from_archive(source, names, progress, cancel)
        where = source
    meta = unpickle_batch(files[META], f"{where}/{META}")
    label_names = meta.get(b"label_names") if isinstance(meta, dict) else None
    if not isinstance(label_names, list) or len(label_names) != 10:
        raise DatasetError(f"{where}/{META}: expected 10 label names")
    class_names = [n.decode("utf-8", "replace") if isinstance(n, bytes) else str(n) for n in label_names]
    parts = []
    for n in (*TRAIN_BATCHES, TEST_BATCH):
        check_cancelled(cancel)
        data, labels = _batch_arrays(unpickle_batch(files.pop(n), f"{where}/{n}"), f"{where}/{n}")
        parts.append((n, data, labels))
    # The official batches hold 10,000 images each; smaller ones (subsets people make, the
    # tests' own files) are accepted, empty ones are not.
    for n, data, _ in parts:
        if len(data) == 0:
            raise DatasetError(f"{where}/{n}: holds no images")
    train_rows = np.concatenate([d for _, d, _ in parts[:5]])
    train_labels = np.concatenate([l for _, _, l in parts[:5]])
    return Dataset(
        class_names=class_names,
        train=Split(_to_images(train_rows, image_size), train_labels),
        test=Split(_to_images(parts[5][1], image_size), parts[5][2]),
        skipped=[],
        source=str(source),
    )


def is_cifar10_batches(path: Path) -> bool:
    """True for a cifar-10-batches-py folder (or its parent) or the official tarball."""
    if path.is_dir():
        return (path / META).is_file() or (path / CIFAR10_FOLDER / META).is_file() or (
            (path / CIFAR10_FOLDER).is_dir()
        ) or (path / TRAIN_BATCHES[0]).is_file()
    if path.name in (CIFAR10_ARCHIVE, f"{CIFAR10_FOLDER}.tar.gz"):
        return True
    # Another name for the same archive: peek at the first member (one small read).
    if path.name.lower().endswith((".tar.gz", ".tgz", ".tar")):
        try:
            with tarfile.open(path, "r:*") as tar:
                first = tar.next()
            return first is not None and first.name.lstrip("./").startswith(CIFAR10_FOLDER)
        except (tarfile.TarError, OSError, EOFError):
            return False
    return False


# --------------------------------------------------------------------------- finding a copy


def _search_roots() -> list[Path]:
    roots: list[Path] = []
    env = os.environ.get("LINVIZ_DATA")
    if env:
        roots.extend(Path(p).expanduser() for p in env.split(os.pathsep) if p)
    cwd = Path.cwd()
    home = Path.home()
    # torchvision users pass root="./data" (its docs), "data", "~/data", "./datasets"...
    roots += [cwd / "data", cwd / "datasets", cwd, home / "data", home / "datasets"]
    keras_home = Path(os.environ.get("KERAS_HOME", home / ".keras")).expanduser()
    roots.append(keras_home / "datasets")
    from linviz.paths import cache_dir

    roots.append(cache_dir())
    return roots


def _candidates(root: Path) -> list[Path]:
    return [
        root / CIFAR10_FOLDER,
        # Keras 3 extracts into "cifar-10-batches-py-target/cifar-10-batches-py"
        root / f"{CIFAR10_FOLDER}-target" / CIFAR10_FOLDER,
        root / "cifar10" / CIFAR10_FOLDER,
        root / "CIFAR10" / CIFAR10_FOLDER,
        root / CIFAR10_ARCHIVE,
        root / "cifar10" / CIFAR10_ARCHIVE,
    ]


def _looks_complete(path: Path) -> bool:
    if path.is_dir():
        return all((path / n).is_file() for n in (META, *TRAIN_BATCHES, TEST_BATCH))
    return path.is_file() and path.stat().st_size > 0


def find_cifar10() -> Optional[Path]:
    """An existing copy of the official CIFAR-10 python version, or None.

    Looks, in order, in ``$LINVIZ_DATA`` (a folder, or several separated by the path
    separator; or the copy itself), the roots torchvision users pass (``./data``,
    ``./datasets``, the working folder, ``~/data``, ``~/datasets``), Keras' download folder
    (``~/.keras/datasets`` or ``$KERAS_HOME/datasets``, old and new layouts) and linviz's own
    cache folder (where :func:`download_cifar10` puts it).
    """
    env = os.environ.get("LINVIZ_DATA")
    if env:
        for p in env.split(os.pathsep):
            direct = Path(p).expanduser()
            if direct.name in (CIFAR10_FOLDER, CIFAR10_ARCHIVE) and _looks_complete(direct):
                return direct
    for root in _search_roots():
        for candidate in _candidates(root):
            try:
                if _looks_complete(candidate):
                    return candidate
            except OSError:
                continue
    return None


def require_cifar10() -> Path:
    """The path behind ``source="cifar10"``; DatasetError that says where it looked."""
    found = find_cifar10()
    if found is None:
        raise DatasetError(
            "CIFAR-10 not found (looked in $LINVIZ_DATA, ./data, ./datasets, ~/data, ~/datasets, "
            "~/.keras/datasets and linviz's cache); download it from the app or with "
            "linviz.data.download_cifar10(), or pass the path of cifar-10-python.tar.gz"
        )
    return found


__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10_MD5",
    "CIFAR10_URL",
    "RestrictedUnpickler",
    "find_cifar10",
    "is_cifar10_batches",
    "load_cifar10_batches",
    "unpickle_batch",
]
