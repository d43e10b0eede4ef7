"""linviz: a workbench for understanding linear image classifiers.

The package is layered (see docs/architecture.md): ``data`` -> ``features`` ->
``models`` / ``training`` -> ``gui``. Nothing outside ``linviz.gui`` imports Qt.
"""

__version__ = "0.1.0"
