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
    window.training.train()
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
