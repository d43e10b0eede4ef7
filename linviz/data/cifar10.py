"""CIFAR-10 in its official python format: read safely, find an existing copy, download.

The batches are pickles, and a pickle can run any code when loaded (docs/pitfalls.md,
'Never pickle.load a CIFAR-10 batch'). They are
read with :class:`RestrictedUnpickler`, which resolves only the names those files use, and
even those to stand-ins rather than the real functions: ``numpy.core.multiarray._reconstruct``
and ``numpy.ndarray`` make an empty :class:`_ArrayBuilder`, ``numpy.dtype`` a
:class:`_DtypeBuilder`, and ``_codecs.encode`` (how a Python 3 protocol-2 pickle spells
bytes) only encodes latin-1 text. Any other global is refused before it is looked up, so
nothing in the file runs.

Nothing can allocate more than a genuine batch holds either. An array is only ever made
from a byte string whose length matches its declared shape and type exactly (no strides,
so no zero-stride view of one byte posing as gigabytes), at most 10,000 x 3,072 bytes; a
batch's labels must be a flat list of as many plain ints in 0..9 (memoized nested lists,
floats and integers beyond 64 bits are refused before NumPy sees them); names are short
strings. The ``cifar-10-python.tar.gz`` archive is read in place: only the known members
are read, nothing is extracted (docs/pitfalls.md, 'Never extractall a downloaded tar').
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
from linviz.limits import CIFAR_ROW_BYTES, MAX_BATCH_BYTES, MAX_BATCH_IMAGES, MAX_NAME_CHARS
from linviz.progress import CancelCheck, ProgressCallback, check_cancelled, report
from linviz.safe_files import open_regular, open_regular_or, read_regular_or

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
META = "batches.meta"
CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
#: The most bytes one array of a batch may hold: 10,000 images of 3,072 bytes.
MAX_ARRAY_BYTES = MAX_BATCH_IMAGES * CIFAR_ROW_BYTES
#: Integer types a batch's arrays may have (pixels, labels); never objects or records.
_ARRAY_TYPES = frozenset(("u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8"))


def _refuse(message: str):
    raise pickle.UnpicklingError(f"refused {message}")


class _NdarrayName:
    """What ``numpy.ndarray`` resolves to: only a marker for ``_reconstruct``, not callable."""

    def __call__(self, *args, **kwargs):
        _refuse("a direct call of numpy.ndarray (arrays come only from their bytes)")


_NDARRAY = _NdarrayName()


class _DtypeBuilder:
    """``numpy.dtype('u1', False, True)`` plus its pickled state, checked: integers only."""

    def __init__(self, spec, align=False, copy=True):
        if isinstance(spec, bytes):
            spec = spec.decode("latin-1")
        if not isinstance(spec, str) or spec not in _ARRAY_TYPES:
            _refuse("an array type other than a plain integer")
        self.spec = spec
        self.order = "|"

    def __setstate__(self, state):
        if (not isinstance(state, tuple) or len(state) < 5 or state[0] not in (3, 4)
                or state[1] not in ("<", ">", "|", "=", b"<", b">", b"|", b"=")
                or any(item is not None for item in state[2:5])):
            _refuse("an array type with fields or sub-arrays")
        order = state[1].decode() if isinstance(state[1], bytes) else state[1]
        self.order = "<" if order == "=" else order

    @property
    def dtype(self) -> np.dtype:
        dtype = np.dtype(self.spec)
        return dtype.newbyteorder(self.order) if self.order in "<>" and dtype.itemsize > 1 else dtype


class _ArrayBuilder:
    """What ``_reconstruct(ndarray, (0,), b'b')`` makes: an array set from its bytes later."""

    array: Optional[np.ndarray] = None

    def __setstate__(self, state):
        if not isinstance(state, tuple) or len(state) != 5:
            _refuse("an array state of an unknown form")
        _, shape, dtype, fortran, data = state
        if not isinstance(dtype, _DtypeBuilder):
            _refuse("an array without a plain integer type")
        if not isinstance(shape, tuple) or len(shape) > 2 or not all(type(n) is int and n >= 0 for n in shape):
            _refuse("an array shape that is not 1 or 2 non-negative whole numbers")
        if not isinstance(data, (bytes, bytearray)):
            _refuse("an array whose data is not a byte string")
        count = 1
        for n in shape:
            count *= n
        nbytes = count * dtype.dtype.itemsize
        if nbytes > MAX_ARRAY_BYTES:
            _refuse(f"an array of {nbytes:,} bytes (a CIFAR-10 batch holds at most {MAX_ARRAY_BYTES:,})")
        if nbytes != len(data):
            _refuse(f"an array of shape {shape} whose data has {len(data):,} bytes, not {nbytes:,}")
        flat = np.frombuffer(bytes(data), dtype=dtype.dtype)
        self.array = flat.reshape(shape, order="F" if fortran else "C")


def _reconstruct(subtype, shape, typecode):
    if subtype is not _NDARRAY or shape != (0,):
        _refuse("an array reconstruction of an unknown form")
    return _ArrayBuilder()


def _encode(text, encoding="utf-8"):
    """``_codecs.encode(text, 'latin1')``: how Python 3 protocol-2 pickles write bytes."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1", "iso-8859-1"):
        _refuse("a text encoding other than latin-1")
    if len(text) > MAX_ARRAY_BYTES + 1024:
        _refuse(f"a byte string of {len(text):,} bytes")
    return text.encode("latin-1")


_STAND_INS = {
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _DtypeBuilder,
    ("_codecs", "encode"): _encode,
}


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles plain containers and checked integer arrays; everything else is refused."""

    def find_class(self, module: str, name: str):
        stand_in = _STAND_INS.get((module, name))
        if stand_in is None:
            raise pickle.UnpicklingError(f"refused to load '{module}.{name}' (only numpy arrays are allowed)")
        return stand_in

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("refused a persistent reference")


def unpickle_batch(data: bytes, name: str) -> dict:
    """Bytes of one batch file -> its dict (arrays built), via the restricted unpickler.

    DatasetError when the file is refused, corrupt, truncated or not a dict.
    """
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
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, MemoryError, OverflowError,
            RecursionError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{name}: corrupt batch file ({type(exc).__name__}: {str(exc)[:200]})") from None
    if not isinstance(obj, dict):
        raise DatasetError(f"{name}: not a CIFAR-10 batch (holds a {type(obj).__name__}, not a dict)")
    if len(obj) > 64:
        raise DatasetError(f"{name}: not a CIFAR-10 batch ({len(obj):,} keys)")
    batch = {}
    for key, value in obj.items():
        if isinstance(value, _ArrayBuilder):
            if value.array is None:
                raise DatasetError(f"{name}: corrupt batch file (an array without its data)")
            value = value.array
        if isinstance(key, str):
            key = key.encode("latin-1", "replace")
        batch[key] = value
    return batch


def _short_name(value, what: str, name: str) -> str:
    """A name from a batch: bytes or text of at most MAX_NAME_CHARS characters."""
    if isinstance(value, bytes) and len(value) <= 4 * MAX_NAME_CHARS:
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        raise DatasetError(f"{name}: {what} is not a string")
    if not value or len(value) > MAX_NAME_CHARS:
        raise DatasetError(f"{name}: {what} is {len(value):,} characters long (1 to {MAX_NAME_CHARS} allowed)")
    return value


def _batch_arrays(batch: dict, name: str) -> tuple[np.ndarray, np.ndarray]:
    data = batch.get(b"data")
    labels = batch.get(b"labels")
    if not isinstance(data, np.ndarray) or labels is None:
        raise DatasetError(f"{name}: not a CIFAR-10 batch (no b'data' array / b'labels' list)")
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != CIFAR_ROW_BYTES:
        raise DatasetError(f"{name}: wrong data shape {data.shape} {data.dtype} (expected uint8 (N, 3072))")
    n = len(data)
    if n > MAX_BATCH_IMAGES:
        raise DatasetError(f"{name}: {n:,} images in one batch (a CIFAR-10 batch holds at most {MAX_BATCH_IMAGES:,})")
    if isinstance(labels, np.ndarray):
        if labels.ndim != 1 or labels.dtype.kind not in "iu":
            raise DatasetError(f"{name}: labels are not a flat list of whole numbers")
        values = labels.astype(np.int64)
    elif isinstance(labels, list):
        # Checked before NumPy sees them: a memoized list of lists would expand to gigabytes.
        if len(labels) != n:
            raise DatasetError(f"{name}: {n} images but {len(labels)} labels")
        if not all(type(v) is int for v in labels):
            raise DatasetError(f"{name}: labels are not a flat list of whole numbers")
        if not all(0 <= v <= 9 for v in labels):
            raise DatasetError(f"{name}: labels outside 0..9")
        values = np.array(labels, dtype=np.int64)
    else:
        raise DatasetError(f"{name}: labels are not a flat list of whole numbers")
    if len(values) != n:
        raise DatasetError(f"{name}: {n} images but {len(values)} labels")
    if n and (values.min() < 0 or values.max() > 9):
        raise DatasetError(f"{name}: labels outside 0..9")
    filenames = batch.get(b"filenames")
    if filenames is not None:
        if not isinstance(filenames, list) or len(filenames) != n:
            raise DatasetError(f"{name}: b'filenames' is not a list of {n} names")
        for k in range(min(n, len(filenames))):
            _short_name(filenames[k], "a file name", name)
    batch_label = batch.get(b"batch_label")
    if batch_label is not None:
        _short_name(batch_label, "the batch label", name)
    return data, values


def _class_names(meta: dict, name: str) -> list[str]:
    """The 10 label names of batches.meta: short, distinct strings."""
    label_names = meta.get(b"label_names")
    if not isinstance(label_names, list) or len(label_names) != 10:
        raise DatasetError(f"{name}: expected 10 label names")
    names = [_short_name(n, "a label name", name) for n in label_names]
    if len(set(names)) != len(names):
        raise DatasetError(f"{name}: the label names are not all different")
    return names


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
    missing = [n for n in names if not os.path.lexists(folder / n)]
    if missing:
        raise DatasetError(f"{folder}: missing CIFAR-10 file(s): {', '.join(missing)}")
    result = {}
    for n in names:  # a CIFAR-10 batch is a regular file of at most MAX_BATCH_BYTES
        result[n] = read_regular_or(DatasetError, folder / n, MAX_BATCH_BYTES)
    return result


def _read_members_from_archive(archive: Path, names: list[str], progress, cancel) -> dict[str, bytes]:
    """Read the known members straight from the tarball (no extraction, sizes checked)."""
    wanted = {f"{CIFAR10_FOLDER}/{n}": n for n in names}
    result: dict[str, bytes] = {}
    raw = open_regular_or(DatasetError, archive, None)
    total = os.fstat(raw.fileno()).st_size
    try:
        with raw, tarfile.open(fileobj=raw, mode="r:*") as tar:
            for count, member in enumerate(tar):
                if count > len(names) * 4 + 64:
                    raise DatasetError(f"{archive}: not the CIFAR-10 archive (more than {count:,} members)")
                check_cancelled(cancel)
                name = member.name[2:] if member.name.startswith("./") else member.name
                if name not in wanted or not member.isfile():
                    continue
                if member.size > MAX_BATCH_BYTES:
                    raise DatasetError(f"{archive}: member {name} too large ({member.size:,} bytes)")
                f = tar.extractfile(member)
                data = f.read(MAX_BATCH_BYTES + 1) if f is not None else b""
                if len(data) != member.size:
                    raise DatasetError(f"{archive}: member {name} is truncated")
                result[wanted[name]] = data
                report(progress, raw.tell(), total)
                if len(result) == len(names):
                    break
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
    class_names = _class_names(meta, f"{where}/{META}")
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
    train_labels = np.concatenate([labels for _, _, labels in parts[:5]])
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
            with open_regular(path, None) as raw, tarfile.open(fileobj=raw, mode="r:*") as tar:
                first = tar.next()
            return first is not None and first.name.lstrip("./").startswith(CIFAR10_FOLDER)
        except (tarfile.TarError, OSError, EOFError, ValueError):
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
    from linviz.paths import CacheUnavailableError, cache_dir

    try:
        roots.append(cache_dir())
    except CacheUnavailableError:
        pass  # no usable cache folder: no copy there either
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
            "~/.keras/datasets and linviz's cache); download it with 'python main.py info cifar10 --download', "
            "from the app, or with linviz.data.download_cifar10(), or pass the path of cifar-10-python.tar.gz"
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
