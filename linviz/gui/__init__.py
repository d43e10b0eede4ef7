"""linviz.gui: everything Qt. The desktop app composed of small panels and live views.

PySide6 is imported before pyqtgraph (and ``PYQTGRAPH_QT_LIB`` is pinned) because
pyqtgraph otherwise prefers PyQt6 when it happens to be installed.
"""

import os

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import PySide6.QtCore  # noqa: E402,F401  (must precede pyqtgraph)
import pyqtgraph as _pg  # noqa: E402

# Row-major images everywhere: arrays are (rows, cols[, 3]) like numpy and like the data layer.
_pg.setConfigOptions(imageAxisOrder="row-major", antialias=False, background="w", foreground="k")

from linviz.gui.main_window import MainWindow  # noqa: E402

__all__ = ["MainWindow"]
