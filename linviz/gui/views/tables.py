"""Tables the user reads (and may select rows in) but never edits, set up one way everywhere."""

from __future__ import annotations

from typing import Callable, Optional, Sequence, Union

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

Column = Union[str, tuple]  # a title, or (title, one-line tooltip)


def reading_table(object_name: str, columns: Sequence[Column] = (), *, row_height: Optional[int] = 20,
                  selectable: bool = True, resize=QHeaderView.ResizeMode.ResizeToContents,
                  stretch_last: bool = True) -> QTableWidget:
    """A read-only table without row numbers; ``row_height`` None keeps Qt's default."""
    table = QTableWidget(0, len(columns))
    table.setObjectName(object_name)
    set_columns(table, columns)
    table.verticalHeader().setVisible(False)
    if row_height is not None:
        table.verticalHeader().setDefaultSectionSize(row_height)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    if not selectable:
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.horizontalHeader().setSectionResizeMode(resize)
    table.horizontalHeader().setStretchLastSection(stretch_last)
    return table


def set_columns(table: QTableWidget, columns: Sequence[Column]) -> None:
    """The table's column titles, each with its tooltip when given as (title, tooltip)."""
    table.setColumnCount(len(columns))
    for k, column in enumerate(columns):
        text, tip = column if isinstance(column, tuple) else (column, "")
        item = QTableWidgetItem(text)
        if tip:
            item.setToolTip(tip)
        table.setHorizontalHeaderItem(k, item)


def table_width(table: QTableWidget) -> int:
    """Pixels ``table`` needs to show every column whole, without a horizontal scroll bar."""
    header = table.horizontalHeader()
    columns = sum(max(header.sectionSizeHint(c), table.sizeHintForColumn(c)) for c in range(header.count())
                  if not header.isSectionHidden(c))
    return columns + table.verticalScrollBar().sizeHint().width() + 2 * table.frameWidth()


def table_height(table: QTableWidget, rows: Optional[int] = None) -> int:
    """Pixels ``table`` needs to show its header and ``rows`` rows of the default height (None:
    every row it has, at its own height) without a vertical scroll bar."""
    body = (sum(table.rowHeight(r) for r in range(table.rowCount())) if rows is None
            else rows * table.verticalHeader().defaultSectionSize())
    return table.horizontalHeader().sizeHint().height() + 2 * table.frameWidth() + 2 + body


def column_width(table: QTableWidget, column: int) -> int:
    """Pixels ``column`` needs to show its title and every cell whole."""
    return max(table.horizontalHeader().sectionSizeHint(column), table.sizeHintForColumn(column))


class ColumnFitter(QObject):
    """Shows the columns of a table that fit its width, most important first (an entry of
    ``priority`` is a column or a tuple of columns that go together), and hides the
    rest (no horizontal scroll bar: a student on a small screen sees whole columns, never a
    strip of a table). Refits when the table is resized and when :meth:`fit` is called (after
    the table is filled)."""

    def __init__(self, table, priority: Sequence[int], width_of: Optional[Callable[[int], int]] = None):
        """``width_of(column)``: the pixels a column needs (default: its title and cells)."""
        super().__init__(table)
        self.table = table
        self.priority = list(priority)
        self.width_of = width_of or (lambda column: column_width(table, column))
        self.hidden: list[int] = []
        table.viewport().installEventFilter(self)

    def fit(self) -> list[int]:
        """Show the longest run of ``priority`` that fits; returns the hidden columns."""
        table = self.table
        room = table.viewport().width()
        used, hidden = 0, []
        for entry in self.priority:
            group = entry if isinstance(entry, tuple) else (entry,)  # columns shown or hidden together
            need = sum(self.width_of(column) for column in group)
            show = not hidden and (used + need <= room or used == 0)
            used += need if show else 0
            for column in group:
                table.setColumnHidden(column, not show)
                if not show:
                    hidden.append(column)
        self.hidden = hidden
        return hidden

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Resize:
            self.fit()
        return False
