"""Load the Numba kernels a run will need, on tiny arrays, ahead of the real work.

Every kernel is compiled once and then cached on disk (``cache=True``), but even loading one
from the cache costs time at its first call in a process: ~0.8 s for the ``best`` features'
and the training loop's kernels together. :func:`warm_up_kernels` makes those first calls
on a few synthetic images, so that a caller can do it in a background thread while it waits
for something else (:class:`BackgroundWarmUp`; the train recipe overlaps it with loading
the dataset). It runs parallel kernels: never overlap it with another thread's extraction
or training.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Optional

import numpy as np

from linviz.features import FeaturePipeline
from linviz.features.spec import warm_up_version
from linviz.features.standardize import _TASK_ROWS, column_moments, standardize
from linviz.training.loop import TrainingConfig, run_to_end, train

_IMAGES = 65  # one more than a parallel HOG task, so the parallel kernels load too


def warm_up_kernels(features="hog+hue", config: Optional[TrainingConfig] = None, *,
                    image_shape=(32, 32)) -> float:
    """First calls of the kernels that extracting and standardizing ``features`` (a spec or
    preset) and training with ``config`` (None: no training kernels) will make; returns the
    seconds it took. Nothing it computes is kept."""
    start = time.perf_counter()
    h, w = int(image_shape[0]), int(image_shape[1])
    images = np.random.default_rng(0).integers(0, 256, (_IMAGES, h, w, 3), dtype=np.uint8)
    pipeline = FeaturePipeline(warm_up_version(features))
    X = pipeline.fit_transform(images)  # the parallel feature kernels (more than one task)
    pipeline.transform(images[:1])      # the serial ones (one image: a prediction)
    # the standardization's parallel kernels run from one task of rows on: a narrow matrix
    wide = np.ones((_TASK_ROWS + 1, 2), np.float32)
    mean, _ = column_moments(wide)
    standardize(wide, wide, mean.astype(np.float32), np.ones(2, np.float32))
    if config is not None:
        y = np.arange(_IMAGES) % 2
        # two epochs of small batches: the step-by-step first iteration and the chunked rest
        tiny = dataclasses.replace(config, epochs=2, batch_size=16, early_stopping=None, search_sample=0,
                                   snapshot_every=1)
        run_to_end(train(X, y, X, y, tiny, n_classes=2))
    return time.perf_counter() - start


class BackgroundWarmUp:
    """:func:`warm_up_kernels` in a daemon thread, started at once; :meth:`wait` returns how
    long the caller waited for it. A failure is kept in ``error``, not raised: the real
    work then loads the kernels itself."""

    def __init__(self, features="hog+hue", config: Optional[TrainingConfig] = None, *, image_shape=(32, 32)):
        self.seconds: Optional[float] = None
        self.error: Optional[Exception] = None

        def run():
            try:
                self.seconds = warm_up_kernels(features, config, image_shape=image_shape)
            except Exception as exc:
                self.error = exc

        self._thread = threading.Thread(target=run, name="linviz-warm-up", daemon=True)
        self._thread.start()

    def wait(self) -> float:
        start = time.perf_counter()
        self._thread.join()
        return time.perf_counter() - start
