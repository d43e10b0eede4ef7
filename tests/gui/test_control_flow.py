"""Rows of controls that wrap: the height for a width is laid out once, until a control changes."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QLabel, QPushButton
from superqt import QFlowLayout


def _row(qtbot):
    from linviz.gui.views.control_flow import control_flow

    label = QLabel("short")
    row = control_flow(("A", QPushButton("first")), ("B", QPushButton("second")), label)
    qtbot.addWidget(row)
    row.show()
    qtbot.waitExposed(row)
    return row, label


def test_the_height_for_a_width_is_laid_out_once(qtbot, monkeypatch):
    row, _ = _row(qtbot)
    flow = row.layout()
    width = flow.sizeHint().width() + 200
    expected = QFlowLayout.heightForWidth(flow, width)  # superqt's own answer
    laid_out = []
    original = type(flow)._doLayout
    monkeypatch.setattr(type(flow), "_doLayout", lambda self, *a: laid_out.append(a) or original(self, *a))
    assert [flow.heightForWidth(width) for _ in range(5)] == [expected] * 5
    assert len(laid_out) <= 1


def test_a_control_that_grows_wraps_the_row_again(qtbot):
    row, label = _row(qtbot)
    flow = row.layout()
    one_line = QFlowLayout.heightForWidth(flow, 5000)
    # the narrowest width that still holds every control on one line
    width = next(w for w in range(50, 5000, 10) if QFlowLayout.heightForWidth(flow, w) == one_line)
    assert flow.heightForWidth(width) == one_line
    label.setText("a much longer text than any control in the row")
    QApplication.processEvents()  # Qt invalidates the layouts above the label
    assert flow.heightForWidth(width) > one_line
    assert flow.heightForWidth(width) == QFlowLayout.heightForWidth(flow, width)
