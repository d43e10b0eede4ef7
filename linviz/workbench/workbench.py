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
from typing import Optional

import numpy as np
from psygnal import Signal

from linviz.errors import LinvizError
from linviz.workbench.run_history import RunHistory
from linviz.workbench.state import (ExtractedFeatures, Model, PreparedData, SelectedImage, Selection, TrainingFrame,
                                    UserImage)

__all__ = ["Workbench"]




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

    def step_selection(self, step: int, same_class: bool = False) -> None:
        """Select the image ``step`` places on in the selected split (wrapping at its ends; a
        dropped-in image: among those), or the first validation image when none is selected.
        ``same_class``: count only images of the selected image's true class."""
        sel = self.selection
        if sel is None:
            if self.data is not None:
                split = "validation" if self.data.has_validation else "train"
                if len(self.data.split(split).labels):
                    self.select(Selection(split, 0))
            return
        if sel.split == "yours":
            n = len(self.user_images)
            if n:
                self.select(Selection("yours", (sel.index + step) % n))
            return
        part = self.data.split(sel.split) if self.data is not None else None
        if part is None or not len(part.labels):
            return
        labels = np.asarray(part.labels)
        order = np.arange(len(labels))
        if same_class and 0 <= sel.index < len(labels):
            order = np.flatnonzero(labels == labels[sel.index])
        here = int(np.searchsorted(order, sel.index))
        if here < len(order) and order[here] == sel.index:
            target = order[(here + step) % len(order)]
        else:  # not among them: the nearest one in the direction of the step
            target = order[here % len(order)] if step > 0 else order[(here - 1) % len(order)]
        self.select(Selection(sel.split, int(target)))

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
