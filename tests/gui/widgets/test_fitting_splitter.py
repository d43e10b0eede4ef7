"""FittingSplitter: side by side when both parts fit, the first part given the width it wants
when it changes (a table filled after it was laid out), the user's drag kept."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from linviz.gui.widgets.fitting_splitter import FittingSplitter


def test_a_refit_gives_the_first_part_its_new_width_until_the_user_drags(qtbot):
    wanted = {"width": 300}
    first, second = QWidget(), QWidget()
    splitter = FittingSplitter(first, second, lambda: wanted["width"], second_width=200)
    qtbot.addWidget(splitter)
    splitter.resize(1000, 400)
    splitter.show()
    qtbot.waitExposed(splitter)
    splitter.refit()
    assert abs(splitter.sizes()[0] - 300) <= 2  # (the handle takes its pixels from both)
    wanted["width"] = 500  # the table was filled: its columns want more
    splitter.refit()
    assert abs(splitter.sizes()[0] - 500) <= 2
    splitter.setSizes([400, splitter.width() - 400 - splitter.handleWidth()])
    splitter.splitterMoved.emit(400, 1)  # as a drag of the handle does
    wanted["width"] = 600
    splitter.refit()
    assert abs(splitter.sizes()[0] - 400) <= 2  # the user's choice stays
    wanted["width"] = 900  # no longer fits beside the second part: one above the other
    splitter.refit()
    assert splitter.orientation().name == "Vertical"
