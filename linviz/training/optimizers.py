"""Optimizers: first-order updates, and the two gradient-free strawmen of the lecture.

First-order optimizers update the weights in place from a gradient, ``step(W, dW)``; the
learning rate is an attribute the training loop decays per epoch. "Full-batch gradient
descent" is :class:`SGD` with the whole training set as the batch (``optimizer="gd"`` in
:class:`~linviz.training.TrainingConfig`).

Random search and random local search (CS231n, "Optimization": strategies #1 and #2) need no
gradient: each step proposes weights and keeps them when the loss goes down. They exist so
the GUI can race them against gradient descent and show why nobody uses them.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from linviz.training import update_kernels as K

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "gd", "random_search", "random_local_search")


def _flat(a: np.ndarray) -> np.ndarray:
    if not a.flags.c_contiguous:
        raise ValueError("optimizers update C-contiguous arrays in place")
    return a.reshape(-1)


class SGD:
    """Vanilla (minibatch) gradient descent: W -= lr * dW."""

    gradient_free = False

    def __init__(self, learning_rate: float):
        self.learning_rate = float(learning_rate)

    def step(self, W: np.ndarray, dW: np.ndarray) -> None:
        K.sgd_update(_flat(W), _flat(dW), self.learning_rate)

    # The chunked training path (linviz.training.minibatch_kernels) runs the same update
    # inside one compiled call: it needs the update's code, its numbers and its state arrays.
    kernel_code = 0

    def kernel_state(self, W: np.ndarray) -> tuple:
        """(code, lr, mu, beta1, beta2, eps, t, velocity, moment) for run_minibatches."""
        empty = np.empty(0, W.dtype)
        return (self.kernel_code, self.learning_rate, 0.0, 0.0, 0.0, 0.0, 0.0, empty, empty)

    def advance(self, steps: int) -> None:
        """Account for ``steps`` updates made by the compiled chunk (Adam counts them)."""


class Momentum(SGD):
    """Momentum: v = mu v - lr dW; W += v (velocity starts at zero)."""

    def __init__(self, learning_rate: float, momentum: float = 0.9):
        super().__init__(learning_rate)
        self.momentum = float(momentum)
        self.velocity: np.ndarray | None = None

    def _state(self, W):
        if self.velocity is None or self.velocity.shape != W.shape:
            self.velocity = np.zeros_like(W)
        return _flat(self.velocity)

    def step(self, W, dW):
        K.momentum_update(_flat(W), _flat(dW), self._state(W), self.learning_rate, self.momentum)

    kernel_code = 1

    def kernel_state(self, W):
        velocity = self._state(W)
        return (self.kernel_code, self.learning_rate, self.momentum, 0.0, 0.0, 0.0, 0.0, velocity,
                np.empty(0, W.dtype))


class Nesterov(Momentum):
    """Nesterov momentum, in the form that keeps the plain parameters (no look-ahead copy)."""

    def step(self, W, dW):
        K.nesterov_update(_flat(W), _flat(dW), self._state(W), self.learning_rate, self.momentum)

    kernel_code = 2


class Adam(SGD):
    """Adam with bias correction; ``t`` counts the steps taken."""

    def __init__(self, learning_rate: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        super().__init__(learning_rate)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.m: np.ndarray | None = None
        self.v: np.ndarray | None = None
        self.t = 0

    def _moments(self, W):
        if self.m is None or self.m.shape != W.shape:
            self.m, self.v, self.t = np.zeros_like(W), np.zeros_like(W), 0

    def step(self, W, dW):
        self._moments(W)
        self.t += 1
        K.adam_update(_flat(W), _flat(dW), _flat(self.m), _flat(self.v), self.learning_rate,
                      self.beta1, self.beta2, self.eps, float(self.t))

    kernel_code = 3

    def kernel_state(self, W):
        self._moments(W)
        # the "velocity" slot carries the second moment v, the "moment" slot the first, m
        return (self.kernel_code, self.learning_rate, 0.0, self.beta1, self.beta2, self.eps,
                float(self.t), _flat(self.v), _flat(self.m))

    def advance(self, steps):
        self.t += steps


class RandomSearch:
    """Strategy #1: try completely random weights (scale * N(0, 1)), keep the best."""

    gradient_free = True

    def __init__(self, scale: float = 1e-3, seed: int | np.random.Generator = 0):
        self.scale = float(scale)
        self.rng = np.random.default_rng(seed)
        self.learning_rate = 0.0  # for display; the loop's decay multiplies it harmlessly

    def propose(self, W: np.ndarray) -> np.ndarray:
        return (self.scale * self.rng.standard_normal(W.shape)).astype(W.dtype)


class RandomLocalSearch(RandomSearch):
    """Strategy #2: step from the current weights in a random direction, keep it if better."""

    def propose(self, W):
        return W + (self.scale * self.rng.standard_normal(W.shape)).astype(W.dtype)


def make_optimizer(name: str, *, learning_rate: float, momentum: float = 0.9, beta1: float = 0.9,
                   beta2: float = 0.999, search_step: float = 1e-3, seed=0):
    """The optimizer called ``name`` (one of :data:`OPTIMIZERS`)."""
    if name in ("sgd", "gd"):
        return SGD(learning_rate)
    if name == "momentum":
        return Momentum(learning_rate, momentum)
    if name == "nesterov":
        return Nesterov(learning_rate, momentum)
    if name == "adam":
        return Adam(learning_rate, beta1, beta2)
    if name == "random_search":
        return RandomSearch(search_step, seed)
    if name == "random_local_search":
        return RandomLocalSearch(search_step, seed)
    raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")


def _search(strategy: RandomSearch, loss: Callable[[np.ndarray], float], W0: np.ndarray,
            iterations: int) -> tuple[np.ndarray, np.ndarray]:
    W = np.array(W0, copy=True)
    best = float(loss(W))
    history = np.empty(iterations, np.float64)
    for i in range(iterations):
        candidate = strategy.propose(W)
        value = float(loss(candidate))
        if value < best:
            W, best = candidate, value
        history[i] = best
    return W, history


def random_search(loss: Callable[[np.ndarray], float], W0: np.ndarray, iterations: int = 1000,
                  scale: float = 1e-3, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """Best of ``iterations`` random weight matrices: ``(W_best, best loss after each try)``."""
    return _search(RandomSearch(scale, seed), loss, W0, iterations)


def random_local_search(loss: Callable[[np.ndarray], float], W0: np.ndarray, iterations: int = 1000,
                        step_size: float = 1e-3, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """Random steps from W0, each kept when it lowers the loss: ``(W, best loss after each try)``."""
    return _search(RandomLocalSearch(step_size, seed), loss, W0, iterations)
