"""Save the current model (weights with their feature pipeline) and load one back."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject

from linviz.errors import LinvizError
from linviz.gui import jobs
from linviz.gui.controllers.job_queue import JobQueue
from linviz.gui.session import Workbench


class ModelFilesController(QObject):
    def __init__(self, bench: Workbench, queue: JobQueue, features_panel, parent=None):
        super().__init__(parent)
        self.bench = bench
        self.queue = queue
        self.features_panel = features_panel

    def save_model(self, path: str) -> bool:
        from linviz.models import save_model

        model = self.bench.model
        if model is None:
            self.queue.status.show_message("Train a model first", error=True)
            return False
        try:
            save_model(path, W=model.W, class_names=self.bench.class_names, pipeline=model.features.pipeline,
                       loss=model.loss, hyperparameters=model.settings or {"loss": model.loss},
                       accuracies=jobs.last_accuracies(self.bench.frame))
        except (LinvizError, OSError, ValueError) as exc:
            self.queue.status.show_error("Save model", str(exc))
            return False
        self.queue.status.show_message(f"Saved the model to {path}")
        return True

    def load_model(self, path: str) -> None:
        """Load a model and re-express the current dataset through its own feature pipeline."""
        if self.bench.data is None:
            self.queue.status.show_message("Load a dataset first", error=True)
            return
        if not self.queue.free_for("model", lambda: self.load_model(path)):
            return
        self.queue.run("model", jobs.load_model_job(path, self.bench.data), f"Loading {Path(path).name}",
                       on_done=self._loaded)

    def _loaded(self, outcome) -> None:
        if outcome.ok and self.bench.is_current(outcome.result.features.data_key):
            model = outcome.result
            self.bench.clear_model()
            self.bench.set_model(model)
            self.features_panel.set_spec_text(model.features.spec_text)  # what Train would extract now
            accuracy = model.evaluation.accuracy if model.evaluation is not None else None
            text = f"; validation accuracy {accuracy:.1%}" if accuracy is not None else ""
            self.queue.status.show_message(f"Loaded the model ({model.loss}){text}")
        elif outcome.error:
            self.queue.status.show_error("Load model", outcome.error, outcome.details)
