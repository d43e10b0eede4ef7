"""The main window: composes the panels and live views, runs jobs on the compute worker,
and redraws the views from a display timer.

Threading in one paragraph: loading, downloading, feature extraction, training and the
Numba warm-up are jobs on ONE compute thread (:class:`~linviz.gui.worker.ComputeRunner`),
one at a time. A training job publishes immutable frames into a one-slot box; the display
timer (25 Hz) takes the newest and redraws. Everything the window changes, it changes on
the GUI thread.
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path
from typing import Callable, Optional

import numpy as np
from PySide6.QtCore import QCoreApplication, QSettings, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox, QScrollArea,
                               QSplitter, QTabWidget, QVBoxLayout, QWidget)

from linviz.errors import LinvizError
from linviz.gui import session
from linviz.gui.blas_threads import limit_loaded_blas
from linviz.gui.download_banner import DownloadBanner
from linviz.gui.job_status import JobStatus
from linviz.gui.panels.data_panel import DataPanel
from linviz.gui.panels.features_panel import FeaturesPanel
from linviz.gui.panels.training_panel import TrainingPanel
from linviz.gui.session import PreparedData, SplitSettings, TrainingFrame, Workbench
from linviz.gui.views.accuracy_view import AccuracyView
from linviz.gui.views.confusion_view import ConfusionView
from linviz.gui.views.gallery_view import GalleryView
from linviz.gui.views.loss_view import LossView
from linviz.gui.views.probabilities_view import ProbabilitiesView
from linviz.gui.views.templates_view import TemplatesView
from linviz.gui.views.user_images_view import UserImagesView
from linviz.gui.model_files import last_accuracies, load_model_job
from linviz.gui.user_images import read_user_images, skipped_summary, top_classes_caption
from linviz.gui.window_settings import restore_window, save_window
from linviz.gui.worker import ComputeRunner, JobOutcome

DISPLAY_HZ = 25
# The costliest redraws are throttled: nobody reads a confusion matrix 25 times a second,
# and every millisecond the GUI thread holds the GIL is taken from the training loop.
SELECTION_INTERVAL_S = 0.2
CONFUSION_INTERVAL_S = 0.25
ACCURACY_INTERVAL_S = 0.1
TEXT_INTERVAL_S = 0.25  # labels relayout their dock when the text changes


class MainWindow(QMainWindow):
    """The whole app window. ``source``: None (CIFAR-10 if found, else the demo set),
    "demo", "cifar10" or a path. Builds everything without needing an event loop."""

    def __init__(self, source: Optional[str] = None, settings: Optional[QSettings] = None):
        super().__init__()
        self.setObjectName("linvizMainWindow")
        self.setWindowTitle("linviz: linear image classifiers")
        self.setAcceptDrops(True)
        self.settings = settings if settings is not None else QSettings()
        self.bench = Workbench()
        self.runner = ComputeRunner(self)
        limit_loaded_blas()  # one core stays free for this thread (see blas_threads)
        self._control = None  # TrainingControl of the running training job
        # Requests that wait for the worker (behind the warm-up or a job being stopped), in
        # order, as (kind, request); each request re-reads the window's state when it runs.
        self._pending: deque[tuple[str, Callable[[], None]]] = deque()
        self._on_start: Optional[Callable[[], None]] = None  # runs when the started job really starts
        self._fresh_run = False  # a training run whose first iteration has not been drawn yet
        self._run_settings: Optional[dict] = None  # the settings of that run
        self._sanity_before: Optional[tuple[str, str]] = None
        self._transient = ""  # a status message about the running job, cleared when it ends
        self._warmup_state = "waiting"  # waiting -> running -> done
        self._selected: Optional[tuple[str, int]] = None
        self._drawn = {"W": None, "confusion": None, "predictions": None, "templates": None, "templates_at": 0.0,
                       "confusion_at": 0.0, "accuracy_at": 0.0, "text_at": 0.0}
        self._sanity_shown = False
        self.redraw_count = 0
        self.error_messages: list[str] = []
        self._closing = False
        self._planned_epochs = 0

        self._build_views()
        self._build_panels()
        self._build_layout()
        self._build_menus()
        self._connect()
        self._route_drops_to_window()
        self._restore_settings()

        self.display_timer = QTimer(self)
        self.display_timer.setInterval(int(1000 / DISPLAY_HZ))
        self.display_timer.timeout.connect(self._on_display_tick)
        self.display_timer.start()

        app = QApplication.instance()
        if app is not None:  # however the app ends, the worker thread is stopped first
            app.aboutToQuit.connect(self._on_about_to_quit)

        self._start_on(source)

    # ------------------------------------------------------------------ construction
    def _build_views(self) -> None:
        self.loss_view = LossView()
        self.accuracy_view = AccuracyView()
        self.templates_view = TemplatesView()
        self.probabilities_view = ProbabilitiesView()
        self.confusion_view = ConfusionView()
        self.gallery_view = GalleryView()
        self.user_images_view = UserImagesView()

    def _build_panels(self) -> None:
        try:
            from linviz.features import PRESETS
        except ImportError:
            PRESETS = {}
        self.data_panel = DataPanel()
        self.features_panel = FeaturesPanel(presets=dict(PRESETS))
        self.training_panel = TrainingPanel()
        self.banner = DownloadBanner()
        self.banner.setVisible(False)
        self.job_status = JobStatus()
        self.message_label = QLabel("")
        self.message_label.setObjectName("statusMessage")
        self.statusBar().addWidget(self.message_label, 1)
        self.statusBar().addPermanentWidget(self.job_status)

    def _splitter(self, name: str, orientation, widgets, sizes) -> QSplitter:
        splitter = QSplitter(orientation)
        splitter.setObjectName(name)
        splitter.setChildrenCollapsible(False)
        for w in widgets:
            splitter.addWidget(w)
        splitter.setSizes(sizes)
        return splitter

    def _build_layout(self) -> None:
        self.lower_tabs = QTabWidget()
        self.lower_tabs.setObjectName("imagesTabs")
        self.lower_tabs.addTab(self.gallery_view, "Gallery")
        self.lower_tabs.addTab(self.user_images_view, "Your images")
        curves = self._splitter("curvesSplitter", Qt.Orientation.Vertical, [self.loss_view, self.accuracy_view], [260, 180])
        top = self._splitter("topSplitter", Qt.Orientation.Horizontal, [self.templates_view, curves], [560, 440])
        bottom = self._splitter("bottomSplitter", Qt.Orientation.Horizontal,
                                [self.lower_tabs, self.probabilities_view, self.confusion_view], [430, 270, 330])
        self.training_view = self._splitter("trainingSplitter", Qt.Orientation.Vertical, [top, bottom], [420, 400])
        self.splitters = [self.training_view, top, bottom, curves]

        # Further exploration views (score inspector, loss landscapes, kNN, ...) become tabs here.
        self.view_tabs = QTabWidget()
        self.view_tabs.setObjectName("viewTabs")
        self.view_tabs.setDocumentMode(True)
        self.view_tabs.addTab(self.training_view, "Training")

        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(2, 2, 2, 2)
        column.setSpacing(2)
        column.addWidget(self.banner)
        column.addWidget(self.view_tabs, 1)
        self.setCentralWidget(central)

        self.docks = {}
        for key, title, panel in (("data", "Data", self.data_panel), ("features", "Features", self.features_panel),
                                  ("training", "Model and training", self.training_panel)):
            dock = QDockWidget(title, self)
            dock.setObjectName(f"{key}Dock")
            scroll = QScrollArea()  # small screens: panels scroll instead of clipping
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
            scroll.setWidget(panel)
            dock.setWidget(scroll)
            dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                             | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
            self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
            self.docks[key] = dock
        self.tabifyDockWidget(self.docks["data"], self.docks["features"])
        self.tabifyDockWidget(self.docks["features"], self.docks["training"])
        self.docks["training"].raise_()
        self.resizeDocks([self.docks["training"]], [330], Qt.Orientation.Horizontal)

    def add_view_tab(self, title: str, widget: QWidget) -> None:
        """Room for the exploration views that come later."""
        self.view_tabs.addTab(widget, title)
        self._route_drops_to_window()

    def _route_drops_to_window(self) -> None:
        """Files dropped anywhere reach the window's dropEvent.

        Qt hands a drag to the innermost widget that accepts drops: a line edit would paste
        the path as text, a list or graphics view would swallow it. With drops off on every
        child, Qt passes the drag up the parent chain to the window.
        """
        for child in self.findChildren(QWidget):
            child.setAcceptDrops(False)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")

        def action(menu, text, slot, shortcut=None):
            act = QAction(text, self)
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
            act.triggered.connect(slot)
            menu.addAction(act)
            return act

        action(file_menu, "Open folder or archive...", self.open_dataset_dialog, "Ctrl+O")
        action(file_menu, "Open images...", self.open_images_dialog, "Ctrl+I")
        action(file_menu, "Use the demo set", self.use_demo_set)
        action(file_menu, "Download CIFAR-10 (163 MB)", self.start_download)
        file_menu.addSeparator()
        action(file_menu, "Save model...", self.save_model_dialog, "Ctrl+S")
        action(file_menu, "Load model...", self.load_model_dialog)
        file_menu.addSeparator()
        action(file_menu, "Quit", self.close, "Ctrl+Q")
        view_menu = self.menuBar().addMenu("&View")
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        action(view_menu, "Show the download banner", self.banner.show)

    def _connect(self) -> None:
        self.runner.started.connect(self._on_job_started)
        self.runner.progressed.connect(self._on_job_progress)
        self.runner.messaged.connect(self._on_job_message)
        self.runner.finished.connect(self._on_job_finished)
        self.job_status.cancelRequested.connect(self.cancel_job)

        self.banner.downloadRequested.connect(self.start_download)
        self.banner.cancelRequested.connect(self.cancel_job)
        self.banner.openRequested.connect(self.open_dataset_dialog)
        self.data_panel.openRequested.connect(self.open_dataset_dialog)
        self.data_panel.demoRequested.connect(self.use_demo_set)
        self.data_panel.downloadRequested.connect(self.start_download)
        self.data_panel.splitsChanged.connect(self.apply_split_settings)

        self.features_panel.extractRequested.connect(self.extract_features)
        self.features_panel.specChanged.connect(self._on_spec_changed)

        self.training_panel.trainRequested.connect(self.train)
        self.training_panel.pauseToggled.connect(self.set_paused)
        self.training_panel.stopRequested.connect(self.stop_training)
        self.training_panel.resetRequested.connect(self.reset_model)
        self.training_panel.saveRequested.connect(self.save_model_dialog)
        self.training_panel.loadRequested.connect(self.load_model_dialog)

        self.gallery_view.imageSelected.connect(self._on_gallery_selected)
        self.confusion_view.cellClicked.connect(self._on_confusion_cell)
        self.user_images_view.imageSelected.connect(self._on_user_image_selected)
        self.user_images_view.openRequested.connect(self.open_images_dialog)
        self.user_images_view.clearRequested.connect(self.clear_user_images)

    # ------------------------------------------------------------------ settings
    def _restore_settings(self) -> None:
        restore_window(self, self.settings)

    def save_settings(self) -> None:
        save_window(self, self.settings)

    # ------------------------------------------------------------------ messages
    def show_message(self, text: str, error: bool = False, transient: bool = False) -> None:
        """``transient``: about the running job ("Paused", "Busy with ..."): cleared when it ends."""
        self._transient = text if transient else ""
        self.message_label.setText(text)
        self.message_label.setToolTip(text)
        self.message_label.setStyleSheet("color: #b03020;" if error else "")
        if error:
            self.error_messages.append(text)

    def show_error(self, title: str, text: str, details: Optional[str] = None) -> None:
        """User errors go to the status line; bugs also get a (non-modal) dialog with details."""
        self.show_message(f"{title}: {text}", error=True)
        if details and not self._closing:
            box = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Ok, self)
            box.setDetailedText(details)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()

    # ------------------------------------------------------------------ start-up and data
    def _start_on(self, source: Optional[str]) -> None:
        if source is None:
            found = None
            try:
                from linviz.data import find_cifar10

                found = find_cifar10()
            except ImportError:
                pass
            if found is not None:
                self.load_source(str(found))
            else:
                self.use_demo_set()
        elif source == "demo":
            self.use_demo_set()
        else:
            self.load_source(source)

    def split_settings(self) -> SplitSettings:
        val_size, per_class = self.data_panel.split_values()
        return SplitSettings(val_size=val_size, per_class=per_class)

    @Slot()
    def use_demo_set(self) -> None:
        """The demo set is small and generated: built right here, no worker needed."""
        if not self._data_change_can_start("demo", self.use_demo_set):
            return
        try:
            dataset = session.demo_dataset()
            prepared = session.prepare_splits(dataset, self.split_settings())
        except LinvizError as exc:
            self.show_error("Demo set", str(exc))
            return
        self._set_data(prepared)
        self.banner.show_idle()
        self.banner.setVisible(True)

    def load_source(self, source: str) -> None:
        if not self._data_change_can_start("data", lambda: self.load_source(source)):
            return
        self._run_job("load", session.load_job(source, self.split_settings()), f"Loading {source}")

    @Slot()
    def apply_split_settings(self) -> None:
        if self.bench.data is None:
            return
        if not self._data_change_can_start("data", self.apply_split_settings):
            return
        dataset = self.bench.data.dataset
        settings = self.split_settings()

        def job(ctx) -> PreparedData:
            return session.prepare_splits(dataset, settings)

        self._run_job("split", job, "Preparing splits")

    def _set_data(self, prepared: PreparedData) -> None:
        """A new dataset or new splits: everything derived from the old one goes."""
        self.bench.data = prepared
        self.bench.features = None
        self._clear_model()
        names = prepared.class_names
        ds = prepared.dataset
        self.data_panel.show_data(
            str(getattr(ds, "source", "dataset")), names, prepared.train.labels, prepared.val.labels,
            prepared.test.labels if prepared.test is not None else None, list(getattr(ds, "skipped", []) or []),
        )
        self.data_panel.hide_progress()
        self.gallery_view.set_data({"train": (prepared.train.images, prepared.train.labels),
                                    "validation": (prepared.val.images, prepared.val.labels)}, names)
        self.features_panel.show_timing("Not extracted yet (Train extracts them when needed)")
        self.confusion_view.set_classes(names)  # its text items exist before training starts
        self.probabilities_view.set_classes(names)
        self._selected = None
        if len(prepared.train.labels):
            self.gallery_view.select("train", 0)
        self._refresh_user_images()
        problem = self._why_untrainable()
        if problem:
            self.show_message(problem, error=True)

    def _why_untrainable(self) -> Optional[str]:
        """Why the loaded data cannot train a classifier (fewer than two classes), or None."""
        prepared = self.bench.data
        present = sorted({int(c) for c in prepared.train.labels}) if prepared is not None else []
        if prepared is None or len(present) >= 2:
            return None
        names = ", ".join(prepared.class_names[c] for c in present) or "none"
        source = getattr(prepared.dataset, "source", "this dataset")
        return (f"{source}: its training images have {len(present)} class ({names}); "
                f"a classifier needs at least 2 (one sub-folder per class)")

    @Slot()
    def open_dataset_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open an image folder (one sub-folder per class) or CIFAR-10")
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "Or open an archive", "",
                                                  "Archives (*.zip *.tar *.tar.gz *.tgz);;All files (*)")
        if path:
            self.load_source(path)

    @Slot()
    def start_download(self) -> None:
        if not self._data_change_can_start("data", self.start_download):
            return
        settings = self.split_settings()

        def job(ctx):
            from linviz.data import download_cifar10

            path = download_cifar10(progress=ctx.progress, cancel=ctx.cancel)
            return session.load_job(str(path), settings)(ctx)

        self.banner.setVisible(True)
        if self._run_job("download", job, "Downloading CIFAR-10"):
            self.banner.show_downloading(0, 0)

    # ------------------------------------------------------------------ jobs
    def _data_change_can_start(self, kind: str, request: Callable[[], None]) -> bool:
        """True when nothing runs and the data can change now.

        Otherwise the running job is stopped (training) or cancelled, and ``request`` waits
        for the worker to be free: a job keeps publishing frames for the data it was given,
        so the data never changes under it. Requests queued for the old data are dropped.
        """
        if not self.runner.busy:
            return True
        running = self.runner.job_name
        self._pending.clear()
        self._pending.append((kind, request))
        if running == "train":
            self.show_message("Stopping the training to switch the data...", transient=True)
        elif running != "warmup":
            self.show_message(f"Cancelling {running} to switch the data...", transient=True)
        self._cancel_running()
        return False

    def _worker_free_for(self, kind: str, request: Callable[[], None]) -> bool:
        """True when the worker is free now. Otherwise ``request`` waits its turn when the
        worker is about to be free (the warm-up gives way; a job is being stopped), once per
        kind; while any other job runs it is refused with a message."""
        if not self.runner.busy:
            return True
        if self.runner.job_name == "warmup" or self.runner.cancelling:
            for k, (queued_kind, _) in enumerate(self._pending):
                if queued_kind == kind:
                    self._pending[k] = (kind, request)
                    break
            else:
                self._pending.append((kind, request))
            if self.runner.job_name == "warmup":
                self.runner.cancel()
            return False
        self.show_message(f"Busy with {self.runner.job_name}: cancel it first (or wait)", error=True, transient=True)
        return False

    def _run_job(self, name: str, job, text: str, on_cancel=None, on_start=None) -> bool:
        """Start ``job`` on the compute worker. A warm-up in progress gives way (the job waits
        for it); any other job keeps running and the user is told to wait or cancel it.
        ``on_start`` runs when the job really starts."""
        if not self._worker_free_for(name, lambda: self._run_job(name, job, text, on_cancel, on_start)):
            return self.runner.job_name == "warmup" or self.runner.cancelling
        self.job_status.set_running(text)
        self._on_start = on_start
        return self.runner.start(name, job, on_cancel=on_cancel)

    def _run_pending(self) -> None:
        """Run the waiting requests in order until one of them starts a job."""
        while self._pending and not self.runner.busy and not self._closing:
            _, request = self._pending.popleft()
            request()

    @Slot()
    def cancel_job(self) -> None:
        self._cancel_running()

    def _cancel_running(self) -> None:
        if self.runner.job_name == "train":
            self.stop_training()
        else:
            self.runner.cancel()

    def start_warmup(self) -> None:
        """Compile the kernels in the background, only when nothing else runs."""
        if self._warmup_state != "waiting" or self._closing:
            return
        if self.runner.busy:
            return  # retried when the running job ends
        self._warmup_state = "running"
        self.job_status.set_running("Preparing the fast kernels")
        self.runner.start("warmup", session.warmup_job())

    @Slot(str)
    def _on_job_started(self, name: str) -> None:
        if name != "warmup":
            self.show_message("")
        on_start, self._on_start = self._on_start, None
        if on_start is not None:
            on_start()

    @Slot(str, object, object)
    def _on_job_progress(self, name: str, done, total) -> None:
        self.job_status.set_progress(done, total)
        if name in ("load", "split"):
            self.data_panel.show_progress(done, total)
        elif name == "download":
            self.banner.show_downloading(done, total)
        elif name in ("extract", "train") and (self.bench.features is None or name == "extract"):
            self.features_panel.show_progress(done, total)

    @Slot(str, str)
    def _on_job_message(self, name: str, text: str) -> None:
        self.job_status.label.setText(text)

    @Slot(object)
    def _on_job_finished(self, outcome: JobOutcome) -> None:
        self.job_status.set_idle()
        self._on_start = None
        if self._transient and self.message_label.text() == self._transient:
            self.show_message("")  # "Paused", "Busy with ...": about the job that just ended
        name = outcome.name
        if name == "warmup":
            self._warmup_state = "done" if outcome.ok else "waiting"
            if outcome.error:
                self.show_error("Warm-up", outcome.error, outcome.details)
        elif name in ("load", "split", "download"):
            self.data_panel.hide_progress()
            if outcome.ok:
                self._set_data(outcome.result)
                self.banner.setVisible(False)
                self.show_message(f"Loaded {len(outcome.result.train.labels) + len(outcome.result.val.labels):,} "
                                  f"training images in {outcome.seconds:.1f} s")
            elif name == "download":
                self.banner.show_idle("Download cancelled." if outcome.cancelled else f"Download failed: {outcome.error}",
                                      retry=True)
            if outcome.cancelled:
                self.show_message(f"{name.capitalize()} cancelled")
            elif outcome.error:
                self.show_error(f"Could not {name}", outcome.error, outcome.details)
                if self.bench.data is None:
                    self.use_demo_set()
        elif name == "extract":
            self.features_panel.progress.setVisible(False)
            if outcome.ok and self._is_current(outcome.result.data_key):
                self._set_features(outcome.result)
            elif outcome.cancelled:
                self.features_panel.show_timing("Extraction cancelled")
            else:
                self.features_panel.show_timing("Extraction failed")
                self.show_error("Feature extraction", outcome.error, outcome.details)
        elif name == "train":
            self._finish_training(outcome)
        elif name == "model":
            if outcome.ok and self._is_current(outcome.result[1].data_key):
                self._apply_loaded_model(*outcome.result)
            elif outcome.error:
                self.show_error("Load model", outcome.error, outcome.details)
        self._run_pending()
        if not self.runner.busy and self._warmup_state == "waiting" and self.isVisible():
            QTimer.singleShot(0, self.start_warmup)

    def _is_current(self, data_key) -> bool:
        """Results and frames count only for the data the window shows now."""
        return self.bench.data is not None and data_key == self.bench.data.key()

    def _finish_training(self, outcome: JobOutcome) -> None:
        self._control = None
        self.training_panel.set_running(False)
        self.features_panel.progress.setVisible(False)
        frame = self.runner.latest.take()
        if outcome.ok:
            frame = outcome.result
        if frame is not None and self._is_current(frame.data_key):
            self._apply_frame(frame, final=outcome.ok)
        if self._fresh_run:  # not one iteration was drawn: the model and its views stay
            self._fresh_run = False
            if self._sanity_before is not None:
                text, style = self._sanity_before
                self.training_panel.sanity_label.setText(text)
                self.training_panel.sanity_label.setStyleSheet(style)
            if outcome.cancelled:
                self.show_message("Stopped before the first iteration: the model is unchanged")
        elif outcome.cancelled:
            self.show_message("Training cancelled")
        if outcome.error:
            self.show_error("Training", outcome.error, outcome.details)

    # ------------------------------------------------------------------ features
    @Slot(str)
    def _on_spec_changed(self, text: str) -> None:
        self.features_panel.show_spec_error("")
        self._show_selected_features()  # the glyphs follow the HOG settings

    def _valid_spec(self) -> Optional[str]:
        text = self.features_panel.spec_text()
        try:
            from linviz.features import parse_feature_spec

            return str(parse_feature_spec(text))
        except LinvizError as exc:
            self.features_panel.show_spec_error(str(exc))
            self.show_message(f"Feature spec: {exc}", error=True)
            return None

    @Slot()
    def extract_features(self) -> None:
        if self.bench.data is None:
            self.show_message("Load a dataset first", error=True)
            return
        if not self._worker_free_for("extract", self.extract_features):
            return
        spec = self._valid_spec()
        if spec is None:
            return
        self.features_panel.show_progress(0, 0)
        self._run_job("extract", session.extract_job(self.bench.data, spec), "Extracting features")

    def _set_features(self, features) -> None:
        changed = self.bench.features is not features
        self.bench.features = features
        self.features_panel.show_timing(f"{features.timing_text()} · {features.X_train.shape[1] - 1:,} "
                                        "features per image")
        if changed and not self.bench.model_matches_features():
            self.bench.W = None
        self._refresh_user_images()

    # ------------------------------------------------------------------ training
    @Slot()
    def train(self) -> None:
        """One click from any state: features are extracted first when missing or stale.

        The model and its views are replaced when the run's first iteration arrives: a run
        refused, still waiting or stopped before any update leaves the current model alone.
        """
        if self.runner.busy and self.runner.job_name == "train" and not self.runner.cancelling:
            return
        if self.bench.data is None:
            self.show_message("Load a dataset first", error=True)
            return
        problem = self._why_untrainable()
        if problem:
            self.show_message(problem, error=True)
            return
        spec = self._valid_spec()
        if spec is None:
            return
        settings = self.training_panel.settings()
        if not self._worker_free_for("train", lambda: self._start_training(spec, settings)):
            return
        self._start_training(spec, settings)

    def _start_training(self, spec: str, settings: dict) -> None:
        from linviz.training import TrainingControl

        if self.bench.data is None:
            return
        control = TrainingControl()
        job = session.train_job(self.bench.data, self.bench.features, spec, settings, control)

        def started() -> None:
            self._control = control
            self._fresh_run = True
            self._run_settings = dict(settings)
            self._planned_epochs = int(settings.get("epochs", 0))
            self.training_panel.set_running(True)
            label = self.training_panel.sanity_label
            self._sanity_before = (label.text(), label.styleSheet())
            label.setText("Sanity check: waiting for the first iterations...")
            label.setStyleSheet("")

        self._run_job("train", job, "Training", on_cancel=control.stop, on_start=started)

    @Slot(bool)
    def set_paused(self, paused: bool) -> None:
        if self._control is None:
            return
        if paused:
            self._control.pause()
            self.show_message("Paused", transient=True)
        else:
            self._control.resume()
            self.show_message("")
        self.training_panel.set_running(True, paused)

    @Slot()
    def stop_training(self) -> None:
        """Stop the training run, also in its feature-extraction phase (the job's cancel flag)."""
        if self._control is not None:
            self._control.resume()  # a paused loop must wake up to see the stop flag
            self._control.stop()
        if self.runner.job_name == "train":
            self.runner.cancel()

    @Slot()
    def reset_model(self) -> None:
        if self.runner.busy and self.runner.job_name == "train":
            return
        self._clear_model()

    def _clear_model(self) -> None:
        """Forget the weights and everything drawn from them."""
        self.bench.W = None
        self.bench.frame = None
        self.bench.hyperparameters = None
        self._sanity_shown = False
        self._drawn.update(W=None, confusion=None, predictions=None, templates=None, templates_at=0.0,
                           confusion_at=0.0, accuracy_at=0.0, text_at=0.0)
        self.loss_view.clear()
        self.accuracy_view.clear()
        self.templates_view.clear()
        self.confusion_view.clear()
        self.gallery_view.set_predictions(None)
        self.training_panel.rate_label.setText(" ")
        self.training_panel.result_label.setText(" ")
        self.training_panel.sanity_label.setText("Sanity check: shown when training starts")
        self.training_panel.sanity_label.setStyleSheet("")
        self._draw_selection()
        self._refresh_user_images()

    # ------------------------------------------------------------------ drawing
    @Slot()
    def _on_display_tick(self) -> None:
        """Draw the newest frame (if any arrived since the last tick) and nothing else."""
        frame = self.runner.latest.take() if self.runner.job_name == "train" else None
        if frame is not None and self._is_current(frame.data_key):
            self._apply_frame(frame)
            self.redraw_count += 1

    def _apply_frame(self, frame: TrainingFrame, final: bool = False) -> None:
        snap = frame.snapshot
        if self._fresh_run:  # the run's first iteration: now the new model replaces the old
            self._fresh_run = False
            self._clear_model()
            self.bench.loss = frame.loss
            self.bench.hyperparameters = self._run_settings
        self.bench.frame = frame
        if frame.features is not None and self.bench.features is not frame.features:
            self._set_features(frame.features)
        if frame.W is not None:
            self.bench.W = frame.W
            self.bench.loss = frame.loss
        names = self.bench.class_names
        self.loss_view.set_losses(snap.losses, getattr(snap, "smoothed_losses", None))
        now = time.perf_counter()
        if final or now - self._drawn["accuracy_at"] >= ACCURACY_INTERVAL_S:
            self._drawn["accuracy_at"] = now
            self.accuracy_view.set_accuracies(list(snap.train_accuracies or []), list(snap.val_accuracies or []))
        if not self._sanity_shown and getattr(snap, "initial_loss", None) is not None:
            self._sanity_shown = True
            self.training_panel.show_sanity(getattr(snap, "sanity_check", ""), frame.loss)
            self.loss_view.set_expected_initial_loss(getattr(snap, "expected_initial_loss", None))
        if final or now - self._drawn["text_at"] >= TEXT_INTERVAL_S:
            self._drawn["text_at"] = now
            if not final and not getattr(snap, "done", False) and self._planned_epochs:
                self.job_status.set_progress(int(1000 * float(snap.epoch)), 1000 * self._planned_epochs)
            self.training_panel.show_rates(float(snap.iterations_per_second or 0),
                                           float(snap.samples_per_second or 0), int(snap.iteration), float(snap.epoch))
        if frame.templates is not None and frame.templates is not self._drawn["templates"]:
            self._drawn["templates"] = frame.templates
            self._show_templates(frame.templates)
        elif final and frame.templates is None and frame.W is not None:
            self._draw_templates(frame.W)
        if frame.W is not None and frame.W is not self._drawn["W"] and self.bench.features is not None and (
                final or now - self._drawn["templates_at"] >= SELECTION_INTERVAL_S):
            self._drawn["W"] = frame.W
            self._drawn["templates_at"] = now
            self._draw_selection()
            self._refresh_user_images()
        if frame.confusion is not None and frame.confusion is not self._drawn["confusion"] and (
                final or now - self._drawn["confusion_at"] >= CONFUSION_INTERVAL_S):
            self._drawn["confusion"] = frame.confusion
            self._drawn["confusion_at"] = now
            self.confusion_view.set_counts(frame.confusion, names)
        if frame.val_predictions is not None and frame.val_predictions is not self._drawn["predictions"]:
            self._drawn["predictions"] = frame.val_predictions
            self.gallery_view.set_predictions(frame.val_predictions)
        if final or getattr(snap, "done", False):
            val = list(snap.val_accuracies or [])
            best = getattr(snap, "best_val_accuracy", None)
            reason = getattr(snap, "stop_reason", None)
            text = f"Finished after {int(snap.iteration):,} iterations in {float(snap.elapsed):.1f} s"
            if reason:
                text += f" ({reason})"
            if val:
                text += f"; validation accuracy {val[-1]:.1%}"
            if best is not None:
                text += f", best {best:.1%} (these weights are kept)"
            self.training_panel.result_label.setText(text)

    def _draw_templates(self, W: np.ndarray) -> None:
        from linviz.gui.template_pictures import template_rows

        features = self.bench.features
        if features is None or W.shape[0] != features.X_train.shape[1]:
            return
        try:
            rows = template_rows(W, features.pipeline)
        except Exception as exc:  # a picture that cannot be drawn must not stop training
            self.show_message(f"Templates: {type(exc).__name__}: {exc}", error=True)
            return
        self._show_templates(rows)

    def _show_templates(self, rows) -> None:
        features = self.bench.features
        if features is None:
            return
        from linviz.gui.template_pictures import templates_caption

        self.templates_view.set_templates(rows, self.bench.class_names, caption=templates_caption(features.pipeline))

    # ------------------------------------------------------------------ selection and probabilities
    @Slot(str, int)
    def _on_gallery_selected(self, split: str, index: int) -> None:
        self._selected = (split, index)
        self._draw_selection()
        self._show_selected_features()

    @Slot(int, int)
    def _on_confusion_cell(self, true_class: int, predicted: int) -> None:
        self.lower_tabs.setCurrentWidget(self.gallery_view)
        self.gallery_view.show_cell(true_class, predicted)

    @Slot(int)
    def _on_user_image_selected(self, row: int) -> None:
        self._selected = ("yours", row)
        self._draw_selection()
        self._show_selected_features()

    def _selected_image(self) -> tuple[Optional[np.ndarray], Optional[np.ndarray], Optional[int], str]:
        """(pixels, feature row or None, true class or None, caption) of the selection."""
        if self._selected is None or self.bench.data is None:
            return None, None, None, ""
        split, index = self._selected
        if split == "yours":
            if index >= len(self.bench.user_images):
                return None, None, None, ""
            item = self.bench.user_images[index]
            try:
                x = self.bench.user_image_features(item)
            except LinvizError as exc:
                self.show_message(f"{item.path}: {exc}", error=True)
                x = None
            return item.image, x, None, Path(item.path).name
        data = self.bench.data
        part = data.train if split == "train" else data.val
        if index >= len(part.labels):
            return None, None, None, ""
        features = self.bench.features
        x = None
        if features is not None and features.data_key == data.key():
            x = (features.X_train if split == "train" else features.X_val)[index]
        true = int(part.labels[index])
        return part.images[index], x, true, f"{split} image {index:,}"

    def _draw_selection(self) -> None:
        image, x, true, caption = self._selected_image()
        names = self.bench.class_names
        W = self.bench.W
        if image is None:
            self.probabilities_view.clear("Select an image (gallery or your images) to see how the model scores it")
            return
        if W is None or x is None or W.shape[0] != len(x):
            self.probabilities_view.clear(f"{caption}: train a model to see its class scores")
            return
        scores = session.scores_for(x[None], W)[0]
        if self.bench.loss == "softmax":
            from linviz.models import softmax

            self.probabilities_view.set_values(softmax(scores[None])[0], names, "probabilities", true, caption)
        else:
            self.probabilities_view.set_values(scores, names, "scores", true, caption)

    def _show_selected_features(self) -> None:
        image, _, _, caption = self._selected_image()
        if image is None:
            return
        try:
            from linviz.gui.template_pictures import image_hog_and_hue

            # drawn with the HOG and hue settings chosen in the panel, so changing them shows
            # at once what the classifier will see
            panel = self.features_panel
            orientations, cell, bins = panel.hog_orientations.value(), panel.hog_cell.value(), panel.hue_bins.value()
            glyphs, hist = image_hog_and_hue(image, orientations=orientations, cell=cell, bins=bins)
            what = f"HOG glyphs ({orientations} orientations, {cell} px cells), {bins}-bin hue histogram"
        except (ImportError, LinvizError, ValueError, TypeError):
            glyphs, hist, what = None, None, "HOG needs a smaller cell for this image"
        self.features_panel.show_image_features(f"{caption}: {what}", image, glyphs, hist)

    # ------------------------------------------------------------------ your images
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if not paths:
            self.show_message("Only local files and folders can be dropped", error=True)
            event.ignore()
            return
        event.acceptProposedAction()
        self.add_user_images(paths)

    @Slot()
    def open_images_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Open images", "",
                                                "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff);;All files (*)")
        if paths:
            self.add_user_images(paths)

    def add_user_images(self, paths: list[str]) -> int:
        """Read dropped files/folders; unreadable ones are reported, never fatal. Returns how many were added.

        Reading happens here, on the GUI thread, with events processed every few files:
        dropped images are few and small next to a dataset, and the compute worker may be
        busy training.
        """
        size = self.bench.data.train.images.shape[1] if self.bench.data is not None else 32
        images, skipped = read_user_images(paths, size, tick=QCoreApplication.processEvents)
        first_row = len(self.bench.user_images)
        for item in images:
            self.bench.user_images.append(item)
            self.user_images_view.add_image(Path(item.path).name, item.image)
        if images:
            self.lower_tabs.setCurrentWidget(self.user_images_view)
            self._refresh_user_images()
            self.user_images_view.select(first_row + len(images) - 1)
        if skipped:
            self.show_message(skipped_summary(len(images), skipped), error=True)
        elif images:
            self.show_message(f"Added {len(images)} image(s)")
        return len(images)

    def _refresh_user_images(self) -> None:
        """Captions (top classes) of the dropped images, for the current model."""
        for row, item in enumerate(self.bench.user_images):
            try:
                x = self.bench.user_image_features(item)
            except LinvizError:
                x = None
            caption = top_classes_caption(x, self.bench.W, self.bench.class_names, self.bench.loss)
            self.user_images_view.set_caption(row, Path(item.path).name, caption)

    @Slot()
    def clear_user_images(self) -> None:
        self.bench.user_images.clear()
        self.user_images_view.clear_images()
        if self._selected is not None and self._selected[0] == "yours":
            self._selected = None
            self._draw_selection()

    # ------------------------------------------------------------------ model files
    @Slot()
    def save_model_dialog(self) -> None:
        if self.bench.W is None or self.bench.features is None:
            self.show_message("Train a model first", error=True)
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save model", "model.npz", "linviz models (*.npz)")
        if path:
            self.save_model(path)

    def save_model(self, path: str) -> None:
        from linviz.models import save_model

        if self.bench.W is None or self.bench.features is None:
            self.show_message("Train a model first", error=True)
            return
        accuracies = last_accuracies(self.bench.frame)
        try:
            save_model(path, W=self.bench.W, class_names=self.bench.class_names, pipeline=self.bench.features.pipeline,
                       loss=self.bench.loss, hyperparameters=self.bench.hyperparameters or {"loss": self.bench.loss},
                       accuracies=accuracies)
        except (LinvizError, OSError, ValueError) as exc:
            self.show_error("Save model", str(exc))
            return
        self.show_message(f"Saved the model to {path}")

    @Slot()
    def load_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load model", "", "linviz models (*.npz);;All files (*)")
        if path:
            self.load_model(path)

    def load_model(self, path: str) -> None:
        """Load a model and re-express the current dataset through its own feature pipeline."""
        if self.bench.data is None:
            self.show_message("Load a dataset first", error=True)
            return
        if not self._worker_free_for("model", lambda: self.load_model(path)):
            return
        job = load_model_job(path, self.bench.data)
        self._run_job("model", job, f"Loading {Path(path).name}")

    def _apply_loaded_model(self, model, features) -> None:
        self._clear_model()
        self.bench.hyperparameters = dict(getattr(model, "hyperparameters", None) or {}) or None
        self._set_features(features)
        if features.spec_text:
            self.features_panel.set_spec_text(features.spec_text)
        self.bench.W = np.asarray(model.W, dtype=np.float32)
        self.bench.loss = str(getattr(model, "loss", "softmax"))
        self._draw_templates(self.bench.W)
        preds = np.argmax(features.X_val @ self.bench.W, axis=1)
        counts = session.confusion_matrix(self.bench.data.val.labels, preds, len(self.bench.class_names))
        self.confusion_view.set_counts(counts, self.bench.class_names)
        self.gallery_view.set_predictions(preds)
        self._draw_selection()
        self._refresh_user_images()
        self.show_message(f"Loaded the model ({self.bench.loss}); validation accuracy {np.trace(counts) / max(1, counts.sum()):.1%}")

    # ------------------------------------------------------------------ life cycle
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._warmup_state == "waiting":
            # After the first paint: the window must appear before any compiling starts.
            QTimer.singleShot(300, self.start_warmup)

    @Slot()
    def _on_about_to_quit(self) -> None:
        self.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop the worker cleanly: stop flag, quit(), wait(). Safe to call twice."""
        if self._closing:
            return
        self._closing = True
        try:
            self.save_settings()
        except Exception:  # settings must never keep the window from closing
            pass
        self.display_timer.stop()
        self.stop_training()
        self.runner.shutdown()
