"""The window's jobs: plain functions of a ``ctx`` (progress, cancel, publish; see
:mod:`linviz.gui.runtime.worker`) that run off the GUI thread and return immutable results for the
workbench (:mod:`linviz.workbench.state`). No Qt in here.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Optional

import numpy as np

from linviz.errors import Cancelled, LinvizError
from linviz.workbench.live_run import LiveRun, thinned
from linviz.workbench.thread_times import ThreadStopwatch
from linviz.workbench.state import (Evaluation, ExtractedFeatures, Model, PreparedData, SplitSettings,
                                TrainingFrame)

# How often a training job steps aside for the GUI thread, and for how long (see train_job).
GIL_YIELD_EVERY_S = 0.1
GIL_YIELD_S = 0.001

# What the status strip says while the start-up warm-up runs (the kernels load, or compile on a
# first run): the window can be used meanwhile
WARM_UP_MESSAGE = "Getting ready: loading linviz's compiled kernels (the window works meanwhile)"


class QuietContext:
    """A job context that reports nothing and is never cancelled: for running a job
    synchronously (tests, the benchmark, scripts) instead of on a lane."""

    cancel = None

    def progress(self, done, total) -> None:
        pass

    def message(self, text) -> None:
        pass

    def publish(self, value) -> None:
        pass

    def cancelled(self) -> bool:
        return False


# --------------------------------------------------------------------------- data


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
    """Hold out ``val_size`` training images (stratified; at most half; None: the commands'
    default), then subsample. The result keeps the settings as asked (a saved workspace keeps
    "auto"); :attr:`PreparedData.split_record` says how many were held out.

    ``val_size`` 0 means no validation split, not the test split in its place: nothing may be
    selected on test images.
    """
    from linviz.data import split_validation, subsample_per_class

    from linviz.training.recipe import default_validation_size

    n_train = len(dataset.train.labels)
    asked = default_validation_size(n_train) if settings.val_size is None else int(settings.val_size)
    val_size = max(0, min(asked, n_train // 2))
    if val_size > 0:
        train, val = split_validation(dataset.train, val_size, seed=settings.seed)
    else:
        train, val = dataset.train, type(dataset.train)(dataset.train.images[:0], dataset.train.labels[:0])
    if settings.per_class > 0:
        train = subsample_per_class(train, settings.per_class, seed=settings.seed)
    return PreparedData(dataset=dataset, train=train, val=val, test=dataset.test, settings=settings)


# --------------------------------------------------------------------------- features


def extract_features(prepared: PreparedData, spec_text: str, ctx, allocate=None) -> ExtractedFeatures:
    """Fit the pipeline on the training split; transform every split (test included).
    ``allocate(shape, dtype, stem)`` makes the feature matrices (the window's makes them in
    shared memory, for its worker process); NumPy's by default.

    Blocks that learn from images (the visual words' codebook) learn from the training split
    only, from the split's seed; a second Extract of the same data and spec reuses them.
    """
    from linviz.features import FeaturePipeline, parse_feature_spec
    from linviz.training import warmup

    spec = parse_feature_spec(spec_text)
    pipeline = FeaturePipeline(spec, seed=prepared.settings.seed)
    wait_for_kernels(ctx, [warmup.features_part(spec, prepared.train.images.shape[1:3])])
    parts = [("train", prepared.train), ("val", prepared.val)]
    if prepared.test is not None:
        parts.append(("test", prepared.test))
    total = sum(len(split.labels) for _, split in parts)
    start = time.perf_counter()
    key = f"{prepared.key()}"
    if pipeline.has_fitted_blocks:
        learners = sorted({b.type.title for b in pipeline.blocks_for(prepared.train.images.shape[1:3])
                           if b.type.fitted})
        ctx.message(f"Learning {', '.join(learners)} from the {len(prepared.train.labels):,} training images")
        pipeline.fit_blocks(prepared.train.images, progress=ctx.progress, cancel=ctx.cancel, cache_key=f"{key}:train")
    ctx.message(f"Extracting {spec_text}")
    raw, done = {}, 0
    for name, split in parts:
        def progress(k, _total, offset=done):
            ctx.progress(offset + k, total)

        # The pipeline's in-memory cache makes a second Extract of the same data instant.
        raw[name] = pipeline.extract(split.images, progress=progress, cancel=ctx.cancel, cache_key=f"{key}:{name}")
        done += len(split.labels)
    seconds = time.perf_counter() - start
    pipeline.fit(raw["train"])
    X = {name: pipeline.transform_features(m, out=allocate((len(m), pipeline.dim + 1), np.float32, f"features-{name}")
                                           if allocate is not None else None) for name, m in raw.items()}
    return ExtractedFeatures(spec_text=str(spec), data_key=prepared.key(), pipeline=pipeline, X_train=X["train"],
                             X_val=X["val"], X_test=X.get("test"), n_images=total, seconds=seconds)


def extract_job(prepared: PreparedData, spec_text: str, allocate=None):
    def job(ctx) -> ExtractedFeatures:
        return extract_features(prepared, spec_text, ctx, allocate)

    return job


def canonical_spec(spec_text: str) -> str:
    from linviz.features import parse_feature_spec

    return str(parse_feature_spec(spec_text))


# --------------------------------------------------------------------------- models


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (true, predicted), 1)
    return counts


def evaluate(features: ExtractedFeatures, prepared: PreparedData, W: np.ndarray) -> Optional[Evaluation]:
    """The validation split's predictions and confusion counts; None without a validation split."""
    if not prepared.has_validation:
        return None
    predictions = np.argmax(features.X_val @ W, axis=1)
    return Evaluation(predictions, confusion_matrix(prepared.val.labels, predictions, len(prepared.class_names)))


def test_predictions(model: Model, X_test: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, float]:
    """The model's predicted class of every test image, and its test accuracy."""
    predictions = np.argmax(model.scores(X_test), axis=1)
    return predictions, float(np.mean(predictions == np.asarray(labels)))


def template_rows(W, pipeline):
    """Template pictures of W, or None when they cannot be drawn (never stops a job)."""
    from linviz.workbench.template_pictures import template_rows as rows

    try:
        return rows(W, pipeline)
    except Exception:  # a picture that cannot be drawn must never stop training
        return None


def make_training_config(settings: dict):
    """A TrainingConfig from the panel's settings, keeping only the fields it knows."""
    from linviz.training import TrainingConfig

    known = {f.name for f in dataclasses.fields(TrainingConfig)}
    return TrainingConfig(**{k: v for k, v in settings.items() if k in known})


def train_job(prepared: PreparedData, features: Optional[ExtractedFeatures], spec_text: str, settings: dict,
              control, run: int, W0: Optional[np.ndarray] = None):
    """Train (extracting features first when they are missing or stale); publish frames.

    Frames go to ``ctx.publish`` (newest wins). Everything a frame's model carries that costs
    time (the validation confusion matrix at epoch ends, the template pictures) is computed
    here, off the GUI thread.
    """

    def job(ctx) -> TrainingFrame:
        from linviz.training import train, warmup

        feats = features
        if feats is None or feats.spec_text != canonical_spec(spec_text) or feats.data_key != prepared.key():
            feats = extract_features(prepared, spec_text, ctx)
        config = make_training_config(settings)
        loss = config.loss
        X_val, y_val = (feats.X_val, prepared.val.labels) if prepared.has_validation else (None, None)
        # the chunked path too: stepping one by one, the loop would hold the window's GIL
        wait_for_kernels(ctx, [warmup.training_part(), warmup.training_loop_part()])
        ctx.message("Training")
        live = LiveRun(lambda W: evaluate(feats, prepared, W), lambda W: template_rows(W, feats.pipeline))
        model, frame = None, None
        path, trajectory = [], ()  # the weights after the first update and at each epoch end
        last_yield = loop_start = time.perf_counter()
        stopwatch = ThreadStopwatch()
        W_start = W0 if (W0 is not None and W0.shape[0] == feats.dim) else None
        for snapshot in train(feats.X_train, prepared.train.labels, X_val, y_val, config, control=control,
                              W0=W_start, n_classes=len(prepared.class_names)):
            followed = live.follow(snapshot)
            if followed.trajectory:
                path = thinned(path) + [live.W]
                trajectory = tuple(path)
            if followed.model:
                model = Model(live.W, loss, dict(settings), feats, live.evaluation, live.templates)
            frame = TrainingFrame(snapshot, model, run, data_key=prepared.key(), trajectory=trajectory)
            if snapshot.iteration > 0:  # the initial random weights are no model to show
                ctx.publish(frame)
            now = time.perf_counter()
            if now - last_yield >= GIL_YIELD_EVERY_S:
                # Let the GUI thread in. A loop of short nogil kernels releases and retakes the
                # GIL thousands of times a second; CPython's GIL then never forces a switch
                # (each hand-over resets the waiter's 5 ms timeout) and the GUI thread can wait
                # 100+ ms. A short real sleep guarantees it a turn, for ~1% of the throughput
                # (the 1 ms switch interval set by the runner does most of the work).
                time.sleep(GIL_YIELD_S)
                last_yield = time.perf_counter()
        if frame is None or frame.snapshot.iteration == 0 or model is None:
            # No update was made: these weights are random, never a model to keep.
            reason = getattr(frame.snapshot, "stop_reason", None) if frame is not None else None
            if ctx.cancelled() or getattr(control, "stopped", False) or not reason:
                raise Cancelled("stopped before the first iteration")
            raise LinvizError(f"training: {reason}")
        best_W = frame.snapshot.best_W
        if best_W is not None and best_W is not model.W:
            # Keep the best weights (by validation accuracy) as the model, as the core does.
            model = Model(best_W, loss, dict(settings), feats, evaluate(feats, prepared, best_W),
                          template_rows(best_W, feats.pipeline))
        return dataclasses.replace(frame, model=model, final=True, wall_seconds=time.perf_counter() - loop_start,
                                   loop_times=stopwatch.stop())

    return job


def load_model_job(path: str, prepared: PreparedData, allocate=None):
    """A job: read the model file and re-express every split through ITS pipeline (its own
    standardization statistics; nothing is refitted). Returns the Model. ``allocate``: as
    for :func:`extract_features`."""

    def job(ctx) -> Model:
        from linviz.models import load_model

        return model_on_data(load_model(path), prepared, ctx, path, allocate)

    return job


def model_on_data(saved, prepared: PreparedData, ctx, label: str, allocate=None) -> Model:
    """A loaded model file (``linviz.models.SavedModel``) as the workbench's Model on
    ``prepared``: every split re-expressed through the model's own pipeline. ``label`` names
    the model in messages; ``allocate``: as for :func:`extract_features`."""
    if saved.pipeline is None:
        raise LinvizError(f"{label}: this model has no feature pipeline, so it cannot read images")
    names = list(saved.class_names)
    if names != prepared.class_names:
        raise LinvizError(f"{label}: the model's classes ({', '.join(names)}) are not this dataset's")
    pipeline = saved.pipeline
    splits = [prepared.train, prepared.val] + ([prepared.test] if prepared.test is not None else [])
    total = sum(len(s.labels) for s in splits)
    start, done, X = time.perf_counter(), 0, []
    for split in splits:
        def progress(k, _total, offset=done):
            ctx.progress(offset + k, total)

        matrix = np.ascontiguousarray(pipeline.transform(split.images, progress=progress, cancel=ctx.cancel),
                                      dtype=np.float32)
        if allocate is not None:
            matrix = _moved(matrix, allocate(matrix.shape, np.float32, "features"))
        X.append(matrix)
        done += len(split.labels)
    features = ExtractedFeatures(str(pipeline.spec), prepared.key(), pipeline, X[0], X[1],
                                 X[2] if len(X) > 2 else None, total, time.perf_counter() - start)
    W = np.asarray(saved.W, dtype=np.float32)
    settings = usable_settings(saved.hyperparameters, label)
    settings.setdefault("loss", str(saved.loss))
    return Model(W, str(saved.loss), settings, features, evaluate(features, prepared, W),
                 template_rows(W, pipeline))


def _moved(matrix: np.ndarray, destination: np.ndarray) -> np.ndarray:
    destination[...] = matrix
    return destination


def usable_settings(hyperparameters, path: str) -> dict:
    """A model file's hyper-parameters as training settings: those that are TrainingConfig's
    fields. :func:`linviz.models.load_model` has checked each one's type and range already
    (the bounds TrainingConfig checks); what TrainingConfig still refuses (an optimizer this
    linviz does not have) is a clear error naming the file, never a failure inside a view."""
    from linviz.training import TrainingConfig

    if not isinstance(hyperparameters, dict):
        raise LinvizError(f"{path}: hyper-parameters must be a mapping, not {type(hyperparameters).__name__}")
    fields = {field.name for field in dataclasses.fields(TrainingConfig)}
    settings = {name: value for name, value in hyperparameters.items() if name in fields}
    try:
        TrainingConfig(**settings)
    except (TypeError, ValueError) as exc:
        raise LinvizError(f"{path}: unusable hyper-parameters ({exc})") from None
    return settings


def last_accuracies(frame: Optional[TrainingFrame]) -> dict:
    """The newest train / validation accuracies of a run, for the model file."""
    snap = frame.snapshot if frame is not None else None
    accuracies = {}
    if snap is not None:
        if snap.train_accuracies:
            accuracies["train"] = float(snap.train_accuracies[-1])
        if snap.val_accuracies:
            accuracies["val"] = float(snap.val_accuracies[-1])
    return accuracies


# --------------------------------------------------------------------------- start-up


def kernel_parts(spec_text: str, image_shape=(32, 32)) -> list[dict]:
    """The Numba kernels the window needs first, as warm-up parts
    (:mod:`linviz.training.warmup`): the selected image's pictures', a training's on
    ``spec_text`` (its features', the training's)."""
    from linviz.training import warmup
    from linviz.workbench.template_pictures import PICTURE_FEATURES

    parts = [warmup.features_part(PICTURE_FEATURES), warmup.features_part(spec_text, image_shape),
             *warmup.training_parts()]
    return list({warmup.part_key(p): p for p in parts}.values())


def prepare_kernels(spec_text: str) -> None:
    """Start getting the kernels of a first training on ``spec_text`` ready in the
    background (compiled in other processes on a first run); returns at once."""
    from linviz.training import warmup

    try:
        warmup.prepare(kernel_parts(spec_text))
    except LinvizError:
        pass  # a spec that does not parse: the extraction will say so


def wait_for_kernels(ctx, parts: list[dict]) -> None:
    """Wait for the kernels of ``parts``; while they compile, the job's message says so
    ("Compiling linviz's kernels, first run only: ..."). Cancelling stops the wait only."""
    from linviz.training import warmup

    def report(text: str) -> None:
        if text:
            ctx.message(text[0].upper() + text[1:])

    warmup.wait(warmup.prepare(parts), report=report, cancel=ctx.cancelled)


def warmup_job(spec_text: str, presets: int = 4):
    """The kernels of a first training on ``spec_text``, then those of the first ``presets``
    feature presets and of the visual words, one part at a time (compiled in a child process each on a first run, so
    that one core stays free), made ready; the strip says what compiles."""

    def job(ctx) -> float:
        from linviz.features import PRESETS
        from linviz.training import warmup

        start = time.perf_counter()
        ctx.message(WARM_UP_MESSAGE)
        wait_for_kernels(ctx, kernel_parts(spec_text))
        for preset in dict.fromkeys(list(PRESETS.values())[:presets] + [PRESETS["words"]]):
            wait_for_kernels(ctx, [warmup.features_part(preset)])
        return time.perf_counter() - start

    return job
