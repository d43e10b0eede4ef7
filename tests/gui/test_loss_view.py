"""The loss and accuracy plots: smoothing, the loss's parts, ||W||, log ticks, the x-range,
the hover read-outs."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF
from PySide6.QtWidgets import QApplication

from linviz.explore.curves import following_range, smooth_curve


def _run(n=1234, seed=0):
    rng = np.random.default_rng(seed)
    losses = (1.5 + 0.8 * np.exp(-np.arange(n) / 200) + 0.05 * rng.standard_normal(n)).astype(np.float32)
    its = np.arange(10, n + 1, 10, dtype=np.float64)
    reg = 0.02 + 0.03 * (1 - np.exp(-its / 300))
    table = np.column_stack([its, losses[its.astype(int) - 1] - reg, reg, 5 + np.sqrt(its)])
    return losses, table


@pytest.fixture
def loss_view(qtbot):
    from linviz.gui.views.loss_view import LossView

    view = LossView()
    view.resize(600, 400)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    return view


def _view_point(plot, x, y):
    vb = plot.getPlotItem().getViewBox()
    return vb.mapViewToScene(QPointF(x, y))


def test_smoothing_slider_from_raw_to_centred(loss_view):
    losses, table = _run()
    loss_view.set_losses(losses, table)
    np.testing.assert_allclose(loss_view.smoothed, smooth_curve(losses, 0.8), rtol=1e-5)
    loss_view.smoothing_slider.setValue(0)
    np.testing.assert_array_equal(loss_view.smoothed, losses)
    loss_view.smoothing_slider.setValue(90)
    np.testing.assert_allclose(loss_view.smoothed, smooth_curve(losses, 0.9), rtol=1e-5)
    _, y = loss_view.smoothed_curve.getData()  # what is painted: the new line's band
    assert y.max() == pytest.approx(loss_view.smoothed.max()) and y.min() == pytest.approx(loss_view.smoothed.min())
    # growing the run keeps the smoothed line equal to the whole computation
    more, more_table = _run(2000)
    more[:1234] = losses
    loss_view.set_losses(more, more_table)
    np.testing.assert_allclose(loss_view.smoothed, smooth_curve(more, 0.9), rtol=1e-5)


def test_data_and_regularization_curves_and_the_weight_norm(loss_view):
    losses, table = _run()
    loss_view.set_losses(losses, table)
    assert not loss_view.data_curve.isVisible() and not loss_view.plot.getPlotItem().getAxis("right").isVisible()
    loss_view.parts_box.setChecked(True)
    x, reg = loss_view.reg_curve.getData()
    np.testing.assert_array_equal(x, table[:, 0])
    np.testing.assert_allclose(reg, table[:, 2])
    _, data = loss_view.data_curve.getData()
    np.testing.assert_allclose(data, smooth_curve(table[:, 1], 0.8))
    assert "data" in loss_view.plot.getPlotItem().titleLabel.text
    loss_view.norm_toggle.setChecked(True)
    assert loss_view.plot.getPlotItem().getAxis("right").isVisible()
    _, norms = loss_view.norm_curve.getData()
    np.testing.assert_allclose(norms, table[:, 3])
    lo, hi = loss_view.norm_view.viewRange()[1]
    assert lo <= 0 and hi >= norms.max()
    # the y range takes the small regularization loss in
    assert loss_view.plot.getPlotItem().getViewBox().viewRange()[1][0] <= table[:, 2].min()


def test_the_x_range_follows_the_run(loss_view):
    losses, table = _run(2450)
    loss_view.set_losses(losses[:300], table[:30])
    assert 300 <= loss_view.plot.getPlotItem().getViewBox().viewRange()[0][1] <= 1.1 * 310
    loss_view.set_losses(losses, table)  # a fast run: the axis looks ahead, half as far again at most
    assert 2450 <= loss_view.plot.getPlotItem().getViewBox().viewRange()[0][1] <= 1.1 * following_range(int(1.5 * 2450))
    loss_view.clear()
    loss_view.set_losses(losses, table)  # a whole run at once
    assert 2450 <= loss_view.plot.getPlotItem().getViewBox().viewRange()[0][1] <= 1.1 * 2500


class _PaintCounter:
    def __init__(self, widget):
        from PySide6.QtCore import QObject

        class Filter(QObject):
            count = 0

            def eventFilter(self, obj, event):
                if event.type() == QEvent.Type.Paint:
                    Filter.count += 1
                return False

        self.filter = Filter()
        widget.installEventFilter(self.filter)

    @property
    def count(self) -> int:
        return self.filter.count


def test_a_growing_run_is_painted_once_per_frame(loss_view):
    """pyqtgraph moves a plot's items to a new range when it paints; the items it moved asked
    for a second paint of the same frame (the loss plot drew every frame twice)."""
    losses, table = _run(4000)
    paints = _PaintCounter(loss_view.plot.viewport())
    frames = 30
    for k in range(1, frames + 1):  # a falling loss: the range moves at almost every frame
        loss_view.set_losses(losses[:k * 130], table[:k * 13])
        for _ in range(3):
            QApplication.processEvents()
    assert frames * 0.9 <= paints.count <= frames + 2, paints.count


def test_a_long_run_is_painted_as_a_stroke_per_pixel_column(loss_view):
    # a HOG + hue run adds thousands of iterations a second and a long run reaches millions:
    # the painter gets each pixel column's bottom and top, however long the run
    rng = np.random.default_rng(1)
    losses = (2.0 + 0.1 * rng.standard_normal(300_000)).astype(np.float32)
    losses[1000] = 9.0  # one spike: it stays on screen
    for n in (50_000, 120_000, 300_000):  # growing, as a run does
        loss_view.set_losses(losses[:n])
    assert loss_view.point_count == 300_000
    width = loss_view.plot.getPlotItem().getViewBox().width()
    for curve in (loss_view.raw_curve, loss_view.smoothed_curve):
        x, _ = curve.getData()  # what is painted
        assert 0 < len(x) <= 2 * width + 4
    # the band on screen is the loss's whole range, the spike included
    _, y = loss_view.raw_curve.getData()
    assert y.max() == losses.max() == 9.0 and y.min() == losses.min()
    # zoomed in to a few hundred iterations, the points themselves
    loss_view.plot.getPlotItem().getViewBox().setXRange(900, 1100, padding=0)
    x, y = loss_view.raw_curve.getData()
    assert len(x) < 250 and 1001 in x and y[list(x).index(1001)] == 9.0


def test_the_log_axis_labels_a_range_inside_one_decade(loss_view):
    losses, table = _run()
    loss_view.set_losses(losses, table)
    loss_view.log_box.setChecked(True)
    axis = loss_view.plot.getPlotItem().getAxis("left")
    lo, hi = loss_view.plot.getPlotItem().getViewBox().viewRange()[1]
    assert hi - lo < 1  # less than a decade: pyqtgraph alone labels nothing here
    levels = axis.tickValues(lo, hi, 300)
    labelled = levels[0][1]
    assert len(labelled) >= 2 and all(lo <= v <= hi for v in labelled)
    strings = axis.tickStrings(labelled, 1.0, levels[0][0])
    assert all(s and s[0].isdigit() for s in strings)
    assert len(set(strings)) == len(strings)  # 1.5 and 2 are not both "2"


def test_hover_read_outs_clear_when_the_mouse_leaves(loss_view, qtbot):
    from linviz.gui.views.accuracy_view import AccuracyView

    losses, table = _run()
    loss_view.set_losses(losses, table)
    loss_view.parts_box.setChecked(True)
    readout = loss_view.readout
    readout.on_mouse_moved(_view_point(loss_view.plot, 500, float(losses[499])))
    assert readout.text.startswith("iteration 500: loss ") and "data" in readout.text
    assert readout.label.isVisible()
    QApplication.sendEvent(loss_view.plot, QEvent(QEvent.Type.Leave))
    assert readout.text == "" and not readout.label.isVisible()
    readout.on_mouse_moved(_view_point(loss_view.plot, 500, float(losses[499])))
    assert readout.text
    readout.on_mouse_moved(QPointF(-50, -50))  # outside the data area
    assert readout.text == ""

    accuracy = AccuracyView()
    qtbot.addWidget(accuracy)
    accuracy.resize(500, 300)
    accuracy.show()
    qtbot.waitExposed(accuracy)
    accuracy.set_accuracies([0.3, 0.4, 0.45], [0.28, 0.35, 0.41])
    accuracy.readout.on_mouse_moved(_view_point(accuracy.plot, 2.1, 0.4))
    assert accuracy.readout.text == "epoch 2: train 0.4000, validation 0.3500"
    QApplication.sendEvent(accuracy.plot, QEvent(QEvent.Type.Leave))
    assert accuracy.readout.text == ""


def test_the_accuracy_axis_keeps_room_ahead_while_training_and_ends_with_the_run(qtbot):
    from linviz.gui.views.accuracy_view import AccuracyView

    accuracy = AccuracyView()
    qtbot.addWidget(accuracy)
    accuracy.set_accuracies([0.3] * 26, [0.3] * 26)
    view_box = accuracy.plot.getPlotItem().getViewBox()
    assert view_box.viewRange()[0][1] >= 1.4 * 26  # room for the epochs to come
    accuracy.fit_to_run_end()
    assert 26 <= view_box.viewRange()[0][1] <= 1.05 * 26
    accuracy.set_accuracies([0.3] * 4, [0.3] * 4)
    assert view_box.viewRange()[0][1] >= 10  # while it runs: room for ten epochs
    accuracy.fit_to_run_end()
    assert 4 <= view_box.viewRange()[0][1] <= 4.2  # a short run fills the plot
    accuracy.set_accuracies([0.3], [0.3])
    accuracy.fit_to_run_end()
    assert 2 <= view_box.viewRange()[0][1] <= 2.1  # one epoch: its point stays off the edge


def test_an_empty_loss_plot_says_what_fills_it_and_a_run_brings_its_axes(loss_view):
    item = loss_view.plot.getPlotItem()
    assert "Press Train" in loss_view.hint.text and not item.getAxis("left").isVisible()
    losses, _ = _run(300)
    loss_view.set_losses(losses)
    assert loss_view.hint.text == "" and item.getAxis("left").isVisible() and item.getAxis("bottom").isVisible()
    x_range, y_range = item.getViewBox().viewRange()
    assert x_range[1] >= 300 and y_range[0] <= losses.min() and y_range[1] >= losses.max()
    assert not any(item.getViewBox().autoRangeEnabled())  # the ranges stay the view's own
    loss_view.clear()
    assert "Press Train" in loss_view.hint.text and not item.getAxis("left").isVisible()
    loss_view.set_losses(losses[:50])  # the next run: its own ranges again
    assert item.getViewBox().viewRange()[0][1] >= 50 and loss_view.hint.text == ""


def test_an_empty_accuracy_plot_says_what_fills_it(qtbot):
    from linviz.gui.views.accuracy_view import AccuracyView

    accuracy = AccuracyView()
    qtbot.addWidget(accuracy)
    item = accuracy.plot.getPlotItem()
    assert "epoch" in accuracy.hint.text and not item.getAxis("left").isVisible()
    accuracy.set_accuracies([0.3, 0.4], [0.28, 0.35])
    assert accuracy.hint.text == "" and item.getAxis("left").isVisible()
    (x_lo, x_hi), (y_lo, y_hi) = item.getViewBox().viewRange()
    assert x_hi >= 10 and y_lo <= 0.0 and y_hi >= 1.0
    accuracy.clear()
    assert accuracy.hint.text


def test_a_short_accuracy_plot_labels_its_axis_every_half(qtbot):
    from linviz.gui.views.accuracy_view import SHORT_PLOT_PX, AccuracyView

    accuracy = AccuracyView()
    qtbot.addWidget(accuracy)
    accuracy.set_accuracies([0.3, 0.4], [0.28, 0.35])
    axis = accuracy.plot.getPlotItem().getAxis("left")
    accuracy.resize(400, SHORT_PLOT_PX - 50)
    accuracy.show()
    qtbot.waitExposed(accuracy)
    assert [spacing for spacing, _ in axis.tickSpacing(0.0, 1.0, 100)][0] == 0.5
    accuracy.resize(400, 140)  # the accuracy plot at 1024 x 700 read only "0.5"
    qtbot.wait(10)
    assert _drawn_labels(axis) == ["0", "0.5", "1.0"]
    assert not accuracy.plot.getPlotItem().getAxis("bottom").label.isVisible()
    accuracy.resize(400, SHORT_PLOT_PX + 150)
    qtbot.wait(10)
    assert axis.tickSpacing(0.0, 1.0, 300)[0][0] < 0.5  # pyqtgraph's own, finer choice again
    assert accuracy.plot.getPlotItem().getAxis("bottom").label.isVisible()


def _drawn_labels(axis) -> list[str]:
    """The tick labels the axis draws (pyqtgraph leaves out those that would stick out)."""
    from PySide6.QtGui import QPainter, QPicture

    picture = QPicture()
    painter = QPainter(picture)
    specs = axis.generateDrawSpecs(painter)
    painter.end()
    return [text for _, _, text in specs[2]]


def test_after_a_long_run_the_cleared_accuracy_plot_centres_its_sentence_again(qtbot):
    from linviz.gui.views.accuracy_view import AccuracyView

    accuracy = AccuracyView()
    qtbot.addWidget(accuracy)
    accuracy.set_accuracies([0.3] * 15, [0.3] * 15)
    accuracy.fit_to_run_end()
    accuracy.clear()
    (x_lo, x_hi), _ = accuracy.plot.getPlotItem().getViewBox().viewRange()
    assert accuracy.hint.text and x_lo <= 0.0 and x_hi <= 1.05  # the sentence's own 0-1 view
    accuracy.set_accuracies([0.3], [0.3])  # the next run
    assert 10 <= accuracy.plot.getPlotItem().getViewBox().viewRange()[0][1] <= 10.5


def test_the_norm_axis_and_the_expected_loss_wait_for_the_curves(loss_view):
    item = loss_view.plot.getPlotItem()
    loss_view.norm_toggle.setChecked(True)
    loss_view.set_expected_initial_loss(2.3)
    assert not item.getAxis("right").isVisible() and not loss_view.expected_line.isVisible()
    losses, table = _run(200)
    loss_view.set_losses(losses, table)
    assert item.getAxis("right").isVisible() and loss_view.expected_line.isVisible()
    loss_view.set_losses(np.zeros(0, np.float32))  # no losses any more: the empty plot again
    assert "Press Train" in loss_view.hint.text and not item.getAxis("right").isVisible()


def test_a_new_runs_curves_replace_the_old_ones_without_the_empty_plots_sentence(loss_view, monkeypatch):
    """Between two runs the plot keeps its axes: hiding them for the sentence and showing them
    again in the new run's first frame laid the plot out twice (and flashed). A run whose first
    frame has no loss yet shows the sentence until it has."""
    from types import SimpleNamespace

    shown = []
    monkeypatch.setattr(loss_view.hint, "show", lambda text: shown.append(text))

    def frame(run, losses):
        snapshot = SimpleNamespace(losses=losses, per_snapshot=None, expected_initial_loss=2.3, done=False)
        return SimpleNamespace(run=run, snapshot=snapshot)

    first, _ = _run(400)
    loss_view._on_frame(frame(1, first))
    second, _ = _run(120, seed=1)
    loss_view._on_frame(frame(2, second))
    assert shown == [] and loss_view.point_count == 120
    np.testing.assert_array_equal(loss_view.raw_curve.getData()[1], second)
    assert loss_view.plot.getPlotItem().getViewBox().viewRange()[0][1] < 400  # the new run's own range
    loss_view._on_frame(frame(3, np.zeros(0, np.float32)))
    assert shown and loss_view.point_count == 0


def test_a_new_run_empties_the_accuracy_plot_without_its_sentence(qtbot):
    """Before a new run's first epoch ends the old curves go and the axes stay (0 to 10
    epochs); the sentence is for a plot no run has filled."""
    from types import SimpleNamespace

    from linviz.gui.views.accuracy_view import AccuracyView

    accuracy = AccuracyView()
    qtbot.addWidget(accuracy)

    def frame(run, epochs, value=0.4):
        return SimpleNamespace(run=run, snapshot=SimpleNamespace(train_accuracies=[value] * epochs,
                                                                 val_accuracies=[0.3] * epochs, done=False))

    accuracy._draw_frame(frame(1, 26))
    assert accuracy.point_count == 26 and not accuracy.hint.empty
    accuracy._draw_frame(frame(2, 0))
    assert accuracy.point_count == 0 and not accuracy.hint.empty and len(accuracy.train_curve.getData()[0] or []) == 0
    assert accuracy.plot.getPlotItem().getViewBox().viewRange()[0][1] < 11
    accuracy._draw_frame(frame(2, 1))
    assert accuracy.point_count == 1
    accuracy._draw_frame(frame(3, 1, value=0.9))  # a run seen only at its end, as many epochs as the last
    np.testing.assert_allclose(accuracy.train_curve.getData()[1], [0.9])
    accuracy._draw_frame(None)
    assert accuracy.hint.empty and "After each epoch" in accuracy.hint.text


def test_view_all_shows_the_whole_run_at_once(loss_view):
    """The lines hold only what is in view; the plot's auto-range still sees the whole run
    (it widened the view a little at each repaint before)."""
    rng = np.random.default_rng(3)
    losses = (2.0 + 0.1 * rng.standard_normal(100_000)).astype(np.float32)
    loss_view.set_losses(losses)
    vb = loss_view.plot.getPlotItem().getViewBox()
    vb.setXRange(40_000, 41_000, padding=0)
    vb.autoRange(padding=0)
    (x0, x1), (y0, y1) = vb.viewRange()
    assert x0 <= 1 and x1 >= 100_000
    assert y0 <= losses.min() and y1 >= losses.max()
    loss_view.log_box.setChecked(True)
    vb.autoRange(padding=0)
    (_, _), (y0, y1) = vb.viewRange()
    assert y0 == pytest.approx(np.log10(losses.min()), abs=1e-3)
    assert y1 == pytest.approx(np.log10(losses.max()), abs=1e-3)


def test_a_log_axis_over_zero_losses_ranges_over_the_positive_ones(loss_view):
    """An SVM without regularization can reach a loss of 0: the log axis spans the smallest
    positive loss to the largest, as the run grows."""
    losses = np.linspace(2.0, 0.01, 3000).astype(np.float32)
    losses[2000:] = 0.0
    loss_view.log_box.setChecked(True)
    loss_view.set_losses(losses[:1000])
    loss_view.set_losses(losses)
    (_, _), (y0, y1) = loss_view.plot.getPlotItem().getViewBox().viewRange()
    smallest = float(losses[losses > 0].min())
    assert y0 <= np.log10(smallest) < np.log10(2.0) <= y1 and y0 > np.log10(smallest) - 1
