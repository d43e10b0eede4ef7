"""The 2-D playground lab: its table is every point's scores and loss (checked here by hand),
each handle changes exactly its own parameters, Step follows the gradient it drew, Play keeps
its pace on a fake clock and stops on Pause, files round-trip and hostile ones leave a message,
and it is readable in a small window."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from linviz.explore import playground as pgd


def lab_of(window):
    from linviz.gui.labs.playground import PlaygroundLab

    return next(lab for lab in window.labs if isinstance(lab, PlaygroundLab))


@pytest.fixture(scope="module")
def window(qapp, tmp_path_factory):
    """One window for the module (a window takes seconds to build); each test starts the lab
    afresh (the ``lab`` fixture)."""
    from PySide6.QtCore import QSettings

    from linviz.gui import MainWindow

    settings = QSettings(str(tmp_path_factory.mktemp("playground") / "linviz.ini"), QSettings.Format.IniFormat)
    window = MainWindow("demo", settings=settings)
    window.job_queue.warmup_state = "done"  # tests compile what they use; no background warm-up
    yield window
    window.shutdown()
    assert not window.job_runner.threads_running(), "the compute thread outlived its window"
    window.close()
    window.deleteLater()


@pytest.fixture
def lab(window, wait_quick):
    lab = lab_of(window)
    window.view_tabs.setCurrentWidget(lab)
    window.resize(1366, 768)
    window.show()
    lab.pause()
    lab.bar.pacer.clock = __import__("time").monotonic
    lab.set_state(pgd.new_state())  # the demo's points, W and b; no undo, no history
    lab._undo.clear()
    lab.bar.undo_button.setEnabled(False)
    lab.bar.status.clear()
    window.error_messages.clear()
    wait_quick(window)  # the compiled losses load on the quick lane, then the landscape
    assert lab.evaluation is not None
    lab.window_ = window
    return lab


def table_values(lab) -> tuple[np.ndarray, np.ndarray]:
    """(scores (N, C), L_i (N,)) as the table shows them."""
    model = lab.table.points_model
    C = lab.state.n_classes
    scores = np.array([[float(model.data(model.index(r, 5 + j))) for j in range(C)] for r in range(model.rowCount())])
    losses = np.array([float(model.data(model.index(r, 4))) for r in range(model.rowCount())])
    return scores, losses


def svm_by_hand(points, labels, W, b, delta=1.0):
    scores = points @ W.T + b
    correct = scores[np.arange(len(labels)), labels][:, None]
    hinge = np.maximum(0.0, scores - correct + delta)
    hinge[np.arange(len(labels)), labels] = 0.0
    return scores, hinge.sum(axis=1)


def test_the_table_is_every_points_scores_and_loss_and_follows_a_drag(lab):
    state = lab.state
    scores, losses = svm_by_hand(state.points, state.labels, state.W, state.b)
    shown_scores, shown_losses = table_values(lab)
    np.testing.assert_allclose(shown_scores, scores, atol=0.006)
    np.testing.assert_allclose(shown_losses, losses, atol=6e-4)
    total = losses.mean() + 0.1 * np.sum(state.W ** 2)
    assert f"total {total:.4f}" in lab.totals.text()
    assert lab.table.objectName() == "playgroundTable" and lab.objectName() == "playgroundView"
    # drag point 4 (the lab's own drag handler): the table follows at once
    lab.plane.points_item.pointMoved.emit(4, 1.0, -0.8)
    assert lab.state.points[4].tolist() == [1.0, -0.8]
    scores, losses = svm_by_hand(lab.state.points, lab.state.labels, state.W, state.b)
    np.testing.assert_allclose(table_values(lab)[1], losses, atol=6e-4)
    assert float(lab.table.points_model.data(lab.table.points_model.index(4, 1))) == 1.0
    rings = [pen.widthF() > 2 for pen in lab.plane.points_item.data["pen"]]
    assert rings == list(losses > 0)  # the margin violators are ringed


def pixel(lab, x, y):
    return lab.plane.mapFromScene(lab.plane.view.mapViewToScene(QPointF(x, y)))


def mouse_drag(lab, qtbot, start, end, steps=8):
    """A real press, moves and release on the plane (pyqtgraph's drags are its own, not Qt's
    drag and drop: they can be driven with mouse events)."""
    viewport = lab.plane.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pixel(lab, *start))
    for k in range(1, steps + 1):
        t = k / steps
        QTest.mouseMove(viewport, pixel(lab, start[0] + t * (end[0] - start[0]), start[1] + t * (end[1] - start[1])))
        qtbot.wait(2)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pixel(lab, *end))


def test_mouse_drags_move_a_point_a_tip_and_a_line_and_nothing_else(lab, qtbot):
    from linviz.gui.labs._playground.items import ARROW_SCALE, line_foot

    before = lab.state
    mouse_drag(lab, qtbot, pgd.DEMO_POINTS[0], (0.8, -0.1))
    np.testing.assert_allclose(lab.state.points[0], [0.8, -0.1], atol=0.02)
    np.testing.assert_array_equal(lab.state.points[1:], before.points[1:])
    assert np.array_equal(lab.state.W, before.W) and np.array_equal(lab.state.b, before.b)

    tip = line_foot(before.W[0], before.b[0]) + ARROW_SCALE * before.W[0]
    mouse_drag(lab, qtbot, tip, tip + [0.2, -0.1])
    np.testing.assert_allclose(lab.state.W[0], before.W[0] + [0.8, -0.4], atol=0.1)
    np.testing.assert_array_equal(lab.state.W[1:], before.W[1:])
    np.testing.assert_array_equal(lab.state.b, before.b)

    W = lab.state.W
    on_line = np.array([0.0, 1.0]) * (-before.b[2] + 0.4 * -W[2, 0]) / W[2, 1] + [0.4, 0.0]  # w2 . p + b2 = 0
    assert W[2] @ on_line + before.b[2] == pytest.approx(0.0, abs=1e-12)
    mouse_drag(lab, qtbot, on_line, on_line + [0.3, 0.0])
    assert lab.state.b[2] == pytest.approx(before.b[2] - W[2, 0] * 0.3, abs=0.06)
    np.testing.assert_array_equal(lab.state.W, W)
    np.testing.assert_array_equal(lab.state.b[:2], before.b[:2])
    assert len(lab.state.labels) == 9  # no drag and no click on a handle added a point
    qtbot.mouseClick(lab.plane.viewport(), Qt.MouseButton.LeftButton, pos=pixel(lab, *(on_line + [0.3, 0.0])))
    assert len(lab.state.labels) == 9


def test_dragging_a_tip_changes_only_that_classes_weights(lab):
    from linviz.gui.labs._playground.items import ARROW_SCALE, line_foot

    before = lab.state
    foot = line_foot(before.W[1], before.b[1])
    lab.plane.handles[1].tip.setPos(0.9, 0.6)
    lab.plane.handles[1].tip.setPos(1.1, 0.4)  # the same drag goes on: the arrow's base stays put
    expected = (np.array([1.1, 0.4]) - foot) / ARROW_SCALE
    np.testing.assert_allclose(lab.state.W[1], expected)
    np.testing.assert_array_equal(np.delete(lab.state.W, 1, axis=0), np.delete(before.W, 1, axis=0))
    np.testing.assert_array_equal(lab.state.b, before.b)
    np.testing.assert_array_equal(lab.state.points, before.points)
    assert lab.tabs.param_spins["w1x"].value() == pytest.approx(expected[0], abs=0.005)
    lab.plane.handles[1].tip.sigPositionChangeFinished.emit(lab.plane.handles[1].tip)
    lab.undo()  # the whole drag is one undo step
    np.testing.assert_array_equal(lab.state.W, before.W)


def test_dragging_a_line_changes_only_its_bias_and_moves_it_parallel(lab):
    before = lab.state
    p = np.array([0.3, -0.7])
    lab.plane.handles[2].line.setPos(p)
    w = before.W[2]
    assert lab.state.b[2] == pytest.approx(-(w @ p))
    assert w @ p + lab.state.b[2] == pytest.approx(0.0, abs=1e-12)  # the line now passes through p
    np.testing.assert_array_equal(lab.state.W, before.W)
    np.testing.assert_array_equal(np.delete(lab.state.b, 2), np.delete(before.b, 2))
    angle = lab.plane.handles[2].line.angle
    assert np.cos(np.radians(angle)) * w[0] + np.sin(np.radians(angle)) * w[1] == pytest.approx(0.0, abs=1e-9)


def test_spin_boxes_set_exact_values_and_reset_restores_the_start(lab):
    lab.tabs.param_spins["b0"].setValue(0.75)
    assert lab.state.b[0] == 0.75 and lab.state.W.tolist() == pgd.DEMO_W.tolist()
    lab.randomize()
    assert not np.array_equal(lab.state.W, pgd.DEMO_W)
    lab.reset()
    np.testing.assert_array_equal(lab.state.W, pgd.DEMO_W)
    np.testing.assert_array_equal(lab.state.b, pgd.DEMO_B)
    assert lab.state.iteration == 0
    lab.undo()
    lab.undo()
    assert lab.state.b[0] == 0.75


def test_a_click_adds_a_point_of_the_chosen_class_and_a_right_click_removes_one(lab, qtbot):
    view, plane = lab.plane.view, lab.plane
    lab.tabs.add_class_box.setCurrentIndex(2)
    where = QPointF(0.9, 0.9)
    pixel = plane.mapFromScene(view.mapViewToScene(where))
    qtbot.mouseClick(plane.viewport(), Qt.MouseButton.LeftButton, pos=pixel)
    assert len(lab.state.labels) == 10 and lab.state.labels[-1] == 2
    np.testing.assert_allclose(lab.state.points[-1], [0.9, 0.9], atol=0.02)
    assert lab.table.points_model.rowCount() == 10
    first = QPointF(*pgd.DEMO_POINTS[0])
    qtbot.mouseClick(plane.viewport(), Qt.MouseButton.RightButton, pos=plane.mapFromScene(view.mapViewToScene(first)))
    assert len(lab.state.labels) == 9
    np.testing.assert_array_equal(lab.state.points[0], pgd.DEMO_POINTS[1])


def test_step_follows_the_gradient_drawn_before_it(lab, qtbot):
    from linviz.gui.labs._playground.items import ARROW_SCALE, line_foot

    state = lab.state
    _, dW, db = pgd.playground_loss(state.points, state.labels, state.W, state.b, loss="svm", reg=0.1)
    for j, handles in enumerate(lab.plane.handles):  # drawn before Step: −dW_j at each arrow's tip
        tip = line_foot(state.W[j], state.b[j]) + ARROW_SCALE * state.W[j]
        xs, ys = handles.grad_w.getData()
        np.testing.assert_allclose([xs[0], ys[0]], tip, atol=1e-12)
        np.testing.assert_allclose([xs[1], ys[1]], tip - ARROW_SCALE * dW[j], atol=1e-12)
        assert handles.grad_w.isVisible()
    qtbot.mouseClick(lab.bar.step_button, Qt.MouseButton.LeftButton)
    np.testing.assert_allclose(lab.state.W, state.W - 0.1 * dW)
    np.testing.assert_allclose(lab.state.b, state.b - 0.1 * db)
    assert lab.state.iteration == 1 and "Iteration 1" in lab.bar.iteration_label.text()
    xs, ys = lab.plots.loss_curve.getData()
    assert list(xs) == [0, 1] and ys[1] < ys[0]
    assert len(lab.plots.path_curve.getData()[0]) == 2  # the landscape's path: before and after


def test_steps_reach_full_accuracy_on_the_demo_with_the_defaults(lab, wait_quick):
    lab.advance(300)
    assert lab.evaluation.accuracy == 1.0 and "accuracy 9/9 (100%)" in lab.totals.text()
    wait_quick(lab.window_)
    assert lab.plots.landscape is not None and len(lab.plots.path_curve.getData()[0]) == 301


def test_play_keeps_its_pace_on_a_fake_clock_and_stops_on_pause(lab, qtbot):
    now = [50.0]
    lab.bar.pacer.clock = lambda: now[0]
    lab.bar.pace_spin.setValue(4.0)
    lab.bar.play_timer.stop()  # the test is the clock: ticks are called by hand
    lab.bar.pacer.set_pace(4.0)
    qtbot.mouseClick(lab.bar.play_button, Qt.MouseButton.LeftButton)
    assert lab.playing and lab.bar.play_button.text() == "Pause" and lab.bar.play_timer.isActive()
    lab.bar.play_timer.stop()
    for _ in range(25):  # 2.5 s
        now[0] += 0.1
        lab.bar.tick()
    assert lab.state.iteration == 10
    qtbot.mouseClick(lab.bar.play_button, Qt.MouseButton.LeftButton)  # Pause
    assert not lab.playing and not lab.bar.play_timer.isActive()
    for _ in range(20):
        now[0] += 0.1
        lab.bar.tick()
    assert lab.state.iteration == 10
    lab.undo()  # a whole run is one undo step
    assert lab.state.iteration == 0


def test_a_hidden_lab_stops_playing_and_computes_nothing(lab, wait_quick):
    window = lab.window_
    lab.play()
    window.view_tabs.setCurrentIndex(0)
    assert not lab.playing
    done = window.job_runner.quick.completed
    evaluation = lab.evaluation
    lab.set_param("w0x", 2.5)
    wait_quick(window)
    assert lab.evaluation is evaluation and window.job_runner.quick.completed == done
    window.view_tabs.setCurrentWidget(lab)
    wait_quick(window)
    assert lab.evaluation is not evaluation and lab.state.W[0, 0] == 2.5


def test_rings_say_why_a_linear_model_cannot_separate_them(lab):
    assert not lab.note.isVisible()
    assert lab.tabs.count_label.text() == "9" and lab.tabs.noise_label.text() == "—"  # the demo's fixed points
    lab.tabs.preset_box.setCurrentIndex(lab.tabs.preset_box.findData("rings"))
    lab.tabs.preset_box.activated.emit(lab.tabs.preset_box.currentIndex())
    assert lab.state.settings.preset == "rings" and lab.note.isVisible()
    assert "cannot separate rings" in lab.note.text() and "convex" in lab.note.text()
    assert lab.tabs.count_label.text() == str(lab.state.settings.n_points) and lab.tabs.noise_slider.isEnabled()


def test_more_classes_and_another_loss_rebuild_the_handles_table_and_bands(lab):
    lab.tabs.preset_box.setCurrentIndex(lab.tabs.preset_box.findData("blobs"))
    lab.tabs.preset_box.activated.emit(lab.tabs.preset_box.currentIndex())
    lab.tabs.classes_spin.setValue(5)
    assert lab.state.n_classes == 5 and len(lab.plane.handles) == 5 and len(lab.tabs.param_spins) == 15
    assert lab.table.points_model.columnCount() == 10 and lab.table.points_model.rowCount() == 60
    assert lab.plots.x_box.count() == 15
    lab.tabs.loss_box.setCurrentIndex(lab.tabs.loss_box.findData("softmax"))
    lab.tabs.loss_box.activated.emit(lab.tabs.loss_box.currentIndex())
    assert lab.state.settings.loss == "softmax" and not lab.tabs.margins_check.isEnabled()
    s = lab.state
    p = np.exp(s.points @ s.W.T + s.b)
    p /= p.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(table_values(lab)[1], -np.log(p[np.arange(60), s.labels]), atol=6e-4)


def test_save_and_load_round_trip_and_a_hostile_file_leaves_a_message(lab, tmp_path):
    lab.tabs.param_spins["w2y"].setValue(-2.25)
    path = tmp_path / "mine.json"
    assert lab.save_to(path)
    saved = lab.state
    lab.reset()
    assert lab.load_from(path)
    np.testing.assert_array_equal(lab.state.W, saved.W)
    assert lab.state.settings == saved.settings and lab.tabs.param_spins["w2y"].value() == -2.25
    hostile = tmp_path / "hostile.json"
    data = json.loads(path.read_text())
    data["points"] = [[0.0, 0.0, 0]] * 5000
    hostile.write_text(json.dumps(data))
    assert not lab.load_from(hostile)
    assert "at most 300" in lab.bar.status.text() and lab.bar.status.isVisible()
    np.testing.assert_array_equal(lab.state.W, saved.W)
    assert any("at most 300" in m for m in lab.window_.error_messages)


@pytest.mark.parametrize("size", [(1024, 700), (1366, 768), (1920, 1080)])
def test_readable_from_1024x700(lab, qtbot, size):
    window = lab.window_
    window.resize(*size)
    qtbot.wait(50)
    assert lab.plane.width() >= 280 and lab.plane.height() >= 220
    viewport = lab.table.viewport().width()
    assert lab.table.columnViewportPosition(4) + lab.table.columnWidth(4) <= viewport  # L_i in sight
    assert lab.table.height() >= 100 and lab.plots.landscape_plot.height() >= 90 and lab.plots.loss_plot.height() >= 60
    for button in (lab.bar.step_button, lab.bar.play_button, lab.bar.undo_button, lab.bar.save_button,
                   lab.bar.load_button):
        assert button.isVisible() and button.width() >= button.minimumSizeHint().width()


def test_the_landscape_follows_the_chosen_parameters(lab, wait_quick):
    lab.plots.y_box.setCurrentIndex(lab.plots.y_box.findData("w2y"))
    lab.plots.y_box.activated.emit(lab.plots.y_box.currentIndex())
    wait_quick(lab.window_)
    assert lab.state.settings.landscape == ("w0x", "w2y") and lab.plots.landscape.params == ("w0x", "w2y")
    land = lab.plots.landscape
    k = len(land.xs) // 2
    assert (land.xs[k], land.ys[k]) == (lab.state.W[0, 0], lab.state.W[2, 1])  # centred on the values now
    assert land.total[k, k] == pytest.approx(lab.evaluation.total, abs=1e-12)
    lab.plots.y_box.setCurrentIndex(lab.plots.y_box.findData("w0x"))
    lab.plots.y_box.activated.emit(lab.plots.y_box.currentIndex())
    assert lab.state.settings.landscape == ("w0x", "w2y") and lab.plots.y_box.currentData() == "w2y"
    assert "two different" in lab.bar.status.text()


def test_the_plane_is_colored_by_the_winner_and_darker_in_the_margin_bands():
    from linviz.gui.labs._playground.items import class_color, plane_rgb

    dmap = pgd.decision_map(pgd.DEMO_W, pgd.DEMO_B, (-1, 1, -1, 1), 31, loss="svm", delta=1.0)
    rgb = plane_rgb(dmap, "class", 3, margins=True)
    assert rgb.shape == (31, 31, 3) and rgb.dtype == np.uint8
    plain = plane_rgb(dmap, "class", 3, margins=False)
    outside, inside = ~dmap.in_margin, dmap.in_margin
    assert outside.any() and inside.any()
    np.testing.assert_array_equal(rgb[outside], plain[outside])
    assert np.all(rgb[inside].astype(int).sum(axis=1) < plain[inside].astype(int).sum(axis=1))
    hue = np.argmax(plain.astype(int) - 200, axis=2)  # each tint's strongest channel is its class color's
    expected = np.array([np.argmax(class_color(c)) for c in range(3)])[dmap.winner]
    np.testing.assert_array_equal(hue, expected)
    shaded = plane_rgb(pgd.decision_map(pgd.DEMO_W, pgd.DEMO_B, (-1, 1, -1, 1), 31, loss="softmax"),
                       "probability", 3, margins=False)
    assert shaded.shape == (31, 31, 3) and len(np.unique(shaded.reshape(-1, 3), axis=0)) > 3


def test_new_points_start_the_count_and_the_curve_over(lab):
    """As in TensorFlow Playground: other data, iteration 0 and an empty loss curve (not
    "Iteration 237" and the old curve's axis)."""
    for _ in range(5):
        lab.step()
    assert lab.state.iteration == 5 and len(lab.history) > 1
    tabs = lab.tabs
    tabs.preset_box.setCurrentIndex(tabs.preset_box.findData("blobs"))
    tabs.preset_box.activated.emit(tabs.preset_box.currentIndex())
    assert lab.state.settings.preset == "blobs"
    assert lab.state.iteration == 0 and "Iteration 0" in lab.bar.iteration_label.text()
    assert [i for i, _ in lab.history] == [0]  # the new points' loss at iteration 0 only
    xs, _ = lab.plots.loss_curve.getData()
    assert xs is None or len(xs) <= 1
    ticks = lab.plots.loss_plot.getPlotItem().getAxis("left")._tickLevels
    assert ticks is None or all(abs(v - lab.evaluation.total) < 1e-9 for v, _ in ticks[0])
    assert not lab.path  # no path of the old points' steps on the landscape


def test_the_legend_says_what_a_ring_means_for_the_loss_shown(lab):
    """SVM: ringed = has a loss (inside a margin); softmax: every point has a loss, ringed =
    misclassified; the margin band only where there is one."""
    lab._set_setting(loss="svm")
    assert "ringed: has a loss" in lab.legend.text() and "margin" in lab.legend.text()
    flagged = lab.evaluation.flagged
    assert np.array_equal(flagged, lab.evaluation.losses > 1e-12)
    lab._set_setting(loss="softmax")
    text = lab.legend.text()
    assert "ringed: misclassified" in text and "ringed: has a loss" not in text and "margin" not in text
    ev = lab.evaluation
    assert np.all(ev.losses > 0) and np.array_equal(ev.flagged, ev.predicted != lab.state.labels)


def test_the_separability_note_does_not_move_the_buttons(lab, qtbot):
    """The rings' "no linear classifier can" note appears beside the plane: a click meant for
    Step or Play never lands on it."""
    bar = lab.bar
    before = bar.step_button.mapTo(lab, bar.step_button.rect().topLeft())
    tabs = lab.tabs
    tabs.preset_box.setCurrentIndex(tabs.preset_box.findData("rings"))
    tabs.preset_box.activated.emit(tabs.preset_box.currentIndex())
    qtbot.wait(50)
    assert lab.note.isVisible() and lab.note.text()
    assert bar.step_button.mapTo(lab, bar.step_button.rect().topLeft()) == before
