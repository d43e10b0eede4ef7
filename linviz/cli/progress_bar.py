"""The CLI's progress bar: one throttled line on stderr, so that stdout stays clean for ``--json``."""

from __future__ import annotations

import sys
import time
from typing import Optional, TextIO


class ProgressBar:
    """A throttled one-line progress bar on stderr: ``label [#####.....]  45%  12.3 s``.

    Usable directly as a ``progress(done, total)`` callback, and as a context manager that
    knows whether the step failed. A step quicker than the interval draws nothing, so that
    a user mistake found early still leaves exactly one line (the error) on stderr. When an
    error ends the step, a terminal's bar is erased; in a log, the pending final line is
    dropped.
    """

    def __init__(self, label: str, stream: Optional[TextIO] = None, min_interval: float = 0.1, unit: str = ""):
        self.label = label
        self.unit = unit  # what a count without a total counts ("compiled": "12 compiled")
        # Looked up now, not at import, so that redirected or captured stderr is honoured.
        self.stream = stream if stream is not None else sys.stderr
        # On a terminal the bar redraws in place; in a log file (CI, a pipe) a carriage
        # return would glue every update into one endless line, so write a line now and then.
        isatty = getattr(self.stream, "isatty", None)
        self._tty = bool(isatty and isatty())
        self.min_interval = min_interval if self._tty else max(min_interval, 5.0)
        self._start = time.perf_counter()
        self._last = self._start  # nothing before the first interval
        self._drawn = False       # terminal: a bar is on the current line
        self._pending = None      # log: (done, total, elapsed) not written yet
        self._final_written = False

    def _text(self, done: int, total: int, elapsed: float) -> str:
        if total > 0:
            fraction = min(max(done / total, 0.0), 1.0)
            filled = int(round(30 * fraction))
            return f"{self.label} [{'#' * filled}{'.' * (30 - filled)}] {fraction:5.0%} {elapsed:6.1f} s"
        return f"{self.label} {done:,}{' ' + self.unit if self.unit else ''} {elapsed:6.1f} s"

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        finished = total > 0 and done >= total
        if self._tty:
            if now - self._last < self.min_interval and not finished:
                return
            self._last = now
            self.stream.write("\r" + self._text(done, total, now - self._start) + "\033[K")
            self._drawn = True
        elif finished or now - self._last < self.min_interval:
            # The final line waits for close(): written when the step succeeds, not before
            # an error (which would then be a second line).
            if not self._final_written:
                self._pending = (done, total, now - self._start)
            return
        else:
            self._last = now
            self._pending = None
            self.stream.write(self._text(done, total, now - self._start) + "\n")
        self.stream.flush()

    def close(self, error: bool = False) -> None:
        """End the bar: a newline after it on success, erased (terminal) or dropped (log) on error."""
        if self._tty:
            if self._drawn:
                self.stream.write("\r\033[K" if error else "\n")
                self.stream.flush()
                self._drawn = False
        elif self._pending is not None:
            if not error:
                self.stream.write(self._text(*self._pending) + "\n")
                self.stream.flush()
                self._final_written = True
            self._pending = None

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(error=exc_type is not None)
