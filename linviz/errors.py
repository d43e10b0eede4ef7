"""Exceptions shared by every layer.

``LinvizError`` is a *user* error: bad input, a bad file, a failed download. The CLI turns it
into exit code 2 and one line on stderr; the GUI shows it in the status bar or a dialog.
Anything else that escapes is a bug and keeps its traceback.
"""


class LinvizError(Exception):
    """Bad input from the user or the outside world; the message names the file and why."""


class DatasetError(LinvizError):
    """A dataset source that cannot be read (missing, malformed, refused)."""


class SplitSizeError(DatasetError):
    """A validation (or other held-out) size the training split cannot give."""


class ModelFileError(LinvizError):
    """A model file that is truncated, foreign, or from a newer linviz."""


class UsageError(LinvizError):
    """Bad command-line arguments (of a CLI command or the benchmarks): exit code 2."""


class Cancelled(Exception):
    """Raised inside long operations when the caller's ``cancel`` check turns true.

    Not a LinvizError: cancelling is the user's wish, not a mistake, and callers usually
    report it differently ("Cancelled" rather than an error dialog).
    """
