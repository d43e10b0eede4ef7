"""Element-wise parameter updates as Numba kernels.

Each update is one pass over the weights with no temporaries (``W -= lr * dW`` in NumPy
allocates ``lr * dW`` first); the optimizers in :mod:`linviz.training.optimizers` call them on
flat views of C-contiguous arrays.
"""

from __future__ import annotations

import numpy as np

from linviz.numba_setup import kernel

_FAST = {"contract"}


@kernel(fastmath=_FAST)
def sgd_update(w, g, lr):
    for i in range(w.shape[0]):
        w[i] -= lr * g[i]


@kernel(fastmath=_FAST)
def momentum_update(w, g, v, lr, mu):
    for i in range(w.shape[0]):
        vi = mu * v[i] - lr * g[i]
        v[i] = vi
        w[i] += vi


@kernel(fastmath=_FAST)
def nesterov_update(w, g, v, lr, mu):
    # CS231n's form of Nesterov momentum, written for the parameters we store (not the look-ahead
    # point): v' = mu v - lr g;  w += -mu v + (1 + mu) v'.
    for i in range(w.shape[0]):
        v_prev = v[i]
        vi = mu * v_prev - lr * g[i]
        v[i] = vi
        w[i] += -mu * v_prev + (1.0 + mu) * vi


@kernel(fastmath=_FAST)
def adam_update(w, g, m, v, lr, beta1, beta2, eps, t):
    # Bias-corrected first and second moments (Kingma & Ba, Algorithm 1).
    c1 = 1.0 / (1.0 - beta1 ** t)
    c2 = 1.0 / (1.0 - beta2 ** t)
    for i in range(w.shape[0]):
        gi = g[i]
        mi = beta1 * m[i] + (1.0 - beta1) * gi
        vi = beta2 * v[i] + (1.0 - beta2) * gi * gi
        m[i] = mi
        v[i] = vi
        w[i] -= lr * (mi * c1) / (np.sqrt(vi * c2) + eps)
