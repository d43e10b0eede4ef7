"""Images the user drops on the window (or opens): read off the GUI thread, then shown.

Reading runs on the quick lane, so a big drop neither freezes the window nor waits for a
training run; each drop is its own request (none replaces another). Unreadable files are
reported on the status line; the rest are added.
"""

from __future__ import annotations

import itertools

from PySide6.QtCore import QObject

from linviz.workbench import Selection, Workbench
from linviz.workbench.user_images import read_user_images, skipped_summary
from linviz.gui.runtime.worker import JobOutcome, JobRunner
from linviz.text import counted


class UserImagesController(QObject):
    def __init__(self, workbench: Workbench, runner: JobRunner, parent=None):
        super().__init__(parent)
        self.workbench = workbench
        self.runner = runner
        self._drops = itertools.count(1)

    def add(self, paths: list[str]) -> None:
        """Read ``paths`` (files and folders) in the background; the workbench gets the images."""
        size = self.workbench.data.train.images.shape[1] if self.workbench.data is not None else 32
        paths = [str(p) for p in paths]

        def job(ctx):
            return read_user_images(paths, size, cancel=ctx.cancel)

        self.workbench.post_message(f"Reading {counted(len(paths), 'dropped item')}...")
        self.runner.quick.submit(f"drop-{next(self._drops)}", job, self._read)

    def _read(self, outcome: JobOutcome) -> None:
        if not outcome.ok:
            if outcome.error:
                self.workbench.post_message(f"Dropped images: {outcome.error}", error=True)
            return
        images, skipped = outcome.result
        first = len(self.workbench.user_images)
        self.workbench.add_user_images(images)
        if images:
            self.workbench.select(Selection("yours", first + len(images) - 1))
        if skipped:
            self.workbench.post_message(skipped_summary(len(images), skipped), error=True)
        elif images:
            self.workbench.post_message(f"Added {counted(len(images), 'image')}")

    def clear(self) -> None:
        self.workbench.clear_user_images()
