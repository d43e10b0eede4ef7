"""Images the user drops on the window (or opens): read off the GUI thread, then shown.

Reading runs on the quick lane, so a big drop neither freezes the window nor waits for a
training run; each drop is its own request (none replaces another). Unreadable files are
reported on the status line; the rest are added.
"""

from __future__ import annotations

import itertools

from PySide6.QtCore import QObject

from linviz.gui.session import Selection, Workbench
from linviz.gui.user_images import read_user_images, skipped_summary
from linviz.gui.worker import JobOutcome, JobRunner


class UserImagesController(QObject):
    def __init__(self, bench: Workbench, runner: JobRunner, parent=None):
        super().__init__(parent)
        self.bench = bench
        self.runner = runner
        self._drops = itertools.count(1)

    def add(self, paths: list[str]) -> None:
        """Read ``paths`` (files and folders) in the background; the workbench gets the images."""
        size = self.bench.data.train.images.shape[1] if self.bench.data is not None else 32
        paths = [str(p) for p in paths]

        def job(ctx):
            return read_user_images(paths, size, cancel=ctx.cancel)

        self.bench.post_message(f"Reading {len(paths)} dropped item(s)...")
        self.runner.quick.submit(f"drop-{next(self._drops)}", job, self._read)

    def _read(self, outcome: JobOutcome) -> None:
        if not outcome.ok:
            if outcome.error:
                self.bench.post_message(f"Dropped images: {outcome.error}", error=True)
            return
        images, skipped = outcome.result
        first = len(self.bench.user_images)
        self.bench.add_user_images(images)
        if images:
            self.bench.select(Selection("yours", first + len(images) - 1))
        if skipped:
            self.bench.post_message(skipped_summary(len(images), skipped), error=True)
        elif images:
            self.bench.post_message(f"Added {len(images)} image(s)")

    def clear(self) -> None:
        self.bench.clear_user_images()
