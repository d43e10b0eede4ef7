"""What the workbench holds: data with its splits, features, a model, a training frame, a
selection, dropped-in images. Immutable values (but :class:`UserImage`, which caches its
features), made off the GUI thread by jobs and applied by the workbench. No Qt in here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np

from linviz.text import duration

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class SplitSettings:
    """How the loaded training split is divided: validation size, optional subsample.

    ``val_size`` None: the size every command holds out by default (1,000 images, at most a
    tenth of the training split: :func:`linviz.training.recipe.default_validation_size`), so
    the app and the command line split a source the same way."""

    val_size: Optional[int] = None
    per_class: int = 0  # 0 = every training image
    seed: int = 0


@dataclass(frozen=True, eq=False)
class PreparedData:
    """A dataset with its working splits, ready for feature extraction.

    ``val`` has no images when the user asked for none: nothing is then selected on
    validation accuracy, and the test split is never used in its place.
    """

    dataset: Any  # linviz.data.Dataset
    train: Any  # linviz.data.Split
    val: Any
    test: Any  # Split or None
    settings: SplitSettings
    seconds: float = 0.0

    @property
    def class_names(self) -> list[str]:
        return list(self.dataset.class_names)

    def key(self) -> tuple:
        return (getattr(self.dataset, "key", id(self.dataset)), self.settings)

    @property
    def split_record(self) -> dict:
        """The split as a run record names it: the validation images held out as a number
        (what "auto" came to, or what was asked, at most half), the same as a command's run
        on the same source records."""
        return {**dataclasses.asdict(self.settings), "val_size": len(self.val.labels)}

    def split(self, name: str):
        """The Split called ``name`` ("train", "validation", "test"), or None."""
        return {"train": self.train, "validation": self.val, "test": self.test}[name]

    @property
    def has_validation(self) -> bool:
        return len(self.val.labels) > 0


@dataclass(frozen=True, eq=False)
class ExtractedFeatures:
    """Standardized features (bias column last) of every split, extracted together, and their
    pipeline. ``X_test`` is None without a test split; it is scored only when the user asks."""

    spec_text: str
    data_key: tuple
    pipeline: Any  # linviz.features.FeaturePipeline
    X_train: np.ndarray
    X_val: np.ndarray
    X_test: Optional[np.ndarray]
    n_images: int
    seconds: float

    def timing_text(self) -> str:
        return f"{self.n_images:,} images in {duration(self.seconds)}"

    def matrix(self, split: str) -> Optional[np.ndarray]:
        return {"train": self.X_train, "validation": self.X_val, "test": self.X_test}[split]

    @property
    def dim(self) -> int:
        """Columns of the matrices: the features plus the bias column."""
        return int(self.X_train.shape[1])


@dataclass(frozen=True, eq=False)
class Evaluation:
    """The model on the validation split: predicted classes and the confusion counts."""

    val_predictions: np.ndarray  # (N_val,)
    confusion: np.ndarray  # (C, C), rows = true class

    @property
    def accuracy(self) -> Optional[float]:
        total = int(self.confusion.sum())
        return float(np.trace(self.confusion)) / total if total else None


@dataclass(frozen=True, eq=False)
class Model:
    """The current classifier: weights and everything needed to read and judge them.

    ``settings`` are the training settings it was made with (TrainingConfig field names; saved
    with the model). ``features`` are the features W reads: the workbench keeps
    ``model.features is workbench.features``. ``evaluation`` and ``templates`` (pictures of
    W, made off the GUI thread) may lag W by a few hundred milliseconds while training.
    """

    W: np.ndarray  # (D + 1, C), bias row last
    loss: str  # a name of linviz.models.LOSSES
    settings: dict
    features: ExtractedFeatures
    evaluation: Optional[Evaluation] = None
    templates: Optional[list] = None
    test_predictions: Optional[np.ndarray] = None  # set only by "Score on test" (never chosen on)
    test_accuracy: Optional[float] = None

    def loss_options(self) -> dict:
        """Keyword arguments that make a loss function equal to the one W was trained with."""
        s = self.settings
        unregularized_bias = bool(s.get("unregularized_bias", True))
        return {"loss": self.loss, "delta": float(s.get("delta", 1.0)), "squared": bool(s.get("squared_hinge", False)),
                "reg": float(s.get("reg", 0.0)), "reg_type": str(s.get("reg_type", "l2")),
                "elastic_beta": float(s.get("elastic_beta", 1.0)),
                "n_reg_rows": self.W.shape[0] - 1 if unregularized_bias else None}

    def scores(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float32) @ np.asarray(self.W, dtype=np.float32)


@dataclass(frozen=True, eq=False)
class TrainingFrame:
    """What the live views draw: a training snapshot and the model as of that snapshot."""

    snapshot: Any  # linviz.training.Snapshot
    model: Optional[Model]  # None before the first weights exist
    run: int  # which run of this window the frame belongs to
    data_key: Optional[tuple] = None  # PreparedData.key() of the data trained on
    final: bool = False  # the run's last frame: views draw it at once, unthrottled
    wall_seconds: Optional[float] = None  # on the final frame: wall time of the training loop
    # on the final frame, where the loop's thread spent that time (a ThreadTimes; None where the
    # system does not say): running, waiting for a core, blocked (the GIL, in the window's process)
    loop_times: Any = None
    # the weights (D + 1, C) after the first update and at every epoch end so far (thinned to
    # every other one past MAX_TRAJECTORY): the path the loss landscape projects
    trajectory: tuple = ()


@dataclass(frozen=True)
class Selection:
    """One image: ``split`` is "train", "validation", "test" or "yours" (dropped-in images)."""

    split: str
    index: int


@dataclass
class UserImage:
    """One image the user dropped in: its pixels and its features, computed once per pipeline."""

    path: str
    image: np.ndarray  # uint8 (S, S, 3)
    features: Optional[np.ndarray] = None  # (D+1,) for the pipeline it was computed with
    features_for: Any = None  # that pipeline

    @property
    def name(self) -> str:
        return Path(self.path).name


@dataclass(frozen=True, eq=False)
class SelectedImage:
    """The selected image resolved against the workbench: pixels, features, label, caption."""

    selection: Selection
    image: np.ndarray  # uint8 (H, W, 3)
    x: Optional[np.ndarray]  # standardized features with the bias (the model's input), or None
    true_class: Optional[int]  # None for a dropped-in image
    caption: str
