"""``python main.py [--data SOURCE]``: create the QApplication and the main window, run."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Optional, Sequence

ORGANIZATION = "linviz"
APPLICATION = "linviz"


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors worded as the CLI's (``error: --size: reason``) and exit
    status 2. An unknown option says what the app takes: it may be a command's option given
    without its command."""

    def error(self, message: str):  # noqa: D401 (argparse API)
        from linviz.text import option_message

        message = option_message(message)
        if message.startswith("unrecognized arguments"):
            options = [a.option_strings[-1] for a in self._actions if a.option_strings and a.dest != "help"]
            message += f" (the app takes {' and '.join(options)}; python main.py --help lists the commands)"
        self.exit(2, f"error: {message}\n")


MAX_WINDOW_SIDE = 16384  # pixels; Qt's sizes are C ints (a bigger number would overflow)


def window_size(text: str) -> tuple[int, int]:
    """``WxH`` -> (W, H), each from 1 to MAX_WINDOW_SIDE pixels."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r}: expected WxH, e.g. 1400x900") from None
    if not (1 <= w <= MAX_WINDOW_SIDE and 1 <= h <= MAX_WINDOW_SIDE):
        raise argparse.ArgumentTypeError(f"{text[:40]!r}: width and height must be from 1 to {MAX_WINDOW_SIDE:,}")
    return w, h


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Checked before anything is built: a bad argument exits (status 2) with no window or thread."""
    parser = _Parser(prog="linviz", description="The linviz desktop app")
    parser.add_argument("--data", default=None,
                        help='start on SOURCE: "demo", "cifar10", a CIFAR-10 folder or tarball, '
                             'an image folder or archive')
    parser.add_argument("--size", default=None, type=window_size, help="initial window size WxH (e.g. 1400x900)")
    return parser.parse_args(list(argv))


def configure_application(app) -> None:
    """Names first (QSettings and QStandardPaths paths derive from them), then look and feel."""
    from PySide6.QtGui import QIcon

    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("linviz")
    resources = resource_folder()
    if resources is None:
        return  # Qt's own look: the app works the same
    style = resources / "style.qss"
    if style.is_file():
        app.setStyleSheet(style.read_text(encoding="utf-8"))
    icon = resources / "icons" / "linviz.svg"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))


def resource_folder() -> Optional[Path]:
    """The folder of the window's style sheet and icon: ``resources/`` beside the package in a
    checkout (and an editable install), ``<prefix>/share/linviz/resources`` where a wheel put
    it (pyproject.toml's data files: the prefix the package sits under, the environment's, or
    the user's for ``pip install --user``); None when none has the style sheet."""
    import sysconfig

    here = Path(__file__).resolve()
    candidates = [here.parents[2] / "resources"]
    if len(here.parents) > 5:  # <prefix>/lib/pythonX.Y/site-packages/linviz/gui/app.py
        candidates.append(here.parents[5] / "share" / "linviz" / "resources")
    for scheme in (sysconfig.get_default_scheme(), f"{os.name}_user"):
        try:
            candidates.append(Path(sysconfig.get_path("data", scheme)) / "share" / "linviz" / "resources")
        except KeyError:  # no such scheme on this platform
            continue
    return next((folder for folder in candidates if (folder / "style.qss").is_file()), None)


def prepare_first_kernels() -> None:
    """Start getting the kernels of the window's first pictures and first training ready:
    on a first run they compile in other processes from now on, while the window is built
    (the features panel shows the selected image's pictures once they are; the window's
    own feature spec follows when it is shown)."""
    from linviz.training.defaults import DEFAULT_FEATURES
    from linviz.workbench.jobs import prepare_kernels

    prepare_kernels(DEFAULT_FEATURES)


def run_app(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from linviz.gui.runtime.blas_threads import set_env_before_numpy

    set_env_before_numpy()  # before anything imports NumPy
    prepare_first_kernels()
    from PySide6.QtCore import QCoreApplication  # PySide6 first, or pyqtgraph may pick PyQt6
    from PySide6.QtWidgets import QApplication

    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "linviz"])
    configure_application(app)
    from linviz.gui.runtime.garbage import collect_on_gui_thread, freeze_survivors

    collect_on_gui_thread()  # never a Qt destructor on a worker thread

    from linviz.gui.main_window import MainWindow

    try:
        window = MainWindow(source=args.data)
    except Exception as exc:  # a bug: the window stopped its threads; say so and leave cleanly
        import traceback

        traceback.print_exc()
        from linviz.text import printable

        print(f"linviz: could not open the window: {type(exc).__name__}: {printable(exc)}", file=sys.stderr)
        return 1
    if args.size:
        window.resize(*args.size)
    window.show()
    freeze_survivors()  # full collections then scan only what came after the window
    _quit_on_ctrl_c(app)
    return int(app.exec())


def _quit_on_ctrl_c(app) -> None:
    """Ctrl+C in the terminal closes the app cleanly (the worker is stopped on aboutToQuit).

    Python runs signal handlers only between bytecodes; a slow timer gives it the chance
    while Qt's event loop (C++) is waiting.
    """
    import signal

    from PySide6.QtCore import QTimer

    signal.signal(signal.SIGINT, lambda *_: app.quit())
    timer = QTimer(app)
    timer.setInterval(250)
    timer.timeout.connect(lambda: None)
    timer.start()
