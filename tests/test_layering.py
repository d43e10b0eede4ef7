"""The layering rule: nothing outside linviz.gui imports Qt or pyqtgraph."""

import subprocess
import sys
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

BLOCKER = textwrap.dedent(
    """
    import importlib.abc, pkgutil, sys

    BLOCKED = ("PySide6", "PyQt5", "PyQt6", "PySide2", "pyqtgraph", "superqt", "qtpy")

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is blocked in this test")
            return None

    sys.meta_path.insert(0, Block())
    import linviz
    names = [m.name for m in pkgutil.walk_packages(linviz.__path__, "linviz.")
             if not m.name.startswith("linviz.gui")]
    for name in names:
        __import__(name)
    assert not any(k.split(".")[0] in BLOCKED for k in sys.modules), sorted(sys.modules)
    print(len(names), "modules")
    """
)


def test_core_imports_without_qt():
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[0]) >= 5
