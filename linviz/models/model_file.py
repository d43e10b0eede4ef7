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
from typing import Optional, Sequence

import numpy as np

from linviz.errors import LinvizError, ModelFileError
from linviz.models.losses import LOSSES
from linviz.limits import (MAX_IMAGE_SIZE, MAX_MODEL_CLASSES, MAX_MODEL_FEATURES, MAX_MODEL_WEIGHTS,
                           MAX_NAME_CHARS, MIN_IMAGE_SIZE)
from linviz.safe_files import FileRefusedError, atomic_write, open_regular_or

FORMAT_NAME = "linviz-model"
FORMAT_VERSION = 1
REQUIRED = ("format", "format_version", "W", "class_names", "loss", "metadata")


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
    trained on ready-made features, which then cannot classify image files).
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
        """Scores (N, C) of standardized features with the bias column last."""
        return np.asarray(features_with_bias, dtype=np.float32) @ self.W

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

            return softmax(scores.astype(np.float64))
        return scores

    def predict_images(self, paths: Sequence, top: Optional[int] = None) -> list[ImagePrediction]:
        """Classify image files; an unreadable file gets an ``error`` instead of raising."""
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
_MAX_METADATA_DEPTH = 8


class _ModelArchive:
    """The .npz read member by member: each array's header is checked before its data is read."""

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

    def read(self, key: str, max_elements: int) -> np.ndarray:
        """The array ``key``, if its header declares an allowed type and at most ``max_elements``."""
        path = self.path
        info = self.members.get(key)
        if info is None:
            raise ModelFileError(f"{path}: incomplete model file: the array {key!r} is missing")
        kinds, ndims = _ARRAY_RULES[key]
        try:
            with self.zip.open(info) as f:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
                elif version in ((2, 0), (3, 0)):
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
                else:
                    raise ValueError(f"unknown .npy version {version}")
                if dtype.hasobject:
                    raise ModelFileError(f"{path}: the array {key!r} cannot be read safely (Python "
                                         "objects, which would need pickle)")
                if dtype.kind not in kinds:
                    raise ModelFileError(f"{path}: the array {key!r} holds {dtype} values, expected "
                                         f"{'text' if kinds == 'U' else 'whole numbers' if kinds == 'iu' else 'numbers'}")
                if len(shape) not in ndims:
                    raise ModelFileError(f"{path}: the array {key!r} has {len(shape)} dimensions, "
                                         f"expected {ndims[0]}")
                count = math.prod(shape)
                if count > max_elements:
                    raise ModelFileError(f"{path}: the array {key!r} declares shape {shape}, more than "
                                         f"{max_elements:,} values (refused before reading it)")
                limit = _MAX_TEXT_CHARS.get(key)
                if dtype.kind == "U" and limit is not None and dtype.itemsize // 4 > limit:
                    raise ModelFileError(f"{path}: the array {key!r} holds text of up to "
                                         f"{dtype.itemsize // 4:,} characters (at most {limit:,} allowed)")
                nbytes = count * dtype.itemsize
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


_NUMBER_FIELDS = ("reg", "learning_rate", "lr_decay", "momentum", "delta", "elastic_beta", "adam_beta1",
                  "adam_beta2", "init_scale", "search_step", "divergence_factor", "smoothing")
_WHOLE_FIELDS = ("epochs", "batch_size", "seed", "early_stopping", "snapshot_every", "accuracy_sample",
                 "val_size", "per_class", "best_epoch", "n_train", "n_val", "n_features")
_TEXT_FIELDS = ("loss", "optimizer", "reg_type", "linviz_version", "saved", "source", "stop_reason",
                "feature_spec", "features")


def _check_field(where: str, key: str, value, path: Path) -> None:
    """One metadata or hyper-parameter field: a known name has a known type and range."""
    def bad(expected: str):
        raise ModelFileError(f"{path}: {where} {key!r} must be {expected}, got {_short_repr(value)}")

    if value is None:
        return
    if key in _NUMBER_FIELDS:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            bad("a finite number")
    elif key in _WHOLE_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int) or not -(2**63) <= value < 2**63:
            bad("a whole number")
        if key != "seed" and value < 0:
            bad("a whole number >= 0")
    elif key in _TEXT_FIELDS:
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
                    _check_field("hyper-parameter", name, item, path)
        elif key == "class_names":
            if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
                raise ModelFileError(f"{path}: metadata 'class_names' must be a list of text")
        else:
            _check_field("metadata", key, value, path)
    return metadata


def _check_class_names(array: np.ndarray, n_classes: int, path: Path) -> list[str]:
    names = [str(n) for n in array]
    if len(names) != n_classes:
        raise ModelFileError(f"{path}: inconsistent model: W has {n_classes} columns for {len(names)} class names")
    if any(not n.strip() for n in names):
        raise ModelFileError(f"{path}: a class name is empty")
    if len(set(names)) != len(names):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        raise ModelFileError(f"{path}: duplicate class names ({', '.join(map(_short_repr, duplicates[:3]))})")
    return names


def load_model(path) -> SavedModel:
    """Read a model file written by :func:`save_model`; ModelFileError saying why if it cannot."""
    path = Path(path)
    with _ModelArchive(path) as archive:
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
        W = archive.read("W", MAX_MODEL_WEIGHTS)
        rows, n_classes = W.shape
        if not 2 <= n_classes <= MAX_MODEL_CLASSES:
            raise ModelFileError(f"{path}: inconsistent model: W {W.shape} for {n_classes} classes "
                                 f"(2 to {MAX_MODEL_CLASSES:,} allowed)")
        if not 1 <= rows <= MAX_MODEL_FEATURES + 1:
            raise ModelFileError(f"{path}: inconsistent model: W {W.shape} (1 to {MAX_MODEL_FEATURES:,} "
                                 "features + bias allowed)")
        names = _check_class_names(archive.read("class_names", MAX_MODEL_CLASSES), n_classes, path)
        loss = str(_scalar(archive.read("loss", 1)))
        try:
            metadata = json.loads(str(_scalar(archive.read("metadata", 1))))
        except RecursionError:
            raise ModelFileError(f"{path}: corrupt metadata (nested too deeply)") from None
        except ValueError as exc:
            raise ModelFileError(f"{path}: corrupt metadata ({exc})") from None
        metadata = _check_metadata(metadata, path)
        feature_keys = [key for key in archive.files if key.startswith("feature_")]
        unknown = [key for key in feature_keys if key not in _ARRAY_RULES]
        if unknown:
            raise ModelFileError(f"{path}: unknown feature pipeline array {unknown[0][:40]!r}")
        feature_state = {}
        for key in ("feature_spec", "feature_scaling", "feature_image_shape", "feature_state_version"):
            if key in feature_keys:
                feature_state[key] = archive.read(key, 4)
        pipeline = None
        if feature_keys:
            pipeline = _pipeline_of(feature_state, archive, path)
    if not np.isfinite(W).all():
        raise ModelFileError(f"{path}: the weights contain NaN or infinite values")
    if loss not in LOSSES:
        raise ModelFileError(f"{path}: unknown loss {loss[:40]!r}")
    if pipeline is not None and pipeline.dim + 1 != W.shape[0]:
        raise ModelFileError(f"{path}: inconsistent model: W has {W.shape[0]} rows, the feature "
                             f"pipeline makes {pipeline.dim} features + bias")
    return SavedModel(path, np.ascontiguousarray(W, dtype=np.float32), names, loss, pipeline,
                      metadata, version)


def _pipeline_of(state: dict, archive: _ModelArchive, path: Path):
    """The fitted feature pipeline: its size is known from spec and image shape before the
    statistics are read, and must be within bounds."""
    from linviz.features import FeaturePipeline

    try:
        layout = FeaturePipeline.from_state(state, statistics=False)
    except LinvizError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    if layout.dim > MAX_MODEL_FEATURES:
        raise ModelFileError(f"{path}: the feature pipeline makes {layout.dim:,} features "
                             f"(at most {MAX_MODEL_FEATURES:,} allowed)")
    state = dict(state)
    state["feature_mean"] = archive.read("feature_mean", layout.dim)
    state["feature_scale"] = archive.read("feature_scale", layout.dim)
    try:
        return FeaturePipeline.from_state(state)
    except LinvizError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
