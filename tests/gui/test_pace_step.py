"""Pace and Step in the window: a step is exactly one minibatch, a paced run ends with the
weights of a run at full speed."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton


def _settings(window, epochs=3):
    panel = window.training_panel
    panel.epochs_spin.setValue(epochs)
    panel.batch_spin.setValue(100)
    panel.lr_slider.setValue(1e-2)


def _headless_best_W(window):
    from linviz.workbench.jobs import make_training_config
    from linviz.training import train
    from linviz.training.loop import run_to_end

    data, features = window.workbench.data, window.workbench.features
    config = make_training_config(window.training_panel.settings())
    final = run_to_end(train(features.X_train, data.train.labels, features.X_val, data.val.labels, config,
                             n_classes=len(data.class_names)))
    return final


def test_step_runs_exactly_one_minibatch_then_an_epoch(qtbot, make_window, wait_idle):
    window = make_window("demo")
    window.show()  # the loss plot in sight draws each step
    _settings(window)
    pace = window.training_panel.pace
    step = window.findChild(QPushButton, "stepButton")
    qtbot.mouseClick(step, Qt.MouseButton.LeftButton)  # nothing runs: a paused run starts with one step
    qtbot.waitUntil(lambda: window.workbench.frame is not None and window.workbench.frame.snapshot.iteration >= 1,
                    timeout=60_000)
    qtbot.wait(300)
    assert window.workbench.frame.snapshot.iteration == 1
    assert window.training_controller.control.paused and window.training_panel.pause_button.text() == "Resume"
    assert window.workbench.model is not None and window.loss_view.point_count == 1
    qtbot.mouseClick(step, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.workbench.frame.snapshot.iteration == 2, timeout=10_000)
    qtbot.wait(300)
    assert window.workbench.frame.snapshot.iteration == 2
    per_epoch = -(-len(window.workbench.data.train.labels) // 100)
    pace.step_unit_box.setCurrentIndex(pace.step_unit_box.findData("epoch"))
    qtbot.mouseClick(step, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.workbench.frame.snapshot.epochs_done == 1, timeout=30_000)
    qtbot.wait(300)
    assert window.workbench.frame.snapshot.iteration == per_epoch
    assert window.accuracy_view.point_count == 1
    window.training_panel.pause_button.click()  # Resume: on to the end at full speed
    wait_idle(window)
    final = window.workbench.frame.snapshot
    assert final.done and final.iteration == 3 * per_epoch
    headless = _headless_best_W(window)
    np.testing.assert_array_equal(final.best_W, headless.best_W)
    np.testing.assert_array_equal(window.workbench.model.W, headless.best_W)


def test_a_paced_run_in_the_window_gives_the_weights_of_a_full_speed_run(qtbot, make_window, wait_idle):
    window = make_window("demo")
    _settings(window, epochs=2)
    pace = window.training_panel.pace
    pace.set_pace(200.0)
    assert pace.pace() == 200.0 and pace.pace_slider.isEnabled()
    window.training_controller.train()
    qtbot.waitUntil(lambda: window.training_controller.control is not None, timeout=60_000)
    assert window.training_controller.control.pace == 200.0
    pace.set_pace(1000.0)  # a running run follows at once
    assert window.training_controller.control.pace == 1000.0
    wait_idle(window)
    final = window.workbench.frame.snapshot
    headless = _headless_best_W(window)
    np.testing.assert_array_equal(final.best_W, headless.best_W)
    np.testing.assert_array_equal(final.losses, headless.losses)
    pace.set_pace(None)
    assert pace.pace() is None and not pace.pace_slider.isEnabled()
