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
not a zip, truncated, another program's .npz, a newer format, missing or inconsistent arrays)
raises :class:`~linviz.errors.ModelFileError` with the file name and the reason.
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from linviz.errors import LinvizError, ModelFileError

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
    if loss not in ("svm", "softmax"):
        raise ValueError(f"loss must be 'svm' or 'softmax', got {loss!r}")
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
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        # Inside the try: a parent that is a file (or not writable) is a user's mistake too.
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:  # a file object: np.savez would append ".npz" to a name
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:  # e.g. its folder is a file: there is nothing to clean up
            pass
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
        if self.loss == "softmax":
            from linviz.models.losses import softmax

            return softmax(scores.astype(np.float64))
        return scores

    def predict_images(self, paths: Sequence, top: Optional[int] = None) -> list[ImagePrediction]:
        """Classify image files; an unreadable file gets an ``error`` instead of raising."""
        from linviz.data import read_image

        kind = "probability" if self.loss == "softmax" else "score"
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


def _read_array(archive, key: str, path: Path) -> np.ndarray:
    try:
        return archive[key]
    except KeyError:
        raise ModelFileError(f"{path}: incomplete model file: the array {key!r} is missing") from None
    except ValueError as exc:  # e.g. an object array, which would need pickle
        raise ModelFileError(f"{path}: the array {key!r} cannot be read safely ({exc})") from None
    except (zipfile.BadZipFile, EOFError, OSError, zipfile.LargeZipFile) as exc:
        raise ModelFileError(f"{path}: truncated or corrupt model file (reading {key!r}: {exc})") from None


def load_model(path) -> SavedModel:
    """Read a model file written by :func:`save_model`; ModelFileError saying why if it cannot."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{path}: no such model file")
    if path.is_dir():
        raise ModelFileError(f"{path}: is a folder, not a model file")
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if head[:2] != b"PK":
        raise ModelFileError(f"{path}: not a linviz model file (not an .npz archive)")
    try:
        archive = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as exc:
        raise ModelFileError(f"{path}: truncated or corrupt model file ({exc})") from None
    with archive:
        if "format" not in archive.files:
            raise ModelFileError(f"{path}: not a linviz model file (an .npz archive without "
                                 f"linviz's format marker; it holds {', '.join(archive.files[:5]) or 'nothing'})")
        if str(_read_array(archive, "format", path)) != FORMAT_NAME:
            raise ModelFileError(f"{path}: not a linviz model file (format marker "
                                 f"{str(archive['format'])!r})")
        try:
            version = int(_read_array(archive, "format_version", path))
        except (TypeError, ValueError):
            raise ModelFileError(f"{path}: unreadable format version") from None
        if version > FORMAT_VERSION:
            raise ModelFileError(f"{path}: written by a newer linviz (model format {version}; this "
                                 f"linviz reads up to {FORMAT_VERSION}); upgrade linviz to use it")
        arrays = {key: _read_array(archive, key, path) for key in REQUIRED}
        feature_state = {key: _read_array(archive, key, path)
                         for key in archive.files if key.startswith("feature_")}
    W = arrays["W"]
    names = [str(c) for c in np.atleast_1d(arrays["class_names"])]
    loss = str(arrays["loss"])
    try:
        metadata = json.loads(str(arrays["metadata"]))
    except ValueError as exc:
        raise ModelFileError(f"{path}: corrupt metadata ({exc})") from None
    if W.ndim != 2 or W.shape[1] != len(names) or W.dtype.kind != "f" or len(names) < 2:
        raise ModelFileError(f"{path}: inconsistent model: W {W.shape} for {len(names)} classes")
    if not np.isfinite(W).all():
        raise ModelFileError(f"{path}: the weights contain NaN or infinite values")
    if loss not in ("svm", "softmax"):
        raise ModelFileError(f"{path}: unknown loss {loss!r}")
    pipeline = None
    if feature_state:
        from linviz.features import FeaturePipeline

        try:
            pipeline = FeaturePipeline.from_state(feature_state)
        except LinvizError as exc:
            raise ModelFileError(f"{path}: {exc}") from None
        if pipeline.dim + 1 != W.shape[0]:
            raise ModelFileError(f"{path}: inconsistent model: W has {W.shape[0]} rows, the feature "
                                 f"pipeline makes {pipeline.dim} features + bias")
    return SavedModel(path, np.ascontiguousarray(W, dtype=np.float32), names, loss, pipeline,
                      metadata, version)
