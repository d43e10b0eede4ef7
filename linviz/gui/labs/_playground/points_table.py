"""The table of the playground's points: every point's x, y, class, loss L_i and scores,
recomputed while you drag; and the line of totals below it."""

from __future__ import annotations

from typing import Optional

import numpy as np

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from linviz.explore import playground as pgd
from linviz.gui.labs._playground.items import class_color
from linviz.gui.views.tables import ColumnFitter
from linviz.models.regularizers import REG_TYPES

SCORE0 = 5  # the table's columns: #, x, y, class, L_i, then the scores s_0 .. s_C-1


class PointsTableModel(QAbstractTableModel):
    """Every point's x, y, class, scores and loss (numbers right-aligned; ringed losses red)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.state: Optional[pgd.PlaygroundState] = None
        self.evaluation: Optional[pgd.Evaluation] = None
        self._bold = QFont()
        self._bold.setBold(True)

    def set_values(self, state: pgd.PlaygroundState, evaluation: Optional[pgd.Evaluation]) -> None:
        reshaped = (self.state is None or len(self.state.labels) != len(state.labels)
                    or self.state.n_classes != state.n_classes
                    or (self.evaluation is None) != (evaluation is None))
        if reshaped:
            self.beginResetModel()
        self.state, self.evaluation = state, evaluation
        if reshaped:
            self.endResetModel()
        elif self.rowCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if self.state is None or parent.isValid() else len(self.state.labels)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if self.state is None or parent.isValid() else 5 + self.state.n_classes

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or self.state is None:
            return None
        C = self.state.n_classes
        if role == Qt.ItemDataRole.DisplayRole:
            return (["#", "x", "y", "class", "L_i"] + [f"s{j}" for j in range(C)])[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            if section >= SCORE0:
                j = section - SCORE0
                return f"s{j} = w{j} · x + b{j}: class {j}'s score (bold: the true class's)"
            return {0: "The point's number", 3: "Its true class",
                    4: "The point's data loss L_i (red: the point has a loss)"}.get(section)
        if role == Qt.ItemDataRole.ForegroundRole and section >= SCORE0:
            return QBrush(QColor(*class_color(section - SCORE0)))
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.state is None:
            return None
        r, c = index.row(), index.column()
        label = int(self.state.labels[r])
        ev = self.evaluation
        if role == Qt.ItemDataRole.DisplayRole:
            if c == 0:
                return str(r)
            if c in (1, 2):
                return f"{self.state.points[r, c - 1]:.2f}"
            if c == 3:
                return f"● {label}"
            if ev is None:
                return "…"
            if c == 4:
                return f"{ev.losses[r]:.3f}"
            return f"{ev.scores[r, c - SCORE0]:.2f}"
        if role == Qt.ItemDataRole.TextAlignmentRole and c != 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole:
            if c == 4 and ev is not None and ev.flagged[r]:
                return QBrush(QColor(255, 205, 205))
        if role == Qt.ItemDataRole.ForegroundRole and c == 3:
            return QBrush(QColor(*class_color(label)))
        if role == Qt.ItemDataRole.FontRole and (c == 3 or ev is not None and c == SCORE0 + label):
            return self._bold  # the true class's score
        return None


class PointsTable(QTableView):
    """The points table: columns as wide as their numbers, read only. When the lab is narrow the
    columns that do not fit are hidden (the point's number first, then its coordinates, which
    the plane shows), never scrolled sideways: the class, L_i and the scores stay in sight."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("playgroundTable")
        self.points_model = PointsTableModel(self)
        self.setModel(self.points_model)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(20)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setMinimumSectionSize(20)
        header.setStretchLastSection(False)
        self.widths: list[int] = []
        self.columns = ColumnFitter(self, [], width_of=lambda c: self.widths[c] if c < len(self.widths) else 0)
        self.points_model.modelReset.connect(self.fit_numbers)
        self.setMinimumHeight(90)

    def fit_numbers(self) -> None:
        """Column widths that fit the numbers shown now (a coordinate up to ±10, scores and
        losses as large as they are), then the columns that fit the table's width."""
        model = self.points_model
        state, ev = model.state, model.evaluation
        if state is None:
            return
        metrics = self.fontMetrics()

        def number(largest: float, decimals: int) -> int:
            return metrics.horizontalAdvance(f"−{abs(largest):.{decimals}f}") + 10

        coordinate = number(float(np.max(np.abs(state.points))) if len(state.labels) else 1.0, 2)
        scores = ev.scores if ev is not None and ev.scores.size else np.ones((1, 1))
        score = max(number(float(np.max(np.abs(scores))), 2), metrics.horizontalAdvance("s0") + 12)
        loss = number(float(np.max(ev.losses)) if ev is not None and len(ev.losses) else 1.0, 3)
        widths = [metrics.horizontalAdvance(str(max(len(state.labels) - 1, 0))) + 12, coordinate, coordinate,
                  metrics.horizontalAdvance("class") + 12, max(loss, metrics.horizontalAdvance("L_i") + 12)]
        widths += [score] * state.n_classes
        if widths != self.widths:
            self.widths = widths
            for column, width in enumerate(widths):
                self.setColumnWidth(column, width)
        # class, L_i and the scores first; then the coordinates and the point's number
        self.columns.priority = [3, 4] + list(range(SCORE0, SCORE0 + state.n_classes)) + [(1, 2), 0]
        self.columns.fit()


def totals_text(state: pgd.PlaygroundState, ev: Optional[pgd.Evaluation]) -> str:
    """The line below the table: the loss, its data and regularization parts, the accuracy."""
    if ev is None:
        return "Loading the compiled losses…"
    s = state.settings
    n = len(state.labels)
    loss, penalty = pgd.PLAYGROUND_LOSSES[s.loss], REG_TYPES[s.reg_type]
    reg_words = f"{penalty.label}: λ·{penalty.formula}" + (", β = 1" if penalty.uses_beta else "")
    return (f"<b>{loss.label}</b>{f', Δ = {s.delta:g}' if loss.hinge else ''}: "
            f"data loss {ev.data_loss:.4f} (mean L_i of {n} points) + regularization {ev.reg_loss:.4f} "
            f"({reg_words}, λ = {s.reg:g}; b is free) = <b>total {ev.total:.4f}</b> · "
            f"accuracy {ev.correct}/{n} ({100 * ev.accuracy:.0f}%)")
