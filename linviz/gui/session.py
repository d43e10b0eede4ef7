"""The workbench: the state every view and lab shows, as an evented model. No Qt in here.

One :class:`Workbench` per window holds the loaded data with its working splits, their
features, the current model, the newest training frame, the selected image and the images
the user dropped in. Each part announces its changes with a psygnal signal; views and labs
connect to the signals of what they show and never ask the window for anything. Writes
happen only on the GUI thread (jobs return immutable results that a controller applies), and
the workbench keeps the parts consistent: new data forgets the features and the model made
from the old, new features forget a model that cannot read them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
from psygnal import Signal

from linviz.errors import LinvizError
from linviz.gui.run_history import RunHistory

SPLITS = ("train", "validation", "test")


# --------------------------------------------------------------------------- state


@dataclass(frozen=True)
class SplitSettings:
    """How the loaded training split is divided: validation size, optional subsample."""

    val_size: int = 1000
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
        return f"{self.n_images:,} images in {self.seconds:.1f} s"

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
    loss: str  # "softmax" | "svm"
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


# --------------------------------------------------------------------------- the workbench


class Workbench:
    """The window's state (see the module docstring). Mutate only from the GUI thread."""

    data_changed = Signal(object)  # PreparedData | None
    features_changed = Signal(object)  # ExtractedFeatures | None
    model_changed = Signal(object)  # Model | None
    frame_changed = Signal(object)  # TrainingFrame | None (None: the curves are gone)
    training_changed = Signal(bool)  # a training run started (True) or ended (False)
    selection_changed = Signal(object)  # Selection | None
    user_images_changed = Signal()
    message_posted = Signal(str, bool)  # a status line for the user: text, is it an error

    def __init__(self):
        self.data: Optional[PreparedData] = None
        self.features: Optional[ExtractedFeatures] = None
        self.model: Optional[Model] = None
        self.frame: Optional[TrainingFrame] = None
        self.training = False
        self.selection: Optional[Selection] = None
        self.user_images: list[UserImage] = []
        self.runs = RunHistory(post=self.post_message)  # the recorded runs (Runs and Tuning labs)

    # ------------------------------------------------------------------ derived
    @property
    def class_names(self) -> list[str]:
        return self.data.class_names if self.data is not None else []

    @property
    def W(self) -> Optional[np.ndarray]:
        return self.model.W if self.model is not None else None

    def is_current(self, data_key) -> bool:
        """Results and frames count only for the data the workbench holds now."""
        return self.data is not None and data_key == self.data.key()

    # ------------------------------------------------------------------ changes
    def set_data(self, prepared: Optional[PreparedData]) -> None:
        """New data (or new splits): everything derived from the old data goes."""
        self.clear_model()
        self.set_features(None)
        self.selection = None
        self.data = prepared
        self.data_changed.emit(prepared)
        self.selection_changed.emit(None)

    def set_features(self, features: Optional[ExtractedFeatures]) -> None:
        """New features keep the model only when they are the same features (same spec, same
        data: a re-extraction); otherwise W cannot read them and the model goes."""
        if features is self.features:
            return
        model = self.model
        if model is not None and (features is None or features.spec_text != model.features.spec_text
                                  or features.data_key != model.features.data_key):
            self.clear_model()
            model = None
        self.features = features
        self._invalidate_user_image_features()
        self.features_changed.emit(features)
        if model is not None:
            self.set_model(dataclasses.replace(model, features=features))

    def set_model(self, model: Optional[Model]) -> None:
        if model is self.model:
            return
        if model is not None and model.features is not self.features:
            self.model = None  # replaced below: set_features must not rebind or clear it
            self.set_features(model.features)
        self.model = model
        self.model_changed.emit(model)

    def clear_model(self) -> None:
        """Forget the weights and the curves drawn while they were trained."""
        self.set_frame(None)
        self.set_model(None)

    def set_frame(self, frame: Optional[TrainingFrame]) -> None:
        """A frame from the training run; its model becomes the current model."""
        if frame is not None and frame.model is not None:
            self.set_model(frame.model)
        if frame is self.frame:
            return
        self.frame = frame
        self.frame_changed.emit(frame)

    def set_training(self, training: bool) -> None:
        if training != self.training:
            self.training = training
            self.training_changed.emit(training)

    def select(self, selection: Optional[Selection]) -> None:
        if selection != self.selection:
            self.selection = selection
            self.selection_changed.emit(selection)

    def add_user_images(self, images: list[UserImage]) -> None:
        if images:
            self.user_images.extend(images)
            self.user_images_changed.emit()

    def clear_user_images(self) -> None:
        self.user_images.clear()
        self.user_images_changed.emit()
        if self.selection is not None and self.selection.split == "yours":
            self.select(None)

    def post_message(self, text: str, error: bool = False) -> None:
        self.message_posted.emit(text, error)

    # ------------------------------------------------------------------ the selected image
    def selected_image(self) -> Optional[SelectedImage]:
        """The selection's pixels, model input (when the features exist) and true class."""
        sel = self.selection
        if sel is None or self.data is None:
            return None
        if sel.split == "yours":
            if not 0 <= sel.index < len(self.user_images):
                return None
            item = self.user_images[sel.index]
            return SelectedImage(sel, item.image, self.user_image_features(item), None, item.name)
        part = self.data.split(sel.split)
        if part is None or not 0 <= sel.index < len(part.labels):
            return None
        x = None
        if self.features is not None and self.is_current(self.features.data_key):
            matrix = self.features.matrix(sel.split)
            x = matrix[sel.index] if matrix is not None else None
        return SelectedImage(sel, part.images[sel.index], x, int(part.labels[sel.index]),
                             f"{sel.split} image {sel.index:,}")

    def user_image_features(self, item: UserImage) -> Optional[np.ndarray]:
        """The model input of a dropped-in image (computed once per pipeline), or None."""
        if self.features is None:
            return None
        pipeline = self.features.pipeline
        if item.features_for is not pipeline:
            try:
                item.features = np.asarray(pipeline.transform(item.image[None]), dtype=np.float32)[0]
            except LinvizError as exc:
                self.post_message(f"{item.name}: {exc}", error=True)
                item.features = None
            item.features_for = pipeline
        return item.features

    def _invalidate_user_image_features(self) -> None:
        for item in self.user_images:
            item.features, item.features_for = None, None
