"""The first run of an install: with an empty kernel cache, ``train`` says on stderr that it
compiles linviz's kernels (first run only) and leaves them in the cache (the compiled
minibatch loop's possibly after the command has ended: the run does not wait for it); the
second run loads them, says nothing of it, and trains the same weights bit for bit."""

import json
import time

import numpy as np

COMPILING = "compiling linviz's kernels, first run only"


def test_the_first_run_says_it_compiles_and_the_second_loads_the_same_kernels(tmp_path, run_cli):
    env = {"NUMBA_CACHE_DIR": str(tmp_path / "kernels")}
    first = run_cli("train", "demo", "--out", tmp_path / "first.npz", env=env, timeout=900)
    assert first.returncode == 0, first.stderr
    said = [line for line in first.stderr.splitlines() if COMPILING in line]
    assert said and "compiled" in said[-1], first.stderr
    assert any((tmp_path / "kernels").rglob("*.nbc"))  # the kernels kept in the one folder
    assert _loop_kernel_kept(tmp_path / "kernels", timeout=120)

    second = run_cli("train", "demo", "--out", tmp_path / "second.npz", env=env, timeout=900)
    assert second.returncode == 0, second.stderr
    assert COMPILING not in second.stderr
    with np.load(tmp_path / "first.npz") as a, np.load(tmp_path / "second.npz") as b:
        assert sorted(a.files) == sorted(b.files)
        for name in a.files:
            if name == "metadata":  # the same but for when each was saved
                first_meta, second_meta = json.loads(str(a[name])), json.loads(str(b[name]))
                first_meta.pop("saved"), second_meta.pop("saved")
                assert first_meta == second_meta
            else:
                np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def _loop_kernel_kept(cache, timeout: float) -> bool:
    """Whether the training loop's warm mark is in ``cache`` within ``timeout`` seconds."""
    from linviz.kernel_cache import mark_pattern
    from linviz.training.warmup import TRAINING_LOOP

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if any(cache.glob("*/" + mark_pattern(TRAINING_LOOP))):
            return True
        time.sleep(0.1)
    return False
