"""The HOG parity tests once more, under NumPy's other code path.

NumPy picks SIMD code for ``arctan2`` (and other ufuncs) at run time from what the CPU has;
on a CPU with AVX-512 that code can differ in the last bit from the scalar path that other
CPUs run, and scikit-image's HOG bins with whatever NumPy returns. A suite run on one kind of
machine only checks one path, so here ``test_hog.py`` runs again in a fresh interpreter with
the AVX-512 groups that NumPy found turned off (``NPY_DISABLE_CPU_FEATURES``): on a machine
with AVX-512 the suite then covers both paths. On a machine without it there is nothing to
turn off; the normal run already is the non-AVX-512 path, and
``test_float64_bins_follow_numpys_arctan2_whatever_its_last_bit`` stands in for the other.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # two Python processes, each compiling the HOG kernels

pytest.importorskip("skimage.feature")

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent.parent

_FOUND_DISPATCH = (
    "from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__\n"
    "print(' '.join(name for name in __cpu_dispatch__ if __cpu_features__.get(name)))\n"
)


def _found_dispatch_targets(env=None) -> list[str]:
    """The SIMD groups NumPy dispatches to on this CPU ("found" in ``np.show_runtime()``)."""
    done = subprocess.run([sys.executable, "-c", _FOUND_DISPATCH], capture_output=True, text=True, env=env,
                          timeout=60, check=True)
    return done.stdout.split()


def avx512_groups() -> list[str]:
    """The AVX-512 groups NumPy found here (``X86_V4``, ``AVX512_*``; empty without AVX-512)."""
    return [name for name in _found_dispatch_targets() if name == "X86_V4" or name.startswith("AVX512")]


def test_hog_parity_without_numpys_avx512_paths():
    groups = avx512_groups()
    if not groups:
        pytest.skip("NumPy found no AVX-512 on this CPU: the normal run already is the non-AVX-512 path")
    env = dict(os.environ, NPY_DISABLE_CPU_FEATURES=" ".join(groups), QT_QPA_PLATFORM="offscreen")
    # the variable must really have turned them off, or this test would prove nothing
    assert not set(groups) & set(_found_dispatch_targets(env))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(TESTS / "test_hog.py"),
         "-k", "not does_not_hold_the_gil"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
