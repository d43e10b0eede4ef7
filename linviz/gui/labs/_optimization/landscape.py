"""The loss landscape around the current W: a colored map of the loss over a plane through W,
or the loss along several lines, as in the lecture's figures.

While a run trains, a coarse surface (31 x 31 over at most 2,000 images) follows the newest
W about once a second on the quick lane, with the serial kernel (the training owns the other
core, and parallel kernels run from one thread at a time). When the weights stop changing
(training paused or finished, or a model loaded) the surface is computed once at the chosen
resolution. Hovering shows a, b and the loss there. The arithmetic is
:mod:`linviz.explore.loss_surface`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QLabel, QPushButton, QSpinBox,
                               QStackedWidget, QVBoxLayout)

from linviz.gui.labs.lab import Lab
from linviz.gui.views.control_flow import control_flow
from linviz.gui.views.empty_plot import EmptyHint
from linviz.gui.views.plot_style import plain_axes
from linviz.models.losses import LOSSES
from linviz.text import counted

HOVER_HINT = "Hover over the plot: a, b and the loss there"
LIVE_INTERVAL_S = 1.0  # the coarse surface follows training about once a second
SETTLE_MS = 1500  # no new weights for this long: compute the full-resolution surface
LIVE_STEPS = 31
LIVE_IMAGES = 2000
BANDS = 16  # the color map's steps: filled contours
COLOR_QUANTILE = 0.8
LINE_COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
               (227, 119, 194), (127, 127, 127)]
QUANTITIES = {"total": "total loss", "data": "data loss", "reg": "regularization loss"}
DATA_CHOICES = (("train:2000", "2,000 training images"), ("train:10000", "10,000 training images"),
                ("validation", "the validation split"))
DIRECTIONS = (("random", "random (Gaussian, scaled to W)"), ("gradient", "negative gradient"),
              ("trajectory", "training trajectory (PCA)"))


@dataclass(frozen=True, eq=False)
class LandscapeResult:
    surfaces: list  # one LossSurface (2-D) or one per line (1-D)
    labels: list  # per surface (1-D): what the line is
    two_d: bool
    coarse: bool
    path: Optional[np.ndarray]  # (T, 2) the trajectory's projection (2-D, trajectory directions)
    note: str  # about the directions
    data_words: str
    seconds: float
    W: np.ndarray
    center_total: float


@dataclass(frozen=True, eq=False)
class RowsOf:
    """Rows of a feature matrix, gathered in the job (a 10,000-row copy of raw pixels would
    stall the GUI thread)."""

    X: np.ndarray
    rows: np.ndarray


def features_of(X) -> np.ndarray:
    return X.X[X.rows] if isinstance(X, RowsOf) else X


def landscape_job(W, X_rows, y, options: dict, *, two_d: bool, kind: str, span: float, steps: int, lines: int,
                  seed: int, trajectory: tuple, coarse: bool, data_words: str):
    """The whole computation, for the quick lane (serial kernels). ``X_rows``: the features,
    or :class:`RowsOf` them."""
    from linviz.explore.loss_surface import (gradient_direction, grid, loss_surface, orthogonal_random,
                                             random_directions, scores_along, trajectory_plane)

    def job(ctx) -> LandscapeResult:
        start = time.perf_counter()
        X = features_of(X_rows)
        path, note = None, ""
        if kind == "gradient":
            g = gradient_direction(W, X, y, **options)
            if two_d:
                dirs, labels = [g, orthogonal_random(g, W, seed=seed)], []
                note = "D1 = the negative gradient (scaled to |W|), D2 = a random direction orthogonal to it"
            else:
                dirs = [g] + random_directions(W, max(0, lines - 1), seed=seed)
                labels = ["−gradient"] + [f"random {k + 1}" for k in range(len(dirs) - 1)]
                note = "the negative gradient (scaled to |W|) and random directions"
        elif kind == "trajectory":
            plane = trajectory_plane(list(trajectory), W)
            dirs = list(plane.directions)
            labels = ["1st main direction", "2nd main direction"]
            path = plane.coordinates
            note = (f"D1, D2 = the two main directions of the {len(trajectory)} weight snapshots (PCA, scaled to |W|); "
                    + plane.note())
        else:
            dirs = random_directions(W, 2 if two_d else lines, seed=seed)
            labels = [f"random {k + 1}" for k in range(len(dirs))]
            note = "random Gaussian directions, each class scaled to the norm of W's column"
        alphas = grid(span, steps)
        if two_d:
            surfaces = [loss_surface(W, X, y, dirs, alphas, grid(span, steps), parallel=False, cancel=ctx.cancel,
                                     **options)]
        else:
            scores = scores_along(W, X, dirs)
            surfaces = []
            for k, d in enumerate(dirs):
                surfaces.append(loss_surface(W, X, y, [d], alphas, None, parallel=False, cancel=ctx.cancel,
                                             scores=[scores[0], scores[k + 1]], **options))
        center = surfaces[0].value_at(0.0, 0.0)[4]
        return LandscapeResult(surfaces, labels, two_d, coarse, path, note, data_words, time.perf_counter() - start,
                               W, center)

    return job


def banded_colormap(bands: int = BANDS):
    """viridis in ``bands`` flat steps: the map reads as filled contours."""
    base = pg.colormap.get("viridis")
    colors = base.map(np.linspace(0.0, 1.0, bands), mode="byte")
    positions = np.repeat(np.linspace(0.0, 1.0, bands + 1), 2)[1:-1]
    return pg.ColorMap(positions, np.repeat(colors, 2, axis=0))


class LandscapeView(Lab):
    title = "Loss landscape"
    order = 0
    object_name = "landscapeView"

    def __init__(self, workbench, job_queue, parent=None):
        super().__init__(workbench, job_queue, parent)
        self.result: Optional[LandscapeResult] = None
        self.live_jobs = 0  # coarse surfaces computed while training (tests count them)
        self.full_jobs = 0
        self.hover_text = ""
        self._live_at = -1e9
        self._full_W = None  # the weights the newest full-resolution surface was made for
        self._live_W = None  # ... and the newest coarse one
        self._sample_key = None
        self._sample_rows = None

        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setObjectName("viewCaption")
        self.mode_box = QComboBox()
        self.mode_box.addItem("plane (2-D map)", True)
        self.mode_box.addItem("lines (1-D)", False)
        self.mode_box.setToolTip("The loss over the plane W + a·D1 + b·D2, or along lines W + a·D")
        self.direction_box = QComboBox()
        for key, text in DIRECTIONS:
            self.direction_box.addItem(text, key)
        self.direction_box.setToolTip("Which directions the plane or the lines follow. Random: Gaussian, each "
                                      "class's column scaled to the norm of W's, so a = 1 moves every class "
                                      "template by its own size")
        self.quantity_box = QComboBox()
        for key, text in QUANTITIES.items():
            self.quantity_box.addItem(text, key)
        self.data_box = QComboBox()
        for key, text in DATA_CHOICES:
            self.data_box.addItem(text, key)
        self.data_box.setToolTip("The images the data loss is averaged over")
        self.range_spin = QDoubleSpinBox(decimals=2, minimum=0.01, maximum=100.0, singleStep=0.25, value=1.0)
        self.range_spin.setToolTip("a (and b) from −range to +range; the directions have W's norm, so 1 moves "
                                   "every class template by its own length")
        self.steps_spin = QSpinBox(minimum=5, maximum=201, singleStep=10, value=51)
        self.steps_spin.setToolTip("Grid points per axis when not training (while training: a coarse "
                                   f"{LIVE_STEPS} x {LIVE_STEPS} over at most {LIVE_IMAGES:,} images)")
        self.lines_spin = QSpinBox(minimum=1, maximum=8, value=4)
        self.lines_spin.setToolTip("Lines (1-D): how many directions to overlay")
        self.seed_spin = QSpinBox(minimum=0, maximum=1_000_000, value=0)
        self.seed_spin.setToolTip("Seed of the random directions")
        self.new_button = QPushButton("New directions")
        self.live_box = QCheckBox("Follow training")
        self.live_box.setChecked(True)
        self.live_box.setToolTip("While training: a coarse surface around the newest W about once a second")
        controls = control_flow(("Show", self.mode_box), ("Directions", self.direction_box),
                                ("Loss", self.quantity_box), ("On", self.data_box), self.new_button,
                                ("Range ±", self.range_spin), ("Grid", self.steps_spin), ("Lines", self.lines_spin),
                                ("Seed", self.seed_spin), self.live_box)

        # the 2-D map
        self.map_plot = pg.PlotWidget()
        self.map_plot.setObjectName("landscapeMap")
        item = self.map_plot.getPlotItem()
        item.hideButtons()
        plain_axes(item)
        item.setLabel("bottom", "a (along D1)")
        item.setLabel("left", "b (along D2)")
        item.getViewBox().setAspectLocked(False)
        self.image = pg.ImageItem()
        self.image.setColorMap(banded_colormap())
        item.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(0, 1), colorMap=banded_colormap(), interactive=False, width=12)
        self.colorbar.setImageItem(self.image, insert_in=item)
        self.path_curve = item.plot(pen=pg.mkPen((255, 255, 255), width=2), symbol="o", symbolSize=5,
                                    symbolBrush=(255, 255, 255), symbolPen=pg.mkPen((40, 40, 40)))
        self.start_mark = pg.ScatterPlotItem(size=10, symbol="s", brush=pg.mkBrush(255, 255, 255),
                                             pen=pg.mkPen((40, 40, 40)))
        item.addItem(self.start_mark)
        self.center_mark = pg.ScatterPlotItem(size=13, symbol="x", pen=pg.mkPen((230, 30, 30), width=3),
                                              brush=pg.mkBrush(230, 30, 30))
        item.addItem(self.center_mark)
        # the 1-D lines
        self.line_plot = pg.PlotWidget()
        self.line_plot.setObjectName("landscapeLines")
        item = self.line_plot.getPlotItem()
        item.hideButtons()
        plain_axes(item)
        item.setLabel("bottom", "a (along each direction D)")
        item.addLegend(offset=(10, 10))
        item.addItem(pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen((200, 30, 30), style=Qt.PenStyle.DashLine)))
        self.line_curves = []
        self.hints = [EmptyHint(self.map_plot.getPlotItem()), EmptyHint(self.line_plot.getPlotItem())]
        self.stack = QStackedWidget()
        self.stack.addWidget(self.map_plot)
        self.stack.addWidget(self.line_plot)
        self.readout = QLabel(HOVER_HINT)
        self.readout.setObjectName("landscapeReadout")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setObjectName("viewCaption")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(controls)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.readout)
        layout.addWidget(self.note)

        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.timeout.connect(self.request_refresh)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._on_settled)
        self.map_plot.scene().sigMouseMoved.connect(self._on_mouse_map)
        self.line_plot.scene().sigMouseMoved.connect(self._on_mouse_lines)
        workbench.model_changed.connect(self.request_refresh)
        workbench.training_changed.connect(self.request_refresh)
        for box in (self.mode_box, self.direction_box, self.data_box):
            box.activated.connect(self._settings_changed)
        self.quantity_box.activated.connect(self._redraw)
        for spin in (self.range_spin, self.steps_spin, self.lines_spin, self.seed_spin):
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(self._settings_changed)
        self.new_button.clicked.connect(lambda: self.seed_spin.setValue(self.seed_spin.value() + 1))
        self.live_box.toggled.connect(self._settings_changed)

    # ------------------------------------------------------------------ inputs
    def _settings_changed(self, *_) -> None:
        self._full_W = None
        self._live_at = -1e9
        self.request_refresh()

    def _data(self, coarse: bool):
        """(X, y, words) of the images the loss is averaged over (a fixed sample per data)."""
        data, features = self.workbench.data, self.workbench.features
        choice = self.data_box.currentData()
        if choice == "validation" and data.has_validation:
            X, y, words = features.X_val, data.val.labels, f"the validation split ({len(data.val.labels):,} images)"
            if coarse and len(y) > LIVE_IMAGES:
                X, y, words = X[:LIVE_IMAGES], y[:LIVE_IMAGES], f"{LIVE_IMAGES:,} validation images"
            return X, y, words
        wanted = LIVE_IMAGES if coarse or choice != "train:10000" else 10_000
        n = len(data.train.labels)
        key = (data.key(), wanted)
        if key != self._sample_key:
            rows = np.arange(n) if wanted >= n else np.sort(np.random.default_rng(0).choice(n, wanted, replace=False))
            self._sample_key, self._sample_rows = key, rows
        rows = self._sample_rows
        words = f"{len(rows):,} training images" + (" (all)" if len(rows) == n else "")
        if choice == "validation":
            words += " (there is no validation split)"
        return RowsOf(features.X_train, rows), data.train.labels[rows], words

    # ------------------------------------------------------------------ refresh
    def refresh(self) -> None:
        model = self.workbench.model
        if model is None or self.workbench.data is None or self.workbench.features is None:
            self._show_nothing("Train a model (Model and training > Train) or load one to see the loss around "
                               "its weights.")
            return
        frame = self.workbench.frame
        trajectory = frame.trajectory if frame is not None and frame.model is not None else ()
        if self.direction_box.currentData() == "trajectory" and len(trajectory) < 2:
            self._show_nothing("The trajectory plane needs the weights of at least two epochs of a run trained in "
                               "this window (train a few epochs, or choose other directions).")
            return
        live = self.workbench.training and self.live_box.isChecked()
        if self.workbench.training and not live:
            return  # not following: the surface stays until the run ends
        if live and model.W is self._live_W:
            # no new weights since the last coarse surface (paused): explore at full resolution
            if self._full_W is not model.W:
                self._submit(model, trajectory, coarse=False)
            return
        if live:
            now = time.monotonic()
            wait = LIVE_INTERVAL_S - (now - self._live_at)
            if wait > 0:
                self._later.start(int(wait * 1000) + 1)
                return
            self._live_at = now
            self._settle.start()
        elif self._full_W is model.W and self.result is not None and not self.result.coarse:
            return  # this W's full surface is on screen
        self._submit(model, trajectory, coarse=live)

    def _on_settled(self) -> None:
        """Training paused (no new weights for a while): the full resolution, once per W."""
        model = self.workbench.model
        if model is not None and self.isVisible() and self._full_W is not model.W:
            frame = self.workbench.frame
            trajectory = frame.trajectory if frame is not None else ()
            if self.direction_box.currentData() != "trajectory" or len(trajectory) >= 2:
                self._submit(model, trajectory, coarse=False)

    def _submit(self, model, trajectory, coarse: bool) -> None:
        X, y, words = self._data(coarse)
        options = model.loss_options()
        two_d = bool(self.mode_box.currentData())
        steps = LIVE_STEPS if coarse else int(self.steps_spin.value())
        W = np.asarray(model.W)
        path = tuple(trajectory) + ((W,) if trajectory and trajectory[-1] is not W else ())
        job = landscape_job(W, X, y, options, two_d=two_d, kind=self.direction_box.currentData(),
                            span=float(self.range_spin.value()), steps=steps, lines=int(self.lines_spin.value()),
                            seed=int(self.seed_spin.value()), trajectory=path, coarse=coarse, data_words=words)
        if coarse:
            self.live_jobs += 1
            self._live_W = model.W
        else:
            self.full_jobs += 1
            self._full_W = model.W
        self.submit("surface", job, self._on_result)

    def _on_result(self, outcome) -> None:
        if outcome.error:
            self._show_nothing(f"Loss landscape: {outcome.error}")
            if outcome.details:
                self.workbench.post_message(f"Loss landscape: {outcome.error}", error=True)
            return
        if not outcome.ok:
            return
        self.result = outcome.result
        self._redraw()

    # ------------------------------------------------------------------ drawing
    def _quantity(self, surface) -> np.ndarray:
        return {"total": surface.total, "data": surface.data, "reg": surface.reg}[self.quantity_box.currentData()]

    def _redraw(self, *_) -> None:
        result = self.result
        if result is None:
            return
        model = self.workbench.model
        s = result.surfaces[0]
        what = QUANTITIES[self.quantity_box.currentData()]
        grid_words = (f"{len(s.betas)} × {len(s.alphas)} grid (colors: lowest {COLOR_QUANTILE:.0%} of it)"
                      if result.two_d else
                      f"{counted(len(result.surfaces), 'line')} of {len(s.alphas)} points")
        kind = "coarse, following training" if result.coarse else "full resolution"
        loss = LOSSES[model.loss if model is not None else s.loss].short_label
        where = "the red ×, a = b = 0" if result.two_d else "the dashed line, a = 0"
        self.caption.setText(f"The {what} ({loss}) around the current W"
                             f"{' over the plane W + a·D1 + b·D2' if result.two_d else ' along lines W + a·D'}, on "
                             f"{result.data_words}: {grid_words} in {result.seconds * 1000:.0f} ms ({kind}). "
                             f"At W ({where}): total loss {result.center_total:.4f}.")
        note = f"Directions: {result.note}."
        if LOSSES[s.loss].hinge and not result.two_d:
            note += " The SVM's data loss is piecewise linear along a line (a sum of hinges); L2 regularization " \
                    "adds a parabola."
        self.note.setText(note)
        for hint in self.hints:
            hint.filled()
        self.colorbar.setVisible(result.two_d)
        if result.two_d:
            self.stack.setCurrentWidget(self.map_plot)
            values = self._quantity(s)
            # the far corners of a wide range dwarf the valley: the colors span the lowest
            # COLOR_QUANTILE of the grid and saturate above it (the color bar says so)
            lo = float(np.min(values))
            hi = float(np.quantile(values, COLOR_QUANTILE))
            hi = hi if hi > lo else float(np.max(values))
            hi = hi if hi > lo else lo + 1e-12
            self.image.setImage(np.ascontiguousarray(values, dtype=np.float32), levels=(lo, hi), autoLevels=False)
            da = (s.alphas[-1] - s.alphas[0]) / max(len(s.alphas) - 1, 1)
            db = (s.betas[-1] - s.betas[0]) / max(len(s.betas) - 1, 1)
            self.image.setRect(QRectF(s.alphas[0] - da / 2, s.betas[0] - db / 2, da * len(s.alphas),
                                      db * len(s.betas)))
            self.colorbar.setLevels((lo, hi))
            self.center_mark.setData([0.0], [0.0])
            if result.path is not None:
                self.path_curve.setData(result.path[:, 0], result.path[:, 1])
                self.start_mark.setData([result.path[0, 0]], [result.path[0, 1]])
            else:
                self.path_curve.setData([], [])
                self.start_mark.setData([], [])
            item = self.map_plot.getPlotItem()
            item.setXRange(s.alphas[0] - da / 2, s.alphas[-1] + da / 2, padding=0)
            item.setYRange(s.betas[0] - db / 2, s.betas[-1] + db / 2, padding=0)
        else:
            self.stack.setCurrentWidget(self.line_plot)
            item = self.line_plot.getPlotItem()
            while len(self.line_curves) < len(result.surfaces):
                color = LINE_COLORS[len(self.line_curves) % len(LINE_COLORS)]
                self.line_curves.append(item.plot(pen=pg.mkPen(color, width=2), name=""))
            for k, curve in enumerate(self.line_curves):
                if k < len(result.surfaces):
                    line = result.surfaces[k]
                    curve.setData(line.alphas, self._quantity(line))
                    curve.setVisible(True)
                else:
                    curve.setData([], [])
                    curve.setVisible(False)
            self._relabel_legend(item, result)
            item.setLabel("left", what)
            item.enableAutoRange()
        # the read-out is of this surface: the numbers where the mouse last was, or the hint
        if self._hover_at is not None and self.hover(*self._hover_at):
            return
        self.readout.setText(HOVER_HINT)
        self.hover_text = ""

    def _relabel_legend(self, item, result) -> None:
        legend = item.legend
        legend.clear()
        for k, curve in enumerate(self.line_curves[:len(result.surfaces)]):
            legend.addItem(curve, result.labels[k])

    def _show_nothing(self, message: str) -> None:
        self.cancel("surface")
        self.result = None
        self.caption.setText(message)
        self.note.setText("")
        self.readout.setText(HOVER_HINT)
        self.hover_text = ""
        for hint in self.hints:
            hint.show(message)
        self.colorbar.setVisible(False)
        self.image.clear()
        self.path_curve.setData([], [])
        self.start_mark.setData([], [])
        self.center_mark.setData([], [])
        for curve in self.line_curves:
            curve.setData([], [])

    # ------------------------------------------------------------------ hover
    def hover(self, a: float, b: float = 0.0) -> str:
        """The read-out at (a, b): the nearest grid point's losses (also used by the tests)."""
        result = self.result
        if result is None:
            return ""
        if result.two_d:
            s = result.surfaces[0]
            if not (s.alphas[0] <= a <= s.alphas[-1] and s.betas[0] <= b <= s.betas[-1]):
                return ""
            k, m, data, reg, total = s.value_at(a, b)
            text = (f"a = {s.alphas[m]:+.3f}, b = {s.betas[k]:+.3f}: total {total:.4f} "
                    f"(data {data:.4f} + regularization {reg:.4f})")
        else:
            s = result.surfaces[0]
            if not s.alphas[0] <= a <= s.alphas[-1]:
                return ""
            parts = []
            for label, line in zip(result.labels, result.surfaces):
                _, m, data, reg, total = line.value_at(a)
                parts.append(f"{label} {total:.4f}")
            text = f"a = {s.alphas[s.value_at(a)[1]]:+.3f}: total " + ", ".join(parts)
        self.hover_text = text
        self.readout.setText(text)
        return text

    def _on_mouse_map(self, pos) -> None:
        point = self.map_plot.getPlotItem().getViewBox().mapSceneToView(pos)
        self._hover_at = (point.x(), point.y())
        self.hover(point.x(), point.y())

    def _on_mouse_lines(self, pos) -> None:
        point = self.line_plot.getPlotItem().getViewBox().mapSceneToView(pos)
        self._hover_at = (point.x(), 0.0)
        self.hover(point.x())

    _hover_at = None  # (a, b) of the mouse's last position over the plot
