"""Optimizers: first-order updates, and the two gradient-free strawmen of the lecture.

First-order optimizers update the weights in place from a gradient, ``step(W, dW)``; the
learning rate is an attribute the training loop decays per epoch. "Full-batch gradient
descent" is :class:`SGD` with the whole training set as the batch (``optimizer="gd"`` in
:class:`~linviz.training.TrainingConfig`).

Random search and random local search (CS231n, "Optimization": strategies #1 and #2) need no
gradient: each step proposes weights and keeps them when the loss goes down. They exist so
the GUI can race them against gradient descent and show why nobody uses them.

``OPTIMIZERS`` is the table of the optimizers by name (the identifier settings and run
records store): the label a menu shows, its help line, which settings it reads, and how to
make one (:func:`make_optimizer`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from linviz.training import update_kernels as K


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
        code, lr, mu, beta1, beta2, eps, t, velocity, moment = self.kernel_state(W)
        K.update(code, _flat(W), _flat(dW), velocity, moment, lr, mu, beta1, beta2, eps, t + 1.0)
        self.advance(1)

    # The chunked training path (linviz.training.minibatch_kernels) runs the same update
    # inside one compiled call: it needs the update's code, its numbers and its state arrays.
    kernel_code = K.SGD

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

    kernel_code = K.MOMENTUM

    def kernel_state(self, W):
        velocity = self._state(W)
        return (self.kernel_code, self.learning_rate, self.momentum, 0.0, 0.0, 0.0, 0.0, velocity,
                np.empty(0, W.dtype))


class Nesterov(Momentum):
    """Nesterov momentum, in the form that keeps the plain parameters (no look-ahead copy)."""

    kernel_code = K.NESTEROV


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

    kernel_code = K.ADAM

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


@dataclass(frozen=True)
class OptimizerSpec:
    """What linviz knows about one optimizer; an entry of :data:`OPTIMIZERS`.

    ``settings``: the :class:`~linviz.training.TrainingConfig` fields it reads besides those
    every run reads (epochs, the loss and its regularization), in the order a panel lists them.
    ``make(hyper)`` builds the optimizer from a dict of :func:`make_optimizer`'s keywords.
    """

    name: str  # the stored identifier: "gd"
    label: str  # what a menu shows: "Full-batch GD"
    help: str  # one line for a tooltip or --help
    settings: tuple
    make: Callable[[dict], object]
    gradient_free: bool = False  # proposes weights, keeps the better ones (no gradient, no learning rate)
    full_batch: bool = False  # every step sees the whole training set (no batch size)


_RATE = ("learning_rate", "lr_decay")
_SEARCH = ("search_step", "search_sample")
OPTIMIZERS: dict[str, OptimizerSpec] = {spec.name: spec for spec in (
    OptimizerSpec("sgd", "SGD", "Minibatch stochastic gradient descent: W -= learning rate × gradient",
                  _RATE + ("batch_size",), lambda h: SGD(h["learning_rate"])),
    OptimizerSpec("momentum", "Momentum", "SGD with a velocity that keeps a share (momentum) of the past steps",
                  _RATE + ("batch_size", "momentum"),
                  lambda h: Momentum(h["learning_rate"], h["momentum"])),
    OptimizerSpec("nesterov", "Nesterov", "Momentum with the gradient taken where the velocity leads",
                  _RATE + ("batch_size", "momentum"),
                  lambda h: Nesterov(h["learning_rate"], h["momentum"])),
    OptimizerSpec("adam", "Adam", "Steps scaled per weight by running means of the gradient and of its square",
                  _RATE + ("batch_size", "adam_beta1", "adam_beta2"),
                  lambda h: Adam(h["learning_rate"], h["beta1"], h["beta2"])),
    OptimizerSpec("gd", "Full-batch GD", "Gradient descent on the whole training set: one step per epoch",
                  _RATE, lambda h: SGD(h["learning_rate"]), full_batch=True),
    OptimizerSpec("random_search", "Random search",
                  "The lecture's strategy #1: try random weights, keep the best (judged on a fixed sample)",
                  _SEARCH, lambda h: RandomSearch(h["search_step"], h["seed"]), gradient_free=True),
    OptimizerSpec("random_local_search", "Random local search",
                  "The lecture's strategy #2: a random step from the current weights, kept when the loss drops",
                  _SEARCH, lambda h: RandomLocalSearch(h["search_step"], h["seed"]), gradient_free=True),
)}


def optimizer_named(name: str) -> OptimizerSpec:
    """The entry of :data:`OPTIMIZERS` called ``name``; ValueError naming the choices."""
    try:
        return OPTIMIZERS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}") from None


def make_optimizer(name: str, *, learning_rate: float, momentum: float = 0.9, beta1: float = 0.9,
                   beta2: float = 0.999, search_step: float = 1e-3, seed=0):
    """The optimizer called ``name`` (one of :data:`OPTIMIZERS`)."""
    return optimizer_named(name).make(dict(learning_rate=learning_rate, momentum=momentum, beta1=beta1,
                                           beta2=beta2, search_step=search_step, seed=seed))


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
