"""Texts painted in a plot leave nothing behind when they change: what the screen shows after
an update is what a fresh paint of the view draws."""

from __future__ import annotations

import numpy as np

NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _on_screen(widget):
    """The widget as the window system shows it (the backing store: partial repaints and all)."""
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.primaryScreen().grabWindow(widget.winId()).toImage()


def _fresh(widget):
    """The widget painted whole, now."""
    return widget.grab().toImage()


def _settle(qtbot):
    qtbot.wait(60)


def _shows_a_fresh_paint(qtbot, view, what):
    """Wait for the repaint (a loaded machine may take longer than any fixed pause); stale
    labels never repaint themselves, so they still fail after the wait."""
    try:
        qtbot.waitUntil(lambda: _on_screen(view) == _fresh(view), timeout=5000)
    except Exception:
        raise AssertionError(f"{what}: the screen still shows older labels") from None


def test_probability_labels_leave_no_stale_text(qtbot):
    """A confusion-matrix click or a training step changes the values: no "53%" stays beside
    a bar that is now 2%, no half-erased ":9%"."""
    from linviz.gui.views.probabilities_view import ProbabilitiesView

    view = ProbabilitiesView()
    qtbot.addWidget(view)
    view.resize(300, 300)
    view.show()
    qtbot.waitExposed(view)
    rng = np.random.default_rng(0)
    for k, top in enumerate([0, 8, 3, 8]):
        values = np.full(10, 0.02) + 0.01 * rng.random(10)
        values[top] = 0.5 + 0.1 * k
        view.set_values(values / values.sum(), NAMES, "probabilities", top, "two" if k % 2 else "one")
        _shows_a_fresh_paint(qtbot, view, f"update {k}")


def test_painted_labels_update_region_is_finite(qtbot):
    """The labels' bounding rect is the visible range: mapped to pixels it neither overflows
    nor comes out empty (an empty update region leaves old texts on screen)."""
    from linviz.gui.views.probabilities_view import ProbabilitiesView

    view = ProbabilitiesView()
    qtbot.addWidget(view)
    view.resize(320, 300)
    view.show()
    qtbot.waitExposed(view)
    view.set_values(np.full(10, 0.1), NAMES, "probabilities", 0)
    _settle(qtbot)
    labels = view.value_labels
    rect = view.plot.mapFromScene(labels.sceneBoundingRect()).boundingRect()
    assert rect.width() > 50 and rect.height() > 50
    assert view.plot.viewport().rect().intersects(rect)


def test_probability_bars_take_the_plot_width_and_their_labels_stay_inside(qtbot):
    """At 1024 x 700 the view is about 150 pixels wide: the labels may not eat the bars' room
    (a probability of 1 spans the plot), and each label stays in the plot, beside its bar or
    inside it when the bar is long."""
    from linviz.gui.views.probabilities_view import ProbabilitiesView

    view = ProbabilitiesView()
    qtbot.addWidget(view)
    view.resize(150, 260)
    view.show()
    qtbot.waitExposed(view)
    values = np.full(10, 0.01)
    values[8] = 0.91
    view.set_values(values, NAMES, "probabilities", 8)
    _settle(qtbot)
    box = view.plot.getPlotItem().getViewBox()
    (x0, x1), _ = box.viewRange()
    assert x0 <= 0 and x1 <= 1.06, f"the x range {x0:.2f}..{x1:.2f} leaves the bars {1 / (x1 - x0):.0%} of it"
    area = box.sceneBoundingRect()
    rects = view.value_labels.scene_rects() + view.inner_labels.scene_rects()
    assert len(rects) == 10
    for rect in rects:
        assert area.contains(rect), (rect, area)
    assert sorted(view.value_labels.texts + view.inner_labels.texts) == sorted(f"{v:.0%}" for v in values)
    assert view.inner_labels.texts == ["91%"]  # the long bar's label inside it
    _shows_a_fresh_paint(qtbot, view, "long bar")
