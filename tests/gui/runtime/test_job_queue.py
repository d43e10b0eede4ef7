"""Jobs against user actions: data changes mid-training, requests during the warm-up, Stop
during the extraction phase, busy refusals, stale status messages, saved hyperparameters."""

from __future__ import annotations

import threading

import numpy as np
from PIL import Image

from linviz.errors import Cancelled


def quick_training(window, epochs: int) -> None:
    panel = window.training_panel
    panel.epochs_spin.setValue(epochs)
    panel.batch_spin.setValue(100)
    panel.lr_slider.setValue(1e-2)


def three_class_folder(root) -> str:
    """A tiny image folder dataset (one sub-folder per class), unlike the demo set's 6 classes."""
    rng = np.random.default_rng(0)
    for c, name in enumerate(["apple", "pear", "plum"]):
        folder = root / name
        folder.mkdir(parents=True)
        for k in range(16):
            pixels = rng.integers(0, 80, size=(32, 32, 3), dtype=np.uint8)
            pixels[..., c] += 150
            Image.fromarray(pixels).save(folder / f"{k}.png")
    return str(root)


def blocking_job(release: threading.Event, started: threading.Event | None = None):
    """A job that runs until ``release`` is set or it is cancelled (then raises Cancelled)."""

    def job(ctx):
        if started is not None:
            started.set()
        while not release.is_set():
            if ctx.cancel.wait(0.01):
                raise Cancelled("cancelled")
        return None

    return job


def train_until(qtbot, window, iterations: int) -> None:
    """Until the window has the run's frame of ``iterations`` (its views draw it only when seen)."""
    qtbot.waitUntil(lambda: window.workbench.frame is not None
                    and window.workbench.frame.snapshot.iteration >= iterations, timeout=60_000)


def test_opening_another_dataset_mid_training_stops_the_training_first(qtbot, make_window, wait_idle, tmp_path):
    window = make_window("demo")
    quick_training(window, epochs=1000)
    window.training_controller.train()
    train_until(qtbot, window, 10)
    window.data_controller.load_source(three_class_folder(tmp_path / "fruit"))
    window.data_controller.extract_features()  # asked while the switch is pending: runs on the NEW data
    wait_idle(window, timeout_s=30)
    qtbot.wait(100)  # display ticks: no frame of the old run may be drawn any more

    assert window.workbench.class_names == ["apple", "pear", "plum"]
    assert window.workbench.W is None and window.workbench.frame is None
    assert window.loss_view.point_count == 0
    assert window.training_panel.train_button.isEnabled() and not window.training_panel.stop_button.isEnabled()
    assert window.training_controller.control is None
    features = window.workbench.features
    assert features is not None and features.data_key == window.workbench.data.key()
    assert not window.error_messages, window.error_messages

    # The window is consistent: training on the new data works and the model saves.
    quick_training(window, epochs=2)
    window.training_controller.train()
    wait_idle(window)
    assert window.workbench.W.shape == (features.X_train.shape[1], 3)
    window.model_files_controller.save_model(str(tmp_path / "fruit.npz"))
    assert (tmp_path / "fruit.npz").is_file(), window.error_messages


def test_demo_set_and_split_changes_mid_training_stop_it_first(qtbot, make_window, wait_idle):
    window = make_window("demo")
    quick_training(window, epochs=1000)
    window.training_controller.train()
    train_until(qtbot, window, 10)
    window.data_panel.set_split_values(300, 0)
    window.data_controller.apply_split_settings()
    wait_idle(window, timeout_s=30)
    qtbot.wait(100)
    assert len(window.workbench.data.val.labels) == 300
    assert window.workbench.W is None and window.loss_view.point_count == 0
    assert window.training_panel.train_button.isEnabled()

    window.training_controller.train()
    train_until(qtbot, window, 10)
    old = window.workbench.data
    window.data_controller.use_demo_set()
    assert window.workbench.data is old  # not switched under the running job...
    wait_idle(window, timeout_s=30)
    qtbot.wait(100)
    assert window.workbench.data is not old  # ...but once it has stopped
    assert window.workbench.W is None and window.loss_view.point_count == 0
    assert not window.error_messages, window.error_messages
    window.model_files_controller.save_model("unused.npz")
    assert window.message_label.text() == "Train a model first"


def test_requests_during_the_warmup_wait_their_turn(qtbot, make_window, wait_idle):
    window = make_window("demo")
    quick_training(window, epochs=2)
    release = threading.Event()
    assert window.job_runner.start("warmup", blocking_job(release))
    window.training_controller.train()
    window.data_controller.extract_features()
    panel = window.training_panel
    # Nothing runs yet: the buttons change when the training job really starts.
    assert panel.train_button.isEnabled() and not panel.stop_button.isEnabled()
    wait_idle(window, timeout_s=60)
    qtbot.waitUntil(lambda: not window.job_runner.busy and not window.job_queue.pending, timeout=60_000)
    assert window.workbench.W is not None and window.loss_view.point_count > 0
    assert window.workbench.features is not None
    assert panel.train_button.isEnabled() and not panel.stop_button.isEnabled() and not panel.pause_button.isEnabled()
    assert window.training_controller.control is None
    assert not window.error_messages, window.error_messages


def test_train_while_another_job_runs_keeps_the_model(make_window, wait_idle):
    window = make_window("demo")
    quick_training(window, epochs=2)
    window.training_controller.train()
    wait_idle(window)
    W = window.workbench.W
    release = threading.Event()
    assert window.job_queue.run("slow job", blocking_job(release), "Something slow")
    window.training_controller.train()
    assert window.workbench.W is W and window.loss_view.point_count > 0
    assert "Busy" in window.message_label.text()
    release.set()
    wait_idle(window)
    assert window.workbench.W is W
    assert "Busy" not in window.message_label.text()  # stale once that job has ended


def test_stop_during_the_extraction_phase_cancels_it_and_keeps_the_model(qtbot, make_window, wait_idle, monkeypatch):
    from linviz.workbench import jobs

    window = make_window("demo")
    quick_training(window, epochs=2)
    window.training_controller.train()
    wait_idle(window)
    W = window.workbench.W
    real_extract = jobs.extract_features
    started = threading.Event()

    def slow_extract(prepared, spec_text, ctx, allocate=None):
        started.set()
        if ctx.cancel.wait(20):  # a long extraction that honours its cancel flag
            raise Cancelled("extraction cancelled")
        return real_extract(prepared, spec_text, ctx, allocate)

    monkeypatch.setattr(jobs, "extract_features", slow_extract)
    window.features_panel.set_spec_text("hue:bins=12")  # other features: Train extracts first
    window.training_controller.train()
    qtbot.waitUntil(started.is_set, timeout=10_000)
    window.training_panel.stop_button.click()
    wait_idle(window, timeout_s=5)
    qtbot.wait(100)
    assert window.workbench.W is W  # no 0-iteration model of random weights
    assert window.loss_view.point_count > 0  # the old curves stay with the old model
    assert window.training_panel.train_button.isEnabled()
    assert not window.error_messages, window.error_messages


def test_a_stopped_paused_run_leaves_no_paused_message(qtbot, make_window, wait_idle):
    window = make_window("demo")
    quick_training(window, epochs=1000)
    window.training_controller.train()
    train_until(qtbot, window, 10)
    window.training_panel.pause_button.click()
    assert window.message_label.text() == "Paused"
    window.training_panel.stop_button.click()
    wait_idle(window, timeout_s=20)
    assert "Paused" not in window.message_label.text()


def test_save_model_keeps_the_settings_it_was_trained_with(make_window, wait_idle, tmp_path):
    from linviz.models import load_model

    window = make_window("demo")
    quick_training(window, epochs=2)
    window.training_controller.train()
    wait_idle(window)
    panel = window.training_panel
    panel.lr_slider.setValue(0.5)  # changed after training: not the model's settings
    panel.epochs_spin.setValue(9)
    path = tmp_path / "model.npz"
    window.model_files_controller.save_model(str(path))
    saved = load_model(str(path)).hyperparameters
    assert saved["epochs"] == 2 and saved["learning_rate"] == 1e-2 and saved["batch_size"] == 100
    # A loaded model keeps its own settings too.
    window.training_controller.reset_model()
    window.model_files_controller.load_model(str(path))
    wait_idle(window)
    window.model_files_controller.save_model(str(tmp_path / "again.npz"))
    assert load_model(str(tmp_path / "again.npz")).hyperparameters["epochs"] == 2


def test_svm_sanity_check_is_the_cores_and_templates_caption_follows_the_blocks(make_window, wait_idle):
    window = make_window("demo")
    panel = window.training_panel
    panel.loss_box.setCurrentIndex(panel.loss_box.findData("svm"))
    panel.delta_spin.setValue(2.0)
    quick_training(window, epochs=1)
    window.features_panel.set_spec_text("hog+hue")
    window.training_controller.train()
    wait_idle(window)
    text = panel.sanity_label.text()
    assert window.workbench.frame.snapshot.sanity_check in text
    assert "(C - 1) × delta" in text
    caption = window.templates_view.caption.text()
    assert "raw pixels" not in caption and "color layout" not in caption
    assert "HOG" in caption and "hue" in caption


def test_published_values_reach_on_publish_on_the_gui_thread_newest_first_and_last_before_done(qtbot, make_window,
                                                                                             wait_idle):
    window = make_window("demo")
    wait_idle(window)
    step = threading.Event()
    seen, order = [], []

    def job(ctx):
        for value in range(1, 4):
            ctx.publish(value)
            step.wait(5)
            step.clear()
        ctx.publish(99)  # published right before the end: delivered before on_done
        return "done"

    def on_publish(value):
        assert threading.current_thread() is threading.main_thread()
        seen.append(value)
        order.append("publish")
        step.set()

    assert window.job_queue.run("publisher", job, "Publishing", on_publish=on_publish,
                            on_done=lambda outcome: order.append(outcome.result))
    wait_idle(window)
    assert seen == [1, 2, 3, 99] and order[-2:] == ["publish", "done"]
    assert not window.job_queue._publish_timer.isActive()
