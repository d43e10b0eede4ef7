"""train_job's frames carry the weight trajectory (after the first update, each epoch end)."""

from __future__ import annotations

import threading

import numpy as np

from linviz.workbench import jobs
from linviz.workbench import SplitSettings


class Ctx:
    def __init__(self):
        self.cancel = threading.Event()
        self.published = []

    def cancelled(self):
        return self.cancel.is_set()

    def progress(self, done, total):
        pass

    def message(self, text):
        pass

    def publish(self, value):
        self.published.append(value)


def test_frames_carry_a_weight_per_epoch():
    prepared = jobs.prepare_splits(jobs.demo_dataset(), SplitSettings(val_size=60))
    settings = {"loss": "softmax", "epochs": 4, "batch_size": 100, "learning_rate": 0.05, "snapshot_every": 1}
    ctx = Ctx()
    final = jobs.train_job(prepared, None, "hue", settings, None, run=1)(ctx)
    path = final.trajectory
    assert 5 <= len(path) <= 6  # the first update, 4 epoch ends (the end may repeat the last)
    assert all(w.shape == final.model.W.shape for w in path)
    assert np.array_equal(path[-1], final.snapshot.W)
    assert not np.array_equal(path[0], path[1])
    lengths = [len(f.trajectory) for f in ctx.published]
    assert lengths == sorted(lengths) and lengths[0] >= 1  # grows along the run
