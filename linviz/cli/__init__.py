"""The headless commands: ``python main.py info|features|train|tune|predict|knn|landscape|bench``.

``main`` (:mod:`linviz.cli.entry_point`) parses the command line (:mod:`linviz.cli.parser`)
and runs the command's module: ``linviz.cli.<command>.run(args)``. What the commands share
(exit codes, JSON output, argument types, Ctrl+C, the train recipe's first steps) is in
:mod:`linviz.cli.common`, the progress bar in :mod:`linviz.cli.progress_bar`.
"""

import os

# Before anything imports Numba: with colorama installed (pyqtgraph brings it), Numba's
# coloured error messages start colorama, whose exit handler writes a stray "ESC[0m" after
# the command's last line on a terminal. linviz's messages are plain text.
os.environ.setdefault("NUMBA_DISABLE_ERROR_MESSAGE_HIGHLIGHTING", "1")

from linviz.cli.entry_point import app_argv, main  # noqa: E402

__all__ = ["app_argv", "main"]
