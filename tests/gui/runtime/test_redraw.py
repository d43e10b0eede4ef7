"""Redraw: paced while a run trains, at once otherwise; a view in a hidden tab draws the
newest call when it is shown or when the run ends, never while the run goes on unseen."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QTabWidget, QWidget

from linviz.gui.runtime.redraw import Redraw


class _Bench(QObject):
    training_changed = Signal(bool)

    def __init__(self):
        super().__init__()
        self.training = False

    def set_training(self, training: bool) -> None:
        self.training = training
        self.training_changed.emit(training)


def _tabs(qtbot):
    tabs = QTabWidget()
    seen, other = QWidget(), QWidget()
    tabs.addTab(other, "other")
    tabs.addTab(seen, "view")
    qtbot.addWidget(tabs)
    tabs.show()
    return tabs, seen


def test_a_hidden_view_draws_the_newest_call_when_shown(qtbot):
    bench, drawn = _Bench(), []
    tabs, view = _tabs(qtbot)
    redraw = Redraw(bench, drawn.append, 0, widget=view)
    redraw(0)  # not training: at once, seen or not
    assert drawn == [0]
    bench.set_training(True)
    for frame in range(1, 6):
        redraw(frame)
    assert drawn == [0]  # the tab is not shown: nothing drawn meanwhile
    tabs.setCurrentWidget(view)
    QApplication.processEvents()
    assert drawn == [0, 5]  # shown: the newest frame only
    redraw(6)
    assert drawn == [0, 5, 6]  # in sight: every call (interval 0)
    bench.set_training(False)
    assert drawn == [0, 5, 6]


def test_a_run_ends_with_its_last_frame_drawn_in_a_hidden_view(qtbot):
    bench, drawn = _Bench(), []
    tabs, view = _tabs(qtbot)
    redraw = Redraw(bench, drawn.append, 100, widget=view)
    bench.set_training(True)
    redraw(1)
    redraw(2)
    assert drawn == []
    bench.set_training(False)  # the run ended: its last frame is there when the tab is opened
    assert drawn == [2]
    tabs.setCurrentWidget(view)
    QApplication.processEvents()
    assert drawn == [2]  # nothing left to draw


def test_a_view_in_sight_is_paced_while_training(qtbot):
    bench, drawn = _Bench(), []
    tabs, view = _tabs(qtbot)
    tabs.setCurrentWidget(view)
    redraw = Redraw(bench, drawn.append, 10_000, widget=view)
    bench.set_training(True)
    for frame in range(1, 4):
        redraw(frame)
    assert drawn == [1]  # the first at once, the rest waits for the interval ...
    bench.set_training(False)
    assert drawn == [1, 3]  # ... or for the run's end


def test_a_view_in_a_nested_tab_draws_when_its_outer_tab_opens(qtbot):
    bench, drawn = _Bench(), []
    outer = QTabWidget()
    inner = QTabWidget()
    view = QWidget()
    inner.addTab(view, "view")
    outer.addTab(QWidget(), "first")
    outer.addTab(inner, "inner tabs")
    qtbot.addWidget(outer)
    redraw = Redraw(bench, drawn.append, 0, widget=view)
    bench.set_training(True)
    redraw(1)  # the window not shown yet
    outer.show()
    QApplication.processEvents()
    redraw(2)
    assert drawn == []  # shown, but its outer tab is not the current one
    outer.setCurrentWidget(inner)
    QApplication.processEvents()
    assert drawn == [2]
