"""Model files: one ``.npz`` (no pickle) holding everything needed to classify new images.

Contents (all plain NumPy arrays, read with ``allow_pickle=False``):

``format``            "linviz-model" -- tells a linviz model from any other .npz
``format_version``    int; a newer file than this linviz understands is refused, not misread
``W``                 float32 (D + 1, C), the bias row last
``class_names``       str (C,)
``loss``              "svm" or "softmax" (decides probabilities vs scores)
``metadata``          JSON text: hyperparameters, accuracies, feature spec, linviz version, date
``feature_*``         the fitted feature pipeline (``FeaturePipeline.state()``): spec,
                      standardization mean and scale, image shape

A saved model carries its preprocessing (the standardization statistics of its training
split), so :class:`SavedModel` classifies an image file on its own -- the usual trap of a
model saved without its preprocessing cannot happen. Every way a file can be wrong (missing,
not a regular file, not a zip, truncated, another program's .npz, a newer format, missing or
inconsistent arrays) raises :class:`~linviz.errors.ModelFileError` with the file name and
the reason.

A model file may come from anyone, so it is read like hostile input: only a regular file is
opened; every array's declared type and shape is read from its header and checked against
sane bounds (image side <= 512, features <= 10^6, classes <= 10,000, weights <= 10^8, names
<= 256 characters) *before* its data is read; the JSON metadata is size- and depth-limited
and every field is type- and range-checked; class names must be distinct strings and the
feature statistics finite.
"""

from __future__ import annotations

import json
import math
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from linviz.errors import LinvizError, ModelFileError
from linviz.limits import (MAX_MODEL_CLASSES, MAX_MODEL_FEATURES, MAX_MODEL_WEIGHT, MAX_MODEL_WEIGHTS,
                           MAX_NAME_CHARS, TRAINING_SETTINGS, format_bytes)
from linviz.models.losses import LOSSES
from linviz.models.regularizers import REG_TYPES
from linviz.safe_files import FileRefusedError, atomic_write, open_regular_or

FORMAT_NAME = "linviz-model"
FORMAT_VERSION = 1
REQUIRED = ("format", "format_version", "W", "class_names", "loss", "metadata")
PREDICT_BATCH = 256  # images decoded at once by predict_images (a folder of a million is fine)


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def save_model(path, *, W, class_names: Sequence[str], pipeline, loss: str,
               hyperparameters: Optional[dict] = None, accuracies: Optional[dict] = None,
               metadata: Optional[dict] = None) -> Path:
    """Write a model file (atomically: a half-written file never replaces a good one).

    ``pipeline`` is the fitted :class:`~linviz.features.FeaturePipeline` (or None for a model
    trained on ready-made features, which then cannot classify image files). What is written
    reads back: weights and hyper-parameters that :func:`load_model` would refuse are refused
    here (ModelFileError), and nothing is written.
    """
    path = Path(path)
    W = np.ascontiguousarray(W, dtype=np.float32)
    names = [str(c) for c in class_names]
    if W.ndim != 2 or W.shape[1] != len(names):
        raise ValueError(f"W must be (D + 1, {len(names)}) for {len(names)} classes, got {W.shape}")
    if not (isinstance(loss, str) and loss in LOSSES):
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
    state = pipeline.state() if pipeline is not None else {}
    if pipeline is not None and W.shape[0] != pipeline.dim + 1:
        raise ValueError(f"W has {W.shape[0]} rows but the pipeline makes {pipeline.dim} features + bias")
    from linviz import __version__ as linviz_version

    meta = {
        "linviz_version": linviz_version,
        "saved": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "loss": loss,
        "class_names": names,
        "n_features": int(W.shape[0] - 1),
        "feature_spec": str(np.asarray(state["feature_spec"])) if state else None,
        "hyperparameters": _json_safe(hyperparameters or {}),
        "accuracies": _json_safe(accuracies or {}),
        **_json_safe(metadata or {}),
    }
    problem = check_weights(W)
    if problem is not None:
        raise ModelFileError(f"{path}: cannot write the model file: {problem}")
    try:
        _check_metadata(json.loads(json.dumps(meta)), path)
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: cannot write the model file: {str(exc)[len(str(path)) + 2:]}") from None
    arrays = {
        "format": np.array(FORMAT_NAME),
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "W": W,
        "class_names": np.array(names, dtype=str),
        "loss": np.array(loss),
        "metadata": np.array(json.dumps(meta, indent=1, sort_keys=True)),
        **state,
    }
    try:
        # A device or FIFO at ``path`` is refused, never replaced; a parent that is a file
        # (or not writable) is a user's mistake too.
        with atomic_write(path) as f:  # a file object: np.savez would append ".npz" to a name
            np.savez(f, **arrays)
    except FileRefusedError as exc:
        raise ModelFileError(f"{path}: cannot write the model file: {exc.reason}") from None
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot write the model file ({exc.strerror or exc})") from None
    return path


@dataclass
class ImagePrediction:
    """The classification of one image file; ``error`` is set (and ``classes`` empty) if unreadable."""

    path: str
    classes: list = field(default_factory=list)   # [(class name, value)] best first
    kind: str = "probability"                      # "probability" (softmax) or "score" (SVM)
    error: Optional[str] = None

    def as_json(self) -> dict:
        if self.error is not None:
            return {"path": self.path, "error": self.error}
        return {"path": self.path, "classes": [{"class": c, self.kind: float(v)} for c, v in self.classes]}


@dataclass
class SavedModel:
    """A loaded model file: weights, classes, the fitted feature pipeline and the metadata."""

    path: Path
    W: np.ndarray
    class_names: list
    loss: str
    pipeline: object        # FeaturePipeline or None
    metadata: dict
    format_version: int = FORMAT_VERSION

    @property
    def hyperparameters(self) -> dict:
        return self.metadata.get("hyperparameters", {})

    @property
    def accuracies(self) -> dict:
        return self.metadata.get("accuracies", {})

    @property
    def image_size(self) -> int:
        shape = getattr(self.pipeline, "image_shape", None) or (32, 32)
        return int(shape[0])

    def decision_function(self, features_with_bias: np.ndarray) -> np.ndarray:
        """Scores (N, C) of standardized features with the bias column last, in float64: with
        the weights and feature statistics a model file may hold, never infinite or NaN."""
        return np.asarray(features_with_bias, dtype=np.float64) @ self.W.astype(np.float64)

    def scores_of_images(self, images: np.ndarray) -> np.ndarray:
        """Scores (N, C) of uint8 images (N, H, W, 3) through the saved feature pipeline."""
        if self.pipeline is None:
            raise ModelFileError(f"{self.path}: this model was saved without a feature pipeline, "
                                 "so it cannot classify images")
        return self.decision_function(self.pipeline.transform(images))

    def values_of_scores(self, scores: np.ndarray) -> np.ndarray:
        """Probabilities for softmax, the raw scores for the SVM."""
        if LOSSES[self.loss].has_probabilities:
            from linviz.models.losses import softmax

            return softmax(np.asarray(scores, dtype=np.float64))
        return scores

    def predict_images(self, paths: Sequence, top: Optional[int] = None) -> list[ImagePrediction]:
        """Classify image files; an unreadable file gets an ``error`` instead of raising.
        :data:`PREDICT_BATCH` images are decoded at a time, however many are given."""
        results: list[ImagePrediction] = []
        paths = list(paths)
        for start in range(0, len(paths), PREDICT_BATCH):
            results += self._predict_batch(paths[start:start + PREDICT_BATCH], top)
        return results

    def _predict_batch(self, paths: list, top: Optional[int]) -> list[ImagePrediction]:
        from linviz.data import read_image

        kind = "probability" if LOSSES[self.loss].has_probabilities else "score"
        results: list[ImagePrediction] = []
        images, slots = [], []
        for p in paths:
            try:
                images.append(read_image(p, image_size=self.image_size))
                slots.append(len(results))
                results.append(ImagePrediction(str(p), kind=kind))
            except LinvizError as exc:
                results.append(ImagePrediction(str(p), kind=kind, error=str(exc)))
        if images:
            values = self.values_of_scores(self.scores_of_images(np.stack(images)))
            k = len(self.class_names) if top is None else max(1, min(int(top), len(self.class_names)))
            for slot, row in zip(slots, values):
                order = np.argsort(-row, kind="stable")[:k]
                results[slot].classes = [(self.class_names[j], float(row[j])) for j in order]
        return results


# --------------------------------------------------------------------------- reading

#: Arrays of a model file: key -> (allowed dtype kinds, allowed ndim). Other keys are not read.
#: A new kind of array (a feature block's fitted state, say) is one more row here, read where
#: it is used (:func:`_pipeline_of` for ``feature_*``) with the count its header may declare.
_ARRAY_RULES = {
    "format": ("U", (0,)),
    "format_version": ("iu", (0,)),
    "W": ("f", (2,)),
    "class_names": ("U", (1,)),
    "loss": ("U", (0,)),
    "metadata": ("U", (0,)),
    "feature_spec": ("U", (0,)),
    "feature_scaling": ("U", (0,)),
    "feature_image_shape": ("iu", (1,)),
    "feature_mean": ("f", (1,)),
    "feature_scale": ("f", (1,)),
    "feature_state_version": ("iu", (0,)),
}
_MAX_MEMBERS = 64
_MAX_TEXT_CHARS = {"metadata": 1_000_000, "feature_spec": 4096, "class_names": MAX_NAME_CHARS}
_DEFAULT_TEXT_CHARS = 256       # any other text array: "linviz-model", "softmax", "block"
_MAX_ITEMSIZE = 8               # numbers: up to float64 / int64 (no 16-byte long doubles)
#: W's bytes as its header declares them: a float32 model at the weight bound. A file whose
#: W says more (float64 of as many weights, or a deflated bomb of zeros) is refused unread.
MAX_WEIGHT_BYTES = MAX_MODEL_WEIGHTS * 4
_MAX_METADATA_DEPTH = 8
_KIND_WORDS = {"U": "text", "iu": "whole numbers", "f": "numbers (float32 or float64)"}


class _ModelArchive:
    """The .npz read member by member: each array's header is checked before its data is read,
    and its data is read into a buffer of exactly the declared size (a running count: a member
    never inflates beyond it)."""

    def __init__(self, path: Path):
        self.path = path
        self._file = open_regular_or(ModelFileError, path, None, missing="no such model file")
        try:
            if self._file.read(2) != b"PK":
                raise ModelFileError(f"{path}: not a linviz model file (not an .npz archive)")
            self._file.seek(0)
            from linviz.data.archives import zip_member_count

            declared = zip_member_count(self._file)
            if declared is not None and declared > _MAX_MEMBERS:
                raise ModelFileError(f"{path}: not a linviz model file ({declared:,} members)")
            self.zip = zipfile.ZipFile(self._file)
            self.members = {info.filename[:-4]: info for info in self.zip.infolist()
                            if info.filename.endswith(".npy")}
        except ModelFileError:
            self._file.close()
            raise
        except (zipfile.BadZipFile, EOFError, ValueError, OSError, NotImplementedError) as exc:
            self._file.close()
            raise ModelFileError(f"{path}: truncated or corrupt model file ({exc})") from None

    @property
    def files(self) -> list[str]:
        return list(self.members)

    def close(self) -> None:
        try:
            self.zip.close()
        finally:
            self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def read(self, key: str, max_elements: int, *, max_bytes: Optional[int] = None,
             check_shape: Optional[Callable[[tuple], Optional[str]]] = None) -> np.ndarray:
        """The array ``key``, if its header declares an allowed type, at most ``max_elements``
        values and ``max_bytes`` bytes, and a shape ``check_shape`` has nothing against (it
        returns the reason, or None). All of that is decided from the header, before any of
        the data is decompressed."""
        path = self.path
        info = self.members.get(key)
        if info is None:
            raise ModelFileError(f"{path}: incomplete model file: the array {key!r} is missing")
        try:
            with self.zip.open(info) as f:
                shape, fortran, dtype = _read_header(f)
                _check_header(path, key, shape, dtype, max_elements, max_bytes, check_shape)
                nbytes = math.prod(shape) * dtype.itemsize
                if dtype.itemsize == 0 or nbytes > info.file_size:
                    raise ModelFileError(f"{path}: truncated or corrupt model file (the array {key!r} "
                                         f"declares {nbytes:,} bytes, its member holds {info.file_size:,})")
                buffer = bytearray(nbytes)
                if f.readinto(buffer) != nbytes:
                    raise ModelFileError(f"{path}: truncated or corrupt model file (the array {key!r} "
                                         "ends early)")
        except ModelFileError:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError, NotImplementedError,
                SyntaxError, TypeError) as exc:
            raise ModelFileError(f"{path}: truncated or corrupt model file (reading {key!r}: {exc})") from None
        array = np.frombuffer(buffer, dtype=dtype)
        return array.reshape(shape, order="F" if fortran else "C")


def _read_header(f):
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(f)
    if version in ((2, 0), (3, 0)):
        return np.lib.format.read_array_header_2_0(f)
    raise ValueError(f"unknown .npy version {version}")


def _check_header(path: Path, key: str, shape: tuple, dtype: np.dtype, max_elements: int,
                  max_bytes: Optional[int], check_shape) -> None:
    """An array's declared type and shape against its rule and bounds (ModelFileError)."""
    kinds, ndims = _ARRAY_RULES[key]
    if dtype.hasobject:
        raise ModelFileError(f"{path}: the array {key!r} cannot be read safely (Python objects, which would "
                             "need pickle)")
    if dtype.kind not in kinds:
        raise ModelFileError(f"{path}: the array {key!r} holds {dtype} values, expected {_KIND_WORDS[kinds]}")
    if kinds != "U" and dtype.itemsize > _MAX_ITEMSIZE:
        raise ModelFileError(f"{path}: the array {key!r} holds {dtype.name} values, expected "
                             f"{_KIND_WORDS[kinds]} of at most {_MAX_ITEMSIZE} bytes each")
    if len(shape) not in ndims:
        raise ModelFileError(f"{path}: the array {key!r} has {len(shape)} dimensions, expected {ndims[0]}")
    count = math.prod(shape)
    if count > max_elements:
        raise ModelFileError(f"{path}: the array {key!r} declares shape {shape}, more than {max_elements:,} "
                             "values (refused before reading it)")
    limit = _MAX_TEXT_CHARS.get(key, _DEFAULT_TEXT_CHARS)
    if dtype.kind == "U" and dtype.itemsize // 4 > limit:
        raise ModelFileError(f"{path}: the array {key!r} holds text of up to {dtype.itemsize // 4:,} characters "
                             f"(at most {limit:,} allowed)")
    if max_bytes is not None and count * dtype.itemsize > max_bytes:
        raise ModelFileError(f"{path}: the array {key!r} declares {shape} {dtype.name} values, "
                             f"{format_bytes(count * dtype.itemsize)} (at most {format_bytes(max_bytes)}; "
                             "refused before reading it)")
    reason = check_shape(tuple(shape)) if check_shape is not None else None
    if reason is not None:
        raise ModelFileError(f"{path}: inconsistent model: the array {key!r} declares shape {tuple(shape)}: "
                             f"{reason} (refused before reading it)")


def _scalar(array: np.ndarray):
    """The one value of a 0-d array as a Python str or int."""
    return array[()].item()


def _json_depth_ok(value, limit: int) -> bool:
    """True when ``value`` nests at most ``limit`` levels (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return False
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return True


# --------------------------------------------------------------------------- fields


_WHOLE_FIELDS = ("val_size", "per_class", "best_epoch", "n_train", "n_val", "n_features")
_TEXT_FIELDS = ("optimizer", "linviz_version", "saved", "source", "stop_reason", "feature_spec", "features",
                "kept", "run_id")
#: Hyper-parameters with a fixed set of values (the numbers: linviz.limits.TRAINING_SETTINGS).
_CHOICES = {"loss": LOSSES, "reg_type": REG_TYPES}
_FLAGS = ("squared_hinge", "unregularized_bias", "keep_best")


def check_hyperparameter(name: str, value) -> Optional[str]:
    """Why ``value`` is not a valid hyper-parameter ``name`` (for "must be ..."), or None.

    The training settings' numbers are checked against :data:`linviz.limits.TRAINING_SETTINGS`
    (what TrainingConfig, the run store, the CLI and the window accept), the loss and the
    regularizer against their tables, flags as booleans; other names as plain values.
    """
    bound = TRAINING_SETTINGS.get(name)
    if bound is not None:
        return bound.problem(value)
    if name in _CHOICES:
        if not (isinstance(value, str) and value in _CHOICES[name]):
            return f"must be one of {', '.join(_CHOICES[name])}, got {_short_repr(value)}"
        return None
    if name in _FLAGS:
        return None if isinstance(value, bool) else f"must be true or false, got {_short_repr(value)}"
    if name in _TEXT_FIELDS:
        return None if isinstance(value, str) and len(value) <= 4096 else "must be text of at most 4,096 characters"
    if isinstance(value, str) and len(value) > 100_000:
        return "must be shorter text"
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    return None


def _check_field(key: str, value, path: Path) -> None:
    """One metadata field: a known name has a known type and range."""
    def bad(expected: str):
        raise ModelFileError(f"{path}: metadata {key!r} must be {expected}, got {_short_repr(value)}")

    if value is None:
        return
    if key in _WHOLE_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
            bad("a whole number >= 0")
    elif key in _TEXT_FIELDS or key == "loss":
        if not isinstance(value, str) or len(value) > 4096:
            bad("text of at most 4,096 characters")
    elif isinstance(value, str) and len(value) > 100_000:
        bad("shorter text")


def _short_repr(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_metadata(metadata, path: Path) -> dict:
    if not isinstance(metadata, dict):
        raise ModelFileError(f"{path}: corrupt metadata (a {type(metadata).__name__}, not a JSON object)")
    if not _json_depth_ok(metadata, _MAX_METADATA_DEPTH):
        raise ModelFileError(f"{path}: corrupt metadata (nested more than {_MAX_METADATA_DEPTH} levels deep)")
    for key, value in metadata.items():
        if key in ("hyperparameters", "accuracies"):
            if not isinstance(value, dict):
                raise ModelFileError(f"{path}: metadata {key!r} must be a JSON object, got {_short_repr(value)}")
            for name, item in value.items():
                if isinstance(item, (dict, list)):
                    raise ModelFileError(f"{path}: {key} {name!r} must be a single value, got {_short_repr(item)}")
                if key == "accuracies":
                    if item is not None and (isinstance(item, bool) or not isinstance(item, (int, float))
                                             or not 0.0 <= item <= 1.0):
                        raise ModelFileError(f"{path}: accuracy {name!r} must be a number in [0, 1], "
                                             f"got {_short_repr(item)}")
                else:
                    problem = check_hyperparameter(name, item)
                    if problem is not None:
                        raise ModelFileError(f"{path}: hyper-parameter {name!r} {problem}")
        elif key == "class_names":
            if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
                raise ModelFileError(f"{path}: metadata 'class_names' must be a list of text")
        else:
            _check_field(key, value, path)
    return metadata


def _check_class_names(array: np.ndarray, path: Path) -> list[str]:
    names = [str(n) for n in array]
    if not 2 <= len(names) <= MAX_MODEL_CLASSES:
        raise ModelFileError(f"{path}: inconsistent model: {len(names)} class names (2 to {MAX_MODEL_CLASSES:,} "
                             "allowed)")
    if any(not n.strip() for n in names):
        raise ModelFileError(f"{path}: a class name is empty")
    if len(set(names)) != len(names):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        raise ModelFileError(f"{path}: duplicate class names ({', '.join(map(_short_repr, duplicates[:3]))})")
    return names


def check_weights(W: np.ndarray) -> Optional[str]:
    """Why ``W`` cannot be a model's weights (NaN, infinite, or beyond ±MAX_MODEL_WEIGHT), or
    None. Looked at a block of rows at a time: no temporary as large as W."""
    step = max(1, (1 << 22) // max(1, W.shape[1] if W.ndim == 2 else 1))
    for start in range(0, len(W), step):
        block = np.asarray(W[start:start + step], dtype=np.float64)
        if not np.isfinite(block).all():
            return "the weights contain NaN or infinite values"
        if block.size and np.abs(block).max() > float(np.float32(MAX_MODEL_WEIGHT)):
            return (f"the weights must lie within ±{MAX_MODEL_WEIGHT:g} (found "
                    f"{block.flat[int(np.argmax(np.abs(block)))]:.3g})")
    return None


# --------------------------------------------------------------------------- the loader


def load_model(path) -> SavedModel:
    """Read a model file written by :func:`save_model`; ModelFileError saying why if it cannot.

    The one loader of every command and the window. The small arrays come first (the format,
    the class names, the loss, the metadata, the feature pipeline), so that W's declared
    shape is checked against what they say, and against the byte bound, before any of it is
    read.
    """
    path = Path(path)
    with _ModelArchive(path) as archive:
        version = _format_version(archive, path)
        names = _check_class_names(archive.read("class_names", MAX_MODEL_CLASSES), path)
        loss = str(_scalar(archive.read("loss", 1)))
        if loss not in LOSSES:
            raise ModelFileError(f"{path}: unknown loss {loss[:40]!r}")
        metadata = _check_metadata(_metadata_of(archive, path), path)
        pipeline = _pipeline_of(archive, path)
        W = _weights_of(archive, path, len(names), pipeline.dim + 1 if pipeline is not None else None)
    return SavedModel(path, np.ascontiguousarray(W, dtype=np.float32), names, loss, pipeline, metadata, version)


def _format_version(archive: _ModelArchive, path: Path) -> int:
    if "format" not in archive.files:
        raise ModelFileError(f"{path}: not a linviz model file (an .npz archive without "
                             f"linviz's format marker; it holds {', '.join(archive.files[:5]) or 'nothing'})")
    marker = str(_scalar(archive.read("format", 1)))
    if marker != FORMAT_NAME:
        raise ModelFileError(f"{path}: not a linviz model file (format marker {marker[:40]!r})")
    try:
        version = int(_scalar(archive.read("format_version", 1)))
    except ModelFileError as exc:
        if "format_version" in str(exc) and "missing" not in str(exc):
            raise ModelFileError(f"{path}: unreadable format version (not a whole number)") from None
        raise
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{path}: written by a newer linviz (model format {version}; this "
                             f"linviz reads up to {FORMAT_VERSION}); upgrade linviz to use it")
    if version < 1:
        raise ModelFileError(f"{path}: unreadable format version {version}")
    return version


def _metadata_of(archive: _ModelArchive, path: Path):
    try:
        return json.loads(str(_scalar(archive.read("metadata", 1))))
    except RecursionError:
        raise ModelFileError(f"{path}: corrupt metadata (nested too deeply)") from None
    except ValueError as exc:
        raise ModelFileError(f"{path}: corrupt metadata ({exc})") from None


def _weights_of(archive: _ModelArchive, path: Path, n_classes: int, rows: Optional[int]) -> np.ndarray:
    """W: (rows, n_classes) when the pipeline says how many rows, else 1 to 10^6 + 1 rows;
    finite and bounded values."""
    def check_shape(shape: tuple) -> Optional[str]:
        if shape[1] != n_classes:
            return f"{shape[1]:,} columns for {n_classes} class names"
        if rows is not None and shape[0] != rows:
            return f"{shape[0]:,} rows, the feature pipeline makes {rows - 1:,} features + bias"
        if not 1 <= shape[0] <= MAX_MODEL_FEATURES + 1:
            return f"1 to {MAX_MODEL_FEATURES:,} features + bias allowed"
        return None

    W = archive.read("W", MAX_MODEL_WEIGHTS, max_bytes=MAX_WEIGHT_BYTES, check_shape=check_shape)
    problem = check_weights(W)
    if problem is not None:
        raise ModelFileError(f"{path}: {problem}")
    return W


def _pipeline_of(archive: _ModelArchive, path: Path):
    """The fitted feature pipeline, or None when the file has none: its size is known from the
    spec and the image shape before the statistics are read, and must be within bounds."""
    from linviz.features import FeaturePipeline

    feature_keys = [key for key in archive.files if key.startswith("feature_")]
    if not feature_keys:
        return None
    unknown = [key for key in feature_keys if key not in _ARRAY_RULES]
    if unknown:
        raise ModelFileError(f"{path}: unknown feature pipeline array {unknown[0][:40]!r}")
    state = {key: archive.read(key, 4) for key in ("feature_spec", "feature_scaling", "feature_image_shape",
                                                    "feature_state_version") if key in feature_keys}
    try:
        layout = FeaturePipeline.from_state(state, statistics=False)
    except LinvizError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    if layout.dim > MAX_MODEL_FEATURES:
        raise ModelFileError(f"{path}: the feature pipeline makes {layout.dim:,} features "
                             f"(at most {MAX_MODEL_FEATURES:,} allowed)")
    state["feature_mean"] = archive.read("feature_mean", layout.dim)
    state["feature_scale"] = archive.read("feature_scale", layout.dim)
    try:
        return FeaturePipeline.from_state(state)
    except LinvizError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
