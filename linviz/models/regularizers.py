"""Regularization penalties R(W) and their (sub)gradients, the textbook way.

The total loss is ``data_loss + reg * R(W)`` with

* ``"l2"``      R = sum(W**2)                  gradient 2 W (the default, as in CS231n)
* ``"l1"``      R = sum(|W|)                   subgradient sign(W) (0 at exactly 0)
* ``"elastic"`` R = sum(beta * W**2 + |W|)     gradient 2 beta W + sign(W)

``n_reg_rows`` limits the penalty to the first rows of W (D, C): a classifier whose last
feature is the constant bias column passes ``D - 1`` so that the biases are free, as they
should be (penalizing them only pulls the decision boundaries towards the origin).

These NumPy versions are the reference; the fused kernels in :mod:`loss_kernels` compute
the same quantities inside their single pass.
"""

from __future__ import annotations

import numpy as np

REG_TYPES = ("l2", "l1", "elastic")
# Integer codes passed to the compiled kernels (a string argument would cost a dispatch).
REG_CODES = {"l2": 0, "l1": 1, "elastic": 2}


def check_reg_type(reg_type: str) -> int:
    """The kernel code of ``reg_type``; ValueError naming the choices when unknown."""
    try:
        return REG_CODES[reg_type]
    except KeyError:
        raise ValueError(f"unknown reg_type {reg_type!r}; choose from {', '.join(REG_TYPES)}") from None


def regularization(W: np.ndarray, reg: float, reg_type: str = "l2", elastic_beta: float = 1.0,
                   n_reg_rows: int | None = None) -> tuple[float, np.ndarray]:
    """``(reg * R(W), d(reg * R)/dW)`` in float64 for the value, W's dtype for the gradient."""
    check_reg_type(reg_type)
    n = W.shape[0] if n_reg_rows is None else int(n_reg_rows)
    Wr = W[:n].astype(np.float64)
    grad = np.zeros_like(W)
    if reg_type == "l2":
        value = np.sum(Wr * Wr)
        g = 2.0 * Wr
    elif reg_type == "l1":
        value = np.sum(np.abs(Wr))
        g = np.sign(Wr)
    else:
        value = np.sum(elastic_beta * Wr * Wr + np.abs(Wr))
        g = 2.0 * elastic_beta * Wr + np.sign(Wr)
    grad[:n] = (reg * g).astype(W.dtype)
    return float(reg * value), grad
