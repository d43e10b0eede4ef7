"""The window end to end on the demo set: extract, train, live views, drops, stop and close."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QWidget

OBJECT_NAMES = ["trainButton", "pauseButton", "stopButton", "lossPlot", "accuracyPlot", "templatesView",
                "probabilitiesView", "confusionView", "galleryView", "dropZone"]


def quick_training(window, epochs: int) -> None:
    panel = window.training_panel
    panel.epochs_spin.setValue(epochs)
    panel.batch_spin.setValue(100)
    panel.lr_slider.setValue(1e-2)


def test_key_widgets_have_object_names(make_window):
    window = make_window("demo")
    for name in OBJECT_NAMES:
        assert window.findChild(QWidget, name) is not None, name
    assert window.acceptDrops()
    assert window.workbench.data is not None and window.banner.isVisibleTo(window)


def test_extract_train_and_live_views(qtbot, make_window, wait_idle, drop_paths, tmp_path):
    window = make_window("demo")
    window.data_controller.extract_features()
    wait_idle(window)
    features = window.workbench.features
    assert features is not None and features.X_train.shape[0] == len(window.workbench.data.train.labels)
    assert "images in" in window.features_panel.timing_label.text()

    quick_training(window, epochs=16)  # 1,600 training images / 100 per batch = 256 iterations
    qtbot.mouseClick(window.findChild(QPushButton, "trainButton"), Qt.MouseButton.LeftButton)
    assert window.job_runner.busy
    wait_idle(window)
    assert not window.error_messages, window.error_messages

    assert window.loss_view.point_count >= 200
    x, y = window.loss_view.raw_curve.getData()
    assert len(y) == window.loss_view.point_count and np.all(np.isfinite(y))
    assert window.accuracy_view.point_count == 16
    assert window.templates_view.tile_count >= len(window.workbench.class_names)
    assert window.templates_view.mosaic.image.image is not None
    probabilities = window.probabilities_view.values
    assert window.probabilities_view.kind == "probabilities"
    assert probabilities.shape == (len(window.workbench.class_names),)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-4)
    counts = window.confusion_view.counts
    assert counts is not None and counts.sum() == len(window.workbench.data.val.labels)
    assert "ln C" in window.training_panel.sanity_label.text()
    assert "iterations/s" in window.training_panel.rate_label.text()

    # Clicking a confusion cell filters the gallery to those validation images.
    true_class, predicted = np.unravel_index(np.argmax(counts - np.diag(np.diag(counts))), counts.shape)
    window.confusion_view.cellClicked.emit(int(true_class), int(predicted))
    shown = window.gallery_view.shown_indices
    assert len(shown) == min(96, counts[true_class, predicted])
    assert np.all(window.workbench.data.val.labels[shown] == true_class)

    # A dropped image gets probabilities that sum to 1.
    path = tmp_path / "my photo.png"
    Image.fromarray(window.workbench.data.val.images[0]).resize((64, 48)).save(path)
    drop_paths(window, [path])
    assert window.user_images_view.count() == 1
    assert window.probabilities_view.values.sum() == pytest.approx(1.0, abs=1e-4)
    assert "my photo.png" in window.probabilities_view.caption.text()
    assert "%" in window.user_images_view.list.item(0).text()


def test_train_in_one_click_with_svm_scores(make_window, wait_idle):
    window = make_window("demo")
    window.training_panel.loss_box.setCurrentIndex(window.training_panel.loss_box.findData("svm"))
    quick_training(window, epochs=2)
    window.training_controller.train()  # no features yet: the job extracts them first
    wait_idle(window)
    assert window.workbench.features is not None
    assert window.loss_view.point_count > 0
    assert window.probabilities_view.kind == "scores"
    assert "C - 1" in window.training_panel.sanity_label.text()


def test_bad_drop_is_reported_not_fatal(make_window, drop_paths, tmp_path):
    window = make_window("demo")
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not an image")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    good = tmp_path / "good.png"
    Image.fromarray(np.full((20, 20, 3), 200, np.uint8)).save(good)
    drop_paths(window, [text_file, broken, good])
    assert window.user_images_view.count() == 1
    message = window.message_label.text()
    assert "skipped 2" in message and "broken.png" in message
    assert window.error_messages


def test_stop_mid_training_then_close_without_warnings(qtbot, make_window, wait_idle, qtlog):
    window = make_window("demo")
    quick_training(window, epochs=1000)
    window.training_controller.train()
    qtbot.waitUntil(lambda: window.workbench.frame is not None and window.workbench.frame.snapshot.iteration >= 30,
                    timeout=60_000)
    window.training_panel.pause_button.click()
    assert window.training_controller.control.paused
    qtbot.mouseClick(window.findChild(QPushButton, "stopButton"), Qt.MouseButton.LeftButton)
    wait_idle(window, timeout_s=20)
    assert window.training_panel.train_button.isEnabled()
    assert window.workbench.W is not None  # stopping keeps the weights
    window.close()
    assert not window.job_runner.threads_running()
    noisy = [r for r in qtlog.records if r.type.name in ("QtWarningMsg", "QtCriticalMsg", "QtFatalMsg")
             and "propagateSizeHints" not in r.message]
    assert not noisy, [r.message for r in noisy]


def test_close_while_training_stops_the_worker(qtbot, make_window):
    window = make_window("demo")
    quick_training(window, epochs=1000)
    window.training_controller.train()
    qtbot.waitUntil(lambda: window.workbench.frame is not None and window.workbench.frame.snapshot.iteration >= 10,
                    timeout=60_000)
    window.close()
    assert not window.job_runner.threads_running()


def test_settings_persist(make_window, settings):
    first = make_window("demo")
    first.training_panel.epochs_spin.setValue(7)
    first.features_panel.set_spec_text("hue:bins=12")
    first.shutdown()
    from linviz.settings_file import SettingsFile

    second = make_window("demo", settings=SettingsFile(settings.fileName()))  # read back from the file
    assert second.settings.problem is None
    from PySide6.QtCore import QByteArray

    from linviz.gui.window_settings import SETTINGS_VERSION

    state = second.settings.value("window/state")  # the layout: bytes, round trip through JSON
    assert isinstance(state, bytes) and second.restoreState(QByteArray(state), SETTINGS_VERSION)
    assert second.training_panel.epochs_spin.value() == 7
    assert second.features_panel.spec_text() == "hue:bins=12"


def test_save_and_load_model_round_trip(make_window, wait_idle, tmp_path):
    window = make_window("demo")
    quick_training(window, epochs=2)
    window.training_controller.train()
    wait_idle(window)
    W = window.workbench.W.copy()
    path = tmp_path / "demo-model.npz"
    window.model_files_controller.save_model(str(path))
    assert path.is_file(), window.error_messages
    window.training_controller.reset_model()
    assert window.workbench.W is None and window.confusion_view.counts is None
    window.model_files_controller.load_model(str(path))
    wait_idle(window)
    assert not window.error_messages, window.error_messages
    np.testing.assert_allclose(window.workbench.W, W, rtol=1e-6)
    assert window.confusion_view.counts.sum() == len(window.workbench.data.val.labels)
    assert window.probabilities_view.values.sum() == pytest.approx(1.0, abs=1e-4)


def test_a_failed_download_offers_a_retry(make_window, wait_idle, monkeypatch):
    import linviz.data
    from linviz.errors import DatasetError

    def failing_download(**kwargs):
        kwargs["progress"](1_000_000, 170_498_071)
        raise DatasetError("www.cs.toronto.edu: connection refused")

    monkeypatch.setattr(linviz.data, "download_cifar10", failing_download)
    window = make_window("demo")
    window.banner.download_button.click()
    wait_idle(window)
    assert "connection refused" in window.banner.text.text()
    assert window.banner.download_button.isVisibleTo(window) and "Retry" in window.banner.download_button.text()
    assert window.workbench.data is not None  # still on the demo set, still usable
    assert any("connection refused" in m for m in window.error_messages)


def test_a_bad_source_is_reported_and_the_demo_set_stays(make_window, wait_idle, tmp_path):
    window = make_window(str(tmp_path / "no-such-folder"))
    wait_idle(window)
    assert window.error_messages and "no-such-folder" in window.error_messages[-1]
    assert window.workbench.data is not None


def test_drops_on_child_widgets_reach_the_window(make_window, wait_quick, tmp_path):
    from PySide6.QtCore import QMimeData, QPoint, QPointF, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    window = make_window("demo")
    path = tmp_path / "dropped on a child.png"
    Image.fromarray(np.full((24, 24, 3), 90, np.uint8)).save(path)
    targets = [window.features_panel.spec_edit, window.gallery_view.mosaic.viewport(),
               window.user_images_view.list.viewport()]
    for target in targets:
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path))])
        mime.setText(str(path))  # file managers send the path as text too: a line edit would paste it
        enter = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(target, enter)
        drop = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                          Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(target, drop)
    wait_quick(window)
    assert window.user_images_view.count() == len(targets)
    assert "dropped" not in window.features_panel.spec_text()


def test_selected_image_glyphs_follow_the_hog_settings(make_window):
    window = make_window("demo")
    window.gallery_view.select("validation", 0)
    panel = window.features_panel
    panel.block_box("hog").setChecked(True)
    panel.param_widget("hog", "cell").setValue(4)
    assert "4 px cells" in panel.image_caption.text()
    first = panel.glyph_item.image.copy()
    panel.param_widget("hog", "cell").setValue(8)
    assert "8 px cells" in panel.image_caption.text()
    assert not np.array_equal(first, panel.glyph_item.image)


def test_a_one_class_folder_says_why_it_cannot_train(make_window, wait_idle, tmp_path):
    folder = tmp_path / "one" / "cats"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    window = make_window(str(tmp_path / "one"))
    wait_idle(window)
    assert "at least 2" in window.error_messages[-1] and "cats" in window.error_messages[-1]
    count = len(window.error_messages)
    window.training_controller.train()
    wait_idle(window)
    assert len(window.error_messages) == count + 1 and "at least 2" in window.error_messages[-1]
    assert window.findChild(QPushButton, "trainButton").isEnabled()


def test_no_validation_images_means_no_validation_split(make_window, wait_idle):
    window = make_window("demo")
    window.data_panel.set_split_values(0, 0)
    window.data_controller.apply_split_settings()
    wait_idle(window)
    data = window.workbench.data
    assert len(data.val.labels) == 0 and len(data.train.labels) == len(data.dataset.train.labels)
    assert "No validation split" in window.data_panel.sizes_label.text()
    quick_training(window, epochs=2)
    window.training_controller.train()
    wait_idle(window)
    assert not window.error_messages, window.error_messages
    assert window.workbench.model is not None and window.workbench.model.evaluation is None  # nothing scored on test
    assert "no validation split" in window.confusion_view.caption.text()
    assert window.accuracy_view.point_count == 2


def test_no_tab_squeezes_the_side_panel_at_1024x700(make_window, qtbot):
    """A tab page's minimum width is the widest of all pages (hidden ones too): one lab with a
    wide row of controls squeezed the side panel to a sliver at 1024 x 700."""
    window = make_window("demo")
    window.resize(1024, 700)
    qtbot.wait(50)
    widest = {window.view_tabs.tabText(i): window.view_tabs.widget(i).minimumSizeHint().width()
              for i in range(window.view_tabs.count())}
    assert max(widest.values()) <= 680, widest
    panel = window.training_panel
    assert panel.width() >= 280 or not panel.isVisible(), panel.width()


def test_a_job_starting_or_ending_does_not_resize_the_views(make_window, qtbot):
    """The status bar's job strip (text, progress bar, Cancel) appears while a job runs: the
    status bar grew a few pixels and every view was laid out and drawn again at once, at the
    start and at the end of every run (the longest stalls of a watched run, and a jump)."""
    window = make_window("demo")
    window.resize(1024, 700)
    window.show()
    qtbot.waitExposed(window)
    before = window.view_tabs.size()
    window.job_status.set_running("Training")
    qtbot.wait(20)
    assert window.view_tabs.size() == before
    window.job_status.set_idle()
    qtbot.wait(20)
    assert window.view_tabs.size() == before


def test_the_templates_caption_is_there_before_the_first_model(make_window, wait_idle, qtbot):
    """Once the features are known, the templates view says how to read them and that a model
    will fill it; the first model then changes the picture only (a caption that grew at a
    run's start laid the whole view out again in the run's first frame)."""
    from linviz.workbench.template_pictures import templates_caption

    window = make_window("demo")
    window.resize(1024, 700)
    window.show()
    view = window.templates_view
    assert "train a model" in view.caption.text()  # no features yet
    window.data_controller.extract_features()
    wait_idle(window)
    caption = templates_caption(window.workbench.features.pipeline)
    assert view.caption.text() == caption and view.mosaic.hint.isVisible()
    qtbot.wait(50)  # laid out
    width, height = view.caption.width(), view.caption.height()
    quick_training(window, epochs=2)
    window.training_controller.train()
    wait_idle(window)
    qtbot.wait(50)
    assert view.caption.text() == caption and not view.mosaic.hint.isVisible() and view.tile_count > 0
    assert view.caption.height() == height or view.caption.width() != width  # only a new width wraps it anew
    window.workbench.set_model(None)
    assert view.caption.text() == caption and view.mosaic.hint.isVisible()
