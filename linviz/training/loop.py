"""The training loop: a plain generator of immutable snapshots, stoppable from another thread.

``train(X, y, X_val, y_val, config)`` runs minibatch optimization of a linear classifier on a
feature matrix and yields a :class:`Snapshot` every ``config.snapshot_every`` iterations and
at every epoch end; the last one has ``done=True`` and says why it stopped. It knows nothing
about Qt: the GUI runs it in a worker thread, keeps the newest snapshot, and redraws from a
timer at its own pace.

Cheap snapshots. The per-iteration losses live in an array that the loop only ever appends
to, so a snapshot carries a read-only view of the part written so far (never written again:
as good as a copy, at no cost). The array grows geometrically with the run, not with the
planned epochs (100,000 epochs at batch 1 would otherwise ask for tens of GB up front): a
full one is copied into a new one twice the size and left as it is, so views into it stay
valid and unchanged, and later writes go to the new one. The weights are copied at most every
``weights_interval`` seconds (and at epoch ends and the end), W is None in between; a copy
of 3073 x 10 floats takes ~10 us.

Control. :class:`TrainingControl` is checked between compiled calls. After the first
minibatch, gradient optimizers run chunks of minibatches per compiled call
(:mod:`linviz.training.minibatch_kernels`), sized to about ``chunk_seconds`` of work, so that
the GIL is free while they compute and pause and stop still act within milliseconds. The
chunked path computes exactly what the step-by-step path does.

Safety. A NaN or infinite loss, or one ``divergence_factor`` times the initial loss, stops
training with a reason ("diverged ..."). ``best_W`` on the final snapshot is never lost:
the weights with the best validation accuracy seen at an epoch end (or, before the first
epoch end, the newest weights whose smoothed loss was no worse than the initial loss).
Without validation data nothing may choose: ``best_W`` is the last weights (after a
divergence, the newest sane ones), and the stop reason says so. The test split is never
passed in here; scoring it is the caller's business, after training.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

import numpy as np

from linviz.models.losses import LOSSES, LossFunction, check_inputs
from linviz.models.regularizers import check_reg_type, regularization
from linviz.pacing import Pacer
from linviz.training.defaults import DEFAULT_FEATURES, SETTINGS, recommended_settings
from linviz.training.minibatch_kernels import LOSS_CODES, run_minibatches
from linviz.training.optimizers import OPTIMIZERS, make_optimizer


_INITIAL_HISTORY = 4096  # loss entries allocated at the start; doubled when full


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that defines a training run (with the data and W0, it fixes the result).

    The learning rate, its decay, momentum, batch size, epochs, regularization strength and
    the searches' step and sample default to ``recommended_settings(DEFAULT_FEATURES, loss,
    optimizer)`` (:mod:`linviz.training.defaults`), the values the CLI and the window use:
    a field left at None is filled in from them. For other features, start from
    ``TrainingConfig(**recommended_settings(features, loss, optimizer), loss=..., ...)``.
    """

    loss: str = "softmax"                 # "svm" | "softmax"
    delta: float = 1.0                    # SVM margin
    squared_hinge: bool = False
    reg: Optional[float] = None           # regularization strength (features are standardized)
    reg_type: str = "l2"                  # "l2" | "l1" | "elastic"
    elastic_beta: float = 1.0             # elastic net: R = sum(beta W^2 + |W|)
    optimizer: str = "sgd"                # see linviz.training.optimizers.OPTIMIZERS
    # None, for these eight: the recommended value (see the class docstring)
    learning_rate: Optional[float] = None
    lr_decay: Optional[float] = None      # learning rate multiplied by this after every epoch
    momentum: Optional[float] = None      # momentum and nesterov
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    search_step: Optional[float] = None   # random (local) search: proposal scale
    search_sample: Optional[int] = None   # random (local) search: training images every candidate
                                          # is judged on, fixed per run (0: all of them)
    batch_size: Optional[int] = None      # ignored by "gd" (full batch)
    epochs: Optional[int] = None
    seed: int = 0
    init_scale: float = 1e-3              # W0 = init_scale * N(0, 1): losses start at C-1 / ln C
    snapshot_every: int = 10              # iterations between snapshots (at least one chunk)
    weights_interval: float = 0.1         # seconds between copies of W in snapshots
    early_stopping: Optional[int] = None  # stop after this many epochs without a better val accuracy
    unregularized_bias: bool = True       # last row of W (the bias column of X) not regularized
    divergence_factor: float = 100.0      # loss above this times the initial loss = diverged
    accuracy_sample: int = 10000          # training rows used for the per-epoch train accuracy
    smoothing: float = 0.95               # exponential moving average of the batch losses
    chunk_seconds: float = 0.01           # compiled work per call (0: one minibatch per call)

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose from {', '.join(LOSSES)}")
        check_reg_type(self.reg_type)
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose from {', '.join(OPTIMIZERS)}")
        missing = [name for name in SETTINGS if getattr(self, name) is None]
        if missing:
            recommended = recommended_settings(DEFAULT_FEATURES, self.loss, self.optimizer)
            for name in missing:
                object.__setattr__(self, name, recommended[name])
        for name in ("reg", "learning_rate", "delta", "init_scale", "search_step", "elastic_beta"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")
        if not (0 < self.lr_decay <= 1):
            raise ValueError(f"lr_decay must be in (0, 1], got {self.lr_decay}")
        # NaN compares False with everything: each range is written so that NaN fails it.
        for name in ("momentum", "adam_beta1", "adam_beta2", "smoothing"):
            value = getattr(self, name)
            if not (0 <= value < 1):
                raise ValueError(f"{name} must be a number in [0, 1), got {value}")
        for name in ("weights_interval", "chunk_seconds"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value}")
        if not (math.isfinite(self.divergence_factor) and self.divergence_factor > 1):
            raise ValueError(f"divergence_factor must be a finite number > 1, got {self.divergence_factor}")
        if not (isinstance(self.seed, (int, np.integer)) and 0 <= self.seed < 2**63):
            raise ValueError(f"seed must be a whole number from 0 to 2^63 - 1, got {self.seed}")
        for name in ("batch_size", "epochs", "snapshot_every", "accuracy_sample"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if int(self.search_sample) < 0:
            raise ValueError(f"search_sample must be >= 0 (0: all training images), got {self.search_sample}")
        if self.early_stopping is not None and self.early_stopping < 1:
            raise ValueError(f"early_stopping must be None or >= 1, got {self.early_stopping}")

    def loss_function(self, n_features: int) -> LossFunction:
        return LossFunction(self.loss, self.reg, self.reg_type, self.elastic_beta, self.delta,
                            self.squared_hinge, n_features - 1 if self.unregularized_bias else None)


STEP_UNITS = ("minibatch", "epoch")


@dataclass(frozen=True)
class Grant:
    """What the loop may do now (:meth:`TrainingControl.grant`): run ``count`` minibatches
    (0: stop), one by one outside the chunked path when ``stepping``; ``waited`` seconds were
    spent waiting for the pace (they count as training time; pauses do not)."""

    count: int
    stepping: bool = False
    paced: bool = False
    waited: float = 0.0


class TrainingControl:
    """Pause, resume, stop, pace and step a running :func:`train` from any thread.

    The loop asks :meth:`grant` before every compiled call how many minibatches it may run:
    all it wants while running at full speed; as many as are due at the chosen ``pace``
    (iterations per second; :class:`~linviz.pacing.Pacer`); while paused none, except the
    ones :meth:`step` grants (one minibatch, or the rest of the epoch), which the loop runs
    one at a time, each followed by a snapshot with the weights. Pace and steps change only
    *when* minibatches run, never what they compute: a paced run gives the weights of an
    unpaced one. ``clock`` and ``sleep`` are injectable (tests drive a fake clock; the real
    wait wakes at once on stop, pause, step or a new pace).
    """

    def __init__(self, *, pace: Optional[float] = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Optional[Callable[[float], None]] = None):
        self._cond = threading.Condition()
        self._paused = False
        self._stopped = False
        self._steps = 0             # single minibatches granted while paused
        self._epoch_step = False    # while paused: run to the end of this epoch
        self._clock = clock
        self._sleep = sleep
        self._pacer: Optional[Pacer] = None
        self.set_pace(pace)

    # ------------------------------------------------------------------ from any thread
    def pause(self) -> None:
        with self._cond:
            self._paused = True
            self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._steps, self._epoch_step = 0, False
            if self._pacer is not None:
                self._pacer.start()  # the pause owes no burst of steps
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()  # wake a paused or pacing loop so that it can see the stop

    def set_pace(self, iterations_per_second: Optional[float]) -> None:
        """``None``: as fast as possible; else iterations per second (> 0)."""
        if iterations_per_second is not None:
            pace = float(iterations_per_second)
            if not (math.isfinite(pace) and pace > 0):
                raise ValueError(f"pace must be a positive number of iterations per second or None, got {pace}")
        with self._cond:
            if iterations_per_second is None:
                self._pacer = None
            else:
                # at most a tenth of a second of steps in one call after a stall
                self._pacer = Pacer(pace, clock=self._clock, max_burst=max(1, int(pace / 10)))
                self._pacer.start()
            self._cond.notify_all()

    def step(self, unit: str = "minibatch") -> None:
        """Pause (if running) and grant one minibatch, or the rest of the current epoch."""
        if unit not in STEP_UNITS:
            raise ValueError(f"unknown step unit {unit!r}; choose from {', '.join(STEP_UNITS)}")
        with self._cond:
            self._paused = True
            if unit == "epoch":
                self._epoch_step = True
            else:
                self._steps += 1
            self._cond.notify_all()

    @property
    def pace(self) -> Optional[float]:
        pacer = self._pacer
        return None if pacer is None else pacer.pace

    @property
    def paused(self) -> bool:
        return self._paused and not self._stopped

    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def stepping(self) -> bool:
        """Steps granted and not yet taken."""
        return self._steps > 0 or self._epoch_step

    # ------------------------------------------------------------------ from the loop
    def checkpoint(self) -> bool:
        """Wait while paused; True to go on, False when stopped."""
        return self.grant(1, 1).count > 0

    def grant(self, wanted: int, epoch_left: int) -> Grant:
        """How many of the ``wanted`` minibatches to run now (``epoch_left`` remain in the
        epoch); blocks while paused without a step and until the pace allows one."""
        waited = 0.0
        with self._cond:
            while True:
                if self._stopped:
                    return Grant(0, waited=waited)
                if self._paused:
                    if self._steps > 0:
                        self._steps -= 1
                        return Grant(1, stepping=True, waited=waited)
                    if self._epoch_step:
                        self._epoch_step = epoch_left > 1
                        return Grant(1, stepping=True, waited=waited)
                    self._cond.wait()
                    continue
                pacer = self._pacer
                if pacer is None:
                    return Grant(max(int(wanted), 1), waited=waited)
                due = pacer.due(limit=max(int(wanted), 1))
                if due > 0:
                    return Grant(due, paced=True, waited=waited)
                pause = min(pacer.seconds_until_due(), 1.0)
                start = self._clock()
                if self._sleep is not None:
                    self._sleep(pause)
                else:
                    self._cond.wait(pause)
                waited += max(0.0, self._clock() - start)


@dataclass(frozen=True)
class Snapshot:
    """The state of a training run at one moment. Arrays in it are never written again."""

    iteration: int                        # minibatch updates done
    epoch: float                          # iteration / iterations per epoch
    batch_loss: float                     # loss of the newest minibatch (before its update)
    smoothed_loss: float
    losses: np.ndarray                    # float32, one per iteration so far (read-only)
    smoothed_losses: np.ndarray
    epochs_done: int
    train_accuracies: tuple               # one per finished epoch
    val_accuracies: tuple                 # one per finished epoch (empty without validation data)
    W: Optional[np.ndarray]               # (D, C) copy, or None when throttled
    learning_rate: float
    initial_loss: float                   # loss of the first minibatch at W0
    expected_initial_loss: float          # C - 1 (SVM, delta 1) or ln C (softmax)
    sanity_check: str                     # one line comparing the two
    samples_per_second: float
    iterations_per_second: float
    elapsed: float                        # seconds of training, pauses excluded
    done: bool = False
    stop_reason: Optional[str] = None     # on the final snapshot
    best_W: Optional[np.ndarray] = None   # on the final snapshot
    best_val_accuracy: Optional[float] = None
    best_epoch: Optional[int] = None
    kept: Optional[str] = None            # on the final snapshot: which weights best_W is, in words
    n_classes: int = 0
    n_features: int = 0
    # random (local) search: how many training images every step is judged on (the same
    # ones all run long; 0 for the gradient optimizers), and that in words
    search_sample: int = 0
    search_note: Optional[str] = None
    # one row per snapshot so far (read-only view of an append-only buffer, like ``losses``):
    # PER_SNAPSHOT_COLUMNS = iteration, data loss (the newest minibatch loss minus the
    # regularization), regularization loss reg * R(W) and ||W|| (Frobenius, the regularized
    # rows: without the bias), the last three at the weights after the newest update
    per_snapshot: Optional[np.ndarray] = None

    @property
    def data_losses(self) -> np.ndarray:
        return _column(self.per_snapshot, 1)

    @property
    def reg_losses(self) -> np.ndarray:
        return _column(self.per_snapshot, 2)

    @property
    def weight_norms(self) -> np.ndarray:
        return _column(self.per_snapshot, 3)

    @property
    def snapshot_iterations(self) -> np.ndarray:
        return _column(self.per_snapshot, 0)


PER_SNAPSHOT_COLUMNS = ("iteration", "data_loss", "reg_loss", "weight_norm")


def _column(table: Optional[np.ndarray], k: int) -> np.ndarray:
    return np.zeros(0) if table is None else table[:, k]


def accuracy(X: np.ndarray, y: np.ndarray, W: np.ndarray) -> float:
    """Fraction of rows whose highest score X @ W is the true class (BLAS, releases the GIL)."""
    if X.shape[0] == 0:
        return float("nan")
    return float(np.mean(np.argmax(X @ W, axis=1) == y))


def _sanity_message(config: "TrainingConfig", initial: float, expected: float, n_classes: int) -> str:
    if config.loss == "softmax":
        what = f"ln {n_classes}"
    else:
        # every one of the C - 1 wrong classes sits exactly at the margin when W ~ 0
        margin = "delta^2" if config.squared_hinge else "delta"
        what = f"C - 1 = {n_classes - 1}" if config.delta == 1 else f"(C - 1) x {margin}"
    ok = abs(initial - expected) <= 0.1 * max(expected, 1e-12) + 0.05
    verdict = "as expected for small random weights" if ok else (
        "far from it: check the initial weights, the regularization and the data scale")
    return f"initial loss {initial:.4f} vs {what} ({expected:.4f}): {verdict}"


def _divergence_reason(loss: float, iteration: int, limit: float, factor: float, initial: float,
                       learning_rate: float) -> Optional[str]:
    """Why training must stop at this loss, or None when it is fine."""
    hint = f"try a smaller learning rate (now {learning_rate:g})"
    if not math.isfinite(loss):
        return (f"diverged at iteration {iteration}: the loss became "
                f"{'NaN' if math.isnan(loss) else 'infinite'}; {hint}")
    if loss > limit:
        return (f"diverged at iteration {iteration}: loss {loss:.4g} is over "
                f"{factor:g} times the initial {initial:.4g}; {hint}")
    return None


def _as_float32(X: np.ndarray, name: str) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (N, D), got shape {X.shape}")
    return np.ascontiguousarray(X, dtype=np.float32)


def train(X: np.ndarray, y: np.ndarray, X_val: Optional[np.ndarray] = None,
          y_val: Optional[np.ndarray] = None, config: TrainingConfig = TrainingConfig(),
          control: Optional[TrainingControl] = None, W0: Optional[np.ndarray] = None,
          n_classes: Optional[int] = None) -> Iterator[Snapshot]:
    """Train a linear classifier on features X (N, D) with labels y in 0..C-1; yield snapshots.

    X carries the bias column last when ``config.unregularized_bias`` (the feature pipeline
    appends it). ``n_classes`` defaults to ``y.max() + 1``; ``W0`` (D, C) to small random weights.
    """
    X = _as_float32(X, "X")
    y = np.ascontiguousarray(y, dtype=np.int64)
    N, D = X.shape
    C = int(n_classes) if n_classes is not None else int(y.max()) + 1 if y.size else 0
    if C < 2:
        raise ValueError(f"training needs at least 2 classes, got {C}")
    has_val = X_val is not None and y_val is not None and len(y_val) > 0
    if has_val:
        X_val = _as_float32(X_val, "X_val")
        y_val = np.ascontiguousarray(y_val, dtype=np.int64)
        check_inputs(np.empty((D, C), np.float32), X_val, y_val)
    rng = np.random.default_rng(config.seed)
    if W0 is None:
        Wt = (config.init_scale * rng.standard_normal((C, D))).astype(np.float32)
    else:
        W0 = np.asarray(W0)
        if W0.shape != (D, C):
            raise ValueError(f"W0 must have shape {(D, C)}, got {W0.shape}")
        Wt = np.ascontiguousarray(W0.T, dtype=np.float32)
    check_inputs(Wt.T, X, y)

    loss_fn = config.loss_function(D)
    optimizer = make_optimizer(config.optimizer, learning_rate=config.learning_rate,
                               momentum=config.momentum, beta1=config.adam_beta1,
                               beta2=config.adam_beta2, search_step=config.search_step, seed=rng)
    gradient_free = optimizer.gradient_free
    batch = N if config.optimizer == "gd" else min(int(config.batch_size), N)
    per_epoch = -(-N // batch)
    total = per_epoch * int(config.epochs)
    losses = np.full(min(total, _INITIAL_HISTORY), np.nan, np.float32)
    smoothed = np.full_like(losses, np.nan)

    def grown(history: np.ndarray, needed: int) -> np.ndarray:
        """A larger copy of the first ``it`` entries; ``history`` itself is never written again."""
        bigger = np.full(min(total, max(needed, 2 * len(history))), np.nan, np.float32)
        bigger[:it] = history[:it]
        return bigger
    dWt = None if gradient_free else np.empty_like(Wt)
    stats = np.full((64, len(PER_SNAPSHOT_COLUMNS)), np.nan)  # per-snapshot rows; doubled when full
    n_stats = 0
    expected = loss_fn.expected_initial_loss(C)
    acc_rows = (rng.choice(N, config.accuracy_sample, replace=False) if N > config.accuracy_sample
                else np.arange(N))
    X_acc, y_acc = X[np.sort(acc_rows)], y[np.sort(acc_rows)]
    search_rows, search_note = _search_rows(config, N) if gradient_free else (None, None)

    train_accs: list[float] = []
    val_accs: list[float] = []
    best_val, best_epoch = -1.0, None
    best_W = None            # best validation weights, (D, C)
    healthy_W = Wt.T.copy()  # newest weights whose smoothed loss <= the initial loss
    epochs_since_best = 0
    initial_loss = float("nan")
    sanity = ""
    it = 0
    active = 0.0             # seconds of training, pauses and snapshot consumers excluded
    last_weights = -math.inf
    stop_reason: Optional[str] = None

    def snapshot_row(batch_loss) -> np.ndarray:
        """A read-only view of the per-snapshot rows so far, this iteration's row included."""
        nonlocal stats, n_stats
        if not (n_stats and stats[n_stats - 1, 0] == it):
            if n_stats == len(stats):  # a full buffer is left as it is: earlier views stay valid
                bigger = np.full((2 * len(stats), stats.shape[1]), np.nan)
                bigger[:n_stats] = stats[:n_stats]
                stats = bigger
            rows = Wt[:, :n_reg].T
            reg_loss, _ = regularization(rows, loss_fn.reg, config.reg_type, config.elastic_beta)
            norm = float(np.sqrt(np.sum(np.square(rows, dtype=np.float64))))
            stats[n_stats] = (it, float(batch_loss) - reg_loss, reg_loss, norm)
            n_stats += 1
        view = stats[:n_stats]
        view.flags.writeable = False
        return view

    def snapshot(batch_loss, *, with_W=False, final=False, kept=None):
        nonlocal last_weights
        now = time.perf_counter()
        per_snapshot = snapshot_row(batch_loss) if it else None
        W_copy = None
        if with_W or final or now - last_weights >= config.weights_interval:
            W_copy = Wt.T.copy()
            last_weights = now
        loss_view = losses[:it]
        loss_view.flags.writeable = False
        smooth_view = smoothed[:it]
        smooth_view.flags.writeable = False
        rate = it / active if active > 0 else 0.0
        if final:
            chosen = best_W if best_W is not None else healthy_W
            extra = dict(done=True, stop_reason=stop_reason, best_W=chosen, kept=kept,
                         best_val_accuracy=best_val if best_W is not None else None,
                         best_epoch=best_epoch)
        else:
            extra = {}
        return Snapshot(
            iteration=it, epoch=it / per_epoch, batch_loss=float(batch_loss),
            smoothed_loss=float(smoothed[it - 1]) if it else float("nan"),
            losses=loss_view, smoothed_losses=smooth_view, epochs_done=len(train_accs),
            train_accuracies=tuple(train_accs), val_accuracies=tuple(val_accs), W=W_copy,
            learning_rate=optimizer.learning_rate, initial_loss=initial_loss,
            expected_initial_loss=expected, sanity_check=sanity,
            samples_per_second=rate * batch, iterations_per_second=rate, elapsed=active,
            n_classes=C, n_features=D, search_sample=0 if search_rows is None else len(search_rows),
            search_note=search_note, per_snapshot=per_snapshot, **extra)

    chunked = not gradient_free and config.chunk_seconds > 0
    chunk = 1  # minibatches per compiled call, adapted to about config.chunk_seconds
    n_reg = loss_fn.n_reg_rows if loss_fn.n_reg_rows is not None else D
    reg_code = check_reg_type(config.reg_type)
    ema_state = [0.0]  # the moving average, shared by both paths

    # gradient-free: the loss of Wt on the search sample (at W0 to begin with)
    current = [loss_fn.transposed(Wt, X, y, search_rows, None) if gradient_free else math.nan]
    start_loss = current[0]

    def one_step(idx) -> float:
        """One minibatch the plain way: loss and gradient, then the optimizer's update.

        The gradient-free searches judge every candidate on the same fixed search sample
        (the lecture's algorithm: keep a step only when it lowers the loss on the data it is
        judged on). On a fresh minibatch each time, a step that happened to suit 200 images
        was kept although the loss on all of them rose.
        """
        if gradient_free:
            candidate = optimizer.propose(Wt)
            candidate_loss = loss_fn.transposed(candidate, X, y, search_rows, None)
            if candidate_loss < current[0]:
                Wt[...] = candidate
                current[0] = candidate_loss
            return current[0]
        return loss_fn.transposed(Wt, X, y, idx, dWt)

    batch_loss = float("nan")
    limit = math.inf
    for epoch in range(int(config.epochs)):
        order = np.arange(N, dtype=np.int64) if batch == N else rng.permutation(N).astype(np.int64)
        b = 0
        while b < per_epoch:
            fast = chunked and it > 0
            wanted = min(per_epoch - b, chunk) if fast else 1
            grant = Grant(wanted)
            if control is not None:
                # blocks while paused (a step may come) and until the pace allows a minibatch
                grant = control.grant(wanted, per_epoch - b)
                if grant.count == 0:
                    stop_reason = f"stopped by the user at iteration {it}"
                    break
                active += grant.waited  # a paced run's waits are part of its time, pauses are not
            start = time.perf_counter()
            if fast and not grant.stepping:  # a step runs outside the chunked path, one minibatch
                count = min(wanted, grant.count)
                if it + count > len(losses):  # the kernel writes entries it .. it + count - 1
                    losses, smoothed = grown(losses, it + count), grown(smoothed, it + count)
                (code, lr, mu, beta1, beta2, eps, t0, velocity, moment) = optimizer.kernel_state(Wt)
                done, ema, bad_loss = run_minibatches(
                    Wt, X, y, order, b, count, batch, LOSS_CODES[loss_fn.loss], float(loss_fn.delta),
                    bool(loss_fn.squared), float(loss_fn.reg), reg_code, float(loss_fn.elastic_beta),
                    n_reg, True, code, lr, mu, beta1, beta2, eps, t0, velocity, moment, dWt,
                    losses, smoothed, it, ema_state[0], float(config.smoothing), limit)
                ema_state[0] = ema
                optimizer.advance(done)
                spent = time.perf_counter() - start
                active += spent
                chunk = max(1, min(100_000, int(config.chunk_seconds * max(done, 1) / max(spent, 1e-7))))
                first_of_chunk, it, b = it, it + done, b + done
                if done:
                    batch_loss = float(losses[it - 1])
                if done < count:
                    stop_reason = _divergence_reason(bad_loss, it + 1, limit, config.divergence_factor,
                                                     initial_loss, optimizer.learning_rate)
                    break
                if grant.paced or first_of_chunk // config.snapshot_every != it // config.snapshot_every:
                    snap = snapshot(batch_loss)
                    if snap.W is not None and smoothed[it - 1] <= initial_loss:
                        healthy_W = snap.W
                    yield snap
                continue
            batch_loss = one_step(order[b * batch:(b + 1) * batch])
            if it == 0:
                # the searches' first number is their loss at W0, before any step
                initial_loss = float(start_loss if gradient_free else batch_loss)
                sanity = _sanity_message(config, initial_loss, expected, C)
                limit = config.divergence_factor * max(initial_loss, expected, 1e-12)
            stop_reason = _divergence_reason(batch_loss, it + 1, limit, config.divergence_factor,
                                             initial_loss, optimizer.learning_rate)
            if stop_reason is not None:
                break
            if not gradient_free:
                optimizer.step(Wt, dWt)
            if it >= len(losses):
                losses, smoothed = grown(losses, it + 1), grown(smoothed, it + 1)
            losses[it] = batch_loss
            a = config.smoothing
            ema_state[0] = a * ema_state[0] + (1 - a) * batch_loss
            smoothed[it] = ema_state[0] / (1 - a ** (it + 1))  # bias-corrected: no ramp up from 0
            it += 1
            b += 1
            active += time.perf_counter() - start
            if it == 1 or it % config.snapshot_every == 0 or grant.stepping or grant.paced:
                snap = snapshot(batch_loss, with_W=grant.stepping)
                if snap.W is not None and smoothed[it - 1] <= initial_loss:
                    healthy_W = snap.W
                yield snap
        if stop_reason is not None:
            break
        # Epoch end: accuracies, best weights, early stopping, learning-rate decay.
        start = time.perf_counter()
        W_now = Wt.T.copy()
        train_accs.append(accuracy(X_acc, y_acc, W_now))
        if smoothed[it - 1] <= initial_loss:
            healthy_W = W_now
        if has_val:
            val_acc = accuracy(X_val, y_val, W_now)
            val_accs.append(val_acc)
            if val_acc > best_val:
                best_val, best_epoch, best_W = val_acc, epoch + 1, W_now
                epochs_since_best = 0
            else:
                epochs_since_best += 1
        optimizer.learning_rate *= config.lr_decay
        active += time.perf_counter() - start
        if config.early_stopping is not None and has_val and epochs_since_best >= config.early_stopping:
            stop_reason = (f"early stopping after epoch {epoch + 1}: no better validation accuracy "
                           f"for {config.early_stopping} epoch(s); best {best_val:.4f} at epoch {best_epoch}")
        yield snapshot(batch_loss, with_W=True)
        if stop_reason is not None:
            break
    if stop_reason is None:
        stop_reason = f"finished {config.epochs} epoch(s)"
    if search_note is not None:
        stop_reason = f"{stop_reason}; {search_note}"
    # Which weights are the result. Only a validation split may choose among them: without
    # one the result is the last weights (never the test split's favourites), unless the run
    # diverged, when it is the newest weights whose loss was still sane.
    if has_val and best_W is not None:
        kept = f"the weights of epoch {best_epoch}, the best validation accuracy ({best_val:.4f})"
    elif has_val:
        kept = "the newest weights whose loss was no worse than the initial one (no epoch finished)"
    elif stop_reason.startswith("diverged"):
        kept = "the newest weights whose loss was no worse than the initial one (no validation data)"
        stop_reason += "; no validation data: kept the newest weights from before it diverged"
    else:
        healthy_W = Wt.T.copy()
        kept = "the last weights (no validation data)"
        stop_reason += "; no validation data: kept the last weights"
    yield snapshot(batch_loss, final=True, kept=kept)


def _search_rows(config: TrainingConfig, n: int) -> tuple[np.ndarray, str]:
    """The training rows the gradient-free searches judge every step on, and that in words.

    ``config.search_sample`` rows (all of them when 0 or at least ``n``), drawn once from
    the run's seed with a generator of their own, so the same seed always judges on the
    same images.
    """
    wanted = int(config.search_sample)
    if wanted == 0 or wanted >= n:
        return np.arange(n, dtype=np.int64), f"every step judged on all {n:,} training images"
    rows = np.random.default_rng([int(config.seed), 0x5EA4C4]).choice(n, wanted, replace=False)
    return (np.sort(rows).astype(np.int64),
            f"every step judged on the same {wanted:,} of the {n:,} training images (seed {config.seed})")


def run_to_end(iterator: Iterator[Snapshot]) -> Snapshot:
    """Exhaust a training generator and return its final snapshot."""
    last = None
    for last in iterator:
        pass
    return last
