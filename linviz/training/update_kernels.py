"""The element-wise parameter updates of the first-order optimizers, as one Numba kernel.

Each update is one pass over the weights with no temporaries (``W -= lr * dW`` in NumPy
allocates ``lr * dW`` first); the optimizers in :mod:`linviz.training.optimizers` call it on
flat views of C-contiguous arrays, and so does the compiled minibatch loop
(:mod:`linviz.training.minibatch_kernels`). One kernel for the four updates, chosen by a
code, because each kernel is a compile of its own and every run needs the loop's one.
"""

from __future__ import annotations

import numpy as np

from linviz.numba_setup import kernel

_FAST = {"contract"}
SGD, MOMENTUM, NESTEROV, ADAM = 0, 1, 2, 3


@kernel(fastmath=_FAST)
def update(code, w, g, v, m, lr, mu, beta1, beta2, eps, t):
    """One update of the weights ``w`` from the gradient ``g``, in place.

    * SGD: ``w -= lr g``;
    * MOMENTUM: ``v = mu v - lr g; w += v``;
    * NESTEROV (CS231n's form, written for the parameters we store, not the look-ahead
      point): ``v' = mu v - lr g; w += -mu v + (1 + mu) v'``;
    * ADAM (Kingma & Ba, Algorithm 1): bias-corrected first moment ``m`` and second moment
      ``v`` at step ``t`` (1 for the first).

    Arrays an update does not use may be empty.
    """
    if code == SGD:
        for i in range(w.shape[0]):
            w[i] -= lr * g[i]
    elif code == MOMENTUM:
        for i in range(w.shape[0]):
            vi = mu * v[i] - lr * g[i]
            v[i] = vi
            w[i] += vi
    elif code == NESTEROV:
        for i in range(w.shape[0]):
            v_prev = v[i]
            vi = mu * v_prev - lr * g[i]
            v[i] = vi
            w[i] += -mu * v_prev + (1.0 + mu) * vi
    else:
        c1 = 1.0 / (1.0 - beta1 ** t)
        c2 = 1.0 / (1.0 - beta2 ** t)
        for i in range(w.shape[0]):
            gi = g[i]
            mi = beta1 * m[i] + (1.0 - beta1) * gi
            vi = beta2 * v[i] + (1.0 - beta2) * gi * gi
            m[i] = mi
            v[i] = vi
            w[i] -= lr * (mi * c1) / (np.sqrt(vi * c2) + eps)
