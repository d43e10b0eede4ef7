"""Several minibatch steps (loss, gradient, update) in one compiled call.

Why: on small feature sets (HOG + hue: 155 columns) one minibatch takes ~30 us of compiled
work but ~15 us of Python around it (loop bookkeeping, two kernel dispatches, the optimizer
object). That Python needs the GIL, and a GUI thread that is painting holds the GIL for
milliseconds, so the training thread waited on it and lost a quarter of its speed inside the
app. Running a chunk of steps per call (sized by the loop to a few milliseconds) releases the
GIL for the whole chunk and removes the per-step Python, while pause and stop still act
within milliseconds because the loop checks them between chunks.

The arithmetic is exactly the per-step path's: the same loss kernel and the same update
kernel (:mod:`linviz.training.update_kernels`), in the same order, so a chunked run gives
bit-identical losses and weights. The gradient-free searches stay step by step.
"""

from __future__ import annotations

import math

from linviz.models.loss_kernels import loss_batch
from linviz.numba_setup import kernel
from linviz.training.update_kernels import update


@kernel
def run_minibatches(Wt, X, y, order, first, count, batch,
                    loss_code, delta, squared, reg, reg_code, elastic_beta, n_reg, fast_exp,
                    opt_code, lr, mu, beta1, beta2, eps, t0, velocity, moment, dWt,
                    losses, smoothed, it0, ema, smoothing, limit):
    """Steps on minibatches ``first .. first + count - 1`` of ``order`` (``batch`` rows each).

    Writes the batch losses and their bias-corrected moving average into ``losses`` and
    ``smoothed`` from index ``it0``. Stops early, *before* updating, at a loss that is NaN,
    infinite or above ``limit``. Returns ``(steps done, ema, loss of the step that stopped
    it or NaN)``.
    """
    w = Wt.reshape(-1)
    g = dWt.reshape(-1)
    v = velocity.reshape(-1)
    m = moment.reshape(-1)
    n = order.shape[0]
    for k in range(count):
        start = (first + k) * batch
        idx = order[start:min(start + batch, n)]
        loss = loss_batch(Wt, X, y, idx, loss_code, delta, squared, reg, reg_code, elastic_beta, n_reg, dWt, fast_exp)
        if not (math.isfinite(loss) and loss <= limit):
            return k, ema, loss
        update(opt_code, w, g, v, m, lr, mu, beta1, beta2, eps, t0 + k + 1.0)
        it = it0 + k
        losses[it] = loss
        ema = smoothing * ema + (1.0 - smoothing) * loss
        smoothed[it] = ema / (1.0 - smoothing ** float(it + 1))  # libm pow, as Python's **
    return count, ema, math.nan
