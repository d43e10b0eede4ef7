"""Menus and window-level behaviour: View menu, Reset layout, title, remembered folders."""

from __future__ import annotations

from pathlib import Path


def _action(window, menu_title: str, text: str):
    for menu_action in window.menuBar().actions():
        if menu_action.text().replace("&", "") == menu_title:
            for act in menu_action.menu().actions():
                if act.text() == text:
                    return act
    raise AssertionError(f"no {menu_title} > {text}")


def test_view_menu_hides_and_shows_panels_and_resets_the_layout(make_window, qtbot):
    window = make_window("demo")
    window.show()
    qtbot.waitExposed(window)
    toggle = _action(window, "View", "Data")
    assert toggle.isEnabled()
    toggle.trigger()
    assert not window.docks["data"].isVisible()
    window.docks["features"].setFloating(True)
    window.splitters[0].setSizes([50, 700])
    _action(window, "View", "Reset layout").trigger()
    assert all(dock.isVisible() for dock in window.docks.values())
    assert not window.docks["features"].isFloating()
    assert window.splitters[0].sizes()[0] > 50


def test_the_title_does_not_repeat_the_app_name(make_window):
    window = make_window("demo")
    assert "linviz" not in window.windowTitle().lower()


def test_the_save_dialog_opens_in_the_last_folder_used(make_window, wait_idle, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    window = make_window("demo")
    window.training_panel.epochs_spin.setValue(1)
    window.training_controller.train()
    wait_idle(window)
    asked = []
    target = tmp_path / "models" / "mine.npz"
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda parent, title, start, filters: asked.append(start) or (str(target), filters))
    window.save_model_dialog()
    assert target.is_file()
    assert Path(asked[0]).parent != Path.cwd() or Path.cwd() == Path.home()
    window.save_model_dialog()
    assert Path(asked[1]).parent == target.parent


def _saved_model(window, path, hyperparameters):
    """The window's model in a file whose hyper-parameters are ``hyperparameters`` (written by
    hand: save_model refuses to write what load_model would refuse)."""
    import json

    import numpy as np

    from linviz.models import save_model

    model = window.workbench.model
    save_model(path, W=model.W, class_names=window.workbench.class_names, pipeline=model.features.pipeline,
               loss=model.loss)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    meta = json.loads(str(arrays["metadata"]))
    meta["hyperparameters"] = hyperparameters
    arrays["metadata"] = np.array(json.dumps(meta))
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def test_a_model_with_unusable_hyper_parameters_is_reported(make_window, wait_idle, tmp_path):
    window = make_window("demo")
    window.training_panel.epochs_spin.setValue(1)
    window.training_controller.train()
    wait_idle(window)
    for hyperparameters, words in (("reg=0.1", "must be a JSON object"), ({"reg": "abc"}, "reg"),
                                   ({"epochs": "3"}, "epochs")):
        path = _saved_model(window, tmp_path / f"bad-{len(window.error_messages)}.npz", hyperparameters)
        before = len(window.error_messages)
        window.model_files_controller.load_model(str(path))
        wait_idle(window)
        assert len(window.error_messages) == before + 1, hyperparameters
        assert "Load model" in window.error_messages[-1] and words in window.error_messages[-1]


def test_a_failing_result_handler_is_reported_not_silent(make_window, wait_idle):
    window = make_window("demo")

    def broken(outcome):
        raise TypeError("must be real number, not str")

    window.job_queue.run("model", lambda ctx: 1, "A job", on_done=broken)
    wait_idle(window)
    assert "must be real number" in window.error_messages[-1]


def test_class_names_with_escape_sequences_reach_status_lines_escaped(make_window, wait_idle, tmp_path):
    import numpy as np
    from PIL import Image

    folder = tmp_path / "hostile" / "evil\x1b]0;pwned\x07\u202ecat"
    folder.mkdir(parents=True)
    for i in range(3):
        Image.fromarray(np.full((32, 32, 3), 40 * i, np.uint8)).save(folder / f"{i}.png")
    window = make_window(str(tmp_path / "hostile"))
    wait_idle(window)
    message = window.error_messages[-1]  # one class: it cannot train, and says which
    assert "at least 2" in message
    assert "\x1b" not in message and "\u202e" not in message and "\x07" not in message
    assert "\x1b" not in window.gallery_view.class_box.itemText(1)
