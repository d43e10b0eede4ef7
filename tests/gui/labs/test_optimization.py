"""The Optimization lab on the demo set: the landscape's numbers are the loss at W, it follows
training coarsely and settles at full resolution, the race is reproducible and within its
budget, the gradient table is gradient_check's, and hidden views compute nothing."""

from __future__ import annotations

import numpy as np
import pytest


def lab_of(window):
    from linviz.gui.labs.optimization import OptimizationLab

    return next(lab for lab in window.labs if isinstance(lab, OptimizationLab))


def train_demo(window, wait_idle, loss="softmax", epochs=3, spec="hue"):
    panel = window.training_panel
    panel.loss_box.setCurrentIndex(panel.loss_box.findData(loss))
    panel.epochs_spin.setValue(epochs)
    panel.batch_spin.setValue(100)
    window.features_panel.set_spec_text(spec)
    window.training_controller.train()
    wait_idle(window)
    assert window.workbench.model is not None, window.error_messages


def show(window, view, wait_quick):
    lab = lab_of(window)
    window.view_tabs.setCurrentWidget(lab)
    lab.tabs.setCurrentWidget(view)
    window.show()
    wait_quick(window)
    return view


def test_landscape_center_is_the_models_loss_and_hover_reads_the_grid(make_window, wait_idle, wait_quick):
    from linviz.models import softmax_loss

    window = make_window("demo")
    train_demo(window, wait_idle, epochs=3)
    view = show(window, lab_of(window).landscape, wait_quick)
    view.steps_spin.setValue(11)
    wait_quick(window)
    result = view.result
    assert result is not None and result.two_d and not result.coarse
    surface = result.surfaces[0]
    assert surface.total.shape == (11, 11)
    model = window.workbench.model
    from linviz.gui.labs._optimization.landscape import features_of

    X, y, _ = view._data(coarse=False)
    X = features_of(X)
    options = model.loss_options()
    expected = softmax_loss(model.W, X, y, options["reg"], n_reg_rows=options["n_reg_rows"])[0]
    assert surface.total[5, 5] == pytest.approx(expected, rel=1e-5)
    text = view.hover(0.01, -0.02)
    assert "a = +0.000, b = +0.000" in text and f"{surface.total[5, 5]:.4f}" in text
    assert view.hover(50.0, 0.0) == ""  # outside the grid: no read-out
    # lines: one curve per direction, the center is the same loss on each
    view.mode_box.setCurrentIndex(view.mode_box.findData(False))
    view._settings_changed()
    wait_quick(window)
    assert not view.result.two_d and len(view.result.surfaces) == 4
    for line in view.result.surfaces:
        assert line.value_at(0.0)[4] == pytest.approx(expected, rel=1e-5)
    assert "random 1" in view.hover(0.0)
    assert "red ×" not in view.caption.text() and "dashed line, a = 0" in view.caption.text()


def test_the_hover_read_out_is_of_the_surface_on_screen(make_window, wait_idle, wait_quick):
    """A new surface (another model, other directions) never leaves the old read-out: it reads
    the new surface where the mouse last was, or asks to hover."""
    window = make_window("demo")
    train_demo(window, wait_idle, epochs=2)
    view = show(window, lab_of(window).landscape, wait_quick)
    view._hover_at = (0.0, 0.0)
    view.hover(0.0, 0.0)
    before = view.readout.text()
    view.seed_spin.setValue(3)  # other directions: another surface
    wait_quick(window)
    s = view.result.surfaces[0]
    assert view.readout.text() == view.hover(0.0, 0.0) and f"{s.value_at(0.0, 0.0)[4]:.4f}" in view.readout.text()
    train_demo(window, wait_idle, loss="svm", epochs=1)  # another model
    wait_quick(window)
    assert f"{view.result.surfaces[0].value_at(0.0, 0.0)[4]:.4f}" in view.readout.text()
    assert view.readout.text() != before  # the new model's loss, not the old one's
    window.workbench.clear_model()
    wait_quick(window)
    assert view.readout.text().startswith("Hover") and "Train a model" in view.hints[0].text


def test_trajectory_plane_draws_the_path(make_window, wait_idle, wait_quick):
    window = make_window("demo")
    train_demo(window, wait_idle, epochs=4)
    assert len(window.workbench.frame.trajectory) >= 4
    view = show(window, lab_of(window).landscape, wait_quick)
    view.steps_spin.setValue(9)
    view.direction_box.setCurrentIndex(view.direction_box.findData("trajectory"))
    view._settings_changed()
    wait_quick(window)
    result = view.result
    assert result.path is not None and len(result.path) >= 4
    xs, ys = view.path_curve.getData()
    np.testing.assert_allclose(xs, result.path[:, 0])
    assert "|W| away from it" in view.note.text()


def test_live_surface_follows_training_then_settles_at_full_resolution(qtbot, make_window, wait_idle, wait_quick):
    window = make_window("demo")
    train_demo(window, wait_idle, epochs=1)
    view = show(window, lab_of(window).landscape, wait_quick)
    full_before = view.full_jobs
    panel = window.training_panel
    panel.epochs_spin.setValue(100_000)  # far longer than the test: it stops the run
    panel.batch_spin.setValue(20)
    window.training_controller.train()
    qtbot.waitUntil(lambda: view.live_jobs >= 2 and view.result is not None and view.result.coarse, timeout=60_000)
    assert window.workbench.training
    assert view.result.surfaces[0].total.shape == (31, 31)
    # paused: a changed setting gets the full resolution at once
    window.training_controller.set_paused(True)
    qtbot.waitUntil(lambda: view.result is not None and not view.result.coarse, timeout=30_000)  # settled
    wait_quick(window)
    full = view.full_jobs
    view.steps_spin.setValue(13)
    wait_quick(window)
    assert view.full_jobs == full + 1 and view.result.surfaces[0].total.shape == (13, 13)
    assert not view.result.coarse
    window.training_controller.set_paused(False)
    window.training_controller.stop()
    wait_idle(window)
    wait_quick(window)
    qtbot.waitUntil(lambda: view.result is not None and not view.result.coarse, timeout=30_000)
    assert view.full_jobs > full_before
    assert view.result.W is window.workbench.model.W or np.array_equal(view.result.W, window.workbench.model.W)


def test_hidden_views_compute_nothing(make_window, wait_idle, wait_quick):
    window = make_window("demo")
    lab = lab_of(window)
    window.show()
    window.view_tabs.setCurrentIndex(0)  # the training view: the lab is hidden
    done = window.job_runner.quick.completed
    train_demo(window, wait_idle)
    wait_quick(window)
    assert window.job_runner.quick.completed == done
    assert lab.landscape.live_jobs == lab.landscape.full_jobs == 0
    assert lab.gradient_check.table_data is None and lab.race.snapshot is None
    window.view_tabs.setCurrentWidget(lab)  # the landscape tab shows: it alone computes
    wait_quick(window)
    assert lab.landscape.full_jobs == 1 and lab.gradient_check.table_data is None


def test_race_runs_on_the_heavy_lane_reproducibly(make_window, wait_idle, wait_quick, monkeypatch):
    window = make_window("demo")
    train_demo(window, wait_idle, epochs=1)
    view = show(window, lab_of(window).race, wait_quick)
    view.budget_spin.setValue(20)
    view.sample_spin.setValue(200)
    finals = []
    for _ in range(2):
        view.start()
        assert window.job_runner.job_name == "race"
        wait_idle(window)
        assert view.snapshot is not None and view.snapshot.done
        finals.append(view.snapshot)
    a, b = finals
    assert {c.strategy for c in a.curves} == {"random_search", "random_local_search", "gd", "sgd", "momentum", "adam"}
    for ca, cb in zip(a.curves, b.curves):
        np.testing.assert_array_equal(ca.loss, cb.loss)
        assert ca.examples[-1] <= 20_000
    assert view.table.rowCount() == 6
    xs, _ = view.curves[("loss", "examples", "sgd")].getData()
    np.testing.assert_array_equal(xs, a.curve("sgd").examples)
    assert "costs n" in view.notes.text()
    sgd = [c.strategy for c in a.curves].index("sgd")
    assert view.table.item(sgd, 1).text() == f"lr {a.settings.learning_rate('sgd'):g}"
    assert not view.lecture_key.isVisibleTo(view) and len(view.lecture_marks.data) == 0  # no lecture stars
    view._lecture = True  # as a race of the lecture setting draws: its figures as stars, on CIFAR-10 only
    view.draw(a)
    assert len(view.lecture_marks.data) == 0 and view.table.isColumnHidden(view.table.columnCount() - 1)
    assert "CIFAR-10's" in view.notes.text()
    with monkeypatch.context() as patch:  # the same race drawn as if on CIFAR-10's ten classes
        patch.setattr(view, "_on_cifar10", lambda: True)
        view.draw(a)
        assert len(view.lecture_marks.data) == 2 and not view.table.isColumnHidden(view.table.columnCount() - 1)
    view.seed_spin.setValue(1)  # another race: the table shows its plan, the old curves go
    wait_quick(window)
    assert view.snapshot is None and view.table.item(sgd, 2).text() == "—"
    assert len(view.lecture_marks.data) == 0
    lecture = view.preset_box.findData("lecture")
    view.preset_box.setCurrentIndex(lecture)
    view.preset_box.activated.emit(lecture)  # as a click does
    assert view.lecture_key.isVisibleTo(view)  # the stars' key comes with the lecture setting
    assert "load it" in view.lecture_key.text()  # on the demo set: where the stars would come from
    assert len(view.curves[("loss", "examples", "sgd")].getData()[0] or []) == 0


def test_race_cancel_keeps_the_curves_so_far(make_window, wait_idle, wait_quick):
    window = make_window("demo")
    train_demo(window, wait_idle, epochs=1)
    view = show(window, lab_of(window).race, wait_quick)
    view.budget_spin.setValue(100_000)
    view.start()
    from PySide6.QtWidgets import QApplication

    import time

    deadline = time.perf_counter() + 60
    while view.snapshot is None and time.perf_counter() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)
    view.stop()
    wait_idle(window)
    assert not view.running and view.snapshot is not None and not view.snapshot.done


@pytest.mark.parametrize("loss", ["softmax", "svm"])
def test_gradient_table_is_gradient_checks(make_window, wait_idle, wait_quick, loss):
    from linviz.explore.gradient_table import gradient_sweep, gradient_table
    from linviz.gui.labs._optimization.gradient_check import VERDICT_COLUMN

    window = make_window("demo")
    train_demo(window, wait_idle, loss=loss, epochs=2, spec="hue,layout:grid=2")
    view = show(window, lab_of(window).gradient_check, wait_quick)
    sweep = view.sweep_data
    # h = 1e-2: the softmax has no kink to cross (none marked); the SVM's hinges are crossed
    view.h_box.setCurrentIndex(view.h_box.findData(1e-2))
    view.check()
    wait_quick(window)
    assert view.sweep_data is sweep  # a new h only moves the mark: the sweep is not computed again
    assert view.h_line.value() == pytest.approx(-2.0)
    table = view.table_data
    model = window.workbench.model
    n = min(100, model.W.size)  # hue: 11 x 6 weights
    assert table is not None and table.h == 1e-2 and view.table.rowCount() == len(table.rows) == n
    X, y = window.workbench.features.X_train, window.workbench.data.train.labels
    again = gradient_table(model.W, X, y, h=table.h, **model.loss_options())
    np.testing.assert_allclose([r.rel_error for r in table.rows], [r.rel_error for r in again.rows])
    verdicts = [view.table.item(r, VERDICT_COLUMN).text() for r in range(view.table.rowCount())]
    if loss == "softmax":
        assert "kink" not in verdicts and table.result.n_kinks == 0
    else:
        assert "kink" in verdicts and table.result.max_rel_error_smooth < 1e-6
    assert int(sum(view.bars.opts["height"]) + sum(view.kink_bars.opts["height"])) == n
    # the sweep: computed off the GUI thread for the same weights and minibatch, drawn log-log
    expected = gradient_sweep(model.W, X, y, **model.loss_options())
    np.testing.assert_allclose(sweep.median_rel_error, expected.median_rel_error, equal_nan=True)
    xs, ys = view.sweep_curve.getData()
    assert len(xs) == 10 and view.sweep_plot.getPlotItem().ctrl.logXCheck.isChecked()
    if loss == "softmax":  # the V: truncation at large h, rounding at tiny h, lowest in between
        med = dict(zip(sweep.steps, sweep.median_rel_error))
        assert med[1e-2] > 100 * med[1e-5] and med[1e-10] > 100 * med[1e-5]
        assert "lowest at h" in view.sweep_note.text()
