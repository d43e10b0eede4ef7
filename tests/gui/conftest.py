"""GUI test set-up: offscreen Qt (tests/conftest.py), test-mode paths, a window fixture that
always stops its worker threads and its worker process."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QCoreApplication, QStandardPaths  # noqa: E402  (PySide6 before pyqtgraph)

QStandardPaths.setTestModeEnabled(True)  # QSettings and caches go to ~/.qttest, not the user's
QCoreApplication.setOrganizationName("linviz-tests")
QCoreApplication.setApplicationName("linviz-tests")


@pytest.fixture(autouse=True)
def garbage_on_the_gui_thread():
    """As in the app (linviz.gui.runtime.garbage): no automatic collection while a test runs, so a
    worker thread never collects a Qt object of a closed window; collected here, after the
    test, on the GUI thread."""
    import gc

    gc.disable()
    yield
    gc.collect()
    gc.enable()


@pytest.fixture
def settings(tmp_path):
    """A private settings file per test, so tests never see each other's layouts."""
    from linviz.settings_file import SettingsFile

    return SettingsFile(tmp_path / "settings.json")


@pytest.fixture
def make_window(qtbot, settings):
    """Build MainWindow(source) with fast demo-friendly defaults; shut every one down after."""
    from linviz.gui import MainWindow

    windows = []

    def make(source="demo", **kwargs):
        window = MainWindow(source, settings=kwargs.pop("settings", settings))
        window.job_queue.warmup_state = "done"  # tests compile what they use; no background warm-up
        window.data_controller.confirm = lambda title, text: True  # no modal dialog in tests: the user agrees
        qtbot.addWidget(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()
        assert not window.job_runner.threads_running(), "the compute thread outlived its window"
        assert not window.job_runner.processes_running(), "the worker process outlived its window"


@pytest.fixture
def wait_idle(qtbot):
    """wait_idle(window): process events until the compute worker has finished its job."""
    return lambda window, timeout_s=120.0: _wait_idle(qtbot, window, timeout_s)


@pytest.fixture
def wait_quick():
    """wait_quick(window): process events until the quick lane is idle."""
    return wait_quick_lane


@pytest.fixture
def drop_paths():
    """drop_paths(window, paths): drag-enter and drop file URLs on the window."""
    return _drop_paths


def _wait_idle(qtbot, window, timeout_s: float) -> None:
    deadline = time.perf_counter() + timeout_s
    while window.job_runner.busy:
        assert time.perf_counter() < deadline, f"job {window.job_runner.job_name} still running after {timeout_s} s"
        qtbot.wait(20)


@pytest.fixture
def wait_quick_runner():
    """wait_quick_runner(job_runner): process events until that runner's quick lane is idle."""
    return wait_quick_lane_of


def wait_quick_lane(window, timeout_s: float = 60.0) -> None:
    """Process events until the quick lane (dropped images, lab computations) is idle."""
    wait_quick_lane_of(window.job_runner, timeout_s)


def wait_quick_lane_of(job_runner, timeout_s: float = 60.0) -> None:
    from PySide6.QtWidgets import QApplication

    deadline = time.perf_counter() + timeout_s
    while job_runner.quick.busy:
        assert time.perf_counter() < deadline, f"the quick lane is still busy after {timeout_s} s"
        QApplication.processEvents()
        time.sleep(0.005)
    QApplication.processEvents()


def _drop_paths(window, paths) -> None:
    """A real drag-enter + drop of file URLs (mouse moves cannot drive a drag: docs/pitfalls.md,
    'Testing Qt headless');
    returns when the dropped files have been read (off the GUI thread)."""
    from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted(), "the window refused a drag of file URLs"
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    wait_quick_lane(window)
