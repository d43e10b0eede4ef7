"""The base of every lab: the workbench, the jobs, and "hidden labs compute nothing"."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from linviz.gui.runtime.redraw import Redraw

REFRESH_MS = 300  # while training, a lab follows the model a few times a second


class Lab(QWidget):
    """Subclasses set ``title`` (the tab's text; perhaps a ``short_title`` for a narrow window),
    ``order`` (its place among the tabs) and ``object_name``, connect the workbench signals they
    show to :meth:`request_refresh`, and implement :meth:`refresh`. ``submit`` runs a job on the
    quick lane under the lab's name; ``self.job_queue.run(...)`` runs a long one on the heavy
    lane, with progress and Cancel in the status bar, one at a time (the user is told when
    another job is running). ``featuresRequested`` asks the window to extract a feature spec
    (a preset's name): the Features panel takes it, as if the user had chosen it there."""

    featuresRequested = Signal(str)

    title = "Lab"
    short_title = ""  # the tab's text when the row has no room for every whole title (none: "")
    order = 100
    object_name = "lab"

    def __init__(self, workbench, job_queue, parent=None):
        super().__init__(parent)
        self.setObjectName(self.object_name)
        self.workbench = workbench
        self.job_queue = job_queue  # the JobQueue: .run(...) on the heavy lane, .quick for short jobs
        self._stale = True
        self._refresh_soon = Redraw(workbench, self._refresh_if_visible, REFRESH_MS)

    @property
    def active(self) -> bool:
        return self.isVisible()

    def request_refresh(self, *_) -> None:
        """Something the lab shows changed: refresh now (paced while training) if visible,
        else when it is shown next."""
        self._stale = True
        self._refresh_soon()

    def _refresh_if_visible(self) -> None:
        if self.active and self._stale:
            self._stale = False
            self.refresh()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.refresh()

    def refresh(self) -> None:
        raise NotImplementedError

    def submit(self, kind: str, job, on_done) -> None:
        """``job(ctx)`` on the quick lane; a newer request of the same kind replaces it."""
        self.job_queue.quick.submit(f"{self.object_name}:{kind}", job, on_done)

    def cancel(self, kind: str) -> None:
        """Drop the pending or running request of ``kind``: its answer would be stale."""
        self.job_queue.quick.cancel(f"{self.object_name}:{kind}")
