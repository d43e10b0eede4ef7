"""The gradient check, shown: sampled weights of the current model with the analytic and the
numerical derivative of its loss on a minibatch (the centered difference with the chosen h),
their relative error colored by the course's thresholds, kinks of the loss marked as such, a
histogram of the errors, and the sweep of h from 1e-1 to 1e-10: the median relative error
on a log-log plot, the lecture's V, with the chosen h marked.

Both run on the quick lane when the model changes outside training (while a run trains, on
"Check" for the newest weights); changing h only moves the mark on the sweep. The arithmetic
is :mod:`linviz.explore.gradient_table`.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QBoxLayout, QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from linviz.gui.labs.lab import Lab
from linviz.gui.views.empty_plot import EmptyHint
from linviz.gui.views.plot_style import fitting_title, plain_axes
from linviz.gui.views.tables import reading_table, table_width
from linviz.gui.widgets.fitting_splitter import FittingSplitter
from linviz.gui.widgets.wrapped_label import WrappedLabel
from linviz.models.losses import LOSSES
from linviz.training.numerical_gradient import SWEEP_STEPS

VERDICT_COLORS = {"fine": (200, 235, 200), "acceptable": (232, 244, 200), "suspect": (255, 222, 170),
                  "wrong": (250, 180, 180), "kink": (205, 220, 245), "zero": (232, 232, 232)}
H_CHOICES = SWEEP_STEPS  # 1e-1 ... 1e-10, the sweep's steps
DEFAULT_H = 1e-5  # the lecture's step, near the bottom of the V
COLUMNS = [("weight", "Feature (row of W) and class (column)"), ("analytic", "dL/dw from the loss function"),
           ("numeric", "The centered difference (f(w + h) − f(w − h)) / 2h with the chosen step h"),
           ("rel. error", "|numeric − analytic| / (|numeric| + |analytic|)"),
           ("verdict", "The course's reading of the rel. error"),
           ("Richardson error", "For comparison only: the relative error of Richardson's (4 g(h/2) − g(h)) / 3, "
                                "which cancels the h² term of the centered difference g")]
VERDICT_COLUMN = 4


def _column(plot, note) -> QWidget:
    """A plot with its note below it."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(plot, 1)
    layout.addWidget(note)
    return box


def row_name(blocks, row: int, n_rows: int) -> str:
    """'hog #12', 'hue #3' or 'bias' for a row of W."""
    if row == n_rows - 1:
        return "bias"
    for block in blocks or ():
        if block.start <= row < block.stop:
            return f"{block.name.split(':')[0]} #{row - block.start}"
    return f"feature {row}"


def check_job(W, X, y, options: dict, *, num_checks: int, h: float, batch_size: int, seed: int):
    from linviz.explore.gradient_table import gradient_table

    def job(ctx):
        return gradient_table(W, X, y, num_checks=num_checks, h=h, batch_size=batch_size, seed=seed,
                              cancel=ctx.cancel, **options)

    return job


def sweep_job(W, X, y, options: dict, *, num_checks: int, batch_size: int, seed: int):
    """The median error for every h of the sweep, on the weights and minibatch the table checks."""
    from linviz.explore.gradient_table import gradient_sweep

    def job(ctx):
        return gradient_sweep(W, X, y, num_checks=num_checks, batch_size=batch_size, seed=seed,
                              cancel=ctx.cancel, **options)

    return job


def sweep_note(sweep, hinge: bool) -> str:
    """The sweep in words: where it is lowest, which error rises on which side, the kinks."""
    med = np.where(np.isfinite(sweep.median_rel_error), sweep.median_rel_error, np.nan)
    best = sweep.best_step
    low = np.nanmin(med) if np.isfinite(med).any() else np.nan
    text = f"Median over the sampled weights at each h; lowest at h = {best:g}."
    if np.nanmax(med[sweep.steps > best], initial=0.0) > 10 * low:
        text += " Above it the truncation error (h² f‴/6) grows with h."
    if np.nanmax(med[sweep.steps < best], initial=0.0) > 10 * low:
        text += " Below it rounding (about ε|f|/h) grows as h shrinks."
    if sweep.n_kinks.any():
        crossing = ", ".join(f"{h:g}: {k}" for h, k in zip(sweep.steps, sweep.n_kinks) if k)
        text += f" Steps that crossed a kink are left out (h = {crossing})."
    if hinge:
        text += (" Between its kinks the hinge is linear in each weight (an L2 term quadratic), where the "
                 "centered difference is exact: only rounding is left.")
    return text


class GradientCheckView(Lab):
    title = "Gradient check"
    order = 2
    object_name = "gradientCheckView"

    def __init__(self, workbench, job_queue, parent=None):
        super().__init__(workbench, job_queue, parent)
        from linviz.explore.gradient_table import VERDICTS

        self.table_data = None  # the newest GradientTable shown
        self.sweep_data = None  # the newest StepSweep shown
        self._checked_W = None
        self._swept = None  # what the sweep shown was computed for
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setObjectName("viewCaption")
        self.h_box = QComboBox()
        for h in H_CHOICES:
            self.h_box.addItem(f"{h:g}", h)
        self.h_box.setCurrentIndex(H_CHOICES.index(DEFAULT_H))
        self.h_box.setToolTip("The step of the centered difference: too large and the curvature (and kinks) "
                              "spoil it, too small and it drowns in rounding; the sweep shows both")
        self.count_spin = QSpinBox(minimum=5, maximum=1000, singleStep=25, value=100)
        self.count_spin.setToolTip("How many weights to check (sampled at random)")
        self.batch_spin = QSpinBox(minimum=1, maximum=10_000, singleStep=50, value=200)
        self.batch_spin.setToolTip("The minibatch of training images the loss is computed on")
        self.seed_spin = QSpinBox(minimum=0, maximum=1_000_000, value=0)
        self.check_button = QPushButton("Check")
        self.check_button.setToolTip("Check the newest weights now (while training it does not follow by itself)")
        controls = QHBoxLayout()
        for text, widget in (("Step h", self.h_box), ("Weights", self.count_spin), ("Minibatch", self.batch_spin),
                             ("Seed", self.seed_spin)):
            controls.addWidget(QLabel(text))
            controls.addWidget(widget)
        controls.addStretch(1)
        controls.addWidget(self.check_button)

        self.table = reading_table("gradientCheckTable", COLUMNS)
        self.histogram = pg.PlotWidget()
        self.histogram.setObjectName("gradientCheckHistogram")
        self.histogram.setMinimumHeight(140)
        item = self.histogram.getPlotItem()
        item.hideButtons()
        plain_axes(item)
        fitting_title(item, "bottom", "log10 of the relative error (zeros at the left)",
                      "log10 of the rel. error (zeros at left)", "log10 rel. error")
        item.setLabel("left", "weights")
        item.getViewBox().setMouseEnabled(x=False, y=False)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.85, brushes=[])
        item.addItem(self.bars)
        self.kink_bars = pg.BarGraphItem(x=[], height=[], width=0.85, brushes=[])
        item.addItem(self.kink_bars)
        # The thresholds' labels at two heights: 1e-4 and 1e-2 are close on a narrow plot.
        self.threshold_lines = []
        for value, text, height in ((-7, "1e-7", 0.93), (-4, "1e-4", 0.80), (-2, "1e-2", 0.93)):
            line = pg.InfiniteLine(pos=value, angle=90, pen=pg.mkPen((90, 90, 90), style=Qt.PenStyle.DashLine),
                                   label=text, labelOpts={"position": height, "color": (60, 60, 60)})
            item.addItem(line)
            self.threshold_lines.append(line)
        self.histogram_hint = EmptyHint(item)
        self.sweep_plot = pg.PlotWidget()
        self.sweep_plot.setObjectName("gradientSweepPlot")
        self.sweep_plot.setMinimumHeight(140)
        sweep = self.sweep_plot.getPlotItem()
        sweep.hideButtons()
        plain_axes(sweep)
        sweep.setLogMode(x=True, y=True)
        sweep.showGrid(x=True, y=True, alpha=0.2)
        sweep.setLabel("bottom", "step h")
        fitting_title(sweep, "left", "median rel. error", "rel. error")
        sweep.getViewBox().setMouseEnabled(x=False, y=False)
        self.sweep_curve = sweep.plot([], [], pen=pg.mkPen((40, 90, 170), width=2), symbol="o", symbolSize=6,
                                      symbolBrush=(40, 90, 170), connect="finite")
        # the chosen h; in log mode an item's x is log10(h)
        self.h_line = pg.InfiniteLine(pos=np.log10(DEFAULT_H), angle=90, pen=pg.mkPen((200, 80, 40), width=2),
                                      label="h", labelOpts={"position": 0.9, "color": (200, 80, 40)})
        sweep.addItem(self.h_line)
        self.sweep_hint = EmptyHint(sweep)
        self.sweep_note = WrappedLabel("")
        self.sweep_note.setObjectName("viewCaption")
        self.summary = WrappedLabel("")
        self.summary.setObjectName("viewCaption")
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        legend = "  ".join(f'<span style="background-color:rgb{VERDICT_COLORS[k]}">&nbsp;{k}&nbsp;</span> {v}'
                           for k, v in VERDICTS.items())
        self.legend = QLabel(legend)
        self.legend.setWordWrap(True)
        self.legend.setObjectName("viewCaption")
        # the sweep above the histogram beside the table when all its columns fit; when not, the
        # table on top and the two plots side by side below it
        right = QWidget()
        right_layout = QBoxLayout(QBoxLayout.Direction.TopToBottom, right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        for plot, note in ((self.sweep_plot, self.sweep_note), (self.histogram, self.summary)):
            right_layout.addWidget(_column(plot, note), 1)

        def turned(orientation) -> None:
            across = orientation == Qt.Orientation.Vertical
            right_layout.setDirection(QBoxLayout.Direction.LeftToRight if across else
                                      QBoxLayout.Direction.TopToBottom)

        split = FittingSplitter(self.table, right, lambda: table_width(self.table), turned=turned)
        split.setObjectName("gradientCheckSplitter")
        self.splitter = split

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addLayout(controls)
        layout.addWidget(split, 1)
        layout.addWidget(self.legend)

        workbench.model_changed.connect(self._on_model)
        workbench.training_changed.connect(self.request_refresh)
        self.check_button.clicked.connect(self.check)
        for widget in (self.h_box,):
            widget.activated.connect(self.check)
        for spin in (self.count_spin, self.batch_spin, self.seed_spin):
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(self.check)

    def _on_model(self, *_) -> None:
        if not self.workbench.training:
            self.request_refresh()

    def refresh(self) -> None:
        model = self.workbench.model
        if model is None or self.workbench.features is None or self.workbench.data is None:
            self._show_nothing("Train a model or load one: its loss's gradient is checked here against centered "
                               "differences.")
            return
        if self.workbench.training:
            self.caption.setText("Training: press Check to check the newest weights (the table does not follow "
                                 "the run by itself).")
            return
        if self._checked_W is not model.W:
            self.check()

    def check(self, *_) -> None:
        model = self.workbench.model
        if model is None or self.workbench.features is None or self.workbench.data is None or not self.isVisible():
            return
        options = model.loss_options()
        h = float(self.h_box.currentData())
        self.h_line.setValue(np.log10(h))
        W, X, y = np.asarray(model.W), self.workbench.features.X_train, self.workbench.data.train.labels
        sample = dict(num_checks=int(self.count_spin.value()), batch_size=int(self.batch_spin.value()),
                      seed=int(self.seed_spin.value()))
        self._checked_W = model.W
        self.submit("check", check_job(W, X, y, options, h=h, **sample), self._on_result)
        swept = (model.W, tuple(sorted(options.items())), tuple(sorted(sample.items())))
        if swept != self._swept:  # the sweep does not depend on the chosen h
            self._swept = swept
            self.sweep_curve.setData([], [])
            self.sweep_note.setText("Sweeping h from 1e-1 to 1e-10...")
            self.submit("sweep", sweep_job(W, X, y, options, **sample), self._on_sweep)

    def _on_result(self, outcome) -> None:
        if outcome.error:
            self._show_nothing(f"Gradient check: {outcome.error}")
            return
        if not outcome.ok:
            return
        table = outcome.result
        self.table_data = table
        model = self.workbench.model
        blocks = model.features.pipeline.blocks if model is not None else None
        n_rows = model.W.shape[0] if model is not None else 0
        names = self.workbench.class_names
        opts = model.loss_options() if model is not None else {}
        reg = opts.get("reg", 0.0)
        self.caption.setText(f"{table.loss} loss with {opts.get('reg_type', 'l2')} regularization {reg:g}, on a "
                             f"minibatch of {table.batch_rows:,} training images, in float64; {len(table.rows)} "
                             f"weights sampled; numeric: the centered difference with h = {table.h:g}.")
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(table.rows))
        for r, row in enumerate(table.rows):
            cls = names[row.cls] if row.cls < len(names) else str(row.cls)
            values = [f"{row_name(blocks, row.feature, n_rows)}, {cls}", f"{row.analytic:+.6e}",
                      f"{row.numeric:+.6e}", f"{row.rel_error:.2e}", row.verdict, f"{row.richardson_rel_error:.2e}"]
            color = pg.mkColor(*VERDICT_COLORS[row.verdict])
            for k, text in enumerate(values):
                item = QTableWidgetItem(text)
                if k in (1, 2, 3, 5):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if k == 3:
                    item.setData(Qt.ItemDataRole.UserRole, row.rel_error)
                item.setBackground(color)
                self.table.setItem(r, k, item)
        self._draw_histogram(table)
        self.summary.setText(table.summary())
        self.splitter.refit()

    def _on_sweep(self, outcome) -> None:
        if outcome.error:
            self.sweep_note.setText(f"Sweep of h: {outcome.error}")
            return
        if not outcome.ok:
            return
        sweep = outcome.result
        self.sweep_data = sweep
        finite = np.isfinite(sweep.median_rel_error) & (sweep.median_rel_error > 0)
        # zero medians (an exact difference) cannot sit on a log axis: left out like NaN
        self.sweep_hint.filled()
        self.h_line.setVisible(True)
        self.sweep_curve.setData(sweep.steps, np.where(finite, sweep.median_rel_error, np.nan))
        item = self.sweep_plot.getPlotItem()
        item.setXRange(np.log10(sweep.steps.min()), np.log10(sweep.steps.max()), padding=0.05)
        options = self.workbench.model.loss_options() if self.workbench.model is not None else {}
        self.sweep_note.setText(sweep_note(sweep, LOSSES[options.get("loss", "softmax")].hinge
                                           and not options.get("squared")))

    def _draw_histogram(self, table) -> None:
        """Bars of the errors by their verdict's color; steps that crossed a kink stacked on top
        in the kink color (a kink's large error is no verdict on the gradient)."""
        from linviz.explore.gradient_table import HISTOGRAM_EDGES, log_histogram, verdict

        kinks = table.result.crossed_kink
        rel = table.result.rel_errors
        centers = HISTOGRAM_EDGES[:-1] + 0.5
        plain = log_histogram(rel[~kinks])
        kinked = log_histogram(rel[kinks])
        brushes = [pg.mkBrush(*VERDICT_COLORS[verdict(10.0 ** c, smooth=table.smooth)]) for c in centers]
        pen = pg.mkPen((90, 90, 90))
        self.bars.setOpts(x=centers, height=plain, width=0.85, brushes=brushes, pens=[pen] * len(centers))
        self.kink_bars.setOpts(x=centers, y0=plain, height=kinked, width=0.85,
                               brushes=[pg.mkBrush(*VERDICT_COLORS["kink"])] * len(centers), pens=[pen] * len(centers))
        item = self.histogram.getPlotItem()
        self.histogram_hint.filled()
        for line in self.threshold_lines:
            line.setVisible(True)
        item.setXRange(HISTOGRAM_EDGES[0], HISTOGRAM_EDGES[-1], padding=0.02)
        item.setYRange(0, max(1, int(np.max(plain + kinked))) * 1.1, padding=0)

    def _show_nothing(self, message: str) -> None:
        self.cancel("check")
        self.cancel("sweep")
        self.table_data = None
        self.sweep_data = None
        self._checked_W = None
        self._swept = None
        self.sweep_curve.setData([], [])
        self.sweep_note.setText("")
        self.caption.setText(message)
        self.table.setRowCount(0)
        self.bars.setOpts(x=[], height=[], brushes=[])
        self.kink_bars.setOpts(x=[], height=[], brushes=[])
        self.summary.setText("")
        for line in self.threshold_lines:
            line.setVisible(False)
        self.histogram_hint.show("The relative errors of the checked weights, on a log scale, fill in here")
        self.h_line.setVisible(False)
        self.sweep_hint.show("The error at every step h from 1e-1 to 1e-10 (the lecture's V) fills in here")
