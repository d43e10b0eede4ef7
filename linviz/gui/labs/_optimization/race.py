"""The race of optimization strategies: random search, random local search, full-batch GD,
SGD, momentum and Adam from the same W0, on one budget of examples processed.

The race runs on the heavy lane (progress and Cancel in the status bar) and publishes a
snapshot after every round; the job queue hands the newest one to the view a few times a
second (``on_publish``), which draws it: loss on the common evaluation
sample and validation accuracy, against examples processed and against each strategy's own
compute time. The "lecture setting" preset repeats the lecture's experiment (raw 0-255
pixels with a bias, SVM loss, 1,000 tries) and lists the lecture's figures beside the
result. The arithmetic is :mod:`linviz.explore.race`.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QLabel, QPushButton, QSpinBox, QSplitter, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from linviz.gui.labs.lab import Lab
from linviz.gui.views.control_flow import control_flow
from linviz.gui.views.empty_plot import EmptyHint
from linviz.gui.views.plot_style import CountAxis, fitting_title, plain_axes
from linviz.gui.views.tables import reading_table, table_height
from linviz.gui.widgets.choices import choice_box
from linviz.gui.widgets.wrapped_label import WrappedLabel
from linviz.gui.widgets.scrolling import scrolling
from linviz.models.losses import LOSSES
from linviz.text import number
from linviz.workbench.spec_names import short_spec

def step_size(settings, strategy: str) -> str:
    """A strategy's step, as the table shows it: the searches' scales, the others' learning rate."""
    if strategy == "random_search":
        return f"W ~ {number(settings.search_scale)}·N"
    if strategy == "random_local_search":
        return f"{number(settings.search_step)}·N"
    return f"lr {number(settings.learning_rate(strategy))}"


STRATEGY_COLORS = {"random_search": (70, 70, 70), "random_local_search": (140, 86, 75), "gd": (31, 119, 180),
                   "sgd": (44, 160, 44), "momentum": (255, 127, 14), "adam": (214, 39, 40)}
LECTURE_IMAGES = 10_000  # training images of the lecture setting (raw pixels: 123 MB as float32)
LECTURE_TRIES = 1000
COLUMNS = [("strategy", "Colored as its curves"), ("step size", "The learning rate, or the search's step"),
           ("steps", "Steps taken (search tries, gradient steps)"), ("examples", "Examples processed (the budget)"),
           ("loss", "Loss on the common evaluation sample"), ("val. acc.", "Validation accuracy"),
           ("seconds", "The strategy's own compute time"), ("lecture", "The lecture's figure (test accuracy)")]
AGAINST = {"examples": "examples", "seconds": "seconds", "both": "both"}
LECTURE_KEY = "★ the lecture's figure, in its strategy's color (test accuracy on CIFAR-10)"
LECTURE_KEY_ELSEWHERE = "the lecture's figures (★) are CIFAR-10's: load it to race beside them"


def race_job(features, prepared, settings, *, lecture: bool):
    """The race on the heavy lane: the lecture's raw pixels are made here, off the GUI thread."""
    from linviz.data import subsample_per_class
    from linviz.explore.race import lecture_features, race

    def job(ctx):
        if lecture:
            ctx.message("Race: preparing raw 0-255 pixels")
            train = prepared.train
            if len(train.labels) > LECTURE_IMAGES:
                train = subsample_per_class(train, LECTURE_IMAGES // len(prepared.class_names), seed=settings.seed)
            X, y = lecture_features(train.images), train.labels
            X_val = lecture_features(prepared.val.images) if prepared.has_validation else None
        else:
            X, y = features.X_train, prepared.train.labels
            X_val = features.X_val if prepared.has_validation else None
        y_val = prepared.val.labels if X_val is not None else None
        ctx.message("Race")
        last = None
        for k, snap in enumerate(race(X, y, X_val, y_val, settings, n_classes=len(prepared.class_names),
                                      cancel=ctx.cancel)):
            ctx.publish(snap)
            ctx.progress(k, settings.rounds)
            last = snap
        return last

    return job


class RaceView(Lab):
    title = "Strategy race"
    order = 1
    object_name = "raceView"

    def __init__(self, workbench, job_queue, parent=None):
        super().__init__(workbench, job_queue, parent)
        from linviz.explore.race import BUDGET_RULE, STRATEGIES

        self.snapshot = None  # the newest RaceSnapshot drawn
        self.running = False
        self.caption = WrappedLabel("")
        self.caption.setObjectName("viewCaption")
        self.preset_box = QComboBox()
        self.preset_box.addItem("current features", "features")
        self.preset_box.addItem("lecture setting (raw 0–255 pixels, SVM)", "lecture")
        self.preset_box.setToolTip("The lecture setting repeats CS231n's experiment: raw 0–255 pixels with a bias, "
                                   "SVM loss, no regularization, 1,000 tries of the searches")
        self.loss_box = choice_box(LOSSES, short=True)
        self.budget_spin = QSpinBox(minimum=1, maximum=1_000_000, singleStep=100, value=500, suffix=" k")
        self.budget_spin.setToolTip("Examples processed per strategy, in thousands. " + BUDGET_RULE)
        self.sample_spin = QSpinBox(minimum=10, maximum=100_000, singleStep=500, value=1000)
        self.sample_spin.setToolTip("Training images every search try is judged on (the lecture: all of them)")
        self.seed_spin = QSpinBox(minimum=0, maximum=1_000_000, value=0)
        self.seed_spin.setToolTip("The race is reproducible for a seed (W0, samples, batches, proposals)")
        self.start_button = QPushButton("Start the race")
        self.start_button.setObjectName("raceStartButton")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.strategy_boxes = {}
        for name, label in STRATEGIES.items():
            box = QCheckBox(label)
            box.setChecked(True)
            box.setStyleSheet(f"QCheckBox {{ color: rgb{STRATEGY_COLORS[name]}; font-weight: bold; }}")
            self.strategy_boxes[name] = box
        self.against_box = QComboBox()
        for key, text in AGAINST.items():
            self.against_box.addItem(text, key)
        self.against_box.setToolTip("Examples processed: what each strategy was allowed (the budget). Compute "
                                    "time: what it cost, in its own seconds")
        # the stars' legend, shown with the lecture setting (the boxes are the curves' legend); set
        # with the preset, not when a race draws: a key that came with the stars reflowed the row
        # and resized the plots below at a race's end
        self.lecture_key = QLabel(LECTURE_KEY)
        self.lecture_key.setObjectName("raceLectureKey")
        self.lecture_key.setVisible(False)
        strategies = control_flow(*self.strategy_boxes.values(), self.lecture_key)
        controls = control_flow(("Preset", self.preset_box), ("Loss", self.loss_box), ("Budget", self.budget_spin),
                                ("Search sample", self.sample_spin), ("Seed", self.seed_spin), self.start_button,
                                self.stop_button, ("Plot against", self.against_box))
        self.rule = f"{BUDGET_RULE[:1].upper()}{BUDGET_RULE[1:]}"  # the notes' first sentence

        # The loss and the accuracy side by side, against examples processed, compute time or
        # both (a row each). No legend in the plots (in a small plot it covers curves and
        # lists what fits): the strategy boxes above, each in its curve's color, are the legend.
        self.plots = {}
        self.hints = {}
        self.curves = {}
        self.plot_rows = {}
        plots_box = QWidget()
        plots_box.setObjectName("racePlots")
        plots_box.setMinimumHeight(160)
        plots_layout = QVBoxLayout(plots_box)
        plots_layout.setContentsMargins(0, 0, 0, 0)
        plots_layout.setSpacing(0)
        for xkey, xlabel in (("examples", "examples processed"), ("seconds", "compute time (s)")):
            row = pg.GraphicsLayoutWidget()
            row.setObjectName(f"racePlots_{xkey}")
            for c, (key, ylabels) in enumerate((("loss", ("eval. loss", "loss")),
                                                ("accuracy", ("val. accuracy", "val. acc.", "acc.")))):
                # examples: 500,000 and 1,000,000, not 500000 and 1e+06
                axes = {"bottom": CountAxis("bottom")} if xkey == "examples" else None
                plot = row.addPlot(row=0, col=c, axisItems=axes)
                plot.hideButtons()
                plain_axes(plot)
                fitting_title(plot, "left", *ylabels)
                plot.setLabel("bottom", xlabel)
                plot.showGrid(x=True, y=True, alpha=0.2)
                self.plots[(key, xkey)] = plot
                self.hints[(key, xkey)] = EmptyHint(plot)
                for name in STRATEGIES:
                    pen = pg.mkPen(STRATEGY_COLORS[name], width=2)
                    self.curves[(key, xkey, name)] = plot.plot(pen=pen)
            self.plot_rows[xkey] = row
            plots_layout.addWidget(row, 1)
        self.lecture_marks = pg.ScatterPlotItem(size=12, symbol="star", pen=pg.mkPen((20, 20, 20)))
        self.plots[("accuracy", "examples")].addItem(self.lecture_marks)
        self.table = reading_table("raceTable", COLUMNS)
        # one row per strategy, all in sight (the plots take what is left)
        self.table.setMinimumHeight(table_height(self.table, len(STRATEGIES)))
        self.notes = WrappedLabel("")
        self.notes.setObjectName("viewCaption")
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.table)
        lower_layout.addWidget(self.notes)
        lower_layout.addStretch(1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.setObjectName("raceSplitter")
        split.setChildrenCollapsible(False)
        split.addWidget(plots_box)
        lower_scroll = scrolling(lower, horizontal=False)  # the notes below the table scroll when short
        lower_scroll.setMinimumHeight(self.table.minimumHeight())  # ... the table stays in sight
        split.addWidget(lower_scroll)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 0)
        split.setSizes([600, 100])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(controls)
        layout.addWidget(strategies)
        layout.addWidget(split, 1)

        self.against_box.currentIndexChanged.connect(self._show_rows)
        self._show_rows()
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.preset_box.activated.connect(self._on_preset)
        self.sample_spin.valueChanged.connect(self._sync_budget)
        # a changed setting: the table shows the race it would run (a finished one's curves go)
        for widget in (self.budget_spin, self.sample_spin, self.seed_spin):
            widget.valueChanged.connect(self._on_setting)
        self.loss_box.activated.connect(self._on_setting)
        for box in self.strategy_boxes.values():
            box.toggled.connect(self._on_setting)
        workbench.data_changed.connect(self.request_refresh)
        workbench.features_changed.connect(self.request_refresh)
        workbench.model_changed.connect(self._on_model)

    # ------------------------------------------------------------------ settings
    def _on_model(self, model) -> None:
        if model is not None and self.preset_box.currentData() == "features":
            self.loss_box.setCurrentIndex(self.loss_box.findData(model.loss))

    def _on_preset(self, *_) -> None:
        from linviz.explore.race import LECTURE_LOSS

        lecture = self.preset_box.currentData() == "lecture"
        self.loss_box.setEnabled(not lecture)
        self.budget_spin.setEnabled(not lecture)  # the lecture's budget: 1,000 tries x the judged images
        if lecture:
            self._budget_before = self.budget_spin.value()
            self.loss_box.setCurrentIndex(self.loss_box.findData(LECTURE_LOSS))
            self.sample_spin.setValue(1000)
        elif getattr(self, "_budget_before", None) is not None:
            self.budget_spin.setValue(self._budget_before)
            self._budget_before = None
        self._sync_budget()
        self.refresh()

    def _on_setting(self, *_) -> None:
        if not self.running:
            self.request_refresh()

    def _sync_budget(self, *_) -> None:
        if self.preset_box.currentData() == "lecture":
            self.budget_spin.setValue(max(1, LECTURE_TRIES * int(self.sample_spin.value()) // 1000))

    def settings(self):
        """The RaceSettings the controls describe (None when there is nothing to race on)."""
        from linviz.explore.race import RaceSettings, lecture_settings
        from linviz.training import recommended_settings

        chosen = tuple(name for name, box in self.strategy_boxes.items() if box.isChecked())
        seed = int(self.seed_spin.value())
        if self.preset_box.currentData() == "lecture":
            base = lecture_settings(tries=LECTURE_TRIES, search_sample=int(self.sample_spin.value()), seed=seed)
            return RaceSettings(**{**base.__dict__, "strategies": chosen or base.strategies})
        features = self.workbench.features
        loss = self.loss_box.currentData()
        spec = features.spec_text if features is not None else "hog+hue"
        rates = []
        for name in ("gd", "sgd", "momentum", "adam"):
            rates.append((name, float(recommended_settings(spec, loss, name)["learning_rate"])))
        sgd = recommended_settings(spec, loss, "sgd")
        return RaceSettings(strategies=chosen or RaceSettings().strategies, budget=int(self.budget_spin.value()) * 1000,
                            loss=loss, reg=float(sgd["reg"]), search_sample=int(self.sample_spin.value()),
                            batch_size=int(sgd["batch_size"]), learning_rates=tuple(rates), search_step=0.01,
                            search_scale=0.01, seed=seed)

    # ------------------------------------------------------------------ refresh
    def _on_cifar10(self) -> bool:
        from linviz.data import CIFAR10_CLASSES

        data = self.workbench.data
        return data is not None and list(data.class_names) == CIFAR10_CLASSES

    def refresh(self) -> None:
        lecture = self.preset_box.currentData() == "lecture"
        self.lecture_key.setText(LECTURE_KEY if self._on_cifar10() else LECTURE_KEY_ELSEWHERE)
        self.lecture_key.setVisible(lecture)
        if self.workbench.data is None:
            self.caption.setText("Load a dataset to race the strategies.")
            self.start_button.setEnabled(False)
            for hint in self.hints.values():
                hint.show("Load a dataset to race the strategies")
            return
        if not lecture and self.workbench.features is None:
            self.caption.setText("Extract features (or train once) to race on them, or choose the lecture setting.")
            self.start_button.setEnabled(not self.running)
            for hint in self.hints.values():
                hint.show("Extract features (or train once), or choose the lecture setting; then start the race")
            return
        self.start_button.setEnabled(not self.running)
        s = self.settings()
        if lecture:
            n = min(LECTURE_IMAGES, len(self.workbench.data.train.labels))
            self.caption.setText(f"Lecture setting: raw 0–255 pixels with a bias, SVM loss (Δ 1, no regularization), "
                                 f"{n:,} training images. {LECTURE_TRIES:,} tries of each search, each judged on "
                                 f"{s.search_sample:,} images: a budget of {s.budget:,} examples for every strategy, "
                                 f"all from the same W0 ~ {s.init_scale:g}·N(0, 1). Step sizes in the table.")
        else:
            self.caption.setText(f"{LOSSES[s.loss].short_label} loss on {short_spec(self.workbench.features.spec_text)}"
                                 f", regularization {s.reg:g}: every strategy starts from the same W0 ~ "
                                 f"{s.init_scale:g}·N(0, 1) with a budget of {s.budget:,} examples; SGD batch "
                                 f"{s.batch_size}. Step sizes (recommended, constant) in the table.")
        if not self.running and (self.snapshot is None or self.snapshot.settings != s):
            self._show_plan(s)  # what will race; a finished race of other settings is gone

    def _show_plan(self, s) -> None:
        """The strategies that will race, with their step sizes; no curves."""
        from linviz.explore.race import STRATEGIES

        self.snapshot = None
        for curve in self.curves.values():
            curve.setData([], [])
        for hint in self.hints.values():
            hint.show("Start the race: the curves fill in as it runs")
        self.lecture_marks.setData([], [])
        self.table.setColumnHidden(len(COLUMNS) - 1, True)
        self.table.setRowCount(len(s.strategies))
        for r, name in enumerate(s.strategies):
            self._set_row(r, name, [STRATEGIES[name], step_size(s, name)] + ["—"] * (len(COLUMNS) - 2))
        self.notes.setText(f"{self.rule} Start the race: the curves fill in as it runs.")

    def _set_row(self, r: int, name: str, values: list) -> None:
        for k, text in enumerate(values):
            item = QTableWidgetItem(text)
            if k == 0:
                item.setForeground(pg.mkColor(*STRATEGY_COLORS[name]))
            else:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(r, k, item)

    def _show_rows(self, *_) -> None:
        """The plot rows the "Plot against" box asks for."""
        against = self.against_box.currentData()
        for xkey, row in self.plot_rows.items():
            row.setVisible(against in (xkey, "both"))

    # ------------------------------------------------------------------ the race
    def start(self) -> None:
        if self.running or self.workbench.data is None:
            return
        lecture = self.preset_box.currentData() == "lecture"
        if not lecture and self.workbench.features is None:
            self.workbench.post_message("Race: extract features first (or choose the lecture setting)", error=True)
            return
        try:
            settings = self.settings()
        except ValueError as exc:
            self.workbench.post_message(f"Race: {exc}", error=True)
            return
        job = race_job(self.workbench.features, self.workbench.data, settings, lecture=lecture)
        self._lecture = lecture

        def started():
            self.running = True
            self.start_button.setEnabled(False)
            self.stop_button.setEnabled(True)

        self.job_queue.run("race", job, "Race of strategies", on_done=self._finished, on_start=started,
                      on_publish=self._on_snapshot)

    def stop(self) -> None:
        if self.running:
            self.job_queue.cancel()

    def _on_snapshot(self, snap) -> None:
        if self.running and hasattr(snap, "curves"):
            self.draw(snap)

    def _finished(self, outcome) -> None:
        self.running = False
        if outcome.ok and outcome.result is not None:
            self.draw(outcome.result)
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        if outcome.cancelled:
            self.workbench.post_message("Race cancelled: the curves show how far it got")
        elif outcome.error:
            self.workbench.post_message(f"Race: {outcome.error}", error=True)

    # ------------------------------------------------------------------ drawing
    def draw(self, snap) -> None:
        from linviz.explore.race import LECTURE_FIGURES, LECTURE_NOTE

        self.snapshot = snap
        for hint in self.hints.values():
            hint.filled()
        shown = {c.strategy for c in snap.curves}
        for (key, xkey, name), curve in self.curves.items():
            c = snap.curve(name)
            if c is None:
                curve.setData([], [])
                continue
            x = c.examples if xkey == "examples" else c.seconds
            yv = c.loss if key == "loss" else c.val_accuracy
            ok = np.isfinite(yv)
            curve.setData(x[ok], yv[ok])
        lecture = getattr(self, "_lecture", False)
        figures = lecture and self._on_cifar10()  # the lecture's numbers are CIFAR-10's
        if figures:
            xs = [snap.budget for name in LECTURE_FIGURES if name in shown]
            ys = [LECTURE_FIGURES[name] for name in LECTURE_FIGURES if name in shown]
            brushes = [pg.mkBrush(*STRATEGY_COLORS[name]) for name in LECTURE_FIGURES if name in shown]
            self.lecture_marks.setData(xs, ys, brush=brushes)
        else:
            self.lecture_marks.setData([], [])
        self.table.setColumnHidden(len(COLUMNS) - 1, not figures)
        self.table.setRowCount(len(snap.curves))
        for r, c in enumerate(snap.curves):
            acc = c.val_accuracy[-1]
            figure = LECTURE_FIGURES.get(c.strategy) if figures else None
            self._set_row(r, c.strategy, [c.label + (f" ({c.note})" if c.note else ""),
                                          step_size(snap.settings, c.strategy),
                                          f"{c.steps:,}", f"{int(c.examples[-1]):,}", f"{c.loss[-1]:.4f}",
                                          "—" if not np.isfinite(acc) else f"{acc:.1%}", f"{c.seconds[-1]:.2f}",
                                          "" if figure is None else f"{figure:.1%}"])
        notes = [self.rule, f"Loss: {snap.eval_note}; {snap.search_note}. Compute time: each strategy's own "
                 "seconds (the evaluations not counted)."]
        if figures:
            notes.append(LECTURE_NOTE + " Here: validation accuracy (★ on the accuracy plot: the lecture's).")
        elif lecture:
            notes.append(LECTURE_NOTE + " Its figures are CIFAR-10's and not drawn beside a race on other images.")
        if not snap.done:
            notes.append("Running…")
        self.notes.setText(" ".join(notes))
