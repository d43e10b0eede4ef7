"""The 2-D playground: a handful of points in the plane, a linear classifier you can touch.

As in Stanford's interactive linear-classification demo: points x = (x, y) in C classes, a
classifier with weights W (C, 2) and biases b (C,), the scores s = W x + b, and one of four
losses averaged over the points plus a penalty on W (never on b):

* ``"svm"``        multiclass SVM (Weston-Watkins): sum_{j != y} max(0, s_j - s_y + delta)
* ``"ova"``        one-vs-all SVM: sum_j max(0, delta - t_j s_j), t_j = +1 for y, -1 otherwise
* ``"structured"`` structured SVM (Crammer-Singer): max(0, max_{j != y} s_j - s_y + delta)
* ``"softmax"``    cross-entropy: -ln(e^{s_y} / sum_j e^{s_j}) (natural log)

The multiclass SVM and softmax are :func:`linviz.models.svm_loss` and
:func:`linviz.models.softmax_loss` themselves: a point becomes the feature vector
[x, y, 1], the parameters the matrix [W^T; b] (3, C), and ``n_reg_rows=2`` leaves the bias
row out of the penalty, exactly as the image classifier does. The two other SVMs are written
here in the same shape (``(W, X, y, reg, delta, ...) -> (loss, dW)``) on the same
regularizers (:func:`linviz.models.regularization`: L2, L1, elastic net).

Also here: the data presets, a full-batch gradient step, the decision map of the plane, a
tiny loss landscape over two parameters, a clock-driven pacer for "play", and the whole state
to and from a small JSON file, read like any hostile input (a regular file, a byte cap,
bounded sizes and values, a message naming the file and the field).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from linviz.errors import LinvizError
from linviz.pacing import Pacer  # noqa: F401  (the play button's pacer; lives low, training paces with it too)
from linviz.models.losses import LOSSES, LossFunction, LossSpec, loss_named, softmax_loss, svm_loss
from linviz.models.regularizers import REG_TYPES, regularization


def _one_vs_all_initial(n_classes: int, delta: float = 1.0, squared: bool = False) -> float:
    return n_classes * delta  # every class's score 0 is delta short of its target +-delta


def _one_vs_all_initial_words(n_classes: int, delta: float = 1.0, squared: bool = False) -> str:
    return f"C x delta = {n_classes * delta:g}"


def _structured_initial(n_classes: int, delta: float = 1.0, squared: bool = False) -> float:
    return delta  # the strongest rival ties with the true class


def _structured_initial_words(n_classes: int, delta: float = 1.0, squared: bool = False) -> str:
    return f"delta = {delta:g}"


# The playground's losses: the image classifier's two (:data:`linviz.models.LOSSES`; among three
# SVMs the multiclass one goes by its authors' names) and two more SVMs of the textbook, computed
# here in NumPy (:data:`NUMPY_TERMS`).
PLAYGROUND_LOSSES: dict[str, LossSpec] = {
    "svm": dataclasses.replace(LOSSES["svm"], label="multiclass SVM (Weston-Watkins)"),
    "ova": LossSpec(
        name="ova", label="one-vs-all SVM", short_label="one-vs-all SVM",
        help="One binary SVM per class: its score should reach +delta on its own points and stay below "
             "-delta on the others'",
        has_probabilities=False, hinge=True, kernel_code=None, initial_loss_rule="C × delta",
        initial_loss=_one_vs_all_initial, initial_loss_words=_one_vs_all_initial_words),
    "structured": LossSpec(
        name="structured", label="structured SVM (Crammer-Singer)", short_label="structured SVM",
        help="Only the strongest wrong class counts: max(0, max_j s_j - s_y + delta)",
        has_probabilities=False, hinge=True, kernel_code=None, initial_loss_rule="delta",
        initial_loss=_structured_initial, initial_loss_words=_structured_initial_words),
    "softmax": dataclasses.replace(LOSSES["softmax"], label="softmax (cross-entropy)"),
}
PRESETS = {
    "demo": "the demo's 9 points (3 classes)",
    "blobs": "separated blobs",
    "overlap": "overlapping blobs",
    "rings": "concentric rings (not linearly separable)",
    "xor": "XOR checkerboard (not linearly separable)",
}
SHADINGS = {"class": "winning class", "score": "top score", "probability": "softmax probability"}
NOT_SEPARABLE = ("rings", "xor")

MIN_CLASSES, MAX_CLASSES = 2, 5
MIN_GENERATED, MAX_GENERATED = 4, 200  # the point-count slider
MAX_POINTS = 300  # generated plus clicked
COORD_LIMIT = 10.0  # |x|, |y|
PARAM_LIMIT = 1000.0  # |W|, |b|: steps clip here so a state always saves and loads
MAX_FILE_BYTES = 256 * 1024
FORMAT = "linviz-playground"
FORMAT_VERSION = 1
N_REG_ROWS = 2  # [W^T; b]: the first two rows (W) are regularized, the bias row is not

# Stanford's demo: its 9 points, its starting W and b.
DEMO_POINTS = np.array([[0.5, 0.4], [0.8, 0.3], [0.3, 0.8], [-0.4, 0.3], [-0.3, 0.7], [-0.7, 0.2],
                        [0.7, -0.4], [0.5, -0.6], [-0.4, -0.5]])
DEMO_LABELS = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2], dtype=np.int64)
DEMO_W = np.array([[1.0, 2.0], [2.0, -4.0], [3.0, -1.0]])
DEMO_B = np.array([0.0, 0.5, -0.5])

WHY_NOT_SEPARABLE = {
    "rings": ("A linear classifier cannot separate rings. Each class wins where its score beats all "
              "the others: an intersection of half-planes, so its region is convex, with no hole. The "
              "inner class sits inside the ring around it, and any convex region that holds the whole "
              "ring also holds its inside. The best a linear model can do is cut the plane into "
              "wedges; a feature such as the radius √(x² + y²) would make the rings separable."),
    "xor": ("A linear classifier cannot separate a checkerboard (XOR). Each class's region is convex "
            "(an intersection of half-planes), but each class sits in cells that lie diagonally "
            "across from each other: the straight path between two of them passes through a cell of "
            "another class. A feature such as the product x·y would make XOR separable."),
}


class PlaygroundError(LinvizError):
    """A playground file that cannot be read: the message names the file and the reason."""


# ---------------------------------------------------------------------------- settings and state
@dataclass(frozen=True)
class PlaygroundSettings:
    """Everything besides the points and the parameters; checked on construction (ValueError)."""

    preset: str = "demo"
    n_classes: int = 3
    n_points: int = 60  # generated points (the demo preset always has 9)
    noise: float = 0.3  # 0..1
    seed: int = 0
    loss: str = "svm"
    delta: float = 1.0
    reg: float = 0.1
    reg_type: str = "l2"
    step_size: float = 0.1
    pace: float = 10.0  # steps per second while playing
    shading: str = "class"
    landscape: tuple = ("w0x", "b0")  # the two parameters of the loss landscape

    def __post_init__(self):
        def check(ok, what):
            if not ok:
                raise ValueError(what)

        check(self.preset in PRESETS, f"preset must be one of {', '.join(PRESETS)}")
        check(_is_int(self.n_classes) and MIN_CLASSES <= self.n_classes <= MAX_CLASSES,
              f"n_classes must be an integer from {MIN_CLASSES} to {MAX_CLASSES}")
        check(_is_int(self.n_points) and MIN_GENERATED <= self.n_points <= MAX_GENERATED,
              f"n_points must be an integer from {MIN_GENERATED} to {MAX_GENERATED}")
        check(_in_range(self.noise, 0.0, 1.0), "noise must be a number from 0 to 1")
        check(_is_int(self.seed) and 0 <= self.seed < 2 ** 32, "seed must be an integer from 0 to 2^32 - 1")
        check(self.loss in PLAYGROUND_LOSSES, f"loss must be one of {', '.join(PLAYGROUND_LOSSES)}")
        check(_in_range(self.delta, 0.0, 10.0), "delta must be a number from 0 to 10")
        check(_in_range(self.reg, 0.0, 100.0), "reg must be a number from 0 to 100")
        check(self.reg_type in REG_TYPES, f"reg_type must be one of {', '.join(REG_TYPES)}")
        check(_in_range(self.step_size, 1e-6, 100.0), "step_size must be a number from 1e-6 to 100")
        check(_in_range(self.pace, 0.1, 60.0), "pace must be a number of steps per second from 0.1 to 60")
        check(self.shading in SHADINGS, f"shading must be one of {', '.join(SHADINGS)}")
        names = param_names(self.n_classes)
        check(isinstance(self.landscape, tuple) and len(self.landscape) == 2
              and all(isinstance(p, str) and p in names for p in self.landscape)
              and self.landscape[0] != self.landscape[1],
              f"landscape must be two different parameters among {', '.join(names)}")

    def loss_options(self) -> dict:
        """The keyword arguments of :func:`playground_loss` and friends."""
        return dict(loss=self.loss, delta=self.delta, reg=self.reg, reg_type=self.reg_type)


@dataclass(frozen=True)
class PlaygroundState:
    """Points (N, 2) with labels (N,) in 0..C-1, W (C, 2), b (C,), the settings and the
    number of steps taken. Immutable (arrays read-only): change it with :meth:`replace`."""

    points: np.ndarray
    labels: np.ndarray
    W: np.ndarray
    b: np.ndarray
    settings: PlaygroundSettings = field(default_factory=PlaygroundSettings)
    iteration: int = 0

    def __post_init__(self):
        C = self.settings.n_classes
        points = _frozen(np.asarray(self.points, dtype=np.float64).reshape(-1, 2))
        labels = _frozen(np.asarray(self.labels, dtype=np.int64).reshape(-1))
        W = _frozen(np.asarray(self.W, dtype=np.float64))
        b = _frozen(np.asarray(self.b, dtype=np.float64))
        if len(points) != len(labels):
            raise ValueError(f"{len(points)} points but {len(labels)} labels")
        if len(points) > MAX_POINTS:
            raise ValueError(f"{len(points)} points; at most {MAX_POINTS}")
        if labels.size and (labels.min() < 0 or labels.max() >= C):
            raise ValueError(f"labels must lie in 0..{C - 1}")
        if W.shape != (C, 2) or b.shape != (C,):
            raise ValueError(f"W must be ({C}, 2) and b ({C},); got {W.shape} and {b.shape}")
        for name, values, limit in (("points", points, COORD_LIMIT), ("W", W, PARAM_LIMIT), ("b", b, PARAM_LIMIT)):
            if not np.all(np.isfinite(values)) or np.any(np.abs(values) > limit):
                raise ValueError(f"{name} must be finite numbers within ±{limit:g}")
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "W", W)
        object.__setattr__(self, "b", b)

    def replace(self, **changes) -> "PlaygroundState":
        return dataclasses.replace(self, **changes)

    @property
    def n_classes(self) -> int:
        return self.settings.n_classes


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _in_range(v, lo: float, hi: float) -> bool:
    return (isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
            and math.isfinite(v) and lo <= v <= hi)


def new_state(settings: Optional[PlaygroundSettings] = None) -> PlaygroundState:
    """The preset's points with the starting parameters (:func:`initial_parameters`)."""
    settings = settings or PlaygroundSettings()
    if settings.preset == "demo" and settings.n_classes != 3:
        settings = dataclasses.replace(settings, n_classes=3, landscape=("w0x", "b0"))
    points, labels = make_points(settings.preset, n_classes=settings.n_classes, n_points=settings.n_points,
                                 noise=settings.noise, seed=settings.seed)
    W, b = initial_parameters(settings.n_classes)
    return PlaygroundState(points, labels, W, b, settings)


# ---------------------------------------------------------------------------- data presets
def make_points(preset: str, *, n_classes: int = 3, n_points: int = 60, noise: float = 0.3,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(points (N, 2) float64, labels (N,) int64)`` of a preset, within about ±1.6.

    ``"demo"`` is the demo's fixed 9 points in 3 classes (the other arguments are ignored).
    ``noise`` (0..1) widens the blobs, thickens the rings and jitters the checkerboard;
    ``n_points`` is split evenly over the classes.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
    if preset == "demo":
        return DEMO_POINTS.copy(), DEMO_LABELS.copy()
    if not MIN_CLASSES <= n_classes <= MAX_CLASSES:
        raise ValueError(f"n_classes must be from {MIN_CLASSES} to {MAX_CLASSES}")
    if not 1 <= n_points <= MAX_POINTS:
        raise ValueError(f"n_points must be from 1 to {MAX_POINTS}")
    noise = float(min(max(noise, 0.0), 1.0))
    rng = np.random.default_rng(seed)
    labels = np.arange(n_points, dtype=np.int64) % n_classes
    labels.sort(kind="stable")
    angles = 2 * np.pi * np.arange(n_classes) / n_classes + np.pi / 6
    if preset in ("blobs", "overlap"):
        radius, spread = (1.1, 0.06 + 0.3 * noise) if preset == "blobs" else (0.45, 0.25 + 0.35 * noise)
        centers = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        offsets = rng.normal(size=(n_points, 2))
        if preset == "blobs":  # no far outliers: the blobs stay apart at the default noise
            norms = np.linalg.norm(offsets, axis=1, keepdims=True)
            offsets *= np.minimum(1.0, 2.0 / np.maximum(norms, 1e-12))
        points = centers[labels] + spread * offsets
    elif preset == "rings":
        radii = 1.5 * (labels + 0.35) / (n_classes - 0.65)
        theta = rng.uniform(0, 2 * np.pi, n_points)
        r = radii + rng.normal(scale=0.03 + 0.12 * noise, size=n_points)
        points = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
    else:  # xor: a k x k checkerboard, class (i + j) mod C; k = 2 is XOR itself
        k = max(2, n_classes)
        cell = 3.0 / k
        cells = [(i, j) for i in range(k) for j in range(k)]
        points = np.empty((n_points, 2))
        for c in range(n_classes):
            mine = [ij for ij in cells if (ij[0] + ij[1]) % n_classes == c]
            idx = np.flatnonzero(labels == c)
            picks = np.arange(len(idx)) % len(mine)
            rng.shuffle(picks)
            ij = np.array(mine)[picks]
            points[idx] = -1.5 + (ij + rng.uniform(0.1, 0.9, size=(len(idx), 2))) * cell
        points += rng.normal(scale=0.15 * noise, size=points.shape)
    return np.clip(points, -COORD_LIMIT, COORD_LIMIT), labels


def initial_parameters(n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """The demo's W and b for 3 classes; else unit vectors spread around the circle, b = 0."""
    if n_classes == 3:
        return DEMO_W.copy(), DEMO_B.copy()
    angles = 2 * np.pi * np.arange(n_classes) / n_classes + np.pi / 6
    return np.stack([np.cos(angles), np.sin(angles)], axis=1), np.zeros(n_classes)


def random_parameters(n_classes: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """W uniform in [-3, 3], b uniform in [-1, 1] (the demo's "randomize" is of this size)."""
    return rng.uniform(-3.0, 3.0, size=(n_classes, 2)), rng.uniform(-1.0, 1.0, size=n_classes)


def separability_note(preset: str) -> Optional[str]:
    """Why a linear classifier cannot separate this preset, in words; None if it can."""
    return WHY_NOT_SEPARABLE.get(preset)


# ---------------------------------------------------------------------------- parameters
def param_names(n_classes: int) -> list[str]:
    """``["w0x", "w0y", "b0", "w1x", ...]``: every parameter, class by class."""
    return [name for j in range(n_classes) for name in (f"w{j}x", f"w{j}y", f"b{j}")]


def param_label(name: str) -> str:
    """``"w0x"`` -> ``"w0,x"``, ``"b2"`` -> ``"b2"``: how the GUI writes a parameter."""
    return f"{name[:-1]},{name[-1]}" if name.startswith("w") else name


def get_param(W: np.ndarray, b: np.ndarray, name: str) -> float:
    j, axis = _param_index(name)
    return float(b[j] if axis is None else W[j, axis])


def with_param(W: np.ndarray, b: np.ndarray, name: str, value: float) -> tuple[np.ndarray, np.ndarray]:
    """Copies of W and b with one parameter set."""
    W, b = np.array(W, dtype=np.float64), np.array(b, dtype=np.float64)
    j, axis = _param_index(name)
    if axis is None:
        b[j] = value
    else:
        W[j, axis] = value
    return W, b


def _param_index(name: str) -> tuple[int, Optional[int]]:
    try:
        if name[0] == "b":
            return int(name[1:]), None
        if name[0] == "w" and name[-1] in "xy":
            return int(name[1:-1]), "xy".index(name[-1])
    except (ValueError, IndexError):
        pass
    raise ValueError(f"unknown parameter {name!r} (w<j>x, w<j>y or b<j>)")


def image_form(points: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The image losses' shapes: features X = [x, y, 1] (N, 3) and weights [W^T; b] (3, C)."""
    points = np.asarray(points, dtype=np.float64)
    X = np.concatenate([points, np.ones((len(points), 1))], axis=1)
    return X, np.vstack([np.asarray(W, dtype=np.float64).T, np.asarray(b, dtype=np.float64)])


# ---------------------------------------------------------------------------- the losses
def one_vs_all_svm_loss(W, X, y, reg, delta=1.0, *, reg_type="l2", elastic_beta=1.0, n_reg_rows=None):
    """One-vs-all SVM ``mean_i sum_j max(0, delta - t_ij s_ij) + reg*R(W)``, t_ij = +1 if j = y_i
    else -1. Shapes and arguments as :func:`linviz.models.svm_loss`. Returns ``(loss, dW)``."""
    return _numpy_loss(_one_vs_all_terms, W, X, y, reg, delta, reg_type, elastic_beta, n_reg_rows)


def structured_svm_loss(W, X, y, reg, delta=1.0, *, reg_type="l2", elastic_beta=1.0, n_reg_rows=None):
    """Structured SVM (Crammer-Singer) ``mean_i max(0, max_{j != y_i} s_ij - s_iy + delta) +
    reg*R(W)``; at a tie the first largest rival takes the subgradient. Returns ``(loss, dW)``."""
    return _numpy_loss(_structured_terms, W, X, y, reg, delta, reg_type, elastic_beta, n_reg_rows)


def _one_vs_all_terms(S: np.ndarray, y: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-point losses (N,) and their gradient with respect to the scores (N, C)."""
    t = -np.ones_like(S)
    t[np.arange(len(y)), y] = 1.0
    active = delta - t * S > 0
    return np.where(active, delta - t * S, 0.0).sum(axis=1), np.where(active, -t, 0.0)


def _structured_terms(S: np.ndarray, y: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    rows = np.arange(len(y))
    rivals = S.copy()
    rivals[rows, y] = -np.inf
    j = np.argmax(rivals, axis=1)
    margin = S[rows, j] - S[rows, y] + delta
    active = margin > 0
    dS = np.zeros_like(S)
    dS[rows[active], j[active]] = 1.0
    dS[rows[active], y[active]] = -1.0
    return np.maximum(margin, 0.0), dS


NUMPY_TERMS = {"ova": _one_vs_all_terms, "structured": _structured_terms}


def _numpy_loss(terms, W, X, y, reg, delta, reg_type, elastic_beta, n_reg_rows, want_grad=True):
    W = np.asarray(W, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    if W.ndim != 2 or X.ndim != 2 or X.shape[1] != W.shape[0] or len(y) != len(X) or len(y) == 0:
        raise ValueError(f"expected W (D, C), X (N, D), y (N,) with N > 0; got {W.shape}, {X.shape}, {y.shape}")
    losses, dS = terms(X @ W, y, float(delta))
    reg_loss, reg_grad = regularization(W, float(reg), reg_type, float(elastic_beta), n_reg_rows)
    loss = float(losses.mean()) + reg_loss
    if not want_grad:
        return loss, None
    return loss, X.T @ dS / len(y) + reg_grad


def playground_loss(points, labels, W, b, *, loss: str = "svm", delta: float = 1.0, reg: float = 0.0,
                    reg_type: str = "l2", elastic_beta: float = 1.0) -> tuple[float, np.ndarray, np.ndarray]:
    """``(total loss, dW (C, 2), db (C,))``: mean data loss over the points plus reg * R(W).

    "svm" and "softmax" are :func:`linviz.models.svm_loss` / :func:`~linviz.models.softmax_loss`
    on X = [x, y, 1] and [W^T; b] with ``n_reg_rows=2`` (b is not regularized).
    """
    loss_named(loss, PLAYGROUND_LOSSES)
    X, Wm = image_form(points, W, b)
    y = np.asarray(labels, dtype=np.int64)
    options = dict(reg_type=reg_type, elastic_beta=elastic_beta, n_reg_rows=N_REG_ROWS)
    if loss == "svm":
        total, dWm = svm_loss(Wm, X, y, reg, delta, **options)
    elif loss == "softmax":
        total, dWm = softmax_loss(Wm, X, y, reg, **options)
    elif loss == "ova":
        total, dWm = one_vs_all_svm_loss(Wm, X, y, reg, delta, **options)
    else:
        total, dWm = structured_svm_loss(Wm, X, y, reg, delta, **options)
    return float(total), dWm[:2].T.copy(), dWm[2].copy()


def point_losses(points, labels, W, b, *, loss: str = "svm", delta: float = 1.0) -> np.ndarray:
    """Each point's data loss L_i (N,); their mean is the data loss of :func:`playground_loss`.

    For "svm" and "softmax" each L_i is the image loss itself on that one point
    (:class:`linviz.models.LossFunction`, the training loop's fast path, without a penalty).
    """
    loss_named(loss, PLAYGROUND_LOSSES)
    X, Wm = image_form(points, W, b)
    y = np.ascontiguousarray(labels, dtype=np.int64)
    if len(y) == 0:
        return np.zeros(0)
    if loss in NUMPY_TERMS:
        return NUMPY_TERMS[loss](X @ Wm, y, float(delta))[0]
    f = LossFunction(loss, 0.0, "l2", 1.0, float(delta), False, N_REG_ROWS)
    Wt = np.ascontiguousarray(Wm.T)
    rows = np.arange(len(y), dtype=np.int64)
    return np.array([f.transposed(Wt, X, y, rows[i:i + 1], None) for i in range(len(y))])


@dataclass(frozen=True)
class Evaluation:
    """Every number the playground shows for one state."""

    scores: np.ndarray  # (N, C) s = W x + b
    losses: np.ndarray  # (N,) each point's data loss L_i
    data_loss: float  # mean of ``losses`` (0 without points)
    reg_loss: float  # reg * R(W)
    total: float
    dW: np.ndarray  # (C, 2) gradient of the total
    db: np.ndarray  # (C,)
    predicted: np.ndarray  # (N,) argmax of the scores
    flagged: np.ndarray  # (N,) bool: SVM losses: the point violates a margin (L_i > 0);
    #                                softmax: the point is misclassified
    labels: np.ndarray  # (N,) the true classes

    @property
    def correct(self) -> int:
        return int(np.sum(self.predicted == self.labels))

    @property
    def accuracy(self) -> float:
        """Training accuracy; 1.0 without points."""
        return self.correct / len(self.labels) if len(self.labels) else 1.0


def evaluate(points, labels, W, b, *, loss: str = "svm", delta: float = 1.0, reg: float = 0.0,
             reg_type: str = "l2", elastic_beta: float = 1.0) -> Evaluation:
    """Scores, per-point losses, data / regularization / total loss and the gradient."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    labels = np.asarray(labels, dtype=np.int64)
    W = np.asarray(W, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    _, Wm = image_form(points, W, b)
    reg_loss, reg_grad = regularization(Wm, float(reg), reg_type, float(elastic_beta), N_REG_ROWS)
    scores = points @ W.T + b
    if len(labels):
        total, dW, db = playground_loss(points, labels, W, b, loss=loss, delta=delta, reg=reg, reg_type=reg_type,
                                        elastic_beta=elastic_beta)
        losses = point_losses(points, labels, W, b, loss=loss, delta=delta)
    else:  # no points: only the penalty is left
        total, dW, db = reg_loss, reg_grad[:2].T.copy(), np.zeros_like(b)
        losses = np.zeros(0)
    predicted = np.argmax(scores, axis=1) if len(labels) else np.zeros(0, dtype=np.int64)
    flagged = losses > 1e-12 if loss_named(loss, PLAYGROUND_LOSSES).hinge else predicted != labels
    return Evaluation(scores, losses, float(total - reg_loss), float(reg_loss), float(total), dW, db, predicted,
                      flagged, labels)


def evaluate_state(state: PlaygroundState) -> Evaluation:
    return evaluate(state.points, state.labels, state.W, state.b, **state.settings.loss_options())


def gradient_step(state: PlaygroundState) -> tuple[PlaygroundState, Evaluation]:
    """One full-batch gradient-descent step: ``(the state after, the evaluation before)``.

    W -= step_size * dW and b -= step_size * db, clipped to ±PARAM_LIMIT.
    """
    before = evaluate_state(state)
    lr = state.settings.step_size
    W = np.clip(state.W - lr * before.dW, -PARAM_LIMIT, PARAM_LIMIT)
    b = np.clip(state.b - lr * before.db, -PARAM_LIMIT, PARAM_LIMIT)
    return state.replace(W=W, b=b, iteration=state.iteration + 1), before


# ---------------------------------------------------------------------------- the plane
@dataclass(frozen=True)
class DecisionMap:
    """The plane on a grid: ``extent`` (x0, x1, y0, y1), arrays (ny, nx), row 0 at y0."""

    extent: tuple
    winner: np.ndarray  # int: the class with the top score
    top_score: np.ndarray
    top_probability: Optional[np.ndarray]  # softmax probability of the winner (None if not asked for)
    in_margin: np.ndarray  # bool: inside a margin band of the SVM loss (all False for softmax)


def decision_map(W, b, extent=(-2.0, 2.0, -2.0, 2.0), size=160, *, loss: str = "svm",
                 delta: float = 1.0, probabilities: bool = True) -> DecisionMap:
    """The winning class at every grid point, its score and softmax probability, and the
    margin bands: for the multiclass and structured SVMs where the winner leads the runner-up
    by less than delta (a point of the winning class there still has a loss); for one-vs-all
    where some class's score lies within ±delta (every point there has a loss).
    ``size``: grid points per side, or (nx, ny). ``probabilities=False`` leaves
    ``top_probability`` None (the exponentials are most of the cost)."""
    x0, x1, y0, y1 = (float(v) for v in extent)
    nx, ny = (size, size) if np.ndim(size) == 0 else size
    # float32: a picture, drawn at a point per pixel or two of a large window while a handle
    # is dragged; half the memory traffic of float64
    xs = np.linspace(x0, x1, int(nx), dtype=np.float32)
    ys = np.linspace(y0, y1, int(ny), dtype=np.float32)
    W = np.asarray(W, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    # class-first (C, ny, nx): reductions over the classes are then between whole planes (fast)
    S = W[:, 0, None, None] * xs + W[:, 1, None, None] * ys[:, None] + b[:, None, None]
    winner = np.argmax(S, axis=0)
    top = S.max(axis=0)
    probability = 1.0 / np.exp(S - top).sum(axis=0) if probabilities else None
    if loss == "ova":  # each class's own band around its score 0
        in_margin = np.any(np.abs(S) < delta, axis=0)
    elif loss_named(loss, PLAYGROUND_LOSSES).hinge:
        # the winner leads the runner-up by less than delta: another class is within delta of the top
        in_margin = np.count_nonzero(S > top - np.float32(delta), axis=0) >= 2
    else:
        in_margin = np.zeros(top.shape, dtype=bool)
    return DecisionMap((x0, x1, y0, y1), winner, top, probability, in_margin)


# ---------------------------------------------------------------------------- loss landscape
@dataclass(frozen=True)
class Landscape:
    params: tuple  # the two parameter names (x axis, y axis)
    xs: np.ndarray  # (n,) values of the first parameter
    ys: np.ndarray  # (n,) values of the second
    total: np.ndarray  # (n, n) the total loss, row k at ys[k]


def loss_landscape(state: PlaygroundState, params=None, *, center=None, span: float = 2.0, size: int = 25,
                   cancelled: Callable[[], bool] = lambda: False) -> Optional[Landscape]:
    """The total loss over a grid of two parameters (the others at the state's values),
    ``center ± span`` (center defaults to the state's values). None if ``cancelled()``."""
    params = tuple(params or state.settings.landscape)
    if center is None:
        center = [get_param(state.W, state.b, p) for p in params]
    xs = np.linspace(center[0] - span, center[0] + span, size)
    ys = np.linspace(center[1] - span, center[1] + span, size)
    total = np.empty((size, size))
    value = _total_loss_function(state)
    for r, vy in enumerate(ys):
        if cancelled():
            return None
        for c, vx in enumerate(xs):
            W, b = with_param(state.W, state.b, params[0], vx)
            W, b = with_param(W, b, params[1], vy)
            total[r, c] = value(W, b)
    return Landscape(params, xs, ys, total)


def _total_loss_function(state: PlaygroundState) -> Callable[[np.ndarray, np.ndarray], float]:
    """(W, b) -> total loss without a gradient, on the same functions as :func:`playground_loss`."""
    s = state.settings
    X, _ = image_form(state.points, state.W, state.b)
    y = np.ascontiguousarray(state.labels)
    if len(y) == 0:
        return lambda W, b: regularization(image_form(state.points, W, b)[1], s.reg, s.reg_type, 1.0, N_REG_ROWS)[0]
    if s.loss in NUMPY_TERMS:
        terms = NUMPY_TERMS[s.loss]
        return lambda W, b: _numpy_loss(terms, image_form(state.points, W, b)[1], X, y, s.reg, s.delta, s.reg_type,
                                        1.0, N_REG_ROWS, want_grad=False)[0]
    f = LossFunction(s.loss, s.reg, s.reg_type, 1.0, s.delta, False, N_REG_ROWS)
    rows = np.arange(len(y), dtype=np.int64)
    return lambda W, b: f.transposed(np.ascontiguousarray(np.column_stack([W, b])), X, y, rows, None)


# ---------------------------------------------------------------------------- JSON
def state_to_dict(state: PlaygroundState) -> dict:
    s = state.settings
    settings = dataclasses.asdict(s)
    settings["landscape"] = list(s.landscape)
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "settings": settings,
        "points": [[float(x), float(y), int(c)] for (x, y), c in zip(state.points, state.labels)],
        "W": state.W.tolist(),
        "b": state.b.tolist(),
        "iteration": int(state.iteration),
    }


def state_to_json(state: PlaygroundState) -> str:
    return json.dumps(state_to_dict(state), indent=1)


SETTING_FIELDS = {f.name: f for f in dataclasses.fields(PlaygroundSettings)}


def state_from_json(text, source: str = "playground file") -> PlaygroundState:
    """Parse and validate a playground file's text (str or bytes). PlaygroundError naming
    ``source`` and the first problem found."""
    def refuse(reason: str):
        raise PlaygroundError(f"{source}: {reason}")

    if isinstance(text, (bytes, bytearray)):
        if len(text) > MAX_FILE_BYTES:
            refuse(f"too large for a playground file ({len(text):,} bytes; at most {MAX_FILE_BYTES:,})")
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            refuse("not UTF-8 text")
    if len(text) > MAX_FILE_BYTES:
        refuse(f"too large for a playground file ({len(text):,} characters; at most {MAX_FILE_BYTES:,})")

    def no_constants(name):
        refuse(f"{name} is not allowed (numbers must be finite)")

    try:
        data = json.loads(text, parse_constant=no_constants)
    except RecursionError:
        refuse("nested too deeply to be a playground file")
    except ValueError as exc:  # JSONDecodeError, and integers too long to convert
        refuse(f"not valid JSON ({exc})")
    return state_from_dict(data, source)


def state_from_dict(data, source: str = "playground file") -> PlaygroundState:
    """Validate a parsed playground file; PlaygroundError naming the field."""
    def refuse(reason: str):
        raise PlaygroundError(f"{source}: {reason}")

    if not isinstance(data, dict):
        refuse("not a playground file (expected a JSON object)")
    if data.get("format") != FORMAT:
        refuse(f"not a playground file (\"format\" must be \"{FORMAT}\")")
    version = data.get("version")
    if not _is_int(version) or version < 1:
        refuse("\"version\" must be a positive integer")
    if version > FORMAT_VERSION:
        refuse(f"written by a newer linviz (format version {version}; this one reads {FORMAT_VERSION})")
    unknown = set(data) - {"format", "version", "settings", "points", "W", "b", "iteration"}
    if unknown:
        refuse(f"unknown field {sorted(unknown)[0]!r}")
    for key in ("settings", "points", "W", "b"):
        if key not in data:
            refuse(f"missing field {key!r}")

    raw = data["settings"]
    if not isinstance(raw, dict):
        refuse("\"settings\" must be an object")
    unknown = set(raw) - set(SETTING_FIELDS)
    if unknown:
        refuse(f"settings: unknown field {sorted(unknown)[0]!r}")
    values = {}
    for name, value in raw.items():
        default = SETTING_FIELDS[name].default if SETTING_FIELDS[name].default is not dataclasses.MISSING else None
        if name == "landscape":
            if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) and len(v) <= 8
                                                                            for v in value)):
                refuse("settings.landscape must be a list of two parameter names such as [\"w0x\", \"b0\"]")
            value = tuple(value)
        elif isinstance(default, str):
            if not isinstance(value, str) or len(value) > 32:
                refuse(f"settings.{name} must be a short string")
        elif isinstance(default, int) and not isinstance(default, bool):
            if not _is_int(value):
                refuse(f"settings.{name} must be an integer")
        elif not (isinstance(value, (int, float)) and not isinstance(value, bool)):
            refuse(f"settings.{name} must be a number")
        values[name] = value
    values.setdefault("landscape", ("w0x", "b0"))
    try:
        settings = PlaygroundSettings(**values)
    except ValueError as exc:
        refuse(f"settings: {exc}")
    C = settings.n_classes

    points = data["points"]
    if not isinstance(points, list):
        refuse("\"points\" must be a list of [x, y, class]")
    if len(points) > MAX_POINTS:
        refuse(f"{len(points):,} points; at most {MAX_POINTS}")
    xy = np.empty((len(points), 2))
    labels = np.empty(len(points), dtype=np.int64)
    for i, p in enumerate(points):
        if not (isinstance(p, list) and len(p) == 3):
            refuse(f"points[{i}] must be [x, y, class]")
        for k in range(2):
            if not _in_range(p[k], -COORD_LIMIT, COORD_LIMIT):
                refuse(f"points[{i}]: coordinates must be numbers within ±{COORD_LIMIT:g}")
            xy[i, k] = p[k]
        if not (_is_int(p[2]) and 0 <= p[2] < C):
            refuse(f"points[{i}]: the class must be an integer from 0 to {C - 1}")
        labels[i] = p[2]

    def matrix(name, value, shape):
        rows = value if len(shape) == 2 else [value]
        if not (isinstance(value, list) and len(value) == shape[0]
                and all(isinstance(r, list) and len(r) == (shape[1] if len(shape) == 2 else shape[0]) for r in rows)):
            what = f"{shape[0]} pairs [x, y]" if len(shape) == 2 else f"{shape[0]} numbers"
            refuse(f"\"{name}\" must be a list of {what} ({C} classes)")
        for r in rows:
            for v in r:
                if not _in_range(v, -PARAM_LIMIT, PARAM_LIMIT):
                    refuse(f"\"{name}\" must hold numbers within ±{PARAM_LIMIT:g}")
        return np.array(value, dtype=np.float64)

    W = matrix("W", data["W"], (C, 2))
    b = matrix("b", data["b"], (C,))
    iteration = data.get("iteration", 0)
    if not (_is_int(iteration) and 0 <= iteration < 2 ** 53):
        refuse("\"iteration\" must be a non-negative integer")
    return PlaygroundState(xy, labels, W, b, settings, int(iteration))


def load_state(path) -> PlaygroundState:
    """Read a playground file: a regular file (never a FIFO or a device: checked on the open
    descriptor), at most MAX_FILE_BYTES, then :func:`state_from_json`."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise PlaygroundError(f"{path}: cannot open ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise PlaygroundError(f"{path}: not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise PlaygroundError(f"{path}: too large for a playground file ({info.st_size:,} bytes; "
                                  f"at most {MAX_FILE_BYTES:,})")
        chunks, total = [], 0
        while total <= MAX_FILE_BYTES:  # the size may change under us: the cap holds anyway
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise PlaygroundError(f"{path}: cannot read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    return state_from_json(b"".join(chunks), str(path))


def save_state(state: PlaygroundState, path) -> Path:
    """Write the state as JSON, atomically (:func:`linviz.safe_files.atomic_write`: never
    through a link, never over anything but a regular file)."""
    from linviz.safe_files import FileRefusedError, atomic_write

    path = Path(path)
    try:
        with atomic_write(path) as f:
            f.write(state_to_json(state).encode("utf-8"))
    except FileRefusedError as exc:
        raise PlaygroundError(f"{path}: cannot write: {exc.reason}") from None
    except OSError as exc:
        raise PlaygroundError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return path
