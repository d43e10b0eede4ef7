"""Saving the current model and loading one back (no Qt; loading runs as a worker job)."""

from __future__ import annotations

import time

import numpy as np

from linviz.errors import LinvizError
from linviz.gui.session import ExtractedFeatures, PreparedData


def last_accuracies(frame) -> dict:
    snap = frame.snapshot if frame is not None else None
    accuracies = {}
    if snap is not None:
        if snap.train_accuracies:
            accuracies["train"] = float(snap.train_accuracies[-1])
        if snap.val_accuracies:
            accuracies["val"] = float(snap.val_accuracies[-1])
    return accuracies


def load_model_job(path: str, prepared: PreparedData):
    """A job: read the model file and re-express the working splits through ITS pipeline
    (its own standardization statistics; nothing is refitted)."""

    def job(ctx):
        from linviz.models import load_model

        model = load_model(path)
        if model.pipeline is None:
            raise LinvizError(f"{path}: this model has no feature pipeline, so it cannot read images")
        names = list(model.class_names)
        if names != prepared.class_names:
            raise LinvizError(f"{path}: the model's classes ({', '.join(names)}) are not this dataset's")
        pipeline = model.pipeline
        total = len(prepared.train.labels) + len(prepared.val.labels)
        start = time.perf_counter()
        X_train = pipeline.transform(prepared.train.images, progress=ctx.progress, cancel=ctx.cancel)
        X_val = pipeline.transform(prepared.val.images, cancel=ctx.cancel)
        features = ExtractedFeatures(str(getattr(pipeline, "spec", "")), prepared.key(), pipeline,
                                     np.ascontiguousarray(X_train, dtype=np.float32),
                                     np.ascontiguousarray(X_val, dtype=np.float32), total, time.perf_counter() - start)
        return model, features

    return job
