"""Tuning: the course's learning rate x regularization search, with its heat map.

Pick the ranges (``LOW:HIGH:COUNT`` log-spaced, or a list, as ``python main.py tune`` takes
them), the epochs per run and the loss, and Start: the runs train on the heavy lane, on both
cores while the search is the only job (the training kernels release the GIL) and on one
while anything else computes; the heat map (``tuningHeatmap``) of validation accuracy fills in
cell by cell, the best cell marked. A random search over the same ranges (Bergstra & Bengio)
draws its points as a scatter over the same axes, each with its accuracy. The colors are on one
fixed scale, from chance (1 / classes) to 1, with a color bar: a cell keeps its color as the
search goes on. Click a cell (or a point) to see that run's loss and templates; *Make current*
makes it the current model (the current one stays in the Runs lab). Cancel keeps the finished
runs; every run is recorded in the run history (the Runs lab). The search is
:mod:`linviz.explore.tuning`.
"""

from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import (QComboBox, QGraphicsRectItem, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QSpinBox, QSplitter, QVBoxLayout, QWidget)

from linviz.explore.curves import smooth_curve
from linviz.explore.tuning import SearchPlan, best_result, heat_map, parse_values
from linviz.gui.labs.lab import Lab
from linviz.workbench.run_history import restore_run
from linviz.gui.views.loss_view import LogTicksAxis
from linviz.gui.views.plot_style import plain_axes, show_colors
from linviz.gui.views.control_flow import control_flow
from linviz.gui.views.templates_view import TemplatesView
from linviz.gui.views.empty_plot import EmptyHint
from linviz.gui.views.painted_labels import PaintedLabels
from linviz.text import duration
from linviz.gui.widgets.choices import choice_box
from linviz.models.losses import LOSSES
from linviz.workbench.spec_names import short_spec

POLL_MS = 200  # the heat map follows the search this often
CLICK_A_CELL = "Click a cell to see its run here; Make current makes it the current model."
EMPTY_RGBA = (235, 235, 235, 255)
BEST_COLOR = (230, 40, 40)
RUNNING_COLOR = (40, 40, 40)


@dataclass
class SearchState:
    """One search, shared by its job (appends, in the worker thread) and the lab (reads)."""

    plan: SearchPlan
    spec: str
    loss: str
    epochs: int
    data_key: tuple
    search_id: str
    pipeline: object = None  # the features' pipeline (to draw a run's templates)
    started: list = field(default_factory=list)      # indices, in start order
    results: list = field(default_factory=list)      # TuningResult, in finish order
    records: list = field(default_factory=list)      # (RunRecord | None, W, pipeline, messages) per result
    workers: list = field(default_factory=list)      # workers allowed at each start
    t0: float = field(default_factory=time.perf_counter)
    t1: Optional[float] = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def running(self) -> list:
        done = {r.index for r in self.results}
        return [i for i in self.started if i not in done] if self.t1 is None else []

    def result_at(self, index: int):
        return next((r for r in self.results if r.index == index), None)


def search_job(state: SearchState, features, data, base, store, workers):
    """Run the search of ``state`` (off the GUI thread) and record every finished run."""
    from linviz.explore.tuning import run_search
    from linviz.training.records import dataset_summary, make_record

    summary = dataset_summary(data.dataset, n_train=len(data.train.labels), n_val=len(data.val.labels),
                              n_test=len(data.test.labels) if data.test is not None else 0,
                              split=data.split_record)
    X_val = features.X_val if data.has_validation else None
    y_val = data.val.labels if data.has_validation else None

    def on_start(index: int) -> None:
        with state.lock:
            state.started.append(index)

    def on_result(result) -> None:
        W, pipeline = result.final.best_W, features.pipeline
        record, messages = None, []
        try:
            record = make_record(result.final, result.config, features=features.spec_text, dataset=summary,
                                 origin="search", train_accuracy=result.train_accuracy,
                                 val_accuracy=result.val_accuracy,
                                 search={"id": state.search_id, "index": result.index, "mode": state.plan.mode})
            messages = store.add(record, W=W, class_names=data.class_names, pipeline=pipeline)
        except Exception as exc:  # noqa: BLE001 - the search goes on; the run stays in the heat map
            messages = [f"Run lr {result.learning_rate:g}, reg {result.reg:g} was not recorded: {exc}"]
        with state.lock:
            state.records.append((record, W, pipeline, messages))
            state.results.append(result)

    def allowed() -> int:
        n = workers()
        with state.lock:
            state.workers.append(n)
        return n

    def job(ctx):
        try:
            run_search(features.X_train, data.train.labels, X_val, y_val, base, state.plan,
                       n_classes=len(data.class_names), workers=allowed, cancel=ctx.cancel, on_result=on_result,
                       on_start=on_start, yield_gil=True)
        finally:
            state.t1 = time.perf_counter()
        return state

    return job


class TuningLab(Lab):
    title = "Tuning"
    order = 30
    object_name = "tuningLab"

    def __init__(self, workbench, job_queue, parent=None):
        super().__init__(workbench, job_queue, parent)
        self.history = workbench.runs
        self.state: Optional[SearchState] = None
        self.selected_index: Optional[int] = None
        self._recorded = 0  # records of the state handed to the history so far

        self.lr_edit = QLineEdit("0.01:1:5")
        self.lr_edit.setObjectName("lrRangeEdit")
        self.lr_edit.setToolTip("Learning rates: LOW:HIGH:COUNT (log-spaced, both ends included) or a list 0.01,0.1,1")
        self.reg_edit = QLineEdit("1e-4:1:5")
        self.reg_edit.setObjectName("regRangeEdit")
        self.reg_edit.setToolTip("Regularization strengths: LOW:HIGH:COUNT or a list (0 allowed in a list)")
        self.epochs_spin = QSpinBox(minimum=1, maximum=1000, value=5)
        self.epochs_spin.setToolTip("Epochs per run")
        self.loss_box = choice_box(LOSSES, short=True)
        self.mode_box = QComboBox()
        self.mode_box.addItem("grid", "grid")
        self.mode_box.addItem("random", "random")
        self.mode_box.setToolTip("Grid: every pair. Random: pairs drawn log-uniformly over the same ranges "
                                 "(Bergstra & Bengio: more distinct values of what matters)")
        self.scale_box = QComboBox()
        self.scale_box.addItem("chance to 1", "fixed")
        self.scale_box.addItem("worst to best found", "found")
        self.scale_box.setToolTip("The colors' scale. Chance to 1: a cell keeps its color while the search goes "
                                  "on. Worst to best found: more contrast, the scale stretching as results arrive "
                                  "(the bar beside the map shows it)")
        self.trials_spin = QSpinBox(minimum=1, maximum=2500, value=25)
        self.trials_spin.setToolTip("Random search: how many runs")
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("startSearchButton")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelSearchButton")
        self.cancel_button.setToolTip("Stop the search; the finished runs stay")
        self.lr_edit.setMinimumWidth(110)
        self.reg_edit.setMinimumWidth(110)
        # a row that wraps on a narrow window (a grid of them widened the window past 1024 px)
        controls = control_flow(("Learning rates", self.lr_edit), ("Regularization", self.reg_edit),
                                ("Epochs", self.epochs_spin), ("Loss", self.loss_box), ("Search", self.mode_box),
                                ("Trials", self.trials_spin), ("Colors", self.scale_box), self.start_button,
                                self.cancel_button)

        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setObjectName("viewCaption")

        self.heatmap = pg.PlotWidget()
        self.heatmap.setObjectName("tuningHeatmap")
        item = self.heatmap.getPlotItem()
        plain_axes(item)
        item.setLabel("bottom", "regularization strength")
        item.setLabel("left", "learning rate")
        item.setMenuEnabled(False)
        item.getViewBox().setMouseEnabled(x=False, y=False)
        item.hideButtons()
        self.image = pg.ImageItem()
        item.addItem(self.image)
        self.scatter = pg.ScatterPlotItem(size=14, pen=pg.mkPen(60, 60, 60))
        item.addItem(self.scatter)
        self.best_box = QGraphicsRectItem()
        pen = QPen(QColor(*BEST_COLOR))
        pen.setWidthF(3)
        pen.setCosmetic(True)
        self.best_box.setPen(pen)
        self.best_box.setZValue(20)
        self.best_box.setVisible(False)
        item.addItem(self.best_box)
        self.selected_box = QGraphicsRectItem()
        pen = QPen(QColor(20, 20, 20))
        pen.setWidthF(2)
        pen.setStyle(Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.selected_box.setPen(pen)
        self.selected_box.setZValue(21)
        self.selected_box.setVisible(False)
        item.addItem(self.selected_box)
        self.best_star = pg.ScatterPlotItem(symbol="star", size=22, brush=pg.mkBrush(*BEST_COLOR),
                                            pen=pg.mkPen(255, 255, 255, width=1))
        self.best_star.setZValue(22)
        item.addItem(self.best_star)
        self.cell_labels: list[pg.TextItem] = []
        self.point_labels = PaintedLabels(font_px=10)  # a random search's accuracies, beside its points
        self.point_labels.setZValue(16)
        item.addItem(self.point_labels, ignoreBounds=True)
        self.colorbar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=pg.colormap.get("viridis"), interactive=False,
                                        width=12, label="validation accuracy")
        # beside the plot, as pyqtgraph places one; not bound to the image, which is already colored
        # (bound, the bar would map the image's RGB values through its own levels)
        item.layout.addItem(self.colorbar, 2, 5)
        item.layout.setColumnFixedWidth(4, 5)
        self.heatmap_hint = EmptyHint(item)
        self.heatmap.scene().sigMouseClicked.connect(self._on_clicked)
        self.legend = QLabel("")
        self.legend.setObjectName("viewCaption")
        self.legend.setWordWrap(True)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.heatmap, 1)
        left_layout.addWidget(self.legend)

        self.run_caption = QLabel(CLICK_A_CELL)
        self.run_caption.setWordWrap(True)
        self.run_caption.setObjectName("viewCaption")
        self.make_current_button = QPushButton("Make current")
        self.make_current_button.setObjectName("tuningMakeCurrentButton")
        self.make_current_button.setToolTip("Make the clicked run the current model (the current one stays in the "
                                            "Runs lab)")
        self.make_current_button.setEnabled(False)
        self.run_plot = pg.PlotWidget(axisItems={"left": LogTicksAxis("left")})
        self.run_plot.setObjectName("tuningRunPlot")
        run_item = self.run_plot.getPlotItem()
        plain_axes(run_item)
        run_item.setTitle("Its loss (smoothed)")
        run_item.setLabel("bottom", "iteration")
        run_item.setLogMode(y=True)
        self.run_loss = run_item.plot([], [], pen=pg.mkPen((200, 60, 20), width=2))
        self.run_hint = EmptyHint(run_item, "Click a cell: its run's loss shows here")
        self.run_templates = TemplatesView()  # no workbench: it draws the clicked run's templates
        self.run_templates.setObjectName("tuningTemplates")
        self.run_templates.caption.setText("")
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        run_row = QHBoxLayout()
        run_row.addWidget(self.run_caption, 1)
        run_row.addWidget(self.make_current_button, 0, Qt.AlignmentFlag.AlignTop)
        right_layout.addLayout(run_row)
        split_right = QSplitter(Qt.Orientation.Vertical)
        split_right.setChildrenCollapsible(False)
        split_right.addWidget(self.run_plot)
        split_right.addWidget(self.run_templates)
        split_right.setSizes([200, 260])
        right_layout.addWidget(split_right, 1)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.setObjectName("tuningSplitter")
        split.setChildrenCollapsible(False)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([560, 420])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(controls)
        layout.addWidget(self.caption)
        layout.addWidget(split, 1)

        self.poll = QTimer(self)
        self.poll.setInterval(POLL_MS)
        self.poll.timeout.connect(self._poll)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel_search)
        self.mode_box.currentIndexChanged.connect(self._on_mode)
        self.make_current_button.clicked.connect(self.make_current)
        self.scale_box.activated.connect(self.request_refresh)
        self._selected_record: Optional[str] = None
        self.history.current_changed.connect(self._on_current)
        workbench.features_changed.connect(self.request_refresh)
        workbench.data_changed.connect(self.request_refresh)
        workbench.model_changed.connect(self._on_model)
        self._on_mode()
        self._set_searching(False)

    # ------------------------------------------------------------------ controls
    def _on_model(self, model) -> None:
        """The search's loss follows the current model's (an SVM model: an SVM search), until
        a search runs."""
        if model is not None and not self.searching:
            self.loss_box.setCurrentIndex(self.loss_box.findData(model.loss))

    def _on_mode(self, *_) -> None:
        self.trials_spin.setEnabled(self.mode_box.currentData() == "random")

    def _set_searching(self, on: bool) -> None:
        self.start_button.setEnabled(not on)
        self.cancel_button.setEnabled(on)

    @property
    def searching(self) -> bool:
        return self.state is not None and self.state.t1 is None and self.job_queue.runner.job_name == "search"

    def plan(self) -> SearchPlan:
        """The search the controls describe (ValueError with a one-line reason when they do not)."""
        mode = self.mode_box.currentData()
        return SearchPlan(parse_values(self.lr_edit.text(), "learning rates", setting="learning_rate"),
                          parse_values(self.reg_edit.text(), "regularization", allow_zero=mode == "grid",
                                       setting="reg"),
                          mode=mode, trials=self.trials_spin.value() if mode == "random" else 0)

    def start(self) -> None:
        """Start the search on the current features (the heavy lane; progress and Cancel there too)."""
        from linviz.training import TrainingConfig, recommended_settings

        workbench = self.workbench
        if (workbench.data is None or workbench.features is None
                or not workbench.is_current(workbench.features.data_key)):
            workbench.post_message("Tuning: extract features first (Features > Extract, or train once); the search "
                               "runs on the current features", True)
            return
        try:
            plan = self.plan()
        except ValueError as exc:
            workbench.post_message(f"Tuning: {exc}", True)
            return
        loss = self.loss_box.currentData()
        settings = recommended_settings(workbench.features.pipeline.spec, loss, "sgd")
        settings["epochs"] = int(self.epochs_spin.value())
        base = TrainingConfig(loss=loss, optimizer="sgd", **settings)
        state = SearchState(plan, workbench.features.spec_text, loss, base.epochs, workbench.data.key(),
                            time.strftime("%Y%m%d-%H%M%S"), workbench.features.pipeline)
        quick = self.job_queue.quick
        cores = os.cpu_count() or 1

        def workers() -> int:
            # both cores while the search is the only job; one while the quick lane computes
            return 1 if quick.busy else max(1, cores)

        job = search_job(state, workbench.features, workbench.data, base, self.history.store, workers)

        def started() -> None:
            self.state = state
            self._recorded = 0
            self.selected_index = None
            self._set_searching(True)
            self._clear_run()
            self._draw()
            self.poll.start()

        self.job_queue.run("search", job, f"Searching {plan.n_runs} runs", on_done=self._finished, on_start=started,
                      on_progress=None)

    def cancel_search(self) -> None:
        if self.searching:
            self.job_queue.cancel()

    def _finished(self, outcome) -> None:
        self.poll.stop()
        self._set_searching(False)
        if outcome.error:
            self.workbench.post_message(f"Tuning: {outcome.error}", True)
        self._poll()
        state = self.state
        if state is not None:
            done = len(state.results)
            what = "cancelled: kept" if outcome.cancelled else "done:"
            self.workbench.post_message(f"Search {what} {done} of {state.plan.n_runs} runs in "
                                        f"{duration(state.t1 - state.t0)}")

    # ------------------------------------------------------------------ following the search
    def _poll(self) -> None:
        state = self.state
        if state is None:
            return
        with state.lock:
            new = state.records[self._recorded:]
            self._recorded = len(state.records)
        for record, W, pipeline, messages in new:
            if record is not None:
                self.history.add(record, W, pipeline, messages)
            else:
                for message in messages:
                    self.workbench.post_message(message, True)
        self._draw()

    def refresh(self) -> None:
        self._draw()

    def _draw(self) -> None:
        state = self.state
        if state is None:
            features = self.workbench.features
            what = f"the current features ({short_spec(features.spec_text)}, {features.X_train.shape[0]:,} " \
                   f"training images)" if features is not None else "the current features (extract them first)"
            self.caption.setText(f"Trains one run per (learning rate, regularization) pair on {what}, every other "
                                 "setting as recommended, the same seed for all; each is judged by the validation "
                                 "accuracy of the weights it keeps. A range reads LOW:HIGH:COUNT, log-spaced with "
                                 "both ends (0.01:1:5 is 0.01, 0.0316, 0.1, 0.316, 1), or give a list: 0.01,0.1.")
            self.legend.setText("")
            self.colorbar.setVisible(False)
            self.heatmap_hint.show("Choose the ranges and press Start: a cell per (learning rate, regularization) "
                                   "pair fills in as its run finishes" if features is not None else
                                   "Extract features (Features > Extract, or train once), then press Start")
            return
        self.heatmap_hint.filled()
        self.colorbar.setVisible(True)
        with state.lock:
            results = list(state.results)
            running = state.running
            workers = state.workers[-1] if state.workers else 0
        plan = state.plan
        if plan.mode == "grid":
            self._draw_grid(plan, results, running)
        else:
            self._draw_scatter(plan, results, running)
        best = best_result(results)
        elapsed = (state.t1 or time.perf_counter()) - state.t0
        status = (f"{len(results)} of {plan.n_runs} runs done"
                  + (f", {len(running)} running on {workers} "
                     f"core{'s' if workers != 1 else ''}" if running else "")
                  + f"; {duration(elapsed)}")
        shape = f"{len(plan.learning_rates)} x {len(plan.regs)} grid" if plan.mode == "grid" else \
            f"random search of {plan.n_runs} runs"
        text = (f"{shape} of {state.epochs}-epoch {LOSSES[state.loss].short_label} runs on "
                f"{short_spec(state.spec)}: {status}.")
        if best is not None:
            text += (f" Best (marked): lr {best.learning_rate:g}, reg {best.reg:g}: validation "
                     f"{_pct(best.val_accuracy)}, train {_pct(best.train_accuracy)}.")
        diverged = sum(r.diverged for r in results)
        if diverged:
            text += f" {diverged} diverged (their accuracy is that of the weights kept before)."
        self.caption.setText(text)

    def _color_scale(self, results) -> tuple:
        """From chance (1 / classes) to 1, fixed: a cell keeps its color while the search goes
        on; or (the "Colors" box) from the worst to the best accuracy found so far."""
        if self.scale_box.currentData() == "found":
            values = [r.val_accuracy if r.val_accuracy is not None else r.train_accuracy for r in results]
            values = [v for v in values if v is not None]
            if values:
                lo, hi = min(values), max(values)
                return lo, hi if hi > lo else lo + 1e-3
        n = len(self.workbench.class_names)
        return (1.0 / n if n > 1 else 0.0), 1.0

    def _draw_grid(self, plan: SearchPlan, results, running) -> None:
        values, best = heat_map(plan, results)
        lo, hi = self._color_scale(results)
        cmap = pg.colormap.get("viridis")
        rgba = np.zeros(values.shape + (4,), np.uint8)
        rgba[:] = EMPTY_RGBA
        done = np.isfinite(values)
        if done.any():
            rgba[done] = cmap.map(np.clip((values[done] - lo) / (hi - lo), 0.0, 1.0), mode="byte")
        # row-major images (linviz.gui): row k (learning rate k) at y = k .. k+1, column j (reg j) at x = j .. j+1
        show_colors(self.image, rgba)
        n_lr, n_reg = values.shape
        self.image.setRect(QRectF(0, 0, n_reg, n_lr))
        self.image.setVisible(True)
        self.colorbar.setLevels((lo, hi))
        self.scatter.setData([], [])
        self.point_labels.clear()
        item = self.heatmap.getPlotItem()
        item.getAxis("bottom").setTicks([[(c + 0.5, _value(v)) for c, v in enumerate(plan.regs)]])
        item.getAxis("left").setTicks([[(r + 0.5, _value(v)) for r, v in enumerate(plan.learning_rates)]])
        item.setXRange(0, n_reg, padding=0.02)
        item.setYRange(0, n_lr, padding=0.02)
        texts = []
        by_cell = {plan.cell(r.index): r for r in results}
        for row in range(n_lr):
            for col in range(n_reg):
                r = by_cell.get((row, col))
                index = row * n_reg + col
                if r is not None:
                    score = values[row, col]
                    text = "—" if not np.isfinite(score) else f"{score:.3f}"
                    if r.diverged:
                        text += "\n✕"  # "diverged" is wider than a cell at 1024 x 700; the legend says it
                    light = np.isfinite(score) and (score - lo) / (hi - lo) > 0.6
                    texts.append((text, col + 0.5, row + 0.5, (20, 20, 20) if light else (250, 250, 250)))
                elif index in running:
                    texts.append(("running…", col + 0.5, row + 0.5, (60, 60, 60)))
        self._set_cell_labels(texts, min(n_lr, n_reg))
        if best is not None:
            self.best_box.setRect(QRectF(best[1] + 0.04, best[0] + 0.04, 0.92, 0.92))
            self.best_box.setVisible(True)
            self.best_star.setData([best[1] + 0.88], [best[0] + 0.85])
        else:
            self.best_box.setVisible(False)
            self.best_star.setData([], [])
        self._mark_selected()
        self.legend.setText(f"Color: validation accuracy from {lo:.3g} ({self._scale_words()}, dark) to {hi:.3g} "
                            "(yellow), the bar on the right; gray: not run yet; ✕: diverged. Red frame and star: "
                            "the best run. Click a cell to show its run.")

    def _draw_scatter(self, plan: SearchPlan, results, running) -> None:
        self.image.setVisible(False)
        self.best_box.setVisible(False)
        self._set_cell_labels([], 5)
        lo, hi = self._color_scale(results)
        self.colorbar.setLevels((lo, hi))
        cmap = pg.colormap.get("viridis")
        points = plan.points()
        spots, xs, ys, texts = [], [], [], []
        for r in results:
            score = r.val_accuracy if r.val_accuracy is not None else r.train_accuracy
            color = cmap.map(float(np.clip((score - lo) / (hi - lo), 0, 1)), mode="qcolor") if score is not None \
                else QColor(*EMPTY_RGBA)
            pos = (math.log10(r.reg), math.log10(r.learning_rate))
            spots.append({"pos": pos, "brush": pg.mkBrush(color), "symbol": "x" if r.diverged else "o",
                          "data": r.index})
            xs.append(pos[0])
            ys.append(pos[1])
            texts.append("—" if score is None else f"{score:.3f}")
        self.point_labels.set_labels(xs, ys, texts, align="left")
        for index in running:
            lr, reg = points[index]
            spots.append({"pos": (math.log10(reg), math.log10(lr)), "brush": pg.mkBrush(255, 255, 255),
                          "pen": pg.mkPen(60, 60, 60, style=Qt.PenStyle.DotLine), "data": index})
        self.scatter.setData(spots)
        item = self.heatmap.getPlotItem()
        (l0, l1), (r0, r1) = plan.lr_range, plan.reg_range
        item.getAxis("bottom").setTicks([_decade_ticks(r0, r1)])
        item.getAxis("left").setTicks([_decade_ticks(l0, l1)])
        item.setXRange(math.log10(r0), math.log10(r1), padding=0.08)
        item.setYRange(math.log10(l0), math.log10(l1), padding=0.08)
        best = best_result(results)
        if best is not None:
            self.best_star.setData([math.log10(best.reg)], [math.log10(best.learning_rate)])
        else:
            self.best_star.setData([], [])
        self._mark_selected()
        self.legend.setText(f"Each point a run (log axes) with its validation accuracy, colored from {lo:.3g} "
                            f"({self._scale_words()}, dark) to {hi:.3g} (yellow); ✕ diverged; white: running. Star: "
                            "the best. Click a point to show its run.")

    def _scale_words(self) -> str:
        return "the worst found" if self.scale_box.currentData() == "found" else "chance"

    def _set_cell_labels(self, texts: list, cells_per_side: int) -> None:
        item = self.heatmap.getPlotItem()
        while len(self.cell_labels) < len(texts):
            label = pg.TextItem(anchor=(0.5, 0.5))
            label.setZValue(15)
            item.addItem(label, ignoreBounds=True)
            self.cell_labels.append(label)
        font = QFont()
        font.setPointSizeF(9 if cells_per_side <= 6 else 7)
        for label, (text, x, y, color) in zip(self.cell_labels, texts):
            if label.toPlainText() != text or getattr(label, "_color", None) != color:
                label._color = color
                label.setText(text, color=color)
            label.setFont(font)
            label.setPos(x, y)
            label.setVisible(True)
        for label in self.cell_labels[len(texts):]:
            label.setVisible(False)

    def _mark_selected(self) -> None:
        state, index = self.state, self.selected_index
        if state is None or index is None or state.plan.mode != "grid":
            self.selected_box.setVisible(False)
            return
        row, col = state.plan.cell(index)
        self.selected_box.setRect(QRectF(col + 0.08, row + 0.08, 0.84, 0.84))  # around the cell's number
        self.selected_box.setVisible(True)

    # ------------------------------------------------------------------ a run
    def _on_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.state is None:
            return
        point = self.heatmap.getPlotItem().getViewBox().mapSceneToView(event.scenePos())
        index = self.index_at(point.x(), point.y())
        if index is not None:
            self.show_run(index)

    def index_at(self, x: float, y: float) -> Optional[int]:
        """The finished run at plot coordinates (x, y): a grid cell, or the nearest random point."""
        state = self.state
        if state is None:
            return None
        plan = state.plan
        with state.lock:
            results = list(state.results)
        if plan.mode == "grid":
            col, row = int(math.floor(x)), int(math.floor(y))
            if not (0 <= row < len(plan.learning_rates) and 0 <= col < len(plan.regs)):
                return None
            index = row * len(plan.regs) + col
            return index if any(r.index == index for r in results) else None
        if not results:
            return None
        distances = [(math.log10(r.reg) - x) ** 2 + (math.log10(r.learning_rate) - y) ** 2 for r in results]
        k = int(np.argmin(distances))
        return results[k].index if distances[k] < 0.25 ** 2 else None

    def cell_center(self, index: int) -> tuple[float, float]:
        """Plot coordinates of a run's cell (grid) or point (random)."""
        plan = self.state.plan
        if plan.mode == "grid":
            row, col = plan.cell(index)
            return col + 0.5, row + 0.5
        lr, reg = plan.points()[index]
        return math.log10(reg), math.log10(lr)

    def show_run(self, index: int) -> None:
        """Show a finished run's loss and templates; *Make current* makes it the current model."""
        state = self.state
        result = state.result_at(index) if state is not None else None
        if result is None:
            return
        self.selected_index = index
        self._mark_selected()
        final = result.final
        losses = np.asarray(final.losses, dtype=np.float64)
        y = smooth_curve(losses, 0.8) if len(losses) > 2 else losses
        self.run_hint.filled()
        self.run_loss.setData(np.arange(1, len(y) + 1), np.where(y > 0, y, np.nan), connect="finite")
        self.run_plot.getPlotItem().enableAutoRange()
        vals = ", ".join(f"{v:.3f}" for v in final.val_accuracies)
        self.run_caption.setText(f"lr {result.learning_rate:g}, reg {result.reg:g}: validation "
                                 f"{_pct(result.val_accuracy)}, train {_pct(result.train_accuracy)}, "
                                 f"{duration(result.seconds)}; {result.stop_reason}. "
                                 f"Validation per epoch: {vals or '—'}.")
        record = self._record_of(index)
        self.make_current_button.setEnabled(record is not None)
        self.run_templates.caption.setText("Drawing its weight templates…")
        self.submit("templates", run_templates_job(final.best_W, state.pipeline), self._on_templates)

    def _on_templates(self, outcome) -> None:
        if outcome.error:
            self.run_templates.caption.setText(f"The templates cannot be drawn: {outcome.error}")
        if outcome.ok:
            self.run_templates.set_templates(outcome.result, self.workbench.class_names,
                                             caption="Its weight templates (each stretched on its own scale)")

    def _record_of(self, index: int):
        state = self.state
        return next((rec for rec, *_ in state.records if rec is not None and rec.search
                     and rec.search.get("index") == index), None) if state is not None else None

    def make_current(self) -> None:
        """The clicked run becomes the current model (the current one stays in the Runs lab)."""
        state, index = self.state, self.selected_index
        result = state.result_at(index) if state is not None and index is not None else None
        record = self._record_of(index) if result is not None else None
        if record is None:
            self.workbench.post_message("Tuning: this run was not recorded; it cannot become the current model", True)
            return
        if not self.workbench.is_current(state.data_key):
            self.workbench.post_message("Tuning: the data changed since this search; its runs are in the "
                                        "Runs lab", True)
            return
        self._selected_record = record.id
        self.history.remember_weights(record.id, result.final.best_W, self.workbench.features.pipeline)
        restore_run(self.workbench, self.submit, self.job_queue.run, record)

    def _on_current(self, run_id) -> None:
        """The clicked run became the current model."""
        if run_id is not None and run_id == self._selected_record:
            self.run_caption.setText(self.run_caption.text() + " It is now the current model.")
            self.make_current_button.setEnabled(False)

    def _clear_run(self) -> None:
        self.run_loss.setData([], [])
        self.run_hint.show("Click a cell: its run's loss shows here")
        self.run_templates.clear()
        self.run_templates.caption.setText("")
        self.run_caption.setText(CLICK_A_CELL)
        self.make_current_button.setEnabled(False)


def run_templates_job(W, pipeline):
    """A run's weight templates, drawn off the GUI thread."""
    from linviz.workbench.template_pictures import template_rows

    def job(ctx):
        return template_rows(np.asarray(W, dtype=np.float32), pipeline)

    return job


def _pct(value) -> str:
    return "—" if value is None else f"{value:.1%}"


def _value(v: float) -> str:
    return "0" if v == 0 else f"{v:.3g}"


def _decade_ticks(lo: float, hi: float) -> list:
    return [(float(e), f"{10.0 ** e:g}") for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)]
