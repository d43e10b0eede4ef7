"""The train recipe: load a source, hold out validation images, extract features, train,
evaluate, save.

These are the steps of ``python main.py train`` (``tune`` shares the first three), and the
benchmarks call the same functions, so that they measure exactly what the command does and
neither the CLI nor the benchmarks import the other. Each step is a plain function that
returns what it made; the caller decides what to show:

* ``step(name)`` (``loading``, ``features``) returns a context manager that yields a
  ``progress(done, total)`` callback; the CLI passes one that draws a progress bar, which
  a failing step erases. The default shows nothing.
* ``timings``, when given, is a dict each step adds its seconds to (the names the CLI's
  ``train --json`` reports).

The loading step checks only what the recipe itself needs and raises errors that carry
their numbers (:class:`NoValidationImages`, :class:`TooFewLeftToTrain`): the CLI words them
with its own options.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ContextManager, Iterator, Optional, Union

import numpy as np

import linviz.data
from linviz.data import Dataset, Split, split_validation
from linviz.errors import DatasetError, LinvizError
from linviz.features import FeaturePipeline
from linviz.models.model_file import save_model
from linviz.progress import ProgressCallback
from linviz.training.defaults import recommended_settings
from linviz.training.loop import Snapshot, TrainingConfig, TrainingControl, accuracy, train
from linviz.training.records import RunRecord, dataset_summary, make_record
from linviz.training import warmup
from linviz.text import counted

DEFAULT_VALIDATION = 1000  # validation images held out when none are asked for (at most a tenth)

# The TrainingConfig fields a model file keeps as its hyper-parameters.
HYPERPARAMETERS = ("loss", "reg", "reg_type", "elastic_beta", "delta", "optimizer", "learning_rate", "lr_decay",
                   "momentum", "batch_size", "epochs", "seed", "early_stopping", "search_step", "search_sample")

Step = Callable[[str], ContextManager[Optional[ProgressCallback]]]


@contextmanager
def quiet_step(name: str) -> Iterator[None]:
    """A step shown nowhere (no progress callback)."""
    yield None


class NoValidationImages(LinvizError):
    """Validation images are needed (early stopping), and the default split holds out none."""

    def __init__(self, n_train: int):
        super().__init__(f"{counted(n_train, 'training image')} leave no validation images by default")
        self.n_train = n_train


class TooFewLeftToTrain(LinvizError):
    """The validation split asked for leaves fewer than 2 classes to train on."""

    def __init__(self, held_out: int, n_train: int, left: int):
        super().__init__(f"holding out {held_out:,} of the {n_train:,} training images leaves {left:,} "
                         "(fewer than 2 classes) to train on")
        self.held_out, self.n_train, self.left = held_out, n_train, left


def default_validation_size(n_train: int) -> int:
    return min(DEFAULT_VALIDATION, n_train // 10)


def recommended_config(features, loss: str = "softmax", optimizer: str = "sgd", *, image_size: int = 32,
                       given: Optional[dict] = None, **fixed) -> TrainingConfig:
    """The configuration ``train`` uses: the settings recommended for these features, this
    loss and this optimizer (the app's defaults too), with every value of ``given`` that is
    not None instead, and the ``fixed`` fields (seed, regularization type, ...).
    ``ValueError`` for a value out of range."""
    settings = recommended_settings(features, loss, optimizer, image_shape=(image_size, image_size))
    settings.update({k: v for k, v in (given or {}).items() if v is not None})
    return TrainingConfig(loss=loss, optimizer=optimizer, **fixed, **settings)


def check_trainable(dataset: Dataset) -> None:
    """A classifier needs two classes with training images; say so before any work."""
    present = [dataset.class_names[i] for i in np.unique(dataset.train.labels)]
    if len(present) < 2:
        where = "has" if len(dataset.class_names) < 2 else "has training images of"
        names = f" ({present[0]})" if present else ""
        raise DatasetError(f"{dataset.source} {where} only {len(present)} class{names}; "
                           "training needs at least 2")


def split_for_training(split: Split, val: Union[int, float, None], seed: int, *,
                       needs_validation: bool = False) -> tuple[Split, Optional[Split], Union[int, float]]:
    """(training split, validation split or None, the validation size used): ``val`` images
    (a count, or a fraction) held out of ``split``, stratified with ``seed``; None: the
    default, :data:`DEFAULT_VALIDATION` at most a tenth; 0: none."""
    n_train = len(split)
    val_size = val if val is not None else default_validation_size(n_train)
    if needs_validation and not val_size:
        raise NoValidationImages(n_train)
    if not val_size:
        return split, None, val_size
    train_split, val_split = split_validation(split, val_size, seed=seed)
    if len(np.unique(train_split.labels)) < 2:
        raise TooFewLeftToTrain(len(val_split), n_train, len(train_split))
    return train_split, val_split, val_size


@dataclass
class TrainingData:
    """A source loaded and split, and (after :func:`extract`) its feature matrices."""

    dataset: Dataset
    pipeline: FeaturePipeline
    train: Split
    val: Optional[Split]
    val_size: Union[int, float]
    seed: int                       # of the validation split
    with_test: bool = True
    matrices: dict = field(default_factory=dict)  # "train", "val", "test" -> float32 (N, D + 1)

    @property
    def n_classes(self) -> int:
        return len(self.dataset.class_names)

    @property
    def X(self) -> np.ndarray:
        return self.matrices["train"]

    @property
    def y(self) -> np.ndarray:
        return self.train.labels

    @property
    def X_val(self) -> Optional[np.ndarray]:
        return self.matrices.get("val")

    @property
    def y_val(self) -> Optional[np.ndarray]:
        return self.val.labels if self.X_val is not None else None

    @property
    def n_train(self) -> int:
        return len(self.train)

    @property
    def n_val(self) -> int:
        return 0 if self.y_val is None else len(self.y_val)

    @property
    def n_test(self) -> int:
        test = self.dataset.test
        return len(test) if self.with_test and test is not None else 0

    def summary(self) -> dict:
        """What a run record says about the data (:func:`linviz.training.records.dataset_summary`)."""
        return dataset_summary(self.dataset, n_train=self.n_train, n_val=self.n_val, n_test=self.n_test,
                               split={"val_size": self.val_size, "per_class": 0, "seed": self.seed})


def load(source, pipeline: FeaturePipeline, config: Optional[TrainingConfig] = None, *, image_size: int = 32,
         val: Union[int, float, None] = None, seed: int = 0, needs_validation: bool = False, with_test: bool = True,
         step: Step = quiet_step, timings: Optional[dict] = None) -> TrainingData:
    """Load ``source``, check it can train a classifier and hold out the validation images
    (:func:`split_for_training`). The Numba kernels of ``pipeline`` and (with a ``config``)
    of the training get ready in the background meanwhile (:mod:`linviz.training.warmup`:
    loaded from disk, or compiled in other processes on a first run); :func:`extract` waits
    for the features', :func:`fit` for the training's first step (not for the compiled
    minibatch loop: the run steps one by one until it is ready). Timings: ``dataset``, ``kernels_wait`` (so far 0),
    ``kernels_background``."""
    timings = {} if timings is None else timings
    start = time.perf_counter()
    parts = [warmup.features_part(pipeline.spec, (image_size, image_size))]
    if config is not None:
        parts += warmup.training_parts()
    warmup.prepare(parts)
    with step("loading") as progress:
        dataset = linviz.data.load_dataset(source, image_size=image_size, progress=progress)
        # Inside the step: a dataset unusable for this run fails the loading.
        check_trainable(dataset)
        train_split, val_split, val_size = split_for_training(dataset.train, val, seed,
                                                              needs_validation=needs_validation)
    timings["dataset"] = time.perf_counter() - start
    timings["kernels_wait"] = 0.0
    timings["kernels_background"] = None
    return TrainingData(dataset, pipeline, train_split, val_split, val_size, seed, with_test)


def wait_for_kernels(parts: list, *, step: Step = quiet_step, timings: Optional[dict] = None) -> None:
    """Wait until the kernels of ``parts`` (:mod:`linviz.training.warmup`) are ready. While
    they compile, the step ``compiling`` shows how many are done so far (``progress(count,
    0)``; a load from disk shows nothing). Timings: adds to ``kernels_wait``; sets
    ``kernels_background``, the seconds this process's parts took in the background."""
    keys = warmup.prepare(parts)
    with step("compiling") as progress:
        waited = warmup.wait(keys, report=None if progress is None else lambda _: progress(warmup.compiled(keys), 0))
    if timings is not None:
        timings["kernels_wait"] = timings.get("kernels_wait", 0.0) + waited
        timings["kernels_background"] = warmup.part_seconds()


def extract(data: TrainingData, *, step: Step = quiet_step, timings: Optional[dict] = None) -> TrainingData:
    """The features of every split in ``data.matrices``, standardized with statistics fitted on
    the training split; feature blocks that learn (the words' codebook) learn from the
    training split first, in a step of their own (``learning``). Timings: ``learning``,
    ``features``, ``fit``, ``standardize``."""
    image_shape = data.train.images.shape[1:3]
    wait_for_kernels([warmup.features_part(data.pipeline.spec, image_shape)], step=step, timings=timings)
    if not data.pipeline.blocks_fitted and data.pipeline.has_fitted_blocks:
        with step("learning") as progress:
            data.pipeline.fit_blocks(data.train.images, progress=progress)
    splits = [("train", data.train), ("val", data.val)]
    if data.with_test:
        splits.append(("test", data.dataset.test))
    total = sum(len(split) for _, split in splits if split is not None)
    done = 0
    with step("features") as progress:
        for name, split in splits:
            if split is None or len(split) == 0:
                continue

            def split_progress(d, t, base=done):
                if progress is not None:
                    progress(base + d, total)
            if name == "train":
                data.matrices[name] = data.pipeline.fit_transform(split.images, progress=split_progress)
            else:
                data.matrices[name] = data.pipeline.transform(split.images, progress=split_progress)
            done += len(split)
    if timings is not None:
        timings.update(features=data.pipeline.timings["extract"], fit=data.pipeline.timings["fit"],
                       standardize=data.pipeline.timings["standardize"])
        if data.pipeline.has_fitted_blocks:
            timings["learning"] = data.pipeline.timings["fit_blocks"]
    return data


def fit(data: TrainingData, config: TrainingConfig, *, control: Optional[TrainingControl] = None,
        progress: Optional[ProgressCallback] = None, step: Step = quiet_step,
        timings: Optional[dict] = None) -> Snapshot:
    """Train on ``data``'s training matrix (its validation matrix chooses the kept weights);
    the final snapshot. ``progress(iteration, planned iterations)`` after every snapshot.
    Timing: ``training`` (and the kernels' wait, see :func:`wait_for_kernels`)."""
    warmup.prepare(warmup.training_parts())  # (those a load did not prepare)
    wait_for_kernels([warmup.training_part()], step=step, timings=timings)
    start = time.perf_counter()
    final = None
    for snap in train(data.X, data.y, data.X_val, data.y_val, config, control=control, n_classes=data.n_classes):
        final = snap
        if progress is not None:
            progress(snap.iteration, snap.iteration / snap.epoch * config.epochs if snap.epoch else 0)
    if timings is not None:
        timings["training"] = time.perf_counter() - start
    return final


def evaluate(data: TrainingData, W: np.ndarray, *, timings: Optional[dict] = None) -> dict:
    """``train_accuracy``, ``val_accuracy`` and ``test_accuracy`` of the weights W (None for
    a split that is absent or empty). Timing: ``evaluation``."""
    start = time.perf_counter()
    X_test = data.matrices.get("test")
    accuracies = {
        "train_accuracy": accuracy(data.X, data.y, W),
        "val_accuracy": accuracy(data.X_val, data.y_val, W) if data.X_val is not None else None,
        "test_accuracy": accuracy(X_test, data.dataset.test.labels, W) if X_test is not None else None,
    }
    if timings is not None:
        timings["evaluation"] = time.perf_counter() - start
    return accuracies


def save(out: Path, data: TrainingData, config: TrainingConfig, final: Snapshot, accuracies: dict, *,
         timings: Optional[dict] = None) -> Path:
    """Write the kept weights with their feature pipeline, hyper-parameters, accuracies and
    how the run ended to the model file ``out``. Timing: ``save``."""
    start = time.perf_counter()
    hyper = {k: getattr(config, k) for k in HYPERPARAMETERS}
    path = save_model(out, W=final.best_W, class_names=data.dataset.class_names, pipeline=data.pipeline,
                      loss=config.loss, hyperparameters=hyper, accuracies=accuracies,
                      metadata={"source": data.dataset.source, "stop_reason": final.stop_reason,
                                "best_epoch": final.best_epoch, "kept": final.kept, "n_train": data.n_train,
                                "n_val": data.n_val})
    if timings is not None:
        timings["save"] = time.perf_counter() - start
    return path


def run_record(data: TrainingData, config: TrainingConfig, final: Snapshot, *, origin: str, name: str = "",
               train_accuracy: Optional[float] = None, val_accuracy: Optional[float] = None,
               wall_seconds: Optional[float] = None, search: Optional[dict] = None) -> RunRecord:
    """The run history's record of a run trained on ``data``
    (:func:`linviz.training.records.make_record`)."""
    return make_record(final, config, features=str(data.pipeline.spec), dataset=data.summary(), origin=origin,
                       name=name, train_accuracy=train_accuracy, val_accuracy=val_accuracy,
                       wall_seconds=wall_seconds, search=search)
