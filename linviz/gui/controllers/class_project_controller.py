"""The "Your classes" project: requests from its view and the menus become file operations
on the quick lane, and the project becomes the window's data when it trains.

Every operation (add images, paste, remove, move, rename or delete a class) runs as a quick job
with a kind of its own, so they run one after the other in the order asked, off the GUI
thread; each job returns the project's new listing and the thumbnails of what it wrote, and
only then does the view show the change (an image shown as added is on disk).

Changes do not reload the data at once: the current model keeps classifying while images are
added. The next training loads the folder again first (``TrainingController.before_train``),
so it trains on every image added since, corrections included.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np
from PySide6.QtCore import QObject, QSettings, Signal

from linviz.errors import LinvizError
from linviz.gui.runtime.worker import JobOutcome
from linviz.workbench import Workbench
from linviz.workbench.class_project import (ClassProject, ClassProjectError, list_projects, projects_root,
                                            validation_note, why_untrainable)
from linviz.workbench.user_images import skipped_summary
from linviz.text import counted

RECENT_KEY = "classes/recent"
MAX_RECENT = 8
# Few images per class: the preset that won on CIFAR-10 at 10 and 30 images per class
# (python main.py bench --only fewshot; docs/benchmarks.md has the figures).
FEW_SHOT_PRESET = "best"


@dataclass
class ProjectUpdate:
    """What a project job returns: the listing after it, thumbnails it made, and what to say."""

    listing: dict[str, list[Path]]
    thumbnails: dict[Path, np.ndarray] = field(default_factory=dict)
    message: str = ""
    skipped: list = field(default_factory=list)
    changed: bool = True  # the files changed (the next training must reload them)
    focus: Optional[str] = None  # the class the view should show as current


def _thumbnails_job(project: ClassProject, known: set):
    """The listing, and thumbnails of the images not shown yet (opening a project)."""

    def job(ctx) -> ProjectUpdate:
        listing = project.listing()
        missing = [p for files in listing.values() for p in files if p not in known]
        thumbs = {}
        if missing:
            names, images, _ = project.thumbnails(missing, cancel=ctx.cancel)
            thumbs = {Path(n): images[k] for k, n in enumerate(names)}
        return ProjectUpdate(listing, thumbs, changed=False)

    return job


class ClassProjectController(QObject):
    """Owns the open project and its listing; the view draws them (``changed``)."""

    changed = Signal()  # the project, its listing or its thumbnails changed
    projectOpened = Signal()

    def __init__(self, workbench: Workbench, job_queue, data_controller, training_controller,
                 features_panel, settings: QSettings, parent=None):
        super().__init__(parent)
        self.workbench = workbench
        self.job_queue = job_queue
        self.data_controller = data_controller
        self.training_controller = training_controller
        self.features_panel = features_panel
        self.settings = settings
        self.project: Optional[ClassProject] = None
        self.listing: dict[str, list[Path]] = {}
        self.thumbnails: dict[Path, np.ndarray] = {}
        self.dirty = False  # the files changed since the data was loaded from them
        self.focus: Optional[str] = None  # the class the newest operation was about
        self._jobs = itertools.count(1)
        self._pending_jobs = 0
        training_controller.before_train = self._reload_before_training

    # ------------------------------------------------------------------ state
    @property
    def counts(self) -> dict[str, int]:
        return {name: len(files) for name, files in self.listing.items()}

    @property
    def is_loaded(self) -> bool:
        """The window's data is this project's folder."""
        data = self.workbench.data
        return (self.project is not None and data is not None
                and str(getattr(data.dataset, "source", "")) == str(self.project.root))

    @property
    def busy(self) -> bool:
        return self._pending_jobs > 0

    def why_untrainable(self) -> Optional[str]:
        return why_untrainable(self.counts) if self.project is not None else "Create or open your classes first"

    def validation_note(self) -> Optional[str]:
        return validation_note(self.counts)

    def uses_few_shot_features(self) -> bool:
        from linviz.features import PRESETS

        return self.features_panel.spec_text().strip() in (FEW_SHOT_PRESET, PRESETS[FEW_SHOT_PRESET])

    def use_few_shot_features(self) -> None:
        self.features_panel.set_spec_text(FEW_SHOT_PRESET)

    def recent(self) -> list[Path]:
        """Projects opened lately that still exist, newest first, then the data folder's others."""
        raw = self.settings.value(RECENT_KEY, [])
        saved = [raw] if isinstance(raw, str) else list(raw) if isinstance(raw, (list, tuple)) else []
        found = []
        for item in saved[:MAX_RECENT]:
            if isinstance(item, str) and 0 < len(item) < 4096 and Path(item).is_dir() and Path(item) not in found:
                found.append(Path(item))
        return found + [p for p in list_projects() if p not in found]

    def _remember(self, root: Path) -> None:
        recent = [str(root)] + [str(p) for p in self.recent() if p != root]
        self.settings.setValue(RECENT_KEY, recent[:MAX_RECENT])

    # ------------------------------------------------------------------ opening
    def new_project(self, name: str, classes=(), parent: Optional[str] = None) -> bool:
        """Create a project folder (in the data folder unless ``parent``) and open it."""
        try:
            project = ClassProject.create(name, Path(parent) if parent else None, classes)
        except LinvizError as exc:
            self.workbench.post_message(f"New classes: {exc}", error=True)
            return False
        self._open(project)
        # Few images per class: the features that won there (the user can change them).
        self.features_panel.set_spec_text(FEW_SHOT_PRESET)
        self.workbench.post_message(f"Created {project.root}: add images to each class, then Train")
        return True

    def open_project(self, path: str, load: bool = True) -> bool:
        """Open a project folder; ``load``: load it as the data at once when it can train."""
        try:
            project = ClassProject.open(path)
            project.classes()
        except LinvizError as exc:
            self.workbench.post_message(f"Open classes: {exc}", error=True)
            return False
        self._open(project, load)
        return True

    def _open(self, project: ClassProject, load: bool = True) -> None:
        self.project = project
        self.listing, self.thumbnails = {}, {}
        self.dirty, self.focus = False, None
        self._remember(project.root)
        self.projectOpened.emit()
        self.changed.emit()
        self._submit(_thumbnails_job(project, set()), then=self._load_if_trainable if load else None)

    def _load_if_trainable(self) -> None:
        if self.project is not None and self.why_untrainable() is None and not self.is_loaded:
            self.load()

    # ------------------------------------------------------------------ the data
    def load(self) -> bool:
        """Load the project's folder as the window's data, with its automatic split."""
        problem = self.why_untrainable()
        if problem:
            self.workbench.post_message(f"{self.project.name if self.project else 'Your classes'}: {problem}",
                                        error=True)
            return False
        project = self.project
        self.data_controller.load_source(str(project.root), settings=project.split_settings(),
                                         then=lambda outcome: self._loaded(project, outcome))
        self.dirty = False
        return True

    def _loaded(self, project: ClassProject, outcome) -> None:
        if not outcome.ok or project is not self.project:
            if project is self.project:
                self.dirty = True  # the files were not taken in: the next training tries again
            return
        note = self.validation_note()
        if note:
            self.workbench.post_message(note)
        self.changed.emit()

    def _reload_before_training(self) -> None:
        """Train (any Train button): a loaded project that changed is loaded again first."""
        if self.is_loaded and self.dirty and self.why_untrainable() is None:
            self.load()

    def train(self) -> None:
        """The view's Train: load the project (when it is not the data, or changed), then train."""
        problem = self.why_untrainable()
        if problem:
            self.workbench.post_message(f"Train: {problem}", error=True)
            return
        if self.busy:
            self.workbench.post_message("Your classes: still writing files; Train again in a moment", error=True)
            return
        if not self.is_loaded or self.dirty:
            self.load()
        self.training_controller.train()

    # ------------------------------------------------------------------ operations
    def _submit(self, job, then: Optional[Callable[[], None]] = None) -> None:
        project = self.project
        self._pending_jobs += 1

        def done(outcome: JobOutcome) -> None:
            self._pending_jobs -= 1
            self._apply(project, outcome)
            if then is not None and outcome.ok:
                then()

        self.job_queue.quick.submit(f"classes-{next(self._jobs)}", job, done)

    def _apply(self, project: ClassProject, outcome: JobOutcome) -> None:
        if project is not self.project:
            return  # another project was opened meanwhile
        if not outcome.ok:
            if outcome.error:
                self.workbench.post_message(f"Your classes: {outcome.error}", error=True)
                self.changed.emit()
            return
        update: ProjectUpdate = outcome.result
        self.listing = update.listing
        self.thumbnails.update(update.thumbnails)
        kept = {p for files in self.listing.values() for p in files}
        self.thumbnails = {p: t for p, t in self.thumbnails.items() if p in kept}
        if update.changed:
            self.dirty = True
        text = update.message
        if update.skipped:
            text = skipped_summary(len(update.thumbnails), update.skipped)
        if text:
            self.workbench.post_message(text, error=bool(update.skipped))
        self.focus = update.focus
        self.changed.emit()

    def _operation(self, describe: Callable[[ClassProject], tuple[str, Optional[str]]]) -> None:
        """Run ``describe(project)`` (the file operation; returns the message and the class to
        show) as a job, then list the project again."""
        if self.project is None:
            self.workbench.post_message("Create or open your classes first (File > New classes...)", error=True)
            return
        project = self.project

        def job(ctx) -> ProjectUpdate:
            message, focus = describe(project)
            return ProjectUpdate(project.listing(), message=message, focus=focus)

        self._submit(job)

    def add_class(self, name: str) -> None:
        def do(project):
            added = project.add_class(name)
            return f"Added the class {added}", added

        self._operation(do)

    def rename_class(self, old: str, new: str) -> None:
        def do(project):
            renamed = project.rename_class(old, new)
            return f"Renamed {old} to {renamed}", renamed

        self._operation(do)

    def delete_class(self, name: str) -> None:
        def do(project):
            n = project.delete_class(name)
            return f"Deleted the class {name} and its {counted(n, 'image')}", None

        self._operation(do)

    def remove_images(self, paths: list) -> None:
        def do(project):
            for path in paths:
                project.remove_image(path)
            return f"Removed {counted(len(paths), 'image')}", None

        self._operation(do)

    def move_images(self, paths: list, to_class: str) -> None:
        def do(project):
            for path in paths:
                project.move_image(path, to_class)
            return f"Moved {counted(len(paths), 'image')} to {to_class}", to_class

        self._operation(do)

    def add_files(self, class_name: str, paths: list) -> None:
        """Copy image files (and the images in folders) into a class, off the GUI thread."""
        if self.project is None:
            self.workbench.post_message("Create or open your classes first (File > New classes...)", error=True)
            return
        project = self.project
        paths = [str(p) for p in paths]

        def job(ctx) -> ProjectUpdate:
            result = project.add_files(class_name, paths, cancel=ctx.cancel)
            return ProjectUpdate(project.listing(), dict(zip(result.added, result.thumbnails)),
                                 message=f"Added {counted(len(result.added), 'image')} to {class_name}",
                                 skipped=result.skipped, focus=class_name)

        self.workbench.post_message(f"Adding {counted(len(paths), 'item')} to {class_name}...")
        self._submit(job)

    def add_image_bytes(self, class_name: str, data: bytes, file_name: str) -> None:
        """An image from the clipboard (encoded by the view) into a class."""
        if self.project is None:
            self.workbench.post_message("Create or open your classes first (File > New classes...)", error=True)
            return
        project = self.project

        def job(ctx) -> ProjectUpdate:
            path, thumbnail = project.add_image_bytes(class_name, data, file_name)
            return ProjectUpdate(project.listing(), {path: thumbnail},
                                 message=f"Pasted {path.name} into {class_name}", focus=class_name)

        self._submit(job)

    def add_user_image(self, index: int, class_name: str) -> None:
        """"Add to class ...": a dropped-in image joins a class (its file is copied); the next
        training uses it."""
        images = self.workbench.user_images
        if not 0 <= index < len(images):
            self.workbench.post_message("Add to class: select one of your dropped images first", error=True)
            return
        self.add_files(class_name, [images[index].path])

    def default_folder(self) -> str:
        try:
            return str(projects_root())
        except ClassProjectError:
            return str(Path.home())
