"""Data and features: load a source, the demo set, the CIFAR-10 download, new splits, Extract.

Requests come from the data and features panels, the banner and the menus; results go into
the workbench, which tells every view.
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np
from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QMessageBox

from linviz.errors import LinvizError
from linviz.text import duration
from linviz.workbench import jobs
from linviz.gui.runtime.job_queue import JobQueue
from linviz.gui.widgets.download_banner import download_error_text
from linviz.workbench import PreparedData, Selection, SplitSettings, Workbench


class DataController(QObject):
    def __init__(self, workbench: Workbench, job_queue: JobQueue, data_panel, features_panel, banner, parent=None):
        super().__init__(parent)
        self.workbench = workbench
        self.job_queue = job_queue
        self.data_panel = data_panel
        self.features_panel = features_panel
        self.banner = banner
        data_panel.openRequested.connect(self._forward_open)
        data_panel.demoRequested.connect(self.use_demo_set)
        data_panel.downloadRequested.connect(self.start_download)
        data_panel.splitsChanged.connect(self.apply_split_settings)
        banner.downloadRequested.connect(self.start_download)
        banner.localRequested.connect(self.load_source)
        banner.cancelRequested.connect(job_queue.cancel)
        features_panel.extractRequested.connect(self.extract_features)
        self.open_dialog = None  # the window's "open a folder or archive" dialog
        # Asks the user before a trained model is discarded (the window's dialog; tests replace it).
        self.confirm: Callable[[str, str], bool] = self._ask

    @Slot()
    def _forward_open(self) -> None:
        if self.open_dialog is not None:
            self.open_dialog()

    # ------------------------------------------------------------------ sources
    def start_on(self, source: Optional[str]) -> None:
        """None: CIFAR-10 if a copy is found, else the demo set."""
        if source is None:
            from linviz.data import find_cifar10

            found = find_cifar10()
            source = str(found) if found is not None else "demo"
        if source == "demo":
            self.use_demo_set()
        else:
            self.load_source(source)

    def split_settings(self) -> SplitSettings:
        val_size, per_class = self.data_panel.split_values()
        return SplitSettings(val_size=val_size, per_class=per_class)

    @Slot()
    def use_demo_set(self) -> None:
        """The demo set is small and generated: built right here, no worker needed."""
        if not self.job_queue.data_can_change("demo", self.use_demo_set):
            return
        try:
            prepared = jobs.prepare_splits(jobs.demo_dataset(), self.split_settings())
        except LinvizError as exc:
            self.job_queue.status.show_error("Demo set", str(exc))
            return
        self._set_data(prepared)
        self.banner.setVisible(True)

    def load_source(self, source: str, settings: Optional[SplitSettings] = None,
                    then: Optional[Callable] = None) -> None:
        """Load ``source`` with ``settings`` (default: the data panel's splits); ``then(outcome)``
        runs after the data is in the workbench (or the load failed)."""
        if not self.job_queue.data_can_change("data", lambda: self.load_source(source, settings, then)):
            return

        def loaded(outcome) -> None:
            self._loaded(outcome)
            if then is not None:
                then(outcome)

        self.job_queue.run("load", jobs.load_job(source, settings or self.split_settings()), f"Loading {source}",
                       on_done=loaded, on_progress=self.data_panel.show_progress)

    def _ask(self, title: str, text: str) -> bool:
        parent = self.parent() if isinstance(self.parent(), QObject) else None
        answer = QMessageBox.question(parent, title, text, QMessageBox.StandardButton.Discard
                                      | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Discard

    @Slot()
    def apply_split_settings(self) -> None:
        if self.workbench.data is None:
            return
        if self.workbench.model is not None and not self.confirm(
                "Apply new splits", "New splits discard the trained model and its curves (Save model... keeps "
                "it). Discard the model?"):
            self.job_queue.status.show_message("Splits unchanged: the model is kept")
            return
        if not self.job_queue.data_can_change("data", self._apply_split_settings):
            return
        self._apply_split_settings()

    def _apply_split_settings(self) -> None:
        if self.workbench.data is None:
            return
        dataset, settings = self.workbench.data.dataset, self.split_settings()

        def job(ctx) -> PreparedData:
            return jobs.prepare_splits(dataset, settings)

        self.job_queue.run("split", job, "Preparing splits", on_done=self._loaded,
                           on_progress=self.data_panel.show_progress)

    @Slot()
    def start_download(self) -> None:
        if not self.job_queue.data_can_change("data", self.start_download):
            return
        settings = self.split_settings()

        def job(ctx):
            from linviz.data import download_cifar10

            path = download_cifar10(progress=ctx.progress, cancel=ctx.cancel)
            return jobs.load_job(str(path), settings)(ctx)

        self.banner.setVisible(True)
        if self.job_queue.run("download", job, "Downloading CIFAR-10", on_done=self._loaded,
                          on_progress=self.banner.show_downloading):
            self.banner.show_downloading(0, 0)

    def _loaded(self, outcome) -> None:
        self.data_panel.hide_progress()
        if not outcome.ok:  # what waited for this data (Train, Extract) does not run on other data
            self.job_queue.drop_pending(("train", "extract"))
        if outcome.ok:
            from linviz.data.cache import unavailable_reason

            self._set_data(outcome.result)
            self.banner.setVisible(False)
            n = len(outcome.result.train.labels) + len(outcome.result.val.labels)
            without_cache = unavailable_reason()
            note = f"; running without the cache ({without_cache})" if without_cache else ""
            self.job_queue.status.show_message(f"Loaded {n:,} training images in {duration(outcome.seconds)}{note}",
                                           error=bool(without_cache))
        elif outcome.name == "download":
            error = download_error_text(outcome.error or "")
            self.banner.show_idle("Download cancelled." if outcome.cancelled else f"Download failed: {error}",
                                  retry=True)
        if outcome.cancelled:
            self.job_queue.status.show_message(f"{outcome.name.capitalize()} cancelled")
        elif outcome.error:
            error = download_error_text(outcome.error) if outcome.name == "download" else outcome.error
            self.job_queue.status.show_error(f"Could not {outcome.name}", error, outcome.details)
            if self.workbench.data is None:
                self.use_demo_set()

    def _set_data(self, prepared: PreparedData) -> None:
        self.workbench.set_data(prepared)
        self._update_banner(prepared)
        if len(prepared.train.labels):
            self.workbench.select(Selection("train", 0))
        problem = self.why_untrainable()
        if problem:
            self.job_queue.status.show_message(problem, error=True)

    def _update_banner(self, prepared: PreparedData) -> None:
        """The banner says what is loaded and never offers a download already done."""
        from linviz.data import find_cifar10
        from linviz.data.cifar10 import CIFAR10_CLASSES
        from linviz.text import printable

        source = str(getattr(prepared.dataset, "source", "dataset"))
        found = find_cifar10()
        self.banner.show_source(printable(source), on_demo=source == "demo",
                                is_cifar10=prepared.class_names == CIFAR10_CLASSES,
                                local_copy=str(found) if found is not None else None)

    def why_untrainable(self) -> Optional[str]:
        """Why the loaded data cannot train a classifier (fewer than two classes), or None."""
        prepared = self.workbench.data
        # counted, not a set of 50,000 Python ints: asked on every Train press
        present = np.flatnonzero(np.bincount(prepared.train.labels)).tolist() if prepared is not None else []
        if prepared is None or len(present) >= 2:
            return None
        from linviz.text import printable

        names = ", ".join(printable(prepared.class_names[c]) for c in present) or "none"
        source = getattr(prepared.dataset, "source", "this dataset")
        return (f"{source}: its training images have {len(present)} class ({names}); "
                f"a classifier needs at least 2 (one sub-folder per class)")

    # ------------------------------------------------------------------ features
    def valid_spec(self) -> Optional[str]:
        """The features panel's spec in canonical form, or None (the error is shown)."""
        text = self.features_panel.spec_text()
        try:
            return jobs.canonical_spec(text)
        except LinvizError as exc:
            self.features_panel.show_spec_error(str(exc))
            self.job_queue.status.show_message(f"Feature spec: {exc}", error=True)
            return None

    @Slot()
    def extract_features(self) -> None:
        if self.job_queue.waits_for_data("extract", self.extract_features):
            self.job_queue.status.show_message("The data is loading: features are extracted when it is ready")
            return
        if self.workbench.data is None:
            self.job_queue.status.show_message("Load a dataset first", error=True)
            return
        if not self.job_queue.free_for("extract", self.extract_features):
            return
        spec = self.valid_spec()
        if spec is None:
            return
        self.features_panel.show_progress(0, 0)
        # In shared memory from the start: the worker process trains on these very arrays.
        allocate = self.job_queue.runner.shared_files.empty
        self.job_queue.run("extract", jobs.extract_job(self.workbench.data, spec, allocate), "Extracting features",
                       on_done=self._extracted, on_progress=self.features_panel.show_progress)

    def _extracted(self, outcome) -> None:
        self.features_panel.progress.setVisible(False)
        if outcome.ok and self.workbench.is_current(outcome.result.data_key):
            self.workbench.set_features(outcome.result)
        elif outcome.cancelled:
            self.features_panel.show_timing("Extraction cancelled")
        elif outcome.error:
            self.features_panel.show_timing("Extraction failed")
            self.job_queue.status.show_error("Feature extraction", outcome.error, outcome.details)
