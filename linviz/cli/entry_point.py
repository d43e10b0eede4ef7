"""``python main.py [CMD ...]``: the desktop app, or one command of the CLI.

Every command prints human-readable text, or one JSON document with ``--json``. Bad input
(a :class:`~linviz.errors.LinvizError`, or bad arguments) exits with code 2 and exactly one
line on stderr; no traceback for a user mistake. Progress bars go to stderr so that
stdout stays clean for ``--json``. Names that come from files (class names, paths) are
printed escaped (:func:`linviz.text.printable`); JSON never holds a bare NaN.
"""

from __future__ import annotations

import sys
import warnings
from typing import Optional, Sequence

from linviz.cli.common import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, UsageError
from linviz.cli.parser import COMMANDS, build_parser
from linviz.errors import Cancelled, LinvizError
from linviz.text import printable


def app_argv(argv: Sequence[str]) -> Optional[list]:
    """The arguments for the desktop app, or None when ``argv`` names a CLI command.

    The app takes options only (``--data``, ``--size``, ...), the CLI a command first; so
    nothing, ``gui ...``, or a first item starting with ``--`` goes to the app, except
    ``--help``, which shows the CLI's help (the commands and the app's options).
    """
    argv = list(argv)
    if not argv:
        return []
    if argv[0] == "gui":
        return argv[1:]
    if argv[0].startswith("--") and argv[0] != "--help":
        return argv
    return None


def _quiet_and_robust_output() -> None:
    """No library warnings on stderr, and no encoding error on any stdout.

    NumPy's overflow warnings of a diverging run and Pillow's notes about odd files are not
    the user's business (linviz reports what matters in its own words); filters given with
    ``-W`` or ``PYTHONWARNINGS`` come first and still apply. Characters the terminal's
    encoding lacks are printed as escapes instead of raising UnicodeEncodeError.
    """
    warnings.simplefilter("ignore", append=True)
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


def _finish_cache_writes() -> None:
    """Wait for the dataset cache's background write before exiting (Ctrl+C aborts it)."""
    cache = sys.modules.get("linviz.data.cache")
    if cache is not None:
        cache.wait_for_pending_writes()


def _abort_cache_writes() -> None:
    """Stop a background cache write (its temporary file is removed); never raises."""
    cache = sys.modules.get("linviz.data.cache")
    if cache is not None:
        try:
            cache.abort_pending_writes()
        except KeyboardInterrupt:
            pass


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``python main.py CMD``; with no command (options only), the desktop app."""
    argv = list(sys.argv[1:] if argv is None else argv)
    for_app = app_argv(argv)
    if for_app is not None:
        from linviz.gui.app import run_app

        return run_app(for_app)
    _quiet_and_robust_output()
    try:
        try:
            args, unknown = build_parser().parse_known_args(argv)
        except SystemExit as exc:  # --help
            return exc.code if isinstance(exc.code, int) else EXIT_OK
        if unknown:  # said by the command they were given to (argparse says 'linviz')
            command = getattr(args, "command", None) or "linviz"
            raise UsageError(f"{command}: unrecognized arguments: {' '.join(unknown)}")
        if getattr(args, "func", None) is None:
            raise UsageError(f"linviz: give a command: {', '.join(COMMANDS[:-1])} or {COMMANDS[-1]}")
        code = args.func(args)
        _finish_cache_writes()
        return code
    except LinvizError as exc:
        _abort_cache_writes()
        print(f"error: {printable(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Cancelled:
        _abort_cache_writes()
        print("cancelled", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        _abort_cache_writes()
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # stdout closed early (``... --json | head``): not an error of ours. Point stdout at
        # devnull so that Python's flush at exit does not raise a second time.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
