"""The workbench state behind the window, and the jobs that change it. No Qt in here.

The window keeps one :class:`Workbench`. Long operations are *jobs*: plain functions of a
``ctx`` (progress, cancel, publish; see :mod:`linviz.gui.worker`) that run on the compute
thread and return an immutable result. The GUI thread then *applies* that result with a
cheap assignment, so the workbench is only ever mutated from the GUI thread.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from linviz.errors import Cancelled, LinvizError


# How often a training job steps aside for the GUI thread, and for how long (see train_job).
GIL_YIELD_EVERY_S = 0.1
GIL_YIELD_S = 0.001
TEMPLATE_INTERVAL_S = 0.2  # template pictures at most 5 times a second

# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class SplitSettings:
    """How the loaded training split is divided: validation size, optional subsample."""

    val_size: int = 1000
    per_class: int = 0  # 0 = every training image
    seed: int = 0


@dataclass(frozen=True)
class PreparedData:
    """A dataset with its working splits, ready for feature extraction."""

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


@dataclass(frozen=True)
class ExtractedFeatures:
    """Standardized features (bias column last) of the working splits, and their pipeline."""

    spec_text: str
    data_key: tuple
    pipeline: Any  # linviz.features.FeaturePipeline
    X_train: np.ndarray
    X_val: np.ndarray
    n_images: int
    seconds: float

    def timing_text(self) -> str:
        return f"{self.n_images:,} images in {self.seconds:.1f} s"


@dataclass(frozen=True)
class TrainingFrame:
    """What the live views draw: a snapshot plus what the GUI derives from it off-thread."""

    snapshot: Any  # linviz.training.Snapshot
    W: Optional[np.ndarray]  # newest weights seen so far (snapshots may throttle W)
    loss: str  # "softmax" | "svm"
    confusion: Optional[np.ndarray]  # (C, C) counts on the validation split, rows = true class
    val_predictions: Optional[np.ndarray]  # (N_val,) predicted classes at the last epoch end
    features: Optional[ExtractedFeatures] = None  # set when the job extracted them first
    templates: Optional[list] = None  # template_rows() of some recent W, drawn off the GUI thread
    wall_seconds: Optional[float] = None  # on the job's result: wall time of the training loop
    data_key: Optional[tuple] = None  # PreparedData.key() of the data trained on


# --------------------------------------------------------------------------- jobs


def load_job(source: str, settings: SplitSettings):
    """A job that loads ``source`` and prepares its splits."""

    def job(ctx) -> PreparedData:
        from linviz.data import load_dataset

        start = time.perf_counter()
        ctx.message(f"Loading {source}")
        dataset = load_dataset(source, progress=ctx.progress, cancel=ctx.cancel)
        prepared = prepare_splits(dataset, settings)
        return dataclasses.replace(prepared, seconds=time.perf_counter() - start)

    return job


def demo_dataset():
    """The offline demo set, built synchronously (it is small and generated)."""
    from linviz.data import make_demo_dataset

    return make_demo_dataset()


def prepare_splits(dataset, settings: SplitSettings) -> PreparedData:
    from linviz.data import split_validation, subsample_per_class

    n_train = len(dataset.train.labels)
    val_size = max(0, min(int(settings.val_size), n_train // 2))
    if val_size > 0:
        train, val = split_validation(dataset.train, val_size, seed=settings.seed)
    else:  # no room for a validation split: validate on the test split (said in the panel)
        train, val = dataset.train, dataset.test if dataset.test is not None else dataset.train
    if settings.per_class > 0:
        train = subsample_per_class(train, settings.per_class, seed=settings.seed)
    return PreparedData(dataset=dataset, train=train, val=val, test=dataset.test, settings=settings)


def extract_features(prepared: PreparedData, spec_text: str, ctx) -> ExtractedFeatures:
    """Fit the pipeline on the training split, transform train and validation."""
    from linviz.features import FeaturePipeline, parse_feature_spec

    spec = parse_feature_spec(spec_text)
    pipeline = FeaturePipeline(spec)
    n_train, n_val = len(prepared.train.labels), len(prepared.val.labels)
    total = n_train + n_val
    start = time.perf_counter()

    def train_progress(done, _total):
        ctx.progress(done, total)

    def val_progress(done, _total):
        ctx.progress(n_train + done, total)

    ctx.message(f"Extracting {spec_text}")
    # The pipeline's in-memory cache makes a second Extract of the same data instant.
    key = f"{prepared.key()}"
    raw_train = pipeline.extract(prepared.train.images, progress=train_progress, cancel=ctx.cancel,
                                 cache_key=key + ":train")
    raw_val = pipeline.extract(prepared.val.images, progress=val_progress, cancel=ctx.cancel, cache_key=key + ":val")
    seconds = time.perf_counter() - start
    pipeline.fit(raw_train)
    X_train = np.ascontiguousarray(pipeline.transform_features(raw_train), dtype=np.float32)
    X_val = np.ascontiguousarray(pipeline.transform_features(raw_val), dtype=np.float32)
    return ExtractedFeatures(
        spec_text=str(spec), data_key=prepared.key(), pipeline=pipeline, X_train=X_train, X_val=X_val,
        n_images=total, seconds=seconds,
    )


def extract_job(prepared: PreparedData, spec_text: str):
    def job(ctx) -> ExtractedFeatures:
        return extract_features(prepared, spec_text, ctx)

    return job


def make_training_config(settings: dict):
    """A TrainingConfig from the panel's settings, keeping only the fields it knows."""
    from linviz.training import TrainingConfig

    known = {f.name for f in dataclasses.fields(TrainingConfig)}
    return TrainingConfig(**{k: v for k, v in settings.items() if k in known})


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (true, predicted), 1)
    return counts


def train_job(prepared: PreparedData, features: Optional[ExtractedFeatures], spec_text: str,
              settings: dict, control, W0: Optional[np.ndarray] = None):
    """Train (extracting features first when they are missing or stale); publish frames.

    Frames go to ``ctx.publish`` (newest wins); the confusion matrix on the validation
    split is computed here, off the GUI thread, whenever an epoch ends.
    """

    def job(ctx) -> TrainingFrame:
        from linviz.training import train

        feats = features
        extracted_now = None
        if feats is None or feats.spec_text != _canonical(spec_text) or feats.data_key != prepared.key():
            feats = extract_features(prepared, spec_text, ctx)
            extracted_now = feats
        config = make_training_config(settings)
        data_key = prepared.key()
        loss = settings.get("loss", "softmax")
        y_train = prepared.train.labels
        y_val = prepared.val.labels
        n_classes = len(prepared.class_names)
        ctx.message("Training")
        last_W = W0
        epochs_seen = -1
        confusion = None
        val_predictions = None
        frame = None
        last_yield = time.perf_counter()
        templates, templates_for, templates_at = None, None, 0.0
        W_start = W0 if (W0 is not None and W0.shape[0] == feats.X_train.shape[1]) else None
        loop_start = time.perf_counter()
        for snapshot in train(feats.X_train, y_train, feats.X_val, y_val, config, control=control, W0=W_start,
                              n_classes=n_classes):
            W = getattr(snapshot, "W", None)
            if W is not None:
                last_W = W
            epochs_done = len(getattr(snapshot, "val_accuracies", ()) or ())
            if last_W is not None and (epochs_done != epochs_seen or snapshot.done):
                epochs_seen = epochs_done
                val_predictions = np.argmax(feats.X_val @ last_W, axis=1)
                confusion = confusion_matrix(y_val, val_predictions, n_classes)
            now = time.perf_counter()
            if last_W is not None and last_W is not templates_for and (
                    now - templates_at >= TEMPLATE_INTERVAL_S or snapshot.done):
                # Template pictures (HOG glyphs, bars) are made here, not on the GUI thread.
                templates, templates_for, templates_at = _template_rows(last_W, feats.pipeline), last_W, now
            frame = TrainingFrame(snapshot, last_W, loss, confusion, val_predictions, extracted_now, templates,
                                  data_key=data_key)
            if snapshot.iteration > 0:  # the initial random weights are no model to show
                ctx.publish(frame)
            if now - last_yield >= GIL_YIELD_EVERY_S:
                # Let the GUI thread in. A loop of short nogil kernels releases and retakes the
                # GIL thousands of times a second; CPython's GIL then never forces a switch
                # (each hand-over resets the waiter's 5 ms timeout) and the GUI thread can wait
                # 100+ ms. A short real sleep guarantees it a turn, for ~1% of the throughput
                # (the 1 ms switch interval set by the worker does most of the work).
                time.sleep(GIL_YIELD_S)
                last_yield = time.perf_counter()
        if frame is None or frame.snapshot.iteration == 0:
            # No update was made: these weights are random, never a model to keep.
            reason = getattr(frame.snapshot, "stop_reason", None) if frame is not None else None
            if ctx.cancelled() or getattr(control, "stopped", False) or not reason:
                raise Cancelled("stopped before the first iteration")
            raise LinvizError(f"training: {reason}")
        frame = dataclasses.replace(frame, wall_seconds=time.perf_counter() - loop_start)
        best_W = getattr(frame.snapshot, "best_W", None)
        if best_W is not None:
            # Keep the best weights (by validation accuracy) as the model, as the core does.
            val_predictions = np.argmax(feats.X_val @ best_W, axis=1)
            frame = dataclasses.replace(frame, W=best_W, confusion=confusion_matrix(y_val, val_predictions, n_classes),
                                        val_predictions=val_predictions, templates=_template_rows(best_W, feats.pipeline))
        return frame

    return job


def _template_rows(W, pipeline):
    from linviz.gui.template_pictures import template_rows

    try:
        return template_rows(W, pipeline)
    except Exception:  # a picture that cannot be drawn must never stop training
        return None


def _canonical(spec_text: str) -> str:
    from linviz.features import parse_feature_spec

    return str(parse_feature_spec(spec_text))


def warmup_job():
    """Compile the Numba kernels on tiny arrays so the first real call is fast."""

    def job(ctx) -> float:
        start = time.perf_counter()
        rng = np.random.default_rng(0)
        images = rng.integers(0, 256, size=(4, 32, 32, 3), dtype=np.uint8)
        try:
            from linviz.features import FeaturePipeline, PRESETS, parse_feature_spec
        except ImportError:
            return 0.0
        for spec_text in list(dict.fromkeys(PRESETS.values()))[:4]:
            if ctx.cancelled():
                raise Cancelled("warm-up cancelled")
            pipeline = FeaturePipeline(parse_feature_spec(spec_text))
            X = pipeline.fit_transform(images)
        try:
            from linviz.training import train

            y = np.arange(4) % 2
            for loss in ("softmax", "svm"):
                config = make_training_config({"loss": loss, "epochs": 1, "batch_size": 2})
                for _ in train(X, y, X, y, config, n_classes=2):
                    if ctx.cancelled():
                        raise Cancelled("warm-up cancelled")
        except ImportError:
            pass
        return time.perf_counter() - start

    return job


# --------------------------------------------------------------------------- scoring


def scores_for(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    return np.asarray(X, dtype=np.float32) @ np.asarray(W, dtype=np.float32)


@dataclass
class UserImage:
    """One image the user dropped in: its pixels and, once a model exists, its scores."""

    path: str
    image: np.ndarray  # uint8 (S, S, 3)
    features: Optional[np.ndarray] = None  # (D+1,) for the pipeline it was computed with
    features_for: Optional[str] = None  # spec text of that pipeline


@dataclass
class Workbench:
    """The state the window shows. Mutated only on the GUI thread."""

    data: Optional[PreparedData] = None
    features: Optional[ExtractedFeatures] = None
    frame: Optional[TrainingFrame] = None  # newest training frame (live or final)
    W: Optional[np.ndarray] = None
    loss: str = "softmax"
    hyperparameters: Optional[dict] = None  # the settings the model was trained with (saved with it)
    user_images: list[UserImage] = field(default_factory=list)

    @property
    def class_names(self) -> list[str]:
        return self.data.class_names if self.data is not None else []

    def model_matches_features(self) -> bool:
        return self.W is not None and self.features is not None and self.W.shape[0] == self.features.X_train.shape[1]

    def user_image_features(self, item: UserImage) -> Optional[np.ndarray]:
        if self.features is None:
            return None
        if item.features_for != self.features.spec_text:
            item.features = np.asarray(self.features.pipeline.transform(item.image[None]), dtype=np.float32)[0]
            item.features_for = self.features.spec_text
        return item.features
