"""The race of optimization strategies: from random search to Adam, on one budget.

The lecture's second picture of optimization: random search (15.5% on CIFAR-10), random
local search (21.4%), then following the gradient. :func:`race` starts every strategy from
the same initial weights on the same features and gives each the same budget, counted in
**examples processed**: a loss or a gradient on n images costs n (:data:`BUDGET_RULE`). It
interleaves the strategies in rounds of equal budget and yields a :class:`RaceSnapshot`
after every round, like the training loop, so a view can draw the race live.

Every strategy is judged on one common evaluation sample of training images (its total
loss there, regularization included) and on the validation split (accuracy); neither costs
budget. The searches judge their candidates on a fixed sample of their own, disjoint from
the evaluation sample where the data allow (judged on the evaluation sample itself they
would overfit it and look better than they are). As in the lecture, the best loss starts at
infinity: the first try is always kept, so random search never looks at W0.

Reproducible: each strategy draws from its own generator, seeded from the race's seed and
the strategy's name, so a strategy's path does not depend on which others run beside it.
Wall times (each strategy's own compute seconds) are measured and naturally vary.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Iterator, Optional

import numpy as np

from linviz.errors import LinvizError
from linviz.models.losses import LossFunction, check_inputs
from linviz.progress import check_cancelled
from linviz.training.loop import accuracy
from linviz.training.optimizers import OPTIMIZERS, make_optimizer

# The strategies that race (optimizer names) with their labels, in the order they are drawn.
STRATEGIES = {name: OPTIMIZERS[name].label
              for name in ("random_search", "random_local_search", "gd", "sgd", "momentum", "adam")}
BUDGET_RULE = ("budget in examples processed: a loss or a gradient on n images costs n (a search try: its "
               "judging sample; a full-batch GD step: all the training images; an SGD / momentum / Adam step: its "
               "batch; the plots' evaluations: nothing).")

# CS231n, "Optimization": raw 0-255 pixels with a bias, SVM loss (delta 1, no regularization),
# random search tries W ~ 0.0001 N(0, 1), random local search steps 0.0001 N(0, 1) from
# W0 ~ 0.001 N(0, 1), 1,000 tries judged on the training loss; test accuracy.
LECTURE_FIGURES = {"random_search": 0.155, "random_local_search": 0.214}
LECTURE_LOSS = "svm"
LECTURE_NOTE = ("The lecture's figures: 15.5% (random search) and 21.4% (random local search), test accuracy "
                "after 1,000 tries judged on all 50,000 training images, one seed of the original CIFAR-10 data "
                "(another seed or other images give other numbers).")


@dataclass(frozen=True)
class RaceSettings:
    """A race: which strategies, the budget per strategy, the loss and each strategy's step."""

    strategies: tuple = tuple(STRATEGIES)
    budget: int = 500_000                 # examples processed per strategy
    loss: str = "softmax"
    delta: float = 1.0
    reg: float = 1e-3
    reg_type: str = "l2"
    unregularized_bias: bool = True       # the last row of W (bias column last) is not regularized
    init_scale: float = 1e-3              # W0 = init_scale N(0, 1), the same for every strategy
    search_scale: float = 1e-3            # random search: every try is search_scale N(0, 1)
    search_step: float = 1e-2             # random local search: W + search_step N(0, 1)
    search_sample: int = 1000             # training images every search try is judged on (0: all)
    eval_sample: int = 1000               # training images every strategy is plotted on (0: all)
    batch_size: int = 200
    learning_rates: tuple = (("gd", 0.3), ("sgd", 0.1), ("momentum", 0.01), ("adam", 1e-3))
    momentum: float = 0.9
    seed: int = 0
    rounds: int = 40                      # snapshots (and evaluations) over the budget

    def __post_init__(self):
        unknown = [s for s in self.strategies if s not in STRATEGIES]
        if unknown or not self.strategies:
            raise ValueError(f"strategies must be some of {', '.join(STRATEGIES)}; got {list(self.strategies)}")
        if int(self.budget) < 1:
            raise ValueError(f"budget must be >= 1 example, got {self.budget}")
        for name in ("reg", "delta", "init_scale", "search_scale", "search_step"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")
        for name, lr in self.learning_rates:
            if not (math.isfinite(lr) and lr > 0):
                raise ValueError(f"the learning rate of {name} must be a finite number > 0, got {lr}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")
        for name in ("batch_size", "rounds"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("search_sample", "eval_sample"):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"{name} must be >= 0 (0: all training images), got {getattr(self, name)}")

    def learning_rate(self, strategy: str) -> float:
        return float(dict(self.learning_rates).get(strategy, 0.0))


@dataclass(frozen=True, eq=False)
class RaceCurve:
    """One strategy's progress: per evaluation, examples processed, its own compute seconds,
    its loss on the common evaluation sample and its validation accuracy (NaN without a
    validation split). ``W`` is its newest weights (D, C)."""

    strategy: str
    examples: np.ndarray
    seconds: np.ndarray
    loss: np.ndarray
    val_accuracy: np.ndarray
    steps: int
    W: np.ndarray
    note: str = ""

    @property
    def label(self) -> str:
        return STRATEGIES[self.strategy]


@dataclass(frozen=True, eq=False)
class RaceSnapshot:
    curves: tuple
    budget: int
    done: bool
    eval_note: str
    search_note: str
    settings: RaceSettings = field(repr=False, default=None)

    def curve(self, strategy: str) -> Optional[RaceCurve]:
        return next((c for c in self.curves if c.strategy == strategy), None)


def _sample(n: int, wanted: int, rng: np.random.Generator, exclude: Optional[np.ndarray] = None) -> np.ndarray:
    """``wanted`` sorted row indices of n (all of them when 0 or >= n), outside ``exclude``
    while enough rows are left there."""
    if wanted == 0 or wanted >= n:
        return np.arange(n, dtype=np.int64)
    pool = np.arange(n)
    if exclude is not None and n - len(exclude) >= wanted:
        pool = np.setdiff1d(pool, exclude)
    return np.sort(rng.choice(pool, wanted, replace=False)).astype(np.int64)


class _Runner:
    """One strategy's state between rounds."""

    def __init__(self, name, settings, Wt0, loss_fn, X, y, search_rows):
        self.name = name
        self.settings = settings
        self.Wt = Wt0.copy()
        self.loss_fn = loss_fn
        self.X, self.y = X, y
        self.rng = np.random.default_rng([int(settings.seed), 0x7ACE, list(STRATEGIES).index(name)])
        self.examples = 0
        self.seconds = 0.0
        self.steps = 0
        self.note = ""
        self.stopped = False
        N = X.shape[0]
        method = OPTIMIZERS[name]
        self.full_batch = method.full_batch
        if method.gradient_free:
            self.rows = search_rows
            self.cost = len(search_rows)
            scale = settings.search_scale if name == "random_search" else settings.search_step
            self.optimizer = make_optimizer(name, learning_rate=0.0, search_step=scale, seed=self.rng)
            self.best = math.inf  # the lecture's: the first try is always kept
        else:
            self.optimizer = make_optimizer(name, learning_rate=settings.learning_rate(name),
                                            momentum=settings.momentum)
            self.dWt = np.empty_like(self.Wt)
            self.batch = N if self.full_batch else min(int(settings.batch_size), N)
            self.cost = self.batch
            self.order = np.arange(N, dtype=np.int64)
            self.position = N  # a fresh permutation at the first step

    def advance(self, target: int) -> None:
        """Steps while the next one fits in ``target`` examples."""
        start = time.perf_counter()
        while not self.stopped and self.examples + self.cost <= target:
            self._step()
            self.examples += self.cost
            self.steps += 1
        self.seconds += time.perf_counter() - start

    def _step(self) -> None:
        if self.optimizer.gradient_free:
            candidate = self.optimizer.propose(self.Wt)
            value = self.loss_fn.transposed(candidate, self.X, self.y, self.rows, None)
            if value < self.best:
                self.Wt, self.best = candidate, value
            return
        if self.full_batch:
            idx = self.order
        else:
            N = self.X.shape[0]
            if self.position + self.batch > N:
                self.order = self.rng.permutation(N).astype(np.int64)
                self.position = 0
            idx = self.order[self.position:self.position + self.batch]
            self.position += self.batch
        value = self.loss_fn.transposed(self.Wt, self.X, self.y, idx, self.dWt)
        if not math.isfinite(value):
            self.stopped = True
            self.note = f"diverged after {self.steps:,} steps (the loss became {value}): try a smaller learning rate"
            return
        self.optimizer.step(self.Wt, self.dWt)


def race(X, y, X_val=None, y_val=None, settings: RaceSettings = RaceSettings(), *, n_classes: Optional[int] = None,
         W0: Optional[np.ndarray] = None, cancel=None) -> Iterator[RaceSnapshot]:
    """Race the strategies of ``settings`` on features X (N, D; bias column last) and labels y.

    Yields a snapshot after the start (0 examples) and after each of ``settings.rounds``
    rounds; the last has ``done=True``. ``W0`` (D, C) defaults to ``init_scale N(0, 1)``
    from the seed. ``cancel`` (Event or callable) is checked between strategies' rounds.
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.ascontiguousarray(y, dtype=np.int64)
    N, D = X.shape
    C = int(n_classes) if n_classes is not None else int(y.max()) + 1 if y.size else 0
    if C < 2:
        raise LinvizError(f"a race needs at least 2 classes, got {C}")
    check_inputs(np.empty((D, C), np.float32), X, y)
    has_val = X_val is not None and y_val is not None and len(y_val) > 0
    if has_val:
        X_val = np.ascontiguousarray(X_val, dtype=np.float32)
        y_val = np.asarray(y_val, dtype=np.int64)
    if W0 is None:
        Wt0 = (settings.init_scale * np.random.default_rng([int(settings.seed), 0x1417]).standard_normal((C, D)))
    else:
        W0 = np.asarray(W0)
        if W0.shape != (D, C):
            raise ValueError(f"W0 must have shape {(D, C)}, got {W0.shape}")
        Wt0 = W0.T
    Wt0 = np.ascontiguousarray(Wt0, dtype=np.float32)
    loss_fn = LossFunction(settings.loss, settings.reg, settings.reg_type, 1.0, settings.delta, False,
                           D - 1 if settings.unregularized_bias else None)
    eval_rows = _sample(N, int(settings.eval_sample), np.random.default_rng([int(settings.seed), 0xE7A1]))
    search_rows = _sample(N, int(settings.search_sample), np.random.default_rng([int(settings.seed), 0x5EA4]),
                          exclude=eval_rows)
    eval_note = (f"loss on the same {len(eval_rows):,} of the {N:,} training images for every strategy"
                 if len(eval_rows) < N else f"loss on all {N:,} training images")
    overlap = len(np.intersect1d(eval_rows, search_rows))
    search_note = (f"search tries judged on {len(search_rows):,} training images"
                   + (f" ({overlap:,} of them in the evaluation sample)" if overlap else
                      " (apart from the evaluation sample)"))
    runners = [_Runner(name, settings, Wt0, loss_fn, X, y, search_rows) for name in settings.strategies]
    history = {r.name: ([], [], [], []) for r in runners}

    def evaluate() -> None:
        for r in runners:
            examples, seconds, losses, accs = history[r.name]
            examples.append(r.examples)
            seconds.append(r.seconds)
            losses.append(loss_fn.transposed(r.Wt, X, y, eval_rows, None))
            accs.append(accuracy(X_val, y_val, r.Wt.T) if has_val else math.nan)

    def snapshot(done: bool) -> RaceSnapshot:
        curves = tuple(RaceCurve(r.name, *(np.array(v, dtype=np.float64) for v in history[r.name]),
                                 steps=r.steps, W=np.ascontiguousarray(r.Wt.T), note=r.note) for r in runners)
        return RaceSnapshot(curves, int(settings.budget), done, eval_note, search_note, settings)

    evaluate()
    yield snapshot(False)
    rounds = int(settings.rounds)
    for k in range(1, rounds + 1):
        target = int(settings.budget) * k // rounds
        for r in runners:
            check_cancelled(cancel)
            r.advance(target)
        evaluate()
        yield snapshot(k == rounds)


# --------------------------------------------------------------------------- the lecture's setting


def lecture_features(images: np.ndarray) -> np.ndarray:
    """The lecture's input: raw 0-255 pixels as float32, a bias column of ones last."""
    images = np.asarray(images)
    n = images.shape[0]
    out = np.empty((n, int(np.prod(images.shape[1:])) + 1), np.float32)
    out[:, :-1] = images.reshape(n, -1)
    out[:, -1] = 1.0
    return out


def lecture_settings(tries: int = 1000, search_sample: int = 0, *, seed: int = 0, rounds: int = 40,
                     n_train: Optional[int] = None) -> RaceSettings:
    """The lecture's experiment: SVM (delta 1, no regularization) on raw 0-255 pixels; random
    search tries W ~ 0.0001 N(0, 1); random local search starts at W0 ~ 0.001 N(0, 1) (the
    lecture's start, shared by the gradient methods) with steps 0.0001 N(0, 1); ``tries``
    tries judged on ``search_sample`` training images (0: all of them, as in the lecture;
    ``n_train`` is then needed for the budget), and the gradient methods on the same budget
    with steps that suit raw 0-255 pixels."""
    judged = int(search_sample) if search_sample else n_train
    if not judged:
        raise ValueError("lecture_settings: give search_sample or n_train")
    return RaceSettings(budget=int(tries) * int(judged), loss=LECTURE_LOSS, delta=1.0, reg=0.0, init_scale=1e-3,
                        search_scale=1e-4, search_step=1e-4, search_sample=int(search_sample), eval_sample=1000,
                        batch_size=200, learning_rates=(("gd", 1e-7), ("sgd", 1e-7), ("momentum", 1e-8),
                                                        ("adam", 1e-5)),
                        seed=seed, rounds=rounds)
