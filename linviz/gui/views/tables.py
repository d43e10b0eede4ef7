"""Tables the user reads (and may select rows in) but never edits, set up one way everywhere."""

from __future__ import annotations

from typing import Optional, Sequence, Union

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
