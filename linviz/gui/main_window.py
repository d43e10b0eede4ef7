"""The main window: composition and menus.

It builds the workbench (the evented state, :mod:`linviz.workbench`), the job runner, the
views and panels (each listens to the workbench for what it shows), the controllers that turn
requests into jobs (:mod:`linviz.gui.controllers`) and the labs (:mod:`linviz.gui.labs`, found
by module, added as tabs). It routes nothing else: no state passes through the window.
"""

from __future__ import annotations

from typing import Optional

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QMainWindow, QSplitter,
                               QTabWidget, QVBoxLayout, QWidget)

from linviz.gui.runtime.blas_threads import limit_loaded_blas
from linviz.gui.controllers.data_controller import DataController
from linviz.gui.runtime.job_queue import JobQueue
from linviz.gui.controllers.model_files_controller import ModelFilesController
from linviz.gui.controllers.training_controller import TrainingController
from linviz.gui.controllers.user_images_controller import UserImagesController
from linviz.gui.widgets.download_banner import DownloadBanner
from linviz.gui.widgets.scrolling import scrolling
from linviz.gui.widgets.job_status import JobStatus
from linviz.gui.labs import lab_classes
from linviz.gui.panels.data_panel import DataPanel
from linviz.gui.panels.features_panel import FeaturesPanel
from linviz.gui.panels.training_panel import TrainingPanel
from linviz.workbench import Workbench
from linviz.gui.widgets.status_line import StatusLine
from linviz.gui.widgets.view_tabs import ViewTabs
from linviz.gui.views.accuracy_view import AccuracyView
from linviz.gui.views.confusion_view import ConfusionView
from linviz.gui.views.gallery_view import GalleryView
from linviz.gui.views.loss_view import LossView
from linviz.gui.views.probabilities_view import ProbabilitiesView
from linviz.gui.views.templates_view import TemplatesView
from linviz.gui.views.user_images_view import UserImagesView
from linviz.gui.window_settings import (model_folder, open_settings, remember_default_layout, remember_model_folder,
                                       reset_layout, restore_window, save_window, settings_problem)
from linviz.gui.runtime.worker import JobRunner

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff);;All files (*)"


class MainWindow(QMainWindow):
    """The whole app window. ``source``: None (CIFAR-10 if found, else the demo set),
    "demo", "cifar10" or a path. ``settings``: where the window keeps its settings (a
    :class:`~linviz.settings_file.SettingsFile`, or a QSettings; default: the user's settings
    file). Builds everything without needing an event loop."""

    def __init__(self, source: Optional[str] = None, settings=None):
        super().__init__()
        self.setObjectName("linvizMainWindow")
        # The platform adds the application's name ("... — linviz"): the title does not repeat it.
        self.setWindowTitle("Linear image classifiers")
        self.setAcceptDrops(True)
        self.settings = settings if settings is not None else open_settings()
        self.workbench = Workbench()
        self.job_runner = JobRunner(self)
        limit_loaded_blas()  # one core stays free for the GUI thread (see blas_threads)
        self._closing = False

        try:
            self._build_views()
            self._build_panels()
            self._build_controllers()
            self._build_layout()
            self._build_labs()
            self._build_your_classes()
            self._build_file_controllers()
            self._build_menus()
            self._connect_views()
            self._route_drops_to_window()
            remember_default_layout(self)
            refused = restore_window(self, self.settings)
        except BaseException:
            # A running QThread torn down by an exception aborts the whole process (docs/pitfalls.md,
            # 'QThread destroyed while running').
            self.job_runner.shutdown()
            raise
        app = QApplication.instance()
        if app is not None:  # however the app ends, the worker threads are stopped first
            app.aboutToQuit.connect(self._on_about_to_quit)
        self.data_controller.start_on(source)
        problem = settings_problem(self.settings)
        if problem:
            self.status.show_message(f"Saved settings: {problem}", error=True)
        elif refused:
            self.status.show_message(f"Saved settings: ignored {', '.join(refused)} (the defaults are used)",
                                     error=True)

    # ------------------------------------------------------------------ construction
    def _build_views(self) -> None:
        workbench = self.workbench
        self.loss_view = LossView(workbench)
        self.accuracy_view = AccuracyView(workbench)
        self.templates_view = TemplatesView(workbench)
        self.probabilities_view = ProbabilitiesView(workbench)
        self.confusion_view = ConfusionView(workbench)
        self.gallery_view = GalleryView(workbench)
        self.user_images_view = UserImagesView(workbench)

    def _build_panels(self) -> None:
        from linviz.features import PRESETS

        self.data_panel = DataPanel(self.workbench)
        self.features_panel = FeaturesPanel(presets=dict(PRESETS), workbench=self.workbench)
        self.training_panel = TrainingPanel(self.workbench)
        self.banner = DownloadBanner()
        self.banner.setVisible(False)
        self.status = StatusLine(self.workbench)
        self.message_label = self.status  # the status line's text (tests read it)
        self.error_messages = self.status.error_messages
        self.job_status = JobStatus()
        self.statusBar().addWidget(self.status, 1)
        self.statusBar().addPermanentWidget(self.job_status)

    def _build_controllers(self) -> None:
        self.job_queue = JobQueue(self.job_runner, self.status, self.job_status, self)
        self.job_queue.can_warm_up = self.isVisible
        self.job_queue.warmup_spec = self.features_panel.spec_text
        self.data_controller = DataController(self.workbench, self.job_queue, self.data_panel, self.features_panel,
                                              self.banner, self)
        self.data_controller.open_dialog = self.open_dataset_dialog
        self.training_controller = TrainingController(self.workbench, self.job_queue, self.data_controller,
                                                      self.training_panel, self)
        self.user_images_controller = UserImagesController(self.workbench, self.job_runner, self)
        self.model_files_controller = ModelFilesController(self.workbench, self.job_queue, self.features_panel, self)
        self.banner.openRequested.connect(self.open_dataset_dialog)
        self.training_panel.saveRequested.connect(self.save_model_dialog)
        self.training_panel.loadRequested.connect(self.load_model_dialog)
        self.user_images_view.openRequested.connect(self.open_images_dialog)
        self.user_images_view.clearRequested.connect(self.user_images_controller.clear)

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
        curves = self._splitter("curvesSplitter", Qt.Orientation.Vertical, [self.loss_view, self.accuracy_view],
                                [260, 180])
        top = self._splitter("topSplitter", Qt.Orientation.Horizontal, [self.templates_view, curves], [560, 440])
        bottom = self._splitter("bottomSplitter", Qt.Orientation.Horizontal,
                                [self.lower_tabs, self.probabilities_view, self.confusion_view], [430, 270, 330])
        self.training_view = self._splitter("trainingSplitter", Qt.Orientation.Vertical, [top, bottom], [420, 400])
        self.splitters = [self.training_view, top, bottom, curves]

        self.view_tabs = ViewTabs()  # every title readable at 1024 px, every tab in sight
        self.view_tabs.setObjectName("viewTabs")
        self.view_tabs.add_view(self.training_view, "Training")

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
            dock.setWidget(scrolling(panel))  # small screens: panels scroll instead of clipping
            dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                             | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                             | QDockWidget.DockWidgetFeature.DockWidgetClosable)  # View menu shows it again
            self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
            self.docks[key] = dock
        self.tabifyDockWidget(self.docks["data"], self.docks["features"])
        self.tabifyDockWidget(self.docks["features"], self.docks["training"])
        self.docks["training"].raise_()
        self.resizeDocks([self.docks["training"]], [330], Qt.Orientation.Horizontal)

    def _build_labs(self) -> None:
        """Every lab module under linviz/gui/labs becomes a tab; the window knows no lab by name."""
        self.labs = []
        for lab_class in lab_classes():
            lab = lab_class(self.workbench, self.job_queue)
            lab.featuresRequested.connect(self._extract_for_lab)
            self.labs.append(lab)
            self.view_tabs.add_view(lab, lab.title, lab.short_title)

    def _extract_for_lab(self, spec: str) -> None:
        """A lab's request for features: the Features panel takes the spec only when the
        extraction can start (or waits its turn), not when a running job refuses it."""
        def again():
            self._extract_for_lab(spec)

        if self.job_queue.waits_for_data("extract", again) or not self.job_queue.free_for("extract", again):
            return
        self.features_panel.set_spec_text(spec)
        self.data_controller.extract_features()

    def _build_your_classes(self) -> None:
        """The "Your classes" tab (a project of the user's own images), after Training."""
        from linviz.gui.controllers.class_project_controller import ClassProjectController
        from linviz.gui.views.your_classes_view import YourClassesView

        self.class_project_controller = ClassProjectController(
            self.workbench, self.job_queue, self.data_controller, self.training_controller, self.features_panel,
            self.settings, self)
        self.your_classes_view = YourClassesView(self.workbench, self.class_project_controller)
        self.view_tabs.insert_view(1, self.your_classes_view, "Your classes")
        self.class_project_controller.projectOpened.connect(self.show_your_classes)
        self.banner.classesRequested.connect(self.show_your_classes)
        self.data_panel.classesRequested.connect(self.show_your_classes)

    def _build_file_controllers(self) -> None:
        """Keeping what is on screen: views as pictures, the whole state as a workspace file."""
        from linviz.gui.controllers.export_controller import ExportController
        from linviz.gui.controllers.workspace_controller import WorkspaceController

        self.export_controller = ExportController(self, self.view_tabs, self.settings, self.status, self)
        self.workspace_controller = WorkspaceController(self, self)

    @Slot()
    def show_your_classes(self) -> None:
        self.view_tabs.setCurrentWidget(self.your_classes_view)

    def _connect_views(self) -> None:
        """What one view asks of another, in the window's terms (tabs)."""
        self.confusion_view.cellClicked.connect(self._show_confusion_cell)
        self.gallery_view.cellShown.connect(self.confusion_view.highlight_cell)  # the cell the gallery shows
        self.workbench.user_images_changed.connect(self._show_user_images)

    @Slot(int, int)
    def _show_confusion_cell(self, true_class: int, predicted: int) -> None:
        self.lower_tabs.setCurrentWidget(self.gallery_view)
        self.gallery_view.show_cell(true_class, predicted)

    def _show_user_images(self) -> None:
        if self.workbench.user_images:
            self.lower_tabs.setCurrentWidget(self.user_images_view)

    def _route_drops_to_window(self) -> None:
        """Files dropped anywhere reach the window's dropEvent.

        Qt hands a drag to the innermost widget that accepts drops: a line edit would paste
        the path as text, a list or graphics view would swallow it. With drops off on every
        child, Qt passes the drag up the parent chain to the window.
        """
        for child in self.findChildren(QWidget):
            child.setAcceptDrops(False)

    def _build_menus(self) -> None:
        def action(menu, text, slot, shortcut=None):
            act = QAction(text, self)
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
            act.triggered.connect(slot)
            menu.addAction(act)
            return act

        file_menu = self.menuBar().addMenu("&File")
        action(file_menu, "Open folder or archive...", self.open_dataset_dialog, "Ctrl+O")
        action(file_menu, "Open images...", self.open_images_dialog, "Ctrl+I")
        action(file_menu, "Use the demo set", self.data_controller.use_demo_set)
        action(file_menu, "Download CIFAR-10 (170 MB)", self.data_controller.start_download)
        file_menu.addSeparator()
        action(file_menu, "New classes...", self.your_classes_view.new_project_dialog)
        action(file_menu, "Open classes...", self.your_classes_view.open_project_dialog)
        action(file_menu, "Add images to a class...", self.your_classes_view.add_images_dialog)
        file_menu.addSeparator()
        action(file_menu, "Save model...", self.save_model_dialog, "Ctrl+S")
        action(file_menu, "Load model...", self.load_model_dialog)
        file_menu.addSeparator()
        action(file_menu, "Save workspace...", self.save_workspace_dialog)
        action(file_menu, "Open workspace...", self.open_workspace_dialog)
        action(file_menu, "Export view...", lambda: self.export_controller.open_dialog(), "Ctrl+E")
        file_menu.addSeparator()
        action(file_menu, "Quit", self.close, "Ctrl+Q")
        model_menu = self.menuBar().addMenu("&Model")
        action(model_menu, "Train", self.training_controller.train, "Ctrl+T")
        action(model_menu, "Score on test", self.training_controller.score_on_test)
        view_menu = self.menuBar().addMenu("&View")
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        action(view_menu, "Show the data banner", self.banner.show)
        view_menu.addSeparator()
        action(view_menu, "Reset layout", lambda: reset_layout(self))

    # ------------------------------------------------------------------ dialogs
    @Slot()
    def open_dataset_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open an image folder (one sub-folder per class) or CIFAR-10")
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "Or open an archive", "",
                                                  "Archives (*.zip *.tar *.tar.gz *.tgz);;All files (*)")
        if path:
            self.data_controller.load_source(path)

    @Slot()
    def open_images_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Open images", "", IMAGE_FILTER)
        if paths:
            self.user_images_controller.add(paths)

    @Slot()
    def save_model_dialog(self) -> None:
        if self.workbench.model is None:
            self.status.show_message("Train a model first", error=True)
            return
        folder = model_folder(self.settings)
        path, _ = QFileDialog.getSaveFileName(self, "Save model", str(folder / "model.npz"), "linviz models (*.npz)")
        if path and self.model_files_controller.save_model(path):
            remember_model_folder(self.settings, path)

    @Slot()
    def load_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load model", str(model_folder(self.settings)),
                                              "linviz models (*.npz);;All files (*)")
        if path:
            remember_model_folder(self.settings, path)
            self.model_files_controller.load_model(path)

    @Slot()
    def save_workspace_dialog(self) -> None:
        folder = self.workspace_controller.folder()
        path, _ = QFileDialog.getSaveFileName(self, "Save workspace", f"{folder}/lesson.linviz",
                                              "linviz workspaces (*.linviz)")
        if path:
            self.workspace_controller.save(path)

    @Slot()
    def open_workspace_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open workspace", self.workspace_controller.folder(),
                                              "linviz workspaces (*.linviz);;All files (*)")
        if path:
            self.workspace_controller.open(path)

    # ------------------------------------------------------------------ drops
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
            self.status.show_message("Only local files and folders can be dropped", error=True)
            event.ignore()
            return
        event.acceptProposedAction()
        self.user_images_controller.add(paths)

    # ------------------------------------------------------------------ life cycle
    def save_settings(self) -> None:
        save_window(self, self.settings)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.job_queue.warmup_state == "waiting":
            # Kernels a first run compiles do so in other processes, started now; the warm-up
            # job that waits for them in the strip starts after the first paint.
            self.job_queue.prepare_kernels()
            QTimer.singleShot(300, self.job_queue.start_warmup)

    @Slot()
    def _on_about_to_quit(self) -> None:
        self.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop the workers cleanly: stop flag, quit(), wait(). Safe to call twice."""
        if self._closing:
            return
        self._closing = True
        self.job_queue.closing = True
        self.status.dialogs_enabled = False
        try:
            self.save_settings()
        except Exception:  # settings must never keep the window from closing
            pass
        self.training_controller.display_timer.stop()
        self.training_controller.stop()
        self.job_runner.shutdown()
        from linviz.data.cache import abort_pending_writes

        abort_pending_writes()  # a dataset still being written to the cache: its temporary file goes
