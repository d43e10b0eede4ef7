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

``REG_TYPES`` is the table of the penalties, one entry per name (the identifier settings
and model files store), with what the panels show and what the code needs to know.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RegularizerSpec:
    """What linviz knows about one penalty; an entry of :data:`REG_TYPES`.

    R(W) = (beta if ``uses_beta`` else 1) * sum(W**2) [``squares``] + sum(|W|) [``absolute_values``].
    """

    name: str  # the stored identifier: "l2"
    label: str  # what a menu shows: "Elastic net"
    formula: str  # R(W) for a caption: "Σ(βW² + |W|)"
    help: str  # one line for a tooltip or --help
    kernel_code: int  # what the compiled kernels are passed (a string would cost a dispatch)
    squares: bool  # R has a sum of squares: a gradient proportional to W
    absolute_values: bool  # R has a sum of |W|: a kink at W = 0, a pull of constant size
    uses_beta: bool  # elastic net: beta weighs the squares against the absolute values


REG_TYPES: dict[str, RegularizerSpec] = {
    "l2": RegularizerSpec("l2", "L2", "ΣW²", "R = sum(W²): pulls every weight towards 0 in proportion to its size",
                          0, squares=True, absolute_values=False, uses_beta=False),
    "l1": RegularizerSpec("l1", "L1", "Σ|W|", "R = sum(|W|): the same pull on every weight, so small ones reach 0",
                          1, squares=False, absolute_values=True, uses_beta=False),
    "elastic": RegularizerSpec("elastic", "Elastic net", "Σ(βW² + |W|)",
                               "R = sum(β W² + |W|): L2 and L1 together, β weighing the squares",
                               2, squares=True, absolute_values=True, uses_beta=True),
}
REG_CODES = {name: spec.kernel_code for name, spec in REG_TYPES.items()}


def regularizer_named(reg_type: str) -> RegularizerSpec:
    """The entry of :data:`REG_TYPES` called ``reg_type``; ValueError naming the choices."""
    try:
        return REG_TYPES[reg_type]
    except (KeyError, TypeError):
        raise ValueError(f"unknown reg_type {reg_type!r}; choose from {', '.join(REG_TYPES)}") from None


def check_reg_type(reg_type: str) -> int:
    """The kernel code of ``reg_type``; ValueError naming the choices when unknown."""
    return regularizer_named(reg_type).kernel_code


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
