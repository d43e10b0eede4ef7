"""Combo boxes that offer the entries of one of the core's tables (the losses, the penalties,
the optimizers): the label shown, the stored name as the item's data, the help line as its
tooltip, so that every box offers the same choices in the same words."""

from __future__ import annotations

from typing import Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox


def add_choices(box: QComboBox, table: Mapping, *, short: bool = False) -> QComboBox:
    """Append one item per entry of ``table`` (name -> spec with ``label``, ``help`` and, for
    ``short``, ``short_label``); returns ``box``."""
    for name, spec in table.items():
        box.addItem(spec.short_label if short else spec.label, name)
        box.setItemData(box.count() - 1, spec.help, Qt.ItemDataRole.ToolTipRole)
    return box


def choice_box(table: Mapping, *, short: bool = False) -> QComboBox:
    """A new combo box offering the entries of ``table`` (see :func:`add_choices`)."""
    return add_choices(QComboBox(), table, short=short)


def width_showing(box: QComboBox, text: str) -> int:
    """The width at which ``box`` shows ``text`` whole: its arrow and frame as its style draws
    them. A box allowed to be narrower than its longest entry (a long class name) must still
    show the choice it starts with."""
    from PySide6.QtCore import QSize
    from PySide6.QtWidgets import QStyle, QStyleOptionComboBox

    option = QStyleOptionComboBox()
    box.initStyleOption(option)
    size = QSize(box.fontMetrics().horizontalAdvance(text), box.sizeHint().height())
    return box.style().sizeFromContents(QStyle.ContentsType.CT_ComboBox, option, size, box).width()
