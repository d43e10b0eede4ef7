"""Keeping what is on screen: views exported as PNG (at the screen size or a chosen one) and
SVG, from File > Export view... and from the views' context menus; workspaces saved and
opened again in a fresh process, with data that is gone, and refused when hostile."""

from __future__ import annotations

import json
import shutil
import textwrap
import time

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from .conftest import wait_quick_lane


def trained_window(make_window, wait_idle, size=(1366, 768)):
    window = make_window("demo")
    window.resize(*size)
    window.show()
    window.training_panel.epochs_spin.setValue(3)
    window.training_controller.train()
    wait_idle(window)
    QApplication.processEvents()
    return window


def menu_action(window, text):
    for top in window.menuBar().actions():
        for action in top.menu().actions():
            if action.text() == text:
                return action
    raise AssertionError(f"no menu entry {text!r}")


def test_every_view_exports_at_the_screen_size_and_at_a_chosen_size(make_window, wait_idle, tmp_path):
    from PySide6.QtCore import QSize

    from linviz.gui.views.view_export import export_view, is_vector

    window = trained_window(make_window, wait_idle)
    views = window.export_controller.views()
    titles = [title for title, _ in views]
    for expected in ("The whole window", "The Training tab", "Loss plot", "Templates view", "Probabilities view",
                     "Confusion view", "Gallery view", "Accuracy plot"):
        assert expected in titles, titles
    for k, (title, widget) in enumerate(views):
        path = tmp_path / f"view-{k}.png"
        written = export_view(widget, path, title=title)
        image = QImage(str(path))
        assert (image.width(), image.height()) == (widget.width(), widget.height()) == written.toTuple(), title
        assert image.pixelColor(image.width() // 2, image.height() // 2).isValid()
    loss = window.loss_view
    export_view(loss, tmp_path / "loss-big.png", QSize(1600, 900))
    assert QImage(str(tmp_path / "loss-big.png")).size().toTuple() == (1600, 900)
    big = np.asarray(Image.open(tmp_path / "loss-big.png").convert("L"))
    assert big.std() > 5  # drawn, not blank
    assert is_vector(loss) and not is_vector(window.templates_view)
    export_view(loss, tmp_path / "loss.svg", title="Loss plot")
    svg = (tmp_path / "loss.svg").read_text()
    assert svg.startswith("<?xml") and "<svg" in svg and f'viewBox="0 0 {loss.width()} {loss.height()}"' in svg
    from linviz.gui.views.view_export import ExportError

    with pytest.raises(ExportError, match="PNG"):
        export_view(window.templates_view, tmp_path / "templates.svg")
    with pytest.raises(ExportError, match="between 1 and"):
        export_view(loss, tmp_path / "huge.png", QSize(100_000, 10))
    with pytest.raises(ExportError, match="folder"):
        export_view(loss, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporaries left


def test_file_export_view_writes_the_chosen_size(make_window, wait_idle, tmp_path):
    window = trained_window(make_window, wait_idle)
    menu_action(window, "Export view...").trigger()
    dialog = window.export_controller.dialog
    assert dialog.isVisible()
    dialog.view_box.setCurrentText("Confusion view")
    assert dialog.format_box.findData("svg") < 0  # a picture of pixels: PNG only
    dialog.set_chosen_size(1000)  # the height follows the view's proportions
    expected_height = round(1000 * window.confusion_view.height() / window.confusion_view.width())
    assert dialog.height_spin.value() == expected_height
    dialog.path_edit.setText(str(tmp_path / "confusion.png"))
    dialog.export_button.click()
    assert not dialog.isVisible()
    assert QImage(str(tmp_path / "confusion.png")).size().toTuple() == (1000, expected_height)
    assert "Exported Confusion view" in window.status.text()

    menu_action(window, "Export view...").trigger()
    dialog = window.export_controller.dialog
    dialog.view_box.setCurrentText("Probabilities view")
    dialog.format_box.setCurrentIndex(dialog.format_box.findData("svg"))
    dialog.set_chosen_size(800, 300)
    dialog.path_edit.setText(str(tmp_path / "probabilities.svg"))
    dialog.export_button.click()
    assert 'viewBox="0 0 800 300"' in (tmp_path / "probabilities.svg").read_text()

    menu_action(window, "Export view...").trigger()
    dialog = window.export_controller.dialog
    dialog.path_edit.setText(str(tmp_path / "missing-folder" / "x" / "window.png"))
    dialog.export_button.click()  # folders are created; the whole window at the screen size
    assert QImage(str(tmp_path / "missing-folder" / "x" / "window.png")).size().toTuple() == (1366, 768)


def test_the_context_menus_export(make_window, wait_idle, tmp_path):
    window = trained_window(make_window, wait_idle)
    plot = window.loss_view.findChild(type(window.loss_view.plot)) or window.loss_view.plot
    texts = [a.text() for a in plot.scene().contextMenu]
    assert "Export..." in texts and "Export this plot..." in texts and "Export loss plot..." in texts
    next(a for a in plot.scene().contextMenu if a.text() == "Export loss plot...").trigger()
    assert window.export_controller.dialog.widget is window.loss_view
    window.export_controller.dialog.reject()

    gallery = window.gallery_view
    assert gallery.contextMenuPolicy() == Qt.ContextMenuPolicy.CustomContextMenu
    gallery.customContextMenuRequested.emit(QPoint(5, 5))
    menu = window.export_controller._menu
    assert menu.isVisible() and menu.actions()[0].text() == "Export gallery view..."
    menu.actions()[0].trigger()
    menu.close()
    dialog = window.export_controller.dialog
    assert dialog.widget is gallery
    dialog.path_edit.setText(str(tmp_path / "gallery.png"))
    dialog.export_button.click()
    assert QImage(str(tmp_path / "gallery.png")).size().toTuple() == gallery.size().toTuple()

    # The labs' plots too, and the Your classes view's bars.
    window.view_tabs.setCurrentWidget(window.your_classes_view)
    QApplication.processEvents()
    titles = [t for t, _ in window.export_controller.views()]
    assert "Class bars view" in titles and "The Your classes tab" in titles
    lab = next(lab for lab in window.labs if lab.object_name == "runsLab")
    window.view_tabs.setCurrentWidget(lab)
    QApplication.processEvents()
    titles = [t for t, _ in window.export_controller.views()]
    assert "Runs loss plot" in titles and "Runs accuracy plot" in titles


# ---------------------------------------------------------------------------- workspaces


def prepare_lesson(window, drop_paths, tmp_path):
    """Settings a teacher would prepare, different from every default."""
    inside = next(lab for lab in window.labs if lab.object_name == "insideImageLab")
    optimization = next(lab for lab in window.labs if lab.object_name == "optimizationLab")
    playground = next(lab for lab in window.labs if lab.object_name == "playgroundView")
    window.view_tabs.setCurrentWidget(inside)
    QApplication.processEvents()
    inside.compare_box.setCurrentText("ring")
    inside.delta_spin.setValue(2.5)
    optimization.landscape.direction_box.setCurrentIndex(optimization.landscape.direction_box.findData("gradient"))
    optimization.landscape.steps_spin.setValue(31)
    playground.add_point(0.5, -0.25)
    picture = tmp_path / "my picture.png"
    Image.fromarray(window.workbench.data.val.images[3]).resize((50, 40)).save(picture)
    drop_paths(window, [picture])
    from linviz.workbench import Selection

    window.workbench.select(Selection("validation", 7))
    return {"compare": "ring", "delta": 2.5, "direction": "negative gradient", "steps": 31,
            "points": len(playground.state.labels), "selection": ["validation", 7], "dropped": 1}


OPEN_IN_A_FRESH_PROCESS = textwrap.dedent("""
    import json, sys, time
    from PySide6.QtCore import QCoreApplication, QSettings, QStandardPaths
    from PySide6.QtWidgets import QApplication
    QStandardPaths.setTestModeEnabled(True)
    QCoreApplication.setOrganizationName("linviz-tests")
    QCoreApplication.setApplicationName("linviz-tests")
    app = QApplication([])
    from linviz.gui.main_window import MainWindow
    window = MainWindow("demo", settings=QSettings(sys.argv[2], QSettings.Format.IniFormat))
    window.job_queue.warmup_state = "done"
    def pump(condition, limit=120):
        end = time.time() + limit
        while not condition() and time.time() < end:
            app.processEvents(); time.sleep(0.01)
    pump(lambda: not window.job_runner.busy)
    window.workspace_controller.open(sys.argv[1])
    pump(lambda: "Opened the workspace" in window.status.text() or "Open workspace:" in window.status.text())
    labs = {lab.object_name: lab for lab in window.labs}
    model = window.workbench.model
    print(json.dumps({
        "message": window.status.text(),
        "W": None if model is None else model.W.tolist(),
        "spec": model.features.spec_text if model else None,
        "reg": window.training_panel.settings()["reg"],
        "epochs": window.training_panel.settings()["epochs"],
        "compare": labs["insideImageLab"].compare_box.currentText(),
        "delta": labs["insideImageLab"].delta_spin.value(),
        "direction": labs["optimizationLab"].landscape.direction_box.currentText(),
        "steps": labs["optimizationLab"].landscape.steps_spin.value(),
        "points": len(labs["playgroundView"].state.labels),
        "selection": [window.workbench.selection.split, window.workbench.selection.index]
                     if window.workbench.selection else None,
        "dropped": len(window.workbench.user_images),
        "tab": window.view_tabs.tabText(window.view_tabs.currentIndex()),
        "source": str(window.workbench.data.dataset.source) if window.workbench.data else None,
    }))
    window.shutdown()
""")


def open_in_a_fresh_process(run_python, path, tmp_path) -> dict:
    code = f"import sys\nsys.argv = ['x', {str(path)!r}, {str(tmp_path / 'fresh.ini')!r}]\n" + OPEN_IN_A_FRESH_PROCESS
    result = run_python(code, timeout=300, env={"QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_saved_workspace_restores_the_model_and_the_labs_in_a_fresh_process(make_window, wait_idle, drop_paths,
                                                                               run_python, tmp_path):
    window = trained_window(make_window, wait_idle)
    window.training_panel.reg_slider.setValue(0.0123)
    expected = prepare_lesson(window, drop_paths, tmp_path)
    W = window.workbench.model.W.copy()
    path = tmp_path / "lesson.linviz"
    window.workspace_controller.save(str(path))
    wait_quick_lane(window)
    assert path.is_file() and "Saved the workspace" in window.status.text()

    restored = open_in_a_fresh_process(run_python, path, tmp_path)
    assert "Opened the workspace" in restored["message"] and "not restored" not in restored["message"], restored
    assert np.array_equal(np.asarray(restored["W"], np.float32), W)
    assert restored["spec"] == window.workbench.model.features.spec_text
    assert restored["reg"] == pytest.approx(0.0123) and restored["epochs"] == 3
    for key in expected:
        assert restored[key] == expected[key], key
    assert restored["tab"] == "Inside one image" and restored["source"] == "demo"


def test_a_workspace_whose_data_is_gone_opens_with_a_message(make_window, wait_idle, tmp_path, drop_paths,
                                                             run_python):
    """A "Your classes" project saved in a workspace, then deleted: the settings and the labs
    come back, the model cannot (the demo set has other classes), and the message says so."""
    from tests.gui.test_your_classes import COLORS, picture

    window = make_window("demo")
    controller = window.class_project_controller
    controller.new_project("lesson", list(COLORS), str(tmp_path))
    wait_quick_lane(window)
    rng = np.random.default_rng(0)
    for name, color in COLORS.items():
        files = []
        for k in range(5):
            files.append(tmp_path / f"{name}{k}.png")
            picture(rng, color, (32, 32)).save(files[-1])
        controller.add_files(name, files)
    wait_quick_lane(window)
    window.training_panel.epochs_spin.setValue(4)
    controller.train()
    wait_idle(window)
    assert controller.is_loaded and window.workbench.model is not None
    inside = next(lab for lab in window.labs if lab.object_name == "insideImageLab")
    inside.delta_spin.setValue(3.5)
    path = tmp_path / "project.linviz"
    window.workspace_controller.save(str(path))
    wait_quick_lane(window)

    opened = make_window("demo")  # the project still there: all comes back, the project too
    opened.workspace_controller.open(str(path))
    deadline = time.time() + 60
    while "Opened the workspace" not in opened.status.text() and time.time() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)
    assert "not restored" not in opened.status.text(), opened.status.text()
    assert opened.class_project_controller.is_loaded and opened.workbench.model is not None

    shutil.rmtree(tmp_path / "lesson")
    restored = open_in_a_fresh_process(run_python, path, tmp_path)
    message = restored["message"]
    assert "is gone" in message and "not restored" in message and "the model" in message, message
    assert "the settings" in message and "the labs' settings" in message
    assert restored["delta"] == 3.5 and restored["epochs"] == 4 and restored["W"] is None
    assert restored["source"] == "demo"  # what was loaded stays


def test_a_hostile_workspace_is_refused_and_nothing_changes(make_window, wait_idle, tmp_path):
    import zipfile

    window = trained_window(make_window, wait_idle)
    model, settings = window.workbench.model, window.training_panel.settings()
    bad = tmp_path / "bad.linviz"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("workspace.json", json.dumps({"format": "linviz-workspace", "version": 1,
                                                       "training": {"reg": "rm -rf /"}}))
    window.workspace_controller.open(str(bad))
    wait_quick_lane(window)
    assert window.error_messages and "Open workspace" in window.error_messages[-1]
    assert str(bad) in window.error_messages[-1] and "reg" in window.error_messages[-1]
    assert window.workbench.model is model and window.training_panel.settings() == settings
