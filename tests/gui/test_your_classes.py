"""The "Your classes" flow, driven through the window: create three classes, add ten images to
each (drops on a class, File > Add images, paste), train, drop a new image and see it
classified, correct a mistake and train again; the project after a restart; the bars."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication, QDialog

from .conftest import wait_quick_lane

CLASSES = ["leaf", "sky", "tomato"]
COLORS = {"leaf": (40, 160, 50), "sky": (60, 110, 220), "tomato": (210, 40, 30)}


def picture(rng, color, size):
    """A noisy picture mostly of ``color``, with a patch of something else."""
    h, w = size
    base = np.array(color, float) + rng.normal(0, 25, (h, w, 3))
    y, x = rng.integers(0, h // 2), rng.integers(0, w // 2)
    base[y:y + h // 3, x:x + w // 3] = rng.integers(0, 256, 3)
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    """Ten pictures of each class (of other sizes than the model's), a new one of each, a gray one."""
    folder = tmp_path_factory.mktemp("pictures")
    rng = np.random.default_rng(5)
    files = {}
    for name, color in COLORS.items():
        files[name] = []
        for k in range(10):
            path = folder / name / f"{name}-{k}.png"
            path.parent.mkdir(exist_ok=True)
            picture(rng, color, (40, 48)).save(path)
            files[name].append(path)
        new = folder / f"new-{name}.jpg"
        picture(rng, color, (80, 80)).save(new)
        files[f"new {name}"] = new
    gray = folder / "gray.png"
    Image.new("RGB", (50, 50), (128, 128, 128)).save(gray)
    files["gray"] = gray
    return files


def drop_on(widget, paths) -> None:
    """A real drag-enter + drop of file URLs on ``widget`` (docs/pitfalls.md, 'Testing Qt headless')."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPoint(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted(), f"{widget.objectName()} refused a drag of file URLs"
    drop = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)


def wait_project(window) -> None:
    wait_quick_lane(window)
    assert not window.class_project_controller.busy


def menu_action(window, text):
    for menu_action in window.menuBar().actions():
        for action in menu_action.menu().actions():
            if action.text() == text:
                return action
    raise AssertionError(f"no menu entry {text!r}")


def fill_new_classes_dialog(name, classes, folder):
    dialog = QApplication.activeModalWidget()
    assert isinstance(dialog, QDialog) and dialog.objectName() == "newClassesDialog"
    dialog.name_edit.setText(name)
    dialog.classes_edit.setText(", ".join(classes))
    dialog.folder = str(folder)
    dialog.accept()


def quick_settings(window) -> None:
    panel = window.training_panel
    panel.epochs_spin.setValue(20)
    panel.batch_spin.setValue(8)


def test_a_new_user_makes_a_classifier_of_three_classes(qtbot, make_window, wait_idle, drop_paths, shapes,
                                                         tmp_path):
    window = make_window("demo")
    view, controller = window.your_classes_view, window.class_project_controller
    window.resize(1366, 768)

    # The start screen offers it beside the demo set and CIFAR-10.
    qtbot.mouseClick(window.banner.classes_button, Qt.MouseButton.LeftButton)
    assert window.view_tabs.currentWidget() is view
    # no project yet: the bars beside it are the current model's, and the note says so
    assert view.features_note.text().startswith("Above: the current model")

    # File > New classes...: a name, three classes, a folder.
    QTimer.singleShot(0, lambda: fill_new_classes_dialog("shapes", CLASSES, tmp_path))
    menu_action(window, "New classes...").trigger()
    wait_project(window)
    root = tmp_path / "shapes"
    assert controller.project.root == root and sorted(view.cards) == CLASSES
    from linviz.features import PRESETS

    assert window.features_panel.spec_text() == PRESETS["best"]  # the few-images recommendation
    assert view.features_note.text().startswith("Features: 'best' (in use)")

    # Ten images each: a dropped folder, ten dropped files, File > Add images... and a paste.
    drop_on(view.cards["leaf"], [shapes["leaf"][0].parent])
    drop_on(view.cards["sky"], shapes["sky"])
    wait_project(window)
    view.set_current("tomato")
    view.choose_files = lambda: [str(p) for p in shapes["tomato"][:9]]
    menu_action(window, "Add images to a class...").trigger()
    wait_project(window)
    QApplication.clipboard().setImage(QImage(str(shapes["tomato"][9])))
    view.paste()
    wait_project(window)
    assert controller.counts == {"leaf": 10, "sky": 10, "tomato": 10}
    for name in CLASSES:
        card = view.cards[name]
        assert card.count_label.text() == "10 images" and card.list.count() == 10
        assert all(not card.list.item(k).icon().isNull() for k in range(10))  # thumbnails, written first
        assert len(list((root / name).iterdir())) == 10
    assert not window.error_messages, window.error_messages

    # Train (the view's button loads the folder with its automatic split first).
    quick_settings(window)
    qtbot.mouseClick(view.train_button, Qt.MouseButton.LeftButton)
    wait_idle(window)
    data = window.workbench.data
    assert str(data.dataset.source) == str(root) and data.class_names == CLASSES
    assert (len(data.train.labels), len(data.val.labels)) == (24, 6)
    assert window.workbench.model is not None and not window.error_messages, window.error_messages

    # Drop a new image on the window: classified, with big bars.
    drop_paths(window, [shapes["new tomato"]])
    bars = view.bars
    assert bars.kind == "probabilities" and bars.values.sum() == pytest.approx(1.0, abs=1e-4)
    assert "new-tomato.jpg" in bars.caption.text()
    assert bars.bars.names == CLASSES and all(t.endswith("%") for t in bars.bars.texts)
    assert CLASSES[int(np.argmax(bars.values))] == "tomato"

    # A mistake: a gray picture the user says is the sky, or a leaf if the model already says sky.
    drop_paths(window, [shapes["gray"]])
    guess = CLASSES[int(np.argmax(bars.values))]
    right = "sky" if guess != "sky" else "leaf"
    assert view.add_to_button.isEnabled()
    next(a for a in view.add_to_menu.actions() if a.text() == right).trigger()
    wait_project(window)
    assert (root / right / "gray.png").is_file() and controller.counts[right] == 11
    assert controller.dirty and "changed" in view.status.text()

    # Train again (the main Train button this time): the folder is loaded again, with the correction.
    qtbot.mouseClick(window.training_panel.train_button, Qt.MouseButton.LeftButton)
    wait_idle(window)
    data = window.workbench.data
    assert len(data.train.labels) + len(data.val.labels) == 31
    assert window.workbench.model is not None and not controller.dirty
    assert not window.error_messages, window.error_messages


def test_remove_move_rename_and_delete_through_the_cards(make_window, shapes, tmp_path):
    window = make_window("demo")
    view, controller = window.your_classes_view, window.class_project_controller
    assert controller.new_project("edit", ["a", "b", "c"], str(tmp_path))
    wait_project(window)
    drop_on(view.cards["a"], shapes["leaf"][:4])
    wait_project(window)

    card = view.cards["a"]
    card.list.item(0).setSelected(True)
    card.list.item(1).setSelected(True)
    paths = card.selected_paths()
    card.moveRequested.emit(paths, "b")  # the thumbnails' context menu
    wait_project(window)
    assert controller.counts == {"a": 2, "b": 2, "c": 0}
    view.cards["b"].list.item(0).setSelected(True)
    view.cards["b"].removeRequested.emit(view.cards["b"].selected_paths())
    wait_project(window)
    assert controller.counts["b"] == 1

    view.ask_text = lambda *args: "apples"
    view.cards["a"].rename_action.trigger()
    wait_project(window)
    assert list(view.cards) == ["apples", "b", "c"] and (tmp_path / "edit" / "apples").is_dir()
    view.confirm = lambda *args: False
    view.cards["c"].delete_action.trigger()
    wait_project(window)
    assert "c" in view.cards
    view.confirm = lambda *args: True
    view.cards["c"].delete_action.trigger()
    wait_project(window)
    assert list(view.cards) == ["apples", "b"] and not (tmp_path / "edit" / "c").exists()

    view.ask_text = lambda *args: "train"  # a name the loader reads as a split: refused, said
    view.add_class_dialog()
    wait_project(window)
    assert "split" in window.error_messages[-1]
    assert list(view.cards) == ["apples", "b"]


def test_few_images_train_on_all_and_say_they_cannot_validate(make_window, wait_idle, shapes, tmp_path):
    window = make_window("demo")
    view, controller = window.your_classes_view, window.class_project_controller
    controller.new_project("few", ["leaf", "sky"], str(tmp_path))
    wait_project(window)
    drop_on(view.cards["leaf"], shapes["leaf"][:3])
    drop_on(view.cards["sky"], shapes["sky"][:6])
    wait_project(window)
    assert "cannot validate" in view.status.text() and "leaf (3)" in view.status.text()
    quick_settings(window)
    controller.train()
    wait_idle(window)
    data = window.workbench.data
    assert (len(data.train.labels), len(data.val.labels)) == (9, 0)
    assert window.workbench.model is not None
    assert "No validation split" in window.data_panel.sizes_label.text()


def test_the_project_opens_again_after_a_restart_and_in_info(make_window, settings, wait_idle, shapes, tmp_path,
                                                             run_cli):
    first = make_window("demo")
    controller = first.class_project_controller
    controller.new_project("kept", ["leaf", "sky"], str(tmp_path))
    wait_project(first)
    drop_on(first.your_classes_view.cards["leaf"], shapes["leaf"][:5])
    drop_on(first.your_classes_view.cards["sky"], shapes["sky"][:5])
    wait_project(first)
    first.close()

    second = make_window("demo")  # the same settings: a restart
    view = second.your_classes_view
    listed = [view.project_list.item(k).data(Qt.ItemDataRole.UserRole) for k in range(view.project_list.count())]
    assert listed[0] == str(tmp_path / "kept")
    view._open_listed(view.project_list.item(0))
    wait_project(second)
    wait_idle(second)
    assert second.class_project_controller.counts == {"leaf": 5, "sky": 5}
    assert second.class_project_controller.is_loaded  # trainable: loaded as the data at once
    assert len(second.workbench.data.train.labels) + len(second.workbench.data.val.labels) == 10

    result = run_cli("info", str(tmp_path / "kept"), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["classes"] == ["leaf", "sky"] and info["per_class"]["train"] == {"leaf": 5, "sky": 5}


def test_the_bars_take_a_third_of_the_window_and_follow_training(qtbot, make_window, wait_idle):
    window = make_window("demo")
    window.resize(1366, 768)
    window.show()
    window.show_your_classes()
    qtbot.wait(50)
    assert window.your_classes_view.bars.width() >= window.width() / 3 - 20
    frames = []
    window.workbench.selection_changed.connect(lambda *_: None)
    window.your_classes_view.bars.bars.update = lambda *a, f=frames: f.append(1)  # counts repaints asked
    window.training_panel.epochs_spin.setValue(3)
    # paced, so that the run lasts several redraws on any machine (at full speed the demo's
    # 3 epochs can end within one)
    window.training_panel.pace.set_pace(50.0)
    window.training_controller.train()
    wait_idle(window)
    assert window.your_classes_view.bars.values is not None  # the demo's first training image, live
    assert len(frames) >= 2


@pytest.mark.parametrize("per_class", [10, 3])
def test_every_lab_works_on_a_small_project(make_window, wait_idle, shapes, tmp_path, per_class):
    """Trained on a project of 3 classes (10 images each: a validation split; 3 each: none),
    every lab computes on it, and its main buttons work or say why not."""
    from PySide6.QtWidgets import QTabWidget

    window = make_window("demo")
    window.resize(1366, 768)
    window.show()
    controller = window.class_project_controller
    controller.new_project("small", CLASSES, str(tmp_path))
    wait_project(window)
    for name in CLASSES:
        controller.add_files(name, shapes[name][:per_class])
    wait_project(window)
    quick_settings(window)
    controller.train()
    wait_idle(window)
    assert window.workbench.model is not None
    assert bool(len(window.workbench.data.val.labels)) == (per_class >= 5)

    def settle():
        for _ in range(3):
            wait_idle(window)
            wait_project(window)
            QApplication.processEvents()

    labs = {lab.object_name: lab for lab in window.labs}
    for lab in window.labs:
        window.view_tabs.setCurrentWidget(lab)
        settle()
        for inner in lab.findChildren(QTabWidget):
            for k in range(inner.count()):
                inner.setCurrentIndex(k)
                settle()
    knn = labs["knnLab"]
    window.view_tabs.setCurrentWidget(knn)
    knn.folds_spin.setValue(2)
    knn.cv_button.click()
    settle()
    knn.test_button.click()
    settle()
    tuning = labs["tuningLab"]
    window.view_tabs.setCurrentWidget(tuning)
    tuning.lr_edit.setText("1e-2:1e-1:2")
    tuning.reg_edit.setText("1e-4:1e-2:2")
    tuning.epochs_spin.setValue(2)
    tuning.start_button.click()
    settle()
    optimization = labs["optimizationLab"]
    window.view_tabs.setCurrentWidget(optimization)
    optimization.tabs.setCurrentWidget(optimization.race)
    optimization.race.budget_spin.setValue(5)
    optimization.race.start_button.click()
    settle()
    optimization.tabs.setCurrentWidget(optimization.gradient_check)
    optimization.gradient_check.check_button.click()
    settle()
    # Without a validation split, kNN's Test has nothing to test on, and says so.
    errors = [e for e in window.error_messages if not (per_class < 5 and "no test or validation images" in e)]
    assert not errors, errors


def test_a_project_at_1024_by_700_leaves_the_side_panel_whole(make_window, wait_idle, shapes, tmp_path, qtbot):
    """A student with a small screen opens a project and trains it: the view of the classes
    takes no width from the side panel (its texts and buttons cut off, a sideways scroll bar)."""
    from PySide6.QtWidgets import QAbstractScrollArea

    window = make_window("demo")
    window.resize(1024, 700)
    window.show()
    controller = window.class_project_controller
    controller.new_project("pets and ships", CLASSES, str(tmp_path))  # a long name
    wait_project(window)
    for name in CLASSES:
        controller.add_files(name, shapes[name])
    wait_project(window)
    quick_settings(window)
    controller.train()
    wait_idle(window)
    qtbot.wait(50)
    QApplication.processEvents()
    assert window.view_tabs.currentWidget() is window.your_classes_view
    assert (window.width(), window.height()) == (1024, 700)
    dock = window.docks["training"]
    assert dock.width() >= 300, f"the side panel squeezed to {dock.width()} px"
    sideways = [a.objectName() or type(a).__name__ for a in dock.findChildren(QAbstractScrollArea)
                if a.isVisible() and a.horizontalScrollBar().isVisible()]
    assert not sideways, sideways
