"""Leave one core to the GUI thread when BLAS would otherwise take them all.

NumPy's BLAS (OpenBLAS) runs a matrix product on every core. During training the compute
worker then keeps all cores busy and the GUI thread has to fight for one: measured on 2
cores, the raw-pixel run kept 77% of its headless throughput with 55-60 ms GUI stalls, and
89% with stalls under 35 ms once BLAS was held to one thread fewer than the cores.
"""

from __future__ import annotations

import os

_ENV_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_limiter = None  # keeps threadpoolctl's limit alive


def blas_threads_for_gui() -> int:
    return max(1, (os.cpu_count() or 1) - 1)


def set_env_before_numpy() -> None:
    """For the app's entry point: BLAS reads these when NumPy loads (a user's choice wins)."""
    n = str(blas_threads_for_gui())
    for name in _ENV_VARS:
        os.environ.setdefault(name, n)


def limit_loaded_blas() -> bool:
    """When NumPy is already loaded: limit its BLAS pool through threadpoolctl, if installed."""
    global _limiter
    if _limiter is not None or any(name in os.environ for name in _ENV_VARS):
        return _limiter is not None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    _limiter = threadpool_limits(limits=blas_threads_for_gui(), user_api="blas")
    return True
