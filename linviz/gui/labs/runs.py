"""Runs: every training run of the app (and of ``train --record`` / ``tune --record``), kept
across sessions, to compare, restore, re-run, rename, delete and export.

The table (``runsTable``) lists one run per row with its key settings and its train /
validation accuracy, sortable by any column. Select runs to overlay their loss and accuracy
curves, each in its own color; the current run (the one whose weights are the model, or the
one training now) is drawn thick and dark whether selected or not. Select two to four to see their
weight templates side by side on ONE color scale per feature block, so that regularization's
effect on the templates' magnitude shows. The records live in :class:`~linviz.workbench.run_history.
RunHistory` (``bench.runs``); the disk work runs on the quick lane.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QInputDialog, QLabel, QMenu,
                               QPushButton, QSplitter, QTableWidgetItem, QToolButton, QVBoxLayout, QWidget)

from linviz.explore.curves import smooth_curve
from linviz.gui.labs.lab import Lab
from linviz.workbench.run_history import restore_run
from linviz.workbench.spec_names import short_spec
from linviz.gui.views.empty_plot import EmptyHint
from linviz.gui.views.loss_view import LogTicksAxis
from linviz.gui.views.templates_view import TemplatesView
from linviz.gui.views.plot_style import plain_axes
from linviz.gui.views.tables import ColumnFitter, column_width, reading_table, table_height
from linviz.text import counted, duration

# distinct colors for the selected runs (tab10 without its gray); the current run is dark
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (188, 189, 34), (23, 190, 207)]
CURRENT_COLOR = (20, 20, 20)
MAX_COMPARED = 4  # runs whose templates are drawn side by side
OVERLAY_SMOOTHING = 0.9  # overlaid curves are compared, not read point by point
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ID_ROLE = Qt.ItemDataRole.UserRole + 2
COLUMNS = [("Name", "The run's name (Rename); its color in the plots while selected; ● the current model"),
           ("Val", "Validation accuracy of the kept weights"), ("Train", "Training accuracy of the kept weights"),
           ("lr", "Learning rate"), ("reg", "Regularization strength (and type)"),
           ("Features", "The feature spec it trained on"), ("Loss", "softmax or SVM"), ("Optimizer", "The optimizer"),
           ("Batch", "Minibatch size"), ("Epochs", "Epochs run / planned"),
           ("Time", "Training seconds (pauses excluded)"), ("When", "When the run ended"),
           ("From", "app, cli (train --record) or search"), ("Stopped", "Why it stopped")]
NUMERIC_COLUMNS = range(1, 5)
WHEN_COLUMN = 11
# The columns a narrow table keeps, most important first (the rest are in the name's tooltip).
COLUMN_PRIORITY = [0, 1, 2, 4, 3, 5, 6, 7, 9, 8, 10, 11, 12, 13]
# Pixels the name column keeps at most when the others need the room. The default names share
# their start ("softmax sgd lr 0.1 reg ..."): cut to a few words, three runs read alike, so the
# name keeps its room and the columns its tooltip repeats give way first.
NAME_ROOM = 240

TABLE_MAX_PX = 220  # the run table's height at most while it fits its runs (the rest: curves, templates)
TABLE_MIN_ROWS = 3


class _SortItem(QTableWidgetItem):
    """Sorts by a key (numbers as numbers; a missing value first), shows text."""

    def __lt__(self, other) -> bool:
        a, b = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if a is None or b is None:
            return a is None and b is not None
        try:
            return a < b
        except TypeError:
            return str(a) < str(b)


def _item(text: str, key=None, tip: Optional[str] = None) -> _SortItem:
    item = _SortItem(text)
    item.setData(SORT_ROLE, key if key is not None else text)
    if tip:
        item.setToolTip(tip)
    return item


def _pct(value) -> str:
    return "—" if value is None else f"{value:.1%}"


def loss_text(name: str) -> str:
    """A loss as the training panel names it in a narrow box ("softmax", "SVM")."""
    from linviz.models.losses import LOSSES

    return LOSSES[name].short_label if name in LOSSES else name


def optimizer_text(name: str) -> str:
    """An optimizer as the training panel names it ("SGD", "Random local search")."""
    from linviz.training.optimizers import OPTIMIZERS

    return OPTIMIZERS[name].label if name in OPTIMIZERS else name


def run_details(record, current: bool) -> str:
    """Everything the table's columns say about a run, for the name's tooltip (a narrow table
    hides some columns)."""
    s = record.settings
    lines = [record.title, record.id, f"features: {record.features}",
             f"validation {_pct(record.val_accuracy)}, train {_pct(record.train_accuracy)}",
             f"learning rate {record.learning_rate:.3g}, regularization {record.reg:g} ({s.get('reg_type', 'l2')})",
             f"{loss_text(record.loss)}, {optimizer_text(record.optimizer)}, batch {s.get('batch_size', '?')}, "
             f"epochs {record.epochs_done}/{s.get('epochs', '?')}",
             f"{duration(record.seconds)}, ended {record.created.replace('T', ' ')[:16]}, from {record.origin}",
             f"stopped: {record.stop_reason}"]
    if current:
        lines.append("(the current model)")
    return "\n".join(lines)


class RunsLab(Lab):
    title = "Runs"
    order = 20
    object_name = "runsLab"

    def __init__(self, workbench, job_queue, parent=None):
        super().__init__(workbench, job_queue, parent)
        self.history = workbench.runs
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setObjectName("viewCaption")

        self.restore_button = QPushButton("Make current")
        self.restore_button.setObjectName("restoreRunButton")
        self.restore_button.setToolTip("Restore the selected run's weights as the current model (with its curves)")
        self.rerun_button = QPushButton("Re-run")
        self.rerun_button.setObjectName("rerunButton")
        self.rerun_button.setToolTip("Train again with the selected run's features and every one of its settings")
        self.rename_button = QPushButton("Rename…")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setObjectName("deleteRunsButton")
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setObjectName("exportRunsButton")
        self.export_button.setToolTip("Export the selected runs (all when none is selected): CSV, or JSON with "
                                      "their curves")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        menu.addAction("CSV…", lambda: self.export_dialog("csv"))
        menu.addAction("JSON (with curves)…", lambda: self.export_dialog("json"))
        self.export_button.setMenu(menu)
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        for button in (self.restore_button, self.rerun_button, self.rename_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)

        self.table = reading_table("runsTable", COLUMNS, row_height=22, stretch_last=False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # no sideways scrolling: hide what does not fit (the name stretches); a name longer than
        # its room loses its middle, where the default names repeat one another
        self.columns = ColumnFitter(self.table, COLUMN_PRIORITY,
                                    width_of=lambda c: column_width(self.table, c) if c else
                                    min(column_width(self.table, 0), NAME_ROOM))
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setSortingEnabled(True)
        self.table.sortItems(WHEN_COLUMN, Qt.SortOrder.DescendingOrder)

        self.loss_plot = pg.PlotWidget(axisItems={"left": LogTicksAxis("left")})
        self.loss_plot.setObjectName("runsLossPlot")
        item = self.loss_plot.getPlotItem()
        plain_axes(item)
        item.setTitle("Loss (smoothed)")
        item.setLabel("bottom", "iteration")
        item.setLogMode(y=True)
        self.accuracy_plot = pg.PlotWidget()
        self.accuracy_plot.setObjectName("runsAccuracyPlot")
        item = self.accuracy_plot.getPlotItem()
        plain_axes(item)
        item.setTitle("Accuracy: val ——, train - -")
        item.setLabel("bottom", "epoch")
        item.showGrid(x=True, y=True, alpha=0.2)
        self.hints = [EmptyHint(plot.getPlotItem()) for plot in (self.loss_plot, self.accuracy_plot)]
        self.curve_items: dict[str, tuple] = {}  # run id (or "live") -> (loss item, val item, train item)
        self._drawn: dict[str, tuple] = {}  # run id -> what its items show (curves, color, width)

        self.templates = TemplatesView()  # the Training tab's view, without a workbench: it draws what it is given
        self.templates.setObjectName("runsTemplates")
        self.templates_caption = self.templates.caption
        # The table across the top; below it the curves beside the templates, which need
        # the width (ten classes side by side, a row per run and feature block).
        plots = QSplitter(Qt.Orientation.Vertical)
        plots.setChildrenCollapsible(False)
        plots.setMinimumWidth(220)
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.accuracy_plot)
        table_box = QWidget()
        table_layout = QVBoxLayout(table_box)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addLayout(buttons)
        table_layout.addWidget(self.table, 1)
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.setChildrenCollapsible(False)
        lower.addWidget(plots)
        lower.addWidget(self.templates)
        lower.setStretchFactor(0, 2)
        lower.setStretchFactor(1, 3)
        lower.setSizes([400, 600])
        split = QSplitter(Qt.Orientation.Vertical)
        split.setObjectName("runsSplitter")
        split.setChildrenCollapsible(False)
        split.addWidget(table_box)
        split.addWidget(lower)
        split.setStretchFactor(0, 0)  # a taller window gives its height to the curves and templates
        split.setStretchFactor(1, 1)
        split.setSizes([TABLE_MAX_PX, 440])
        self.splitter = split
        self._table_fitted = True  # until the user moves the splitter: the table as tall as its runs
        split.splitterMoved.connect(self._on_splitter_moved)
        self._table_box = table_box
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(split, 1)

        self._listed: tuple = ()
        self._colors: dict[str, int] = {}
        self._templates_for: Optional[tuple] = None
        self.history.changed.connect(self.request_refresh)
        self.history.current_changed.connect(self.request_refresh)
        workbench.model_changed.connect(self.request_refresh)
        workbench.frame_changed.connect(self._on_frame)
        workbench.data_changed.connect(self.request_refresh)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.restore_button.clicked.connect(self.restore_selected)
        self.rerun_button.clicked.connect(self.rerun_selected)
        self.rename_button.clicked.connect(self.rename_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self._update_buttons()

    # ------------------------------------------------------------------ state
    def _on_frame(self, frame) -> None:
        if self.workbench.training:  # the live run's curve, at the lab's pace
            self.request_refresh()

    def _on_selection(self) -> None:
        self._update_buttons()
        self.request_refresh()

    def selected_records(self) -> list:
        ids = []
        for index in self.table.selectionModel().selectedRows(0):
            run_id = self.table.item(index.row(), 0).data(ID_ROLE)
            if run_id not in ids:
                ids.append(run_id)
        return [r for r in (self.history.get(i) for i in ids) if r is not None]

    def select_runs(self, ids: list[str]) -> None:
        """Select the rows of these runs (tests, and a run just recorded)."""
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).data(ID_ROLE) in ids:
                self.table.selectRow(row)
        self.table.setSelectionMode(mode)

    def _update_buttons(self) -> None:
        n = len(self.table.selectionModel().selectedRows(0)) if self.table.selectionModel() else 0
        self.restore_button.setEnabled(n == 1)
        self.rerun_button.setEnabled(n == 1)
        self.rename_button.setEnabled(n == 1)
        self.delete_button.setEnabled(n >= 1)

    # ------------------------------------------------------------------ refresh
    def refresh(self) -> None:
        history = self.history
        if not history.loaded:
            if not history.loading:
                history.loading = True
                self.caption.setText("Reading the run history…")
                self.submit("load", history.load_job(), history.on_loaded)
            return
        self._fill_table()
        self._show_caption()
        selected = self.selected_records()
        missing = [r for r in selected if r.curves is None]
        current = self._current_record()
        if current is not None and current.curves is None and current not in missing:
            missing.append(current)
        if missing:
            self.submit("curves", history.curves_job(missing), self._on_curves)
        self._draw_curves(selected, current)
        self._request_templates(selected)

    def _current_record(self):
        return self.history.get(self.history.current_for(self.workbench.model))

    def _show_caption(self) -> None:
        n = len(self.history.records)
        where = self.history.store.describe()
        text = (f"{n:,} recorded run{'s' if n != 1 else ''} in {where}. Select runs to overlay their curves "
                "(the current run is drawn thick and dark); two to four to compare their templates on one color scale.")
        if self.columns.hidden:
            text += " Hover a name for all of a run's settings (a wider window shows more columns)."
        if self.history.messages:
            text += f"  Last note: {self.history.messages[-1]}"
        self.caption.setText(text)

    def _fill_table(self) -> None:
        records = self.history.records
        listed = tuple((r.id, r.name) for r in records)
        current = self.history.current_for(self.workbench.model)
        if listed == self._listed and current == getattr(self, "_listed_current", None):
            return
        self._listed, self._listed_current = listed, current
        keep = {r.id for r in self.selected_records()}
        table = self.table
        table.blockSignals(True)
        table.setSortingEnabled(False)
        table.setRowCount(len(records))
        for row, r in enumerate(records):
            s = r.settings
            name = ("● " if r.id == current else "") + r.title  # unnamed: what it is
            reg_text = f"{r.reg:g}" + ("" if s.get("reg_type", "l2") == "l2" else f" {s.get('reg_type')}")
            cells = [
                _item(name, r.title.lower(), run_details(r, r.id == current)),
                _item(_pct(r.val_accuracy), r.val_accuracy), _item(_pct(r.train_accuracy), r.train_accuracy),
                _item(f"{r.learning_rate:.3g}", r.learning_rate), _item(reg_text, r.reg),
                _item(short_spec(r.features), r.features, r.features),
                _item(loss_text(r.loss), r.loss), _item(optimizer_text(r.optimizer), r.optimizer),
                _item(str(s.get("batch_size", "")), s.get("batch_size")),
                _item(f"{r.epochs_done}/{s.get('epochs', '?')}", r.epochs_done),
                _item(duration(r.seconds), r.seconds),
                _item(r.created.replace("T", " ")[5:16], r.id, r.created),
                _item(r.origin),
                _item(r.stop_reason.split(";")[0], r.stop_reason, r.stop_reason),
            ]
            cells[0].setData(ID_ROLE, r.id)
            if r.diverged:
                cells[-1].setForeground(QColor(190, 30, 30))
            for k, cell in enumerate(cells):
                if k in NUMERIC_COLUMNS or k in (8, 9, 10):
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                table.setItem(row, k, cell)
        table.setSortingEnabled(True)
        self.columns.fit()
        table.blockSignals(False)
        self.select_runs(list(keep))
        self._update_buttons()
        self._fit_table_height()

    def _fit_table_height(self) -> None:
        """The table as tall as its runs (at least a few rows, at most TABLE_MAX_PX): the
        height a few runs do not use goes to the curves and the compared templates, which a
        small screen is short of."""
        if not self._table_fitted:
            return
        table = self.table
        buttons = self._table_box.height() - table.height()  # the row of buttons above the table
        wanted = buttons + table_height(table, max(table.rowCount(), TABLE_MIN_ROWS))
        total = sum(self.splitter.sizes())
        top = min(wanted, TABLE_MAX_PX)
        if total > top:
            self.splitter.setSizes([top, total - top])

    def _on_splitter_moved(self, *_) -> None:
        self._table_fitted = False  # the user's choice stays

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_table_height()

    def _on_curves(self, outcome) -> None:
        if outcome.error:
            self.workbench.post_message(f"Runs: {outcome.error}", error=True)
        if not outcome.ok:
            return
        done, problems = outcome.result
        for record in done:
            self.history.replace(record)
        for _, message in problems:
            self.workbench.post_message(message, error=True)
        if done:
            self._draw_curves(self.selected_records(), self._current_record())

    # ------------------------------------------------------------------ curves
    def _color(self, run_id: str):
        if run_id not in self._colors:
            used = set(self._colors.values())
            free = [k for k in range(len(PALETTE)) if k not in used]
            self._colors[run_id] = free[0] if free else len(self._colors) % len(PALETTE)
        return PALETTE[self._colors[run_id]]

    def _draw_curves(self, selected: list, current) -> None:
        """Selected runs in their colors; the current run (or the run training now) thick and dark."""
        wanted: dict[str, tuple] = {}
        selected_ids = {r.id for r in selected}
        for key in list(self._colors):
            if key not in selected_ids:
                del self._colors[key]  # a color is free again once its run is deselected
        for r in selected:
            if r.curves is not None:
                wanted[r.id] = (r.curves, self._color(r.id), r.id == (current.id if current else None))
        if current is not None and current.curves is not None and current.id not in wanted:
            wanted[current.id] = (current.curves, CURRENT_COLOR, True)
        frame = self.workbench.frame
        live = frame is not None and self.workbench.training and frame.snapshot is not None
        for key in [k for k in self.curve_items if k not in wanted and not (k == "live" and live)]:
            loss, val, train = self.curve_items.pop(key)
            self._drawn.pop(key, None)
            self.loss_plot.getPlotItem().removeItem(loss)
            self.accuracy_plot.getPlotItem().removeItem(val)
            self.accuracy_plot.getPlotItem().removeItem(train)
        for key, (curves, color, is_current) in wanted.items():
            pen_color = CURRENT_COLOR if is_current else color
            width = 3.5 if is_current else 2
            if self._drawn.get(key) == (id(curves), pen_color, width):
                continue  # a recorded run's curves never change: drawn once (the live one moves)
            self._drawn[key] = (id(curves), pen_color, width)
            items = self._items_for(key, pen_color, width)
            losses = np.asarray(curves.losses, dtype=np.float64)
            y = smooth_curve(losses, OVERLAY_SMOOTHING) if len(losses) > 2 else losses
            items[0].setData(curves.loss_iterations(), np.where(y > 0, y, np.nan), connect="finite")
            self._set_accuracies(items, curves.train_accuracies, curves.val_accuracies,
                                 curves.accuracy_epochs(len(curves.val_accuracies)),
                                 curves.accuracy_epochs(len(curves.train_accuracies)))
        if live:
            snap = frame.snapshot
            items = self._items_for("live", CURRENT_COLOR, 3.5)
            losses = np.asarray(snap.losses, dtype=np.float64)
            y = smooth_curve(losses, OVERLAY_SMOOTHING) if len(losses) > 2 else losses
            items[0].setData(np.arange(1, len(y) + 1), np.where(y > 0, y, np.nan), connect="finite")
            val, train = np.asarray(snap.val_accuracies), np.asarray(snap.train_accuracies)
            self._set_accuracies(items, train, val, np.arange(1, len(val) + 1), np.arange(1, len(train) + 1))
        for hint in self.hints:
            if self.curve_items:
                hint.filled()
            else:
                hint.show("Select runs in the table to overlay their curves here" if self.history.records else
                          "Train a model: every run is recorded here, to compare")
        for plot in (self.loss_plot, self.accuracy_plot):
            plot.getPlotItem().enableAutoRange()
        self._show_swatches({key: (CURRENT_COLOR if is_current else color)
                             for key, (_, color, is_current) in wanted.items()})

    def _show_swatches(self, colors: dict) -> None:
        """Each overlaid run's color as a square in its Name cell."""
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            color = colors.get(item.data(ID_ROLE))
            swatch = QColor(*color) if color is not None else None
            if item.data(Qt.ItemDataRole.DecorationRole) != swatch:
                item.setData(Qt.ItemDataRole.DecorationRole, swatch)

    def _items_for(self, key: str, color, width: float) -> tuple:
        items = self.curve_items.get(key)
        if items is None:
            loss = self.loss_plot.getPlotItem().plot([], [])
            val = self.accuracy_plot.getPlotItem().plot([], [])
            train = self.accuracy_plot.getPlotItem().plot([], [])
            items = self.curve_items[key] = (loss, val, train)
        items[0].setPen(pg.mkPen(color, width=width))
        items[1].setPen(pg.mkPen(color, width=width))
        items[1].setSymbol("o")
        items[1].setSymbolSize(5)
        items[1].setSymbolBrush(color)
        items[1].setSymbolPen(None)
        items[2].setPen(pg.mkPen(color, width=max(1.0, width - 1), style=Qt.PenStyle.DashLine))
        z = 10 if color == CURRENT_COLOR else 0
        for item in items:
            item.setZValue(z)
        return items

    @staticmethod
    def _set_accuracies(items, train, val, val_x, train_x) -> None:
        items[1].setData(val_x, np.asarray(val, dtype=np.float64))
        items[2].setData(train_x, np.asarray(train, dtype=np.float64))

    # ------------------------------------------------------------------ templates
    def _request_templates(self, selected: list) -> None:
        if not 2 <= len(selected) <= MAX_COMPARED:
            self._templates_for = None
            self.cancel("templates")
            self.templates.clear()
            self.templates_caption.setText(f"Select two to {MAX_COMPARED} runs to see their weight templates side by "
                                           "side, on one color scale per feature block.")
            return
        key = tuple(r.id for r in selected)
        if key == self._templates_for:
            return
        self._templates_for = key
        self.templates_caption.setText("Drawing the runs' templates…")
        self.submit("templates", templates_job(self.history, selected), self._on_templates)

    def _on_templates(self, outcome) -> None:
        if outcome.error:
            self.templates.clear()
            self.templates_caption.setText(f"The templates cannot be drawn: {outcome.error}")
            return
        if not outcome.ok:
            return
        result = outcome.result
        for run_id, W, pipeline in result["weights"]:
            self.history.remember_weights(run_id, W, pipeline)
        self.templates.set_templates(result["rows"], result["classes"], caption=result["caption"])

    # ------------------------------------------------------------------ actions
    def restore_selected(self) -> None:
        records = self.selected_records()
        if len(records) == 1:
            restore_run(self.workbench, self.submit, self.job_queue.run, records[0])

    def rerun_selected(self) -> None:
        records = self.selected_records()
        if len(records) == 1:
            self.history.request_rerun(records[0])

    def rename_selected(self, name: Optional[str] = None) -> None:
        records = self.selected_records()
        if len(records) != 1:
            return
        record = records[0]
        if name is None:
            name, ok = QInputDialog.getText(self, "Rename run", "Name:", text=record.name)
            if not ok:
                return
        store = self.history.store

        def job(ctx):
            return store.rename(record, name)

        self.submit(f"rename:{record.id}", job, self._on_renamed)

    def _on_renamed(self, outcome) -> None:
        if outcome.error:
            self.workbench.post_message(f"Rename: {outcome.error}", error=True)
        elif outcome.ok:
            self.history.replace(outcome.result)

    def delete_selected(self) -> None:
        records = self.selected_records()
        if not records:
            return
        store = self.history.store
        ids = [r.id for r in records]

        def job(ctx):
            deleted, problems = [], []
            for run_id in ids:
                try:
                    store.delete(run_id)
                    deleted.append(run_id)
                except FileNotFoundError:
                    deleted.append(run_id)  # already gone (another window)
                except OSError as exc:
                    problems.append(f"run {run_id}: cannot delete it ({exc.strerror or exc})")
            return deleted, problems

        self.submit("delete", job, self._on_deleted)

    def _on_deleted(self, outcome) -> None:
        if outcome.error:
            self.workbench.post_message(f"Delete: {outcome.error}", error=True)
            return
        if not outcome.ok:
            return
        deleted, problems = outcome.result
        for run_id in deleted:
            self.history.remove(run_id)
        for message in problems:
            self.workbench.post_message(message, error=True)
        self.workbench.post_message(f"Deleted {len(deleted)} run{'s' if len(deleted) != 1 else ''}")

    def export_dialog(self, kind: str) -> None:
        suffix = "csv" if kind == "csv" else "json"
        path, _ = QFileDialog.getSaveFileName(self, f"Export runs as {suffix.upper()}", f"runs.{suffix}",
                                              f"{suffix.upper()} (*.{suffix})")
        if path:
            self.export(path, kind)

    def export(self, path: str, kind: str) -> None:
        """Write the selected runs (all when none is selected) to ``path`` (a quick-lane job)."""
        from linviz.safe_files import FileRefusedError, check_write_target

        try:
            check_write_target(path)
        except FileRefusedError as exc:
            self.workbench.post_message(f"Export: {exc}", error=True)
            return
        records = self.selected_records() or list(self.history.records)
        store = self.history.store

        def job(ctx):
            from linviz.safe_files import atomic_write
            from linviz.training.records import records_csv, records_json

            if kind == "csv":
                text = records_csv(records)
            else:
                with_curves = []
                for r in records:
                    try:
                        with_curves.append(store.load_curves(r))
                    except Exception:  # noqa: BLE001 - exported without its curves
                        with_curves.append(r)
                text = records_json(with_curves)
            with atomic_write(path) as f:
                f.write(text.encode())
            return len(records)

        def done(outcome) -> None:
            if outcome.error:
                self.workbench.post_message(f"Export: {outcome.error}", error=True)
            elif outcome.ok:
                self.workbench.post_message(f"Exported {counted(outcome.result, 'run')} to {path}")

        self.submit(f"export:{path}", job, done)


def templates_job(history, records: list):
    """A few runs' templates on one color scale per block (same features), as one mosaic."""
    from linviz.workbench.template_pictures import shared_template_rows, template_rows

    known = {r.id: history.weights(r.id) for r in records}
    store = history.store

    def job(ctx):
        weights = []
        for r in records:
            if known.get(r.id) is not None:
                W, pipeline = known[r.id]
            else:
                saved = store.load_model(r.id)
                W, pipeline = np.asarray(saved.W, dtype=np.float32), saved.pipeline
            weights.append((r.id, W, pipeline))
        same = all(r.features == records[0].features and w.shape == weights[0][1].shape
                   for r, (_, w, _) in zip(records, weights))
        if same:
            rows_of = shared_template_rows([w for _, w, _ in weights], weights[0][2])
        else:
            rows_of = [template_rows(w, p) for _, w, p in weights]
        labelled = [(f"{letter}: {block}", tiles) for letter, rows in zip("ABCD", rows_of) for block, tiles in rows]
        norms = []
        for letter, record in zip("ABCD", records):
            table = record.curves.per_snapshot if record.curves is not None else None
            norm = f", ‖W‖ {table[-1, 3]:.3g}" if table is not None and len(table) else ""
            norms.append(f"{letter} = {record.title} (reg {record.reg:g}{norm})")
        scale = ("One color scale per feature block for all: the strongest weight of any is the darkest "
                 "(0 is white, or gray for pixels)" if same else
                 "different features: each run on its own scales")
        return {"rows": labelled, "classes": records[0].dataset.get("classes", []), "weights": weights,
                "caption": f"Templates of {'; '.join(norms)}. {scale}."}

    return job

