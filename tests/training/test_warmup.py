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


def test_loading_the_loop_part_here_runs_the_compiled_loop(monkeypatch, fresh_parts):
    """The warm-up that loads the loop's kernel must not step one by one because its own part
    is still pending (and then leave a warm mark for a kernel it never loaded)."""
    calls = []
    real = training_loop.run_minibatches
    monkeypatch.setattr(training_loop, "run_minibatches", lambda *a: calls.append(a[5]) or real(*a))
    keys = warmup.prepare([warmup.training_part(), warmup.training_loop_part()], processes=False)
    warmup.wait(keys)
    assert calls and not warmup.part_errors(keys)


class _FakeChild:
    """A child process whose report is ``lines`` (then its end, with ``code``)."""

    def __init__(self, lines, code=0):
        self.stdout = iter(line + "\n" for line in lines)
        self.stdin = self
        self.code = code

    def wait(self):
        return self.code

    def close(self):
        pass


def _follow(monkeypatch, lines, code=0, stopped=()):
    loaded = []
    monkeypatch.setattr(warmup, "_load_here", lambda state: loaded.append(state.key))
    child = _FakeChild(lines, code)
    run = [warmup._Part(key, {"kind": key}, process=child, stopped=key in stopped)
           for key in ("training", "standardization", "training loop")]
    warmup._follow_child(run)
    return run, loaded


def test_a_child_failing_part_way_says_why_the_later_parts_were_not_compiled(monkeypatch):
    run, loaded = _follow(monkeypatch, ["compiled linviz.x", "ready 0.5", "error ValueError: boom"], code=1)
    assert [s.error for s in run] == [None, "ValueError: boom", "not compiled: an earlier part of its warm-up failed"]
    assert run[0].compiled == 1 and all(s.done.is_set() for s in run)
    assert loaded == ["training", "standardization", "training loop"]  # here, as a last resort


def test_parts_of_a_child_stopped_with_this_process_are_not_loaded_here(monkeypatch):
    run, loaded = _follow(monkeypatch, ["ready 0.5"], code=-9, stopped=("standardization", "training loop"))
    assert loaded == ["training"] and all(s.done.is_set() for s in run)


def _child(parts):
    """A warm-up child whose parent is gone at once (stdin closed): its exit code."""
    import json
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-c", warmup._CHILD, json.dumps(parts)], stdin=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    process.stdin.close()
    return process.wait(timeout=600)


def test_an_orphaned_child_finishes_parts_that_outlive_its_parent():
    assert _child([warmup.standardization_part(), warmup.training_loop_part()]) == 0


def test_an_orphaned_child_with_a_part_its_parent_waited_for_stops():
    assert _child([warmup.training_part(), warmup.training_loop_part()]) == 1
