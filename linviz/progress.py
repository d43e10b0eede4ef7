"""Progress reporting and cancellation for long operations, without any GUI dependency.

Long functions take two optional keyword arguments:

``progress(done, total)``
    called now and then with whole numbers (``total`` may be 0 when unknown). It must be
    cheap; it is called from the worker thread.
``cancel``
    either a callable returning True when the caller wants to stop, or an object with an
    ``is_set()`` method (a ``threading.Event``). Functions call :func:`check_cancelled`
    between units of work, which raises :class:`linviz.errors.Cancelled`.
"""

from __future__ import annotations

from typing import Callable, Optional, Protocol, Union

from linviz.errors import Cancelled

ProgressCallback = Callable[[int, int], None]


class _EventLike(Protocol):
    def is_set(self) -> bool: ...


CancelCheck = Union[Callable[[], bool], _EventLike, None]


def is_cancelled(cancel: CancelCheck) -> bool:
    """True when ``cancel`` (callable, Event, or None) asks to stop."""
    if cancel is None:
        return False
    is_set = getattr(cancel, "is_set", None)
    if is_set is not None:
        return bool(is_set())
    return bool(cancel())


def check_cancelled(cancel: CancelCheck) -> None:
    """Raise :class:`Cancelled` when ``cancel`` asks to stop."""
    if is_cancelled(cancel):
        raise Cancelled("cancelled")


def report(progress: Optional[ProgressCallback], done: int, total: int) -> None:
    """Call ``progress(done, total)`` when a callback was given."""
    if progress is not None:
        progress(int(done), int(total))
