"""The layering rules: nothing outside linviz.gui imports Qt or pyqtgraph (the Qt-free
workbench included), and no module imports from a layer above its own (errors/paths/progress <
data, features < models < training < explore < workbench < gui < cli/bench)."""

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


# Each layer imports only layers below it (and itself). Lower number = lower layer.
LAYERS = {
    "linviz": 0, "linviz.errors": 0, "linviz.paths": 0, "linviz.progress": 0, "linviz.numba_setup": 0,
    "linviz.kernel_cache": 0, "linviz.kernel_threads": 0,
    "linviz.limits": 0, "linviz.safe_files": 0, "linviz.text": 0,
    "linviz.data": 1, "linviz.features": 1,
    "linviz.models": 2,
    "linviz.training": 3,
    "linviz.explore": 4,
    "linviz.workbench": 5,
    "linviz.gui": 6,
    "linviz.cli": 7, "linviz.bench": 7,
}


def _layer(module: str) -> int:
    parts = module.split(".")
    for k in range(len(parts), 0, -1):
        name = ".".join(parts[:k])
        if name in LAYERS:
            return LAYERS[name]
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO_ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_no_module_imports_from_a_layer_above_it():
    import ast

    upward = []
    for path in sorted((REPO_ROOT / "linviz").rglob("*.py")):
        module = _module_name(path)
        own = _layer(module)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.split(".")[0] == "linviz" and name != "linviz" and _layer(name) > own:
                    upward.append(f"{module} imports {name}")
    assert not upward, upward


def test_layers_cover_every_package():
    for path in (REPO_ROOT / "linviz").iterdir():
        if path.suffix == ".py" or (path.is_dir() and (path / "__init__.py").exists()):
            _layer(_module_name(path if path.suffix == ".py" else path / "__init__.py"))
