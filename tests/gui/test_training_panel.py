"""The Model and training panel: every TrainingConfig setting has a control, the recommended
defaults follow the features, loss and optimizer, the result says which weights were kept,
and the test split is scored only on request."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def panel(qtbot):
    from linviz.gui.panels.training_panel import TrainingPanel

    widget = TrainingPanel()
    qtbot.addWidget(widget)
    return widget


def choose(box, data) -> None:
    box.setCurrentIndex(box.findData(data))


def test_every_optimizer_of_the_core_is_offered(panel):
    from linviz.training.optimizers import OPTIMIZERS

    offered = [panel.optimizer_box.itemData(i) for i in range(panel.optimizer_box.count())]
    assert offered == list(OPTIMIZERS)
    choose(panel.optimizer_box, "random_local_search")
    assert panel.search_step_slider.isEnabled() and panel.search_sample_spin.isEnabled()
    assert not panel.lr_slider.isEnabled() and not panel.momentum_spin.isEnabled()
    choose(panel.optimizer_box, "adam")
    assert panel.beta1_spin.isEnabled() and not panel.search_step_slider.isEnabled()


def test_the_advanced_settings_reach_the_training_config(panel):
    from linviz.workbench.jobs import make_training_config

    assert panel.advanced.objectName() == "advancedSection"
    panel.apply_settings({"lr_decay": 0.5, "momentum": 0.8, "adam_beta1": 0.85, "adam_beta2": 0.99,
                          "init_scale": 0.01, "elastic_beta": 2.0, "seed": 7, "early_stopping": 3,
                          "search_step": 0.1, "search_sample": 500})
    config = make_training_config(panel.settings())
    assert (config.lr_decay, config.momentum, config.adam_beta1, config.adam_beta2) == (0.5, 0.8, 0.85, 0.99)
    assert (config.init_scale, config.elastic_beta, config.seed, config.early_stopping) == (0.01, 2.0, 7, 3)
    assert (config.search_step, config.search_sample) == (0.1, 500)
    panel.early_spin.setValue(0)
    assert make_training_config(panel.settings()).early_stopping is None
    refused = panel.apply_settings({"seed": -1, "adam_beta2": float("nan"), "momentum": "0.9"})
    assert len(refused) == 3 and panel.seed_spin.value() == 7


def test_recommended_values_follow_features_loss_and_optimizer(panel):
    from linviz.training import recommended_settings

    panel.set_features("raw")
    expected = recommended_settings("raw", "softmax", "sgd")
    assert panel.lr_slider.value() == expected["learning_rate"]  # 0.0098 exactly, not the slider's 0.01
    assert panel.decay_spin.value() == pytest.approx(expected["lr_decay"])
    assert "Recommended: learning rate 0.0098" in panel.recommended_label.text()
    choose(panel.loss_box, "svm")
    assert panel.lr_slider.value() == recommended_settings("raw", "svm", "sgd")["learning_rate"]
    choose(panel.optimizer_box, "gd")
    assert panel.epochs_spin.value() == recommended_settings("raw", "svm", "gd")["epochs"]

    # A value set by hand stays when the recommendation changes, and the panel says so.
    panel.epochs_spin.setValue(33)
    panel.set_features("best")
    assert panel.epochs_spin.value() == 33
    assert panel.lr_slider.value() == recommended_settings("best", "svm", "gd")["learning_rate"]
    assert "Set by hand" in panel.recommended_label.text() and "epochs 33" in panel.recommended_label.text()
    assert panel.recommended_button.isEnabled()
    panel.use_recommended()
    assert panel.epochs_spin.value() == recommended_settings("best", "svm", "gd")["epochs"]
    assert "Set by hand" not in panel.recommended_label.text()


def test_settings_are_locked_while_training(panel):
    panel.set_running(True)
    assert not panel.model_box.isEnabled() and not panel.advanced.isEnabled()
    assert panel.locked_label.isVisibleTo(panel) and "locked" in panel.locked_label.text()
    panel.set_running(False)
    assert panel.model_box.isEnabled() and not panel.locked_label.isVisibleTo(panel)


def test_reset_and_score_on_test_need_a_model(make_window, wait_idle, qtbot):
    window = make_window("demo")
    panel = window.training_panel
    assert not panel.reset_button.isEnabled() and not panel.test_button.isEnabled()
    panel.epochs_spin.setValue(2)
    window.training_controller.train()
    wait_idle(window)
    assert panel.reset_button.isEnabled() and panel.test_button.isEnabled()
    assert "Kept: the weights of epoch" in panel.result_label.text()

    model = window.workbench.model
    panel.test_button.click()
    qtbot.waitUntil(lambda: "Test accuracy" in panel.test_label.text(), timeout=30_000)
    data = window.workbench.data
    expected = np.mean(np.argmax(model.features.X_test @ model.W, axis=1) == data.test.labels)
    assert f"{expected:.1%}" in panel.test_label.text()
    assert window.workbench.model.test_accuracy == pytest.approx(expected)
    assert window.workbench.model.evaluation is model.evaluation  # validation results untouched

    panel.reset_button.click()
    assert window.workbench.model is None and panel.test_label.text() == ""
    assert not panel.reset_button.isEnabled() and not panel.test_button.isEnabled()
    assert "accuracy" not in window.confusion_view.caption.text()  # no stale header after Reset


def test_no_validation_split_says_the_last_weights_were_kept(make_window, wait_idle):
    window = make_window("demo")
    window.data_panel.set_split_values(0, 0)
    window.data_controller.apply_split_settings()
    wait_idle(window)
    window.training_panel.epochs_spin.setValue(2)
    window.training_controller.train()
    wait_idle(window)
    assert "Kept: the last weights (no validation data)" in window.training_panel.result_label.text()


def test_random_local_search_in_the_window_shows_its_fixed_sample(make_window, wait_idle):
    window = make_window("demo")
    panel = window.training_panel
    choose(panel.optimizer_box, "random_local_search")
    panel.search_sample_spin.setValue(300)
    window.training_controller.train()
    wait_idle(window)
    assert not window.error_messages, window.error_messages
    text = panel.result_label.text()
    assert "Search: every step judged on the same 300" in text, text
    assert "judged on the same 300" in panel.rate_label.text()
    losses = window.workbench.frame.snapshot.losses
    assert np.all(np.diff(losses) <= 1e-6)  # judged on one sample: the reported loss never rises


def test_the_rate_is_the_recent_one_not_the_average_since_the_start(qtbot):
    from types import SimpleNamespace

    from linviz.gui.panels.training_panel import TrainingPanel
    from linviz.workbench import TrainingFrame, Workbench

    panel = TrainingPanel(Workbench())
    qtbot.addWidget(panel)

    def frame(elapsed, iteration, done=False):
        average = iteration / elapsed
        snap = SimpleNamespace(elapsed=elapsed, iteration=iteration, epoch=iteration / 100,
                               iterations_per_second=average, samples_per_second=200 * average, done=done,
                               search_note=None, sanity_check="ok", stop_reason="", val_accuracies=(),
                               best_val_accuracy=None, kept=None)
        return TrainingFrame(snap, None, run=1)

    t, it = 0.0, 0
    for _ in range(50):  # 5 s at 100 iterations/s
        t, it = t + 0.1, it + 10
        panel._on_frame(frame(t, it))
    for _ in range(12):  # then 1.2 s at 1,000 iterations/s
        t, it = t + 0.1, it + 100
        panel._on_frame(frame(t, it))
    panel._show_frame_rates(frame(t, it))
    text = panel.rate_label.text()
    assert "1,000 iterations/s" in text and "200,000 samples/s" in text, text  # the average is 262


def test_every_value_the_panel_can_hold_is_one_the_run_store_accepts(panel):
    """What the window trains with is recorded; what is recorded must read back: every
    widget's range lies within the bounds TrainingConfig and the run store check."""
    from linviz.limits import TRAINING_SETTINGS

    widgets = dict(panel._fields, seed=panel.seed_spin, early_stopping=panel.early_spin, adam_beta1=panel.beta1_spin,
                   adam_beta2=panel.beta2_spin, init_scale=panel.init_slider, elastic_beta=panel.elastic_spin,
                   delta=panel.delta_spin)
    for key, widget in widgets.items():
        for value in (widget.minimum(), widget.maximum()):
            if key == "early_stopping" and value == 0:
                continue  # 0 shows "off": no early stopping (None)
            assert TRAINING_SETTINGS[key].problem(value) is None, (key, value)
