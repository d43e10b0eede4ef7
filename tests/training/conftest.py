import numpy as np
import pytest


def blobs(n=1200, d=20, c=4, seed=0, spread=1.0):
    """Gaussian blobs, one per class, with the bias column (ones) last, as the pipeline makes it."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((c, d - 1)) * spread
    y = rng.integers(0, c, n)
    X = centers[y] + rng.standard_normal((n, d - 1))
    return np.c_[X, np.ones(n)].astype(np.float32), y


@pytest.fixture
def data():
    X, y = blobs()
    return X[:1000], y[:1000], X[1000:], y[1000:]


@pytest.fixture
def make_blobs():
    """:func:`blobs` itself, for tests that need other sizes (conftest is not importable)."""
    return blobs
