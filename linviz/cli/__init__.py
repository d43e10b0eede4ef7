"""The headless commands: ``python main.py info|features|train|tune|predict|knn|landscape|bench``.

``main`` (:mod:`linviz.cli.entry_point`) parses the command line (:mod:`linviz.cli.parser`)
and runs the command's module: ``linviz.cli.<command>.run(args)``. What the commands share
(exit codes, JSON output, argument types, Ctrl+C, the train recipe's first steps) is in
:mod:`linviz.cli.common`, the progress bar in :mod:`linviz.cli.progress_bar`.
"""

from linviz.cli.entry_point import app_argv, main

__all__ = ["app_argv", "main"]
