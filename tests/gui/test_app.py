"""``python main.py`` arguments: checked before any window (or thread) exists; one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("argv, expected", [
    (["--data", "demo", "--size", "abc"], "--size"),
    (["--data", "demo", "--size", "0x900"], "--size"),
    (["--data", "demo", "--size", f"{10**12}x900"], "16,384"),
    (["--data", "demo", "--size", "\x1b]0;owned\x07"], "--size"),
    (["--data", "demo", "--bogus"], "--bogus"),
])
def test_bad_arguments_are_one_line_and_exit_2(capsys, argv, expected):
    from linviz.gui.app import parse_args

    with pytest.raises(SystemExit) as exc:
        parse_args(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and expected in err, err


def test_the_apps_errors_read_like_the_commands(capsys):
    """'error: --size: reason' as the CLI words it (argparse said 'linviz: error: argument
    --size: ...'), and an unknown option says what the app takes and where the commands are."""
    from linviz.gui.app import parse_args

    for argv in (["--size", "abc"], ["--frob"]):
        with pytest.raises(SystemExit):
            parse_args(argv)
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "argument --" not in err and "linviz:" not in err, err
    with pytest.raises(SystemExit):
        parse_args(["--frob"])
    err = capsys.readouterr().err
    assert "--frob" in err and "--data" in err and "python main.py --help" in err, err


def test_size_is_parsed():
    from linviz.gui.app import parse_args

    assert parse_args(["--size", "1400x900"]).size == (1400, 900)
    assert parse_args([]).size is None


def test_main_py_with_a_bad_size_exits_2_before_building_the_window():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run([sys.executable, "main.py", "--data", "demo", "--size", "abc"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--size" in lines[0] and "QThread" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("key, value", [
    ("training/settings", "[1, 2, 3]"),
    ("training/settings", '{"reg": Infinity, "learning_rate": NaN, "epochs": 1e30, "loss": 7}'),
    ("training/settings", "{" * 5000),
    ("data/validation_images", "99999999999999999999"),
    ("data/validation_images", "many"),
    ("features/spec", "hog:cell=0"),
    ("version", "x"),
])
def test_corrupt_saved_settings_fall_back_to_defaults_with_a_message(make_window, settings, key, value):
    settings.setValue("version", 1)
    settings.setValue(key, value)
    settings.sync()
    window = make_window("demo")
    assert window.workbench.data is not None
    assert any("Saved settings" in m for m in window.error_messages), window.error_messages
    panel = window.training_panel
    assert panel.settings()["reg"] >= 0 and panel.settings()["epochs"] >= 1
    val_size = window.data_panel.split_values()[0]
    assert val_size is None if key == "data/validation_images" else (val_size is None or 0 <= val_size <= 100_000)


def test_the_per_class_subsample_is_not_remembered(make_window, settings):
    first = make_window("demo")
    first.data_panel.set_split_values(500, 20)
    first.shutdown()
    second = make_window("demo")
    assert second.data_panel.split_values() == (500, 0)


def test_a_validation_size_saved_by_an_older_version_gives_way_to_auto(make_window, settings):
    """Every older install saved data/val_size=1000, chosen or not: the window starts on auto."""
    settings.setValue("version", 1)
    settings.setValue("data/val_size", 1000)
    settings.sync()
    window = make_window("demo")
    assert window.data_panel.split_values() == (None, 0) and not window.error_messages


def test_an_exception_while_building_the_window_stops_its_threads(qtbot, settings, monkeypatch):
    from linviz.gui import main_window

    started = []
    real_runner = main_window.JobRunner

    def recording_runner(parent):
        runner = real_runner(parent)
        started.append(runner)
        return runner

    def broken(self):
        raise RuntimeError("a bug while building the views")

    monkeypatch.setattr(main_window, "JobRunner", recording_runner)
    monkeypatch.setattr(main_window.MainWindow, "_build_labs", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        main_window.MainWindow("demo", settings=settings)
    assert started and not started[0].threads_running()


def test_an_unusable_cache_folder_means_running_without_it(make_window, wait_idle, tmp_path, monkeypatch):
    from PIL import Image

    not_a_folder = tmp_path / "cache-is-a-file"
    not_a_folder.write_text("not a folder")
    monkeypatch.setenv("LINVIZ_CACHE_DIR", str(not_a_folder))
    root = tmp_path / "two"
    for c, name in enumerate(["red", "blue"]):
        (root / name).mkdir(parents=True)
        for k in range(6):
            pixels = np.zeros((16, 16, 3), np.uint8)
            pixels[..., 2 * c] = 40 * k
            Image.fromarray(pixels).save(root / name / f"{k}.png")
    window = make_window(str(root))
    wait_idle(window)
    assert window.workbench.class_names == ["blue", "red"]
    assert "without the cache" in window.message_label.text()


_APP_WITH_HOSTILE_SETTINGS = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

app = QApplication([sys.argv[0]])
shown = []

def report_and_quit():
    from linviz.gui.main_window import MainWindow

    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, MainWindow):
            shown.extend(widget.error_messages)
    print("MESSAGES:", " | ".join(shown))
    app.quit()

QTimer.singleShot(3000, report_and_quit)
from linviz.gui.app import run_app

sys.exit(run_app(["--data", "demo"]))
"""


@pytest.mark.parametrize("kind", ["fifo", "link to a file", "link to a device"])
def test_a_link_fifo_or_device_at_the_settings_path_gives_defaults_and_a_message(tmp_path, run_python,
                                                                                 private_null_device, kind):
    """The app starts (no hang in reading them), says why the saved settings were not used, and
    writes nothing through the link when it closes. Qt's own settings file (linviz.conf) is
    not used at all: a FIFO there must not matter either."""
    config = tmp_path / "config" / "linviz"
    config.mkdir(parents=True)
    os.mkfifo(config / "linviz.conf")  # where QSettings would look
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    path = config / "settings.json"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to(target if kind == "link to a file" else private_null_device)
    result = run_python(_APP_WITH_HOSTILE_SETTINGS, timeout=120,
                        env={"XDG_CONFIG_HOME": str(tmp_path / "config"), "QT_QPA_PLATFORM": "offscreen",
                             "LINVIZ_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 0, result.stderr[-3000:]
    messages = result.stdout.split("MESSAGES:", 1)[1]
    word = "named pipe" if kind == "fifo" else "symbolic link"
    assert "Saved settings" in messages and word in messages and "defaults" in messages, messages
    assert target.read_text() == "keep me"
    assert os.path.exists(private_null_device) and not os.path.isfile(private_null_device)
    assert (path.is_symlink() if kind != "fifo" else not path.is_file())
    assert sorted(p.name for p in config.iterdir()) == ["linviz.conf", "settings.json"]


def test_every_resource_file_is_installed_by_a_wheel_and_found_there(tmp_path, monkeypatch):
    """pyproject.toml lists every file of resources/ as data files, and the app finds them in
    <prefix>/share/linviz/resources when the checkout's folder is not there (a wheel)."""
    import sysconfig
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    from linviz.gui import app

    data_files = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    listed = {Path(source) for sources in data_files.values() for source in sources}
    on_disk = {path.relative_to(ROOT) for path in (ROOT / "resources").rglob("*") if path.is_file()}
    assert listed == on_disk
    for target, sources in data_files.items():  # each file keeps its place under resources/
        for source in sources:
            assert Path(target, Path(source).name) == Path("share/linviz") / source

    assert app.resource_folder() == ROOT / "resources"
    installed = tmp_path / "prefix" / "share" / "linviz" / "resources"
    (installed / "icons").mkdir(parents=True)
    (installed / "style.qss").write_text("QWidget {}")
    # found under the prefix the package sits in (pip install --prefix) ...
    monkeypatch.setattr(app, "__file__", str(tmp_path / "prefix/lib/python3.11/site-packages/linviz/gui/app.py"))
    monkeypatch.setattr(sysconfig, "get_path", lambda name, scheme=None: str(tmp_path / "elsewhere"))
    assert app.resource_folder() == installed
    # ... or in the environment's data folder
    monkeypatch.setattr(app, "__file__", str(tmp_path / "site-packages" / "linviz" / "gui" / "app.py"))
    monkeypatch.setattr(sysconfig, "get_path", lambda name, scheme=None: str(tmp_path / "prefix"))
    assert app.resource_folder() == installed
    installed.joinpath("style.qss").unlink()
    assert app.resource_folder() is None
