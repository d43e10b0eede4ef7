"""Save the current model (weights with their feature pipeline) and load one back."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject

from linviz.errors import LinvizError
from linviz.workbench import jobs
from linviz.gui.runtime.job_queue import JobQueue
from linviz.workbench import Workbench


class ModelFilesController(QObject):
    def __init__(self, workbench: Workbench, job_queue: JobQueue, features_panel, parent=None):
        super().__init__(parent)
        self.workbench = workbench
        self.job_queue = job_queue
        self.features_panel = features_panel

    def save_model(self, path: str) -> bool:
        from linviz.models import save_model

        model = self.workbench.model
        if model is None:
            self.job_queue.status.show_message("Train a model first", error=True)
            return False
        try:
            save_model(path, W=model.W, class_names=self.workbench.class_names, pipeline=model.features.pipeline,
                       loss=model.loss, hyperparameters=model.settings or {"loss": model.loss},
                       accuracies=jobs.last_accuracies(self.workbench.frame))
        except (LinvizError, OSError, ValueError) as exc:
            self.job_queue.status.show_error("Save model", str(exc))
            return False
        self.job_queue.status.show_message(f"Saved the model to {path}")
        return True

    def load_model(self, path: str) -> None:
        """Load a model and re-express the current dataset through its own feature pipeline."""
        if self.workbench.data is None:
            self.job_queue.status.show_message("Load a dataset first", error=True)
            return
        if not self.job_queue.free_for("model", lambda: self.load_model(path)):
            return
        job = jobs.load_model_job(path, self.workbench.data, self.job_queue.runner.shared_files.empty)
        self.job_queue.run("model", job, f"Loading {Path(path).name}", on_done=self._loaded)

    def _loaded(self, outcome) -> None:
        if outcome.ok and self.workbench.is_current(outcome.result.features.data_key):
            model = outcome.result
            self.workbench.clear_model()
            self.workbench.set_model(model)
            self.features_panel.set_spec_text(model.features.spec_text)  # what Train would extract now
            accuracy = model.evaluation.accuracy if model.evaluation is not None else None
            text = f"; validation accuracy {accuracy:.1%}" if accuracy is not None else ""
            self.job_queue.status.show_message(f"Loaded the model ({model.loss}){text}")
        elif outcome.error:
            self.job_queue.status.show_error("Load model", outcome.error, outcome.details)
