"""Getting the kernels ready in the background (linviz.training.warmup): which process
compiles which part, which children outlive their parent, and a run that does not wait for
the compiled minibatch loop."""

from dataclasses import replace

import numpy as np
import pytest

from linviz.training import TrainingConfig, train, warmup
from linviz.training import loop as training_loop
from linviz.training.loop import run_to_end


@pytest.fixture
def fresh_parts():
    """Nothing prepared before or after the test."""
    warmup.forget()
    yield
    warmup.forget()


class _FakeProcess:
    def __init__(self):
        self.killed = False

    def poll(self):
        return None if not self.killed else -9

    def kill(self):
        self.killed = True


def _runs_started(monkeypatch, *, warm=()):
    """prepare() with every part but ``warm`` cold; the runs it hands to children, none
    started for real (no part ever gets ready)."""
    runs = []
    monkeypatch.setattr(warmup.kernel_cache, "is_warm", lambda key: key in warm)
    monkeypatch.setattr(warmup, "_start_child", lambda run: runs.append([s.key for s in run]) or True)
    monkeypatch.setattr(warmup, "_in_this_process", lambda run: runs.append(["here"] + [s.key for s in run]))
    return runs


def test_the_training_loop_is_compiled_after_the_first_step_by_the_same_child(monkeypatch, fresh_parts):
    runs = _runs_started(monkeypatch)
    features = warmup.features_part("hog+hue")
    keys = warmup.prepare([features, warmup.training_part(), warmup.training_loop_part()], processes=True)
    assert keys == [warmup.part_key(features), "training", "training loop"]
    # compiled in another process, the loop would compile the first step's kernels again
    assert runs == [[warmup.part_key(features)], ["training", "training loop"]]


def test_the_standardization_comes_after_the_first_step_in_the_training_child(monkeypatch, fresh_parts):
    runs = _runs_started(monkeypatch)
    features = warmup.features_part("hog+hue")
    warmup.prepare([features, warmup.training_part(), warmup.standardization_part(), warmup.training_loop_part()],
                   processes=True)
    # whichever child gets to the standardization first compiles it; the other loads it
    assert runs == [[warmup.part_key(features)], ["training", "standardization", "training loop"]]


def test_the_standardization_warm_up_meets_the_types_a_pipeline_standardizes_with():
    from linviz.features import FeaturePipeline
    from linviz.features.standardize import _moments_range, _standardize_range

    warmup.warm_up_standardization()
    signatures = (list(_moments_range.signatures), list(_standardize_range.signatures))
    images = np.random.default_rng(1).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    pipeline = FeaturePipeline("hog+hue")
    pipeline.fit_transform(images)
    pipeline.transform(images[:1])
    assert (list(_moments_range.signatures), list(_standardize_range.signatures)) == signatures  # no new type


def test_a_cold_loop_after_a_warm_first_step_gets_a_child_of_its_own(monkeypatch, fresh_parts):
    runs = _runs_started(monkeypatch, warm={"training"})
    warmup.prepare([warmup.training_part(), warmup.training_loop_part()], processes=True)
    assert runs == [["here", "training"], ["training loop"]]  # the warm one loads from disk at once


def test_without_children_the_parts_still_come_in_order_in_one_thread(monkeypatch, fresh_parts):
    runs = _runs_started(monkeypatch)
    warmup.prepare([warmup.training_part(), warmup.training_loop_part()], processes=False)
    assert runs == [["here", "training", "training loop"]]


@pytest.mark.parametrize("reported, killed", [((False, False), True), ((True, False), False), ((True, True), False)])
def test_a_child_left_only_with_the_loop_finishes_it_when_its_parent_ends(fresh_parts, reported, killed):
    process = _FakeProcess()
    for key, said in zip(("training", "training loop"), reported):
        warmup._parts[key] = warmup._Part(key, {"kind": key}, process=process, reported=said)
    warmup._stop_children()
    assert process.killed == killed
    warmup._stop_children(all_of_them=True)  # what tests and forget() do
    assert process.killed


def _blobs(n=600, d=31, c=4, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n)
    X = rng.standard_normal((c, d - 1)).astype(np.float32)[y] + rng.standard_normal((n, d - 1)).astype(np.float32)
    return np.hstack([X, np.ones((n, 1), np.float32)]), y


def test_a_run_steps_one_by_one_while_the_loop_compiles_then_takes_it_with_the_same_weights(monkeypatch,
                                                                                             fresh_parts):
    X, y = _blobs()
    config = TrainingConfig(loss="softmax", optimizer="adam", learning_rate=1e-2, batch_size=50, epochs=4,
                            reg=1e-3, seed=5, snapshot_every=5, chunk_seconds=1.0)
    reference = run_to_end(train(X[:500], y[:500], X[500:], y[500:], config))

    loop = warmup._parts["training loop"] = warmup._Part("training loop", warmup.training_loop_part())
    chunks = []
    real = training_loop.run_minibatches
    monkeypatch.setattr(training_loop, "run_minibatches", lambda *a: chunks.append(a[5]) or real(*a))
    iterations_before = None
    for snapshot in train(X[:500], y[:500], X[500:], y[500:], config):
        if snapshot.epochs_done == 2 and iterations_before is None:
            assert not chunks  # compiling: the steps went one by one
            iterations_before = snapshot.iteration
            loop.done.set()  # the kernel is ready
    final = snapshot
    assert chunks and iterations_before == 20  # the last two epochs in chunks
    np.testing.assert_array_equal(final.losses, reference.losses)
    np.testing.assert_array_equal(final.best_W, reference.best_W)
    assert final.val_accuracies == reference.val_accuracies
    plain = run_to_end(train(X[:500], y[:500], X[500:], y[500:], replace(config, chunk_seconds=0)))
    np.testing.assert_array_equal(plain.best_W, reference.best_W)


def test_a_part_compiled_elsewhere_is_pending_until_its_warm_mark_appears(monkeypatch, fresh_parts):
    marks = set()
    monkeypatch.setattr(warmup.kernel_cache, "is_warm", lambda key: key in marks)
    monkeypatch.setattr(warmup, "_LOOK_EVERY_S", 0.0)
    loop = warmup.training_loop_part()
    warmup.compiling_elsewhere(["training loop"])  # the window's child compiles it for this worker
    assert warmup.pending(loop) and not warmup.ready(["training loop"])
    marks.add("training loop")
    assert not warmup.pending(loop) and warmup.ready(["training loop"])


def test_a_part_no_longer_compiled_elsewhere_is_not_waited_for(monkeypatch, fresh_parts):
    monkeypatch.setattr(warmup.kernel_cache, "is_warm", lambda key: False)  # its child failed: no mark ever
    warmup.compiling_elsewhere(["training loop"])
    assert warmup.pending(warmup.training_loop_part())
    warmup.compiling_elsewhere([])  # the next run's request no longer names it
    assert not warmup.pending(warmup.training_loop_part())


def test_the_loop_follows_the_first_step_even_when_the_standardization_between_them_is_warm(monkeypatch,
                                                                                            fresh_parts):
    runs = _runs_started(monkeypatch, warm={"standardization"})
    warmup.prepare([warmup.training_part(), warmup.standardization_part(), warmup.training_loop_part()],
                   processes=True)
    assert runs == [["training", "training loop"], ["here", "standardization"]]
