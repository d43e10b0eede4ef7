"""The training loop: a plain generator of immutable snapshots, stoppable from another thread.

``train(X, y, X_val, y_val, config)`` runs minibatch optimization of a linear classifier on a
feature matrix and yields a :class:`Snapshot` every ``config.snapshot_every`` iterations and
at every epoch end; the last one has ``done=True`` and says why it stopped. It knows nothing
about Qt: the GUI runs it in a worker thread, keeps the newest snapshot, and redraws from a
timer at its own pace.

The run's state lives in :class:`_Run`, one method per phase (an epoch's minibatches, a
chunk of them, one step, the epoch's end, the final snapshot); :func:`train` only drives it.

Cheap snapshots. The per-iteration losses live in an array that the loop only ever appends
to, so a snapshot carries a read-only view of the part written so far (never written again:
as good as a copy, at no cost; :class:`_LossHistory` says how it grows). The weights are
copied at most every ``weights_interval`` seconds (and at epoch ends and the end), W is None
in between; a copy of 3073 x 10 floats takes ~10 us.

Control. :class:`~linviz.training.control.TrainingControl` is checked between compiled
calls. After the first minibatch, gradient optimizers run chunks of minibatches per compiled call
(:mod:`linviz.training.minibatch_kernels`), sized to about ``chunk_seconds`` of work, so that
the GIL is free while they compute and pause and stop still act within milliseconds. The
chunked path computes exactly what the step-by-step path does, so a run goes step by step
while the chunked path's kernel is still compiling in the background on a first run
(:mod:`linviz.training.warmup`) and takes it when it is ready, instead of waiting for it.

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
import time
from dataclasses import dataclass
from typing import Iterator, Optional

import numpy as np

from linviz.limits import TRAINING_SETTINGS
from linviz.models.losses import LOSSES, LossFunction, check_inputs, loss_named
from linviz.models.regularizers import check_reg_type, regularization
from linviz.numba_setup import readonly
from linviz.training import warmup
from linviz.training.control import Grant, TrainingControl
from linviz.training.defaults import DEFAULT_FEATURES, SETTINGS, recommended_settings
from linviz.training.minibatch_kernels import run_minibatches
from linviz.training.optimizers import OPTIMIZERS, make_optimizer, optimizer_named
from linviz.text import counted

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
        loss_named(self.loss)  # ValueError naming the choices
        check_reg_type(self.reg_type)
        optimizer_named(self.optimizer)
        missing = [name for name in SETTINGS if getattr(self, name) is None]
        if missing:
            recommended = recommended_settings(DEFAULT_FEATURES, self.loss, self.optimizer)
            for name in missing:
                object.__setattr__(self, name, recommended[name])
        # Every number against the one table of bounds the run store, model files, the CLI and
        # the window share: what trains can be recorded and read back (NaN fails every bound).
        for name, bound in TRAINING_SETTINGS.items():
            problem = bound.problem(getattr(self, name))
            if problem is not None:
                raise ValueError(f"{name} {problem}")
        for name in ("squared_hinge", "unregularized_bias"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r:.30}")

    def loss_function(self, n_features: int) -> LossFunction:
        return LossFunction(self.loss, self.reg, self.reg_type, self.elastic_beta, self.delta,
                            self.squared_hinge, n_features - 1 if self.unregularized_bias else None)


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
    best_epoch: Optional[int] = None      # the epoch whose weights the run keeps so far (validation data)
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
    what = LOSSES[config.loss].initial_loss_words(n_classes, config.delta, config.squared_hinge)
    ok = abs(initial - expected) <= 0.1 * max(expected, 1e-12) + 0.05
    verdict = "as expected for small random weights" if ok else (
        "far from it: check the initial weights, the regularization and the data scale")
    return f"initial loss {initial:.4f} vs {what} ({expected:.4f}): {verdict}"


def _divergence_reason(loss: float, iteration: int, limit: float, factor: float, initial: float,
                       learning_rate: float) -> Optional[str]:
    """Why training must stop at this loss, or None when it is fine."""
    hint = f"try a smaller learning rate (now {learning_rate:g})"
    if not math.isfinite(loss):
        return (f"diverged at iteration {iteration:,}: the loss became "
                f"{'NaN' if math.isnan(loss) else 'infinite'}; {hint}")
    if loss > limit:
        return (f"diverged at iteration {iteration:,}: loss {loss:.4g} is over "
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
    Bad inputs raise ``ValueError`` at the first ``next()``, like everything a generator does.
    """
    yield from _Run(X, y, X_val, y_val, config, W0, n_classes).snapshots(control)


class _LossHistory:
    """The loss of every iteration and its moving average, append-only.

    The arrays grow geometrically with the run, not with the planned epochs (100,000 epochs
    at batch 1 would otherwise ask for tens of GB up front). A full array is copied into a
    new one twice the size and left as it is, so that the read-only views snapshots hold
    stay valid and unchanged.
    """

    def __init__(self, total: int):
        self.total = total  # iterations planned: never more entries than that
        self.losses = np.full(min(total, _INITIAL_HISTORY), np.nan, np.float32)
        self.smoothed = np.full_like(self.losses, np.nan)

    def make_room(self, written: int, needed: int) -> None:
        """Room for ``needed`` entries, of which the first ``written`` are filled."""
        if needed > len(self.losses):
            self.losses = self._grown(self.losses, written, needed)
            self.smoothed = self._grown(self.smoothed, written, needed)

    def _grown(self, history: np.ndarray, written: int, needed: int) -> np.ndarray:
        bigger = np.full(min(self.total, max(needed, 2 * len(history))), np.nan, np.float32)
        bigger[:written] = history[:written]
        return bigger

    def views(self, written: int) -> tuple[np.ndarray, np.ndarray]:
        """Read-only views of the first ``written`` losses and smoothed losses."""
        losses, smoothed = self.losses[:written], self.smoothed[:written]
        losses.flags.writeable = False
        smoothed.flags.writeable = False
        return losses, smoothed


class _Run:
    """One training run: the data, the weights and the optimizer, the loss history, the
    accuracies per epoch and which weights the run will keep.

    :meth:`snapshots` is the loop: for each epoch, its minibatches (:meth:`_epoch`: chunks of
    them through one compiled call, :meth:`_chunk`, or one at a time, :meth:`_step`), then
    the epoch's end (:meth:`_end_of_epoch`); finally :meth:`_final_snapshot`. The weights are
    kept transposed (C, D), the layout the kernels read.
    """

    def __init__(self, X, y, X_val, y_val, config: TrainingConfig, W0, n_classes):
        self.config = config
        # read-only: the kernels' one type for what they only read (linviz.numba_setup)
        self.X = X = readonly(_as_float32(X, "X"))
        self.y = y = readonly(np.ascontiguousarray(y, dtype=np.int64))
        self.N, self.D = N, D = X.shape
        self.C = C = int(n_classes) if n_classes is not None else int(y.max()) + 1 if y.size else 0
        if C < 2:
            raise ValueError(f"training needs at least 2 classes, got {C}")
        self.has_val = X_val is not None and y_val is not None and len(y_val) > 0
        if self.has_val:
            X_val = _as_float32(X_val, "X_val")
            y_val = np.ascontiguousarray(y_val, dtype=np.int64)
            check_inputs(np.empty((D, C), np.float32), X_val, y_val)
        self.X_val, self.y_val = X_val, y_val
        # One generator for the whole run, used in this order: W0, the optimizer (the
        # searches' proposals), the rows of the train accuracy, each epoch's permutation.
        self.rng = rng = np.random.default_rng(config.seed)
        self.Wt = self._initial_weights(W0)
        check_inputs(self.Wt.T, X, y)
        self.loss_fn = loss_fn = config.loss_function(D)
        self.optimizer = make_optimizer(config.optimizer, learning_rate=config.learning_rate,
                                        momentum=config.momentum, beta1=config.adam_beta1,
                                        beta2=config.adam_beta2, search_step=config.search_step, seed=rng)
        self.gradient_free = self.optimizer.gradient_free
        self.batch = N if OPTIMIZERS[config.optimizer].full_batch else min(int(config.batch_size), N)
        self.per_epoch = -(-N // self.batch)
        self.history = _LossHistory(self.per_epoch * int(config.epochs))
        self.dWt = None if self.gradient_free else np.empty_like(self.Wt)
        self.stats = np.full((64, len(PER_SNAPSHOT_COLUMNS)), np.nan)  # per-snapshot rows; doubled when full
        self.n_stats = 0
        self.expected = loss_fn.expected_initial_loss(C)
        acc_rows = (rng.choice(N, config.accuracy_sample, replace=False) if N > config.accuracy_sample
                    else np.arange(N))
        self.X_acc, self.y_acc = X[np.sort(acc_rows)], y[np.sort(acc_rows)]
        self.search_rows, self.search_note = _search_rows(config, N) if self.gradient_free else (None, None)
        self.chunked = not self.gradient_free and config.chunk_seconds > 0
        self.chunk = 1  # minibatches per compiled call, adapted to about config.chunk_seconds
        self.loop_kernel_ready = False
        self.n_reg = loss_fn.n_reg_rows if loss_fn.n_reg_rows is not None else D
        self.reg_code = check_reg_type(config.reg_type)
        # gradient-free: the loss of Wt on the search sample (at W0 to begin with)
        self.current_loss = loss_fn.transposed(self.Wt, X, y, self.search_rows, None) if self.gradient_free \
            else math.nan
        self.start_loss = self.current_loss

        self.it = 0                # minibatch updates done
        self.active = 0.0          # seconds of training, pauses and snapshot consumers excluded
        self.last_weights = -math.inf  # when a snapshot last carried a copy of W
        self.batch_loss = float("nan")
        self.ema = 0.0             # the moving average of the batch losses, before bias correction
        self.initial_loss = float("nan")
        self.sanity = ""
        self.limit = math.inf      # a loss above this is a divergence
        self.train_accs: list[float] = []
        self.val_accs: list[float] = []
        self.best_val, self.best_epoch = -1.0, None
        self.reached_epoch: Optional[int] = None  # the epoch that first reached best_val
        self.best_W = None              # best validation weights, (D, C)
        self.healthy_W = self.Wt.T.copy()  # newest weights whose smoothed loss <= the initial loss
        self.epochs_since_best = 0
        self.stop_reason: Optional[str] = None

    def _initial_weights(self, W0) -> np.ndarray:
        """W0 transposed, or small random weights (config.init_scale * N(0, 1))."""
        C, D = self.C, self.D
        if W0 is None:
            return (self.config.init_scale * self.rng.standard_normal((C, D))).astype(np.float32)
        W0 = np.asarray(W0)
        if W0.shape != (D, C):
            raise ValueError(f"W0 must have shape {(D, C)}, got {W0.shape}")
        return np.ascontiguousarray(W0.T, dtype=np.float32)

    # ------------------------------------------------------------------ the loop

    def snapshots(self, control: Optional[TrainingControl]) -> Iterator[Snapshot]:
        for epoch in range(int(self.config.epochs)):
            yield from self._epoch(control)
            if self.stop_reason is not None:
                break
            yield self._end_of_epoch(epoch)
            if self.stop_reason is not None:
                break
        yield self._final_snapshot()

    def _epoch(self, control: Optional[TrainingControl]) -> Iterator[Snapshot]:
        """The minibatches of one epoch and the snapshots due among them. Returns early when
        ``control`` stops the run or the loss diverges (``stop_reason`` says which)."""
        config, N, per_epoch = self.config, self.N, self.per_epoch
        order = np.arange(N, dtype=np.int64) if self.batch == N else self.rng.permutation(N).astype(np.int64)
        b = 0
        while b < per_epoch:
            fast = self.chunked and self.it > 0 and self._loop_kernel_ready()
            wanted = min(per_epoch - b, self.chunk) if fast else 1
            grant = Grant(wanted)
            if control is not None:
                # blocks while paused (a step may come) and until the pace allows a minibatch
                grant = control.grant(wanted, per_epoch - b)
                if grant.count == 0:
                    self.stop_reason = f"stopped by the user at iteration {self.it:,}"
                    return
                self.active += grant.waited  # a paced run's waits are part of its time, pauses are not
            if fast and not grant.stepping:  # a step runs outside the chunked path, one minibatch
                first = self.it
                b += self._chunk(order, b, min(wanted, grant.count))
                if self.stop_reason is not None:
                    return
                if grant.paced or first // config.snapshot_every != self.it // config.snapshot_every:
                    yield self._keep_if_healthy(self._snapshot())
                continue
            if not self._step(order[b * self.batch:(b + 1) * self.batch]):
                return
            b += 1
            if self.it == 1 or self.it % config.snapshot_every == 0 or grant.stepping or grant.paced:
                yield self._keep_if_healthy(self._snapshot(with_W=grant.stepping))

    def _loop_kernel_ready(self) -> bool:
        """False while the chunked path's kernel is compiling in the background (a first run;
        then the steps go one by one); once True, it stays so."""
        if not self.loop_kernel_ready:
            self.loop_kernel_ready = not warmup.pending(warmup.training_loop_part())
        return self.loop_kernel_ready

    def _chunk(self, order: np.ndarray, b: int, count: int) -> int:
        """Up to ``count`` minibatches (``order``'s batches b, b + 1, ...) in one compiled call,
        which computes exactly what :meth:`_step` would; how many ran (fewer when the loss
        diverged: ``stop_reason`` says so)."""
        start = time.perf_counter()
        it, loss_fn, history = self.it, self.loss_fn, self.history
        history.make_room(it, it + count)  # the kernel writes entries it .. it + count - 1
        (code, lr, mu, beta1, beta2, eps, t0, velocity, moment) = self.optimizer.kernel_state(self.Wt)
        done, self.ema, bad_loss = run_minibatches(
            self.Wt, self.X, self.y, order, b, count, self.batch,
            LOSSES[loss_fn.loss].kernel_code, float(loss_fn.delta),
            bool(loss_fn.squared), float(loss_fn.reg), self.reg_code, float(loss_fn.elastic_beta),
            self.n_reg, True, code, lr, mu, beta1, beta2, eps, t0, velocity, moment, self.dWt,
            history.losses, history.smoothed, it, self.ema, float(self.config.smoothing), self.limit)
        self.optimizer.advance(done)
        spent = time.perf_counter() - start
        self.active += spent
        self.chunk = max(1, min(100_000, int(self.config.chunk_seconds * max(done, 1) / max(spent, 1e-7))))
        self.it += done
        if done:
            self.batch_loss = float(history.losses[self.it - 1])
        if done < count:
            self.stop_reason = self._divergence(bad_loss)
        return done

    def _step(self, idx: np.ndarray) -> bool:
        """One minibatch (the training rows ``idx``) the plain way: its loss, then the
        optimizer's update. False when the loss diverged (``stop_reason`` says so)."""
        start = time.perf_counter()
        self.batch_loss = batch_loss = self._minibatch_loss(idx)
        if self.it == 0:
            self._first_loss(float(self.start_loss if self.gradient_free else batch_loss))
        self.stop_reason = self._divergence(batch_loss)
        if self.stop_reason is not None:
            return False
        if not self.gradient_free:
            self.optimizer.step(self.Wt, self.dWt)
        it, history = self.it, self.history
        history.make_room(it, it + 1)
        history.losses[it] = batch_loss
        a = self.config.smoothing
        self.ema = a * self.ema + (1 - a) * batch_loss
        history.smoothed[it] = self.ema / (1 - a ** (it + 1))  # bias-corrected: no ramp up from 0
        self.it += 1
        self.active += time.perf_counter() - start
        return True

    def _minibatch_loss(self, idx: np.ndarray) -> float:
        """The loss of the minibatch ``idx`` (and its gradient in ``dWt``); for the
        gradient-free searches, the loss after trying one proposal.

        The searches judge every candidate on the same fixed search sample (the lecture's
        algorithm: keep a step only when it lowers the loss on the data it is judged on). On
        a fresh minibatch each time, a step that happened to suit 200 images was kept
        although the loss on all of them rose.
        """
        if self.gradient_free:
            candidate = self.optimizer.propose(self.Wt)
            candidate_loss = self.loss_fn.transposed(candidate, self.X, self.y, self.search_rows, None)
            if candidate_loss < self.current_loss:
                self.Wt[...] = candidate
                self.current_loss = candidate_loss
            return self.current_loss
        return self.loss_fn.transposed(self.Wt, self.X, self.y, idx, self.dWt)

    def _first_loss(self, initial: float) -> None:
        """The loss at W0 (the searches': before any step): the sanity check and the
        divergence limit follow from it."""
        self.initial_loss = initial
        self.sanity = _sanity_message(self.config, initial, self.expected, self.C)
        self.limit = self.config.divergence_factor * max(initial, self.expected, 1e-12)

    def _divergence(self, loss: float) -> Optional[str]:
        return _divergence_reason(loss, self.it + 1, self.limit, self.config.divergence_factor, self.initial_loss,
                                  self.optimizer.learning_rate)

    def _end_of_epoch(self, epoch: int) -> Snapshot:
        """Accuracies, best weights, early stopping, learning-rate decay; the epoch's snapshot."""
        config = self.config
        start = time.perf_counter()
        W_now = self.Wt.T.copy()
        self.train_accs.append(accuracy(self.X_acc, self.y_acc, W_now))
        if self.history.smoothed[self.it - 1] <= self.initial_loss:
            self.healthy_W = W_now
        if self.has_val:
            val_acc = accuracy(self.X_val, self.y_val, W_now)
            self.val_accs.append(val_acc)
            # A tie keeps the later weights: on a small validation split (a few images) the
            # accuracy ties from the first epoch on, and the first would win over every
            # later, better-trained one. Early stopping still waits for a better accuracy.
            improved = val_acc > self.best_val
            if improved:
                self.reached_epoch = epoch + 1
            if val_acc >= self.best_val:
                self.best_val, self.best_epoch, self.best_W = val_acc, epoch + 1, W_now
            self.epochs_since_best = 0 if improved else self.epochs_since_best + 1
        self.optimizer.learning_rate *= config.lr_decay
        self.active += time.perf_counter() - start
        if config.early_stopping is not None and self.has_val and self.epochs_since_best >= config.early_stopping:
            self.stop_reason = (f"early stopping after epoch {epoch + 1}: no better validation accuracy "
                                f"for {counted(config.early_stopping, 'epoch')}; best {self.best_val:.4f} since epoch "
                                f"{self.reached_epoch}")
        return self._snapshot(with_W=True)

    def _final_snapshot(self) -> Snapshot:
        """The last snapshot: why the run stopped and which weights it keeps.

        Only a validation split may choose among the weights: without one the result is the
        last weights (never the test split's favourites), unless the run diverged, when it is
        the newest weights whose loss was still sane.
        """
        if self.stop_reason is None:
            self.stop_reason = f"finished {counted(self.config.epochs, 'epoch')}"
        if self.search_note is not None:
            self.stop_reason = f"{self.stop_reason}; {self.search_note}"
        if self.has_val and self.best_W is not None:
            kept = f"the weights of epoch {self.best_epoch}, the best validation accuracy ({self.best_val:.1%})"
        elif self.has_val:
            kept = "the newest weights whose loss was no worse than the initial one (no epoch finished)"
        elif self.stop_reason.startswith("diverged"):
            kept = "the newest weights whose loss was no worse than the initial one (no validation data)"
            self.stop_reason += "; no validation data: kept the newest weights from before it diverged"
        else:
            self.healthy_W = self.Wt.T.copy()
            kept = "the last weights (no validation data)"
            self.stop_reason += "; no validation data: kept the last weights"
        return self._snapshot(final=True, kept=kept)

    # ------------------------------------------------------------------ snapshots

    def _snapshot(self, *, with_W: bool = False, final: bool = False, kept: Optional[str] = None) -> Snapshot:
        """The run now. W is copied when asked, at the end, or when the last copy is older
        than ``config.weights_interval``."""
        now = time.perf_counter()
        it = self.it
        per_snapshot = self._per_snapshot_rows() if it else None
        W_copy = None
        if with_W or final or now - self.last_weights >= self.config.weights_interval:
            W_copy = self.Wt.T.copy()
            self.last_weights = now
        losses, smoothed = self.history.views(it)
        rate = it / self.active if self.active > 0 else 0.0
        if final:
            chosen = self.best_W if self.best_W is not None else self.healthy_W
            extra = dict(done=True, stop_reason=self.stop_reason, best_W=chosen, kept=kept,
                         best_val_accuracy=self.best_val if self.best_W is not None else None)
        else:
            extra = {}
        return Snapshot(
            iteration=it, epoch=it / self.per_epoch, batch_loss=float(self.batch_loss),
            smoothed_loss=float(self.history.smoothed[it - 1]) if it else float("nan"),
            losses=losses, smoothed_losses=smoothed, epochs_done=len(self.train_accs), best_epoch=self.best_epoch,
            train_accuracies=tuple(self.train_accs), val_accuracies=tuple(self.val_accs), W=W_copy,
            learning_rate=self.optimizer.learning_rate, initial_loss=self.initial_loss,
            expected_initial_loss=self.expected, sanity_check=self.sanity,
            samples_per_second=rate * self.batch, iterations_per_second=rate, elapsed=self.active,
            n_classes=self.C, n_features=self.D,
            search_sample=0 if self.search_rows is None else len(self.search_rows),
            search_note=self.search_note, per_snapshot=per_snapshot, **extra)

    def _keep_if_healthy(self, snap: Snapshot) -> Snapshot:
        """Remember the snapshot's weights when the smoothed loss is no worse than the initial one."""
        if snap.W is not None and self.history.smoothed[self.it - 1] <= self.initial_loss:
            self.healthy_W = snap.W
        return snap

    def _per_snapshot_rows(self) -> np.ndarray:
        """A read-only view of the per-snapshot rows so far (PER_SNAPSHOT_COLUMNS), this
        iteration's row included; the table grows like the loss history."""
        it, n = self.it, self.n_stats
        if not (n and self.stats[n - 1, 0] == it):
            if n == len(self.stats):  # a full buffer is left as it is: earlier views stay valid
                bigger = np.full((2 * len(self.stats), self.stats.shape[1]), np.nan)
                bigger[:n] = self.stats[:n]
                self.stats = bigger
            rows = self.Wt[:, :self.n_reg].T
            reg_loss, _ = regularization(rows, self.loss_fn.reg, self.config.reg_type, self.config.elastic_beta)
            norm = float(np.sqrt(np.sum(np.square(rows, dtype=np.float64))))
            self.stats[n] = (it, float(self.batch_loss) - reg_loss, reg_loss, norm)
            self.n_stats = n + 1
        view = self.stats[:self.n_stats]
        view.flags.writeable = False
        return view


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
