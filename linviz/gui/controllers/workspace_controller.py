"""File > Save workspace... / Open workspace...: the window's state in one file and back.

Saving collects the data source, the split, the features, the training settings, the current
model, the selection, the dropped-in images and each lab's settings
(:mod:`linviz.gui.widgets.setting_values`; the 2-D playground gives its whole state) and
writes them off the GUI thread (:mod:`linviz.workbench.workspace`).

Opening reads and checks the file off the GUI thread, then puts things back in the order they
depend on each other: the panels' settings, the data (loaded again with the saved split), the
model on that data (through the model's own pipeline, as Load model does), the dropped-in
images, the selection, the labs' settings and the tab. Data that is gone is said, with what
could still be restored: every setting, the labs, and the model too when the data loaded now
has the same classes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from PySide6.QtCore import QObject

from linviz.gui.widgets import setting_values
from linviz.workbench import Selection, SplitSettings, jobs
from linviz.workbench.workspace import (SUFFIX, WorkspaceData, WorkspaceState, data_kind, find_data,
                                        read_workspace, save_workspace)
from linviz.text import counted

FOLDER_KEY = "files/workspace_folder"


class WorkspaceController(QObject):
    """Collects from and restores into the window's parts (the window composes them; this
    controller reads and sets its panels, labs, tabs and workbench, nothing else)."""

    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.window = window
        self.workbench = window.workbench
        self.job_queue = window.job_queue
        self._opening = None  # the workspace being restored (its steps run one after the other)
        self.restored: list[str] = []  # what the last opened workspace brought back
        self.refused: list[str] = []  # what it could not
        self.notes: list[str] = []  # what is not as it was saved, but works

    # ------------------------------------------------------------------ saving
    def collect(self) -> WorkspaceState:
        w, workbench = self.window, self.workbench
        data = None
        prepared = workbench.data
        if prepared is not None:
            source = str(getattr(prepared.dataset, "source", ""))
            if source != "demo" and os.path.exists(source):
                source = os.path.abspath(source)
            project = w.class_project_controller
            data = WorkspaceData(source, data_kind(source, prepared.class_names, project.is_loaded),
                                 prepared.class_names, int(prepared.train.images.shape[1]))
        split = prepared.settings if prepared is not None else SplitSettings(*w.data_panel.split_values())
        labs = {}
        for lab in w.labs:
            if hasattr(lab, "workspace_state"):
                labs[lab.object_name] = lab.workspace_state()
            else:
                labs[lab.object_name] = {"settings": setting_values.capture(lab)}
        spec = w.features_panel.spec_text()
        try:
            spec = jobs.canonical_spec(spec)
        except Exception:  # noqa: BLE001 - a spec being typed: the model's features are kept instead
            spec = workbench.model.features.spec_text if workbench.model is not None else None
        return WorkspaceState(data=data, split=split, features=spec, training=w.training_panel.settings(),
                              selection=workbench.selection, user_images=[im.path for im in workbench.user_images],
                              labs=labs, view=w.view_tabs.title(w.view_tabs.currentIndex()))

    def save(self, path: str) -> None:
        """Write the workspace to ``path`` (off the GUI thread); the status line says how it went."""
        if not path.endswith(SUFFIX):
            path += SUFFIX
        state, model, names = self.collect(), self.workbench.model, self.workbench.class_names

        def job(ctx):
            return save_workspace(path, state, model, names)

        def done(outcome) -> None:
            if outcome.ok:
                self.window.settings.setValue(FOLDER_KEY, str(Path(path).resolve().parent))
                what = "with its model" if model is not None else "(no model trained yet)"
                self.workbench.post_message(f"Saved the workspace {path} {what}")
            elif outcome.error:
                self.workbench.post_message(f"Save workspace: {outcome.error}", error=True)

        self.job_queue.quick.submit("workspace-save", job, done)

    def folder(self) -> str:
        saved = self.window.settings.value(FOLDER_KEY, "")
        if isinstance(saved, str) and saved and len(saved) < 4096 and Path(saved).is_dir():
            return saved
        from linviz.gui.window_settings import model_folder

        return str(model_folder(self.window.settings))

    # ------------------------------------------------------------------ opening
    def open(self, path: str) -> None:
        """Read and check ``path`` off the GUI thread, then restore (see the module docstring)."""
        def job(ctx):
            from linviz.workbench.user_images import read_user_images

            workspace = read_workspace(path)
            state = workspace.state
            size = state.data.image_size if state.data is not None else 32
            existing = [p for p in state.user_images if os.path.exists(p)]
            images, skipped = read_user_images(existing, size, cancel=ctx.cancel) if existing else ([], [])
            gone = [p for p in state.user_images if p not in existing]
            return workspace, images, skipped, gone

        self.workbench.post_message(f"Opening the workspace {path}...")
        self.job_queue.quick.submit("workspace-open", job, self._read)

    def _read(self, outcome) -> None:
        if not outcome.ok:
            if outcome.error:
                self.workbench.post_message(f"Open workspace: {outcome.error}", error=True)
            return
        workspace, images, skipped, gone = outcome.result
        self._opening = (workspace, images)
        self.restored, self.refused, self.notes = [], [], []
        if skipped or gone:
            self.refused.append(f"{counted(len(skipped) + len(gone), 'dropped image')} that are gone or unreadable")
        w, state = self.window, workspace.state
        if state.features:
            w.features_panel.set_spec_text(state.features)
        self.refused += w.training_panel.apply_settings(state.training)
        w.data_panel.set_split_values(state.split.val_size, state.split.per_class)
        self.restored.append("the settings")
        if state.data is None:
            self._after_data(None)
            return
        source, note = find_data(state.data)
        if source is None:
            same = self.workbench.data is not None and self.workbench.class_names == state.data.classes
            self.refused.append(f"the data ({note})")
            if same:
                self.notes.append("the data loaded now has the same classes: the model is restored on it")
            self._after_data(None if not same else "current")
            return
        if note:
            self.notes.append(note)
        if state.data.kind == "classes":
            w.class_project_controller.open_project(source, load=False)
        current = self.workbench.data
        if (current is not None and str(getattr(current.dataset, "source", "")) in (source, state.data.source)
                and current.settings == state.split and current.class_names == state.data.classes):
            self._after_data("current")
            return
        w.data_controller.load_source(source, settings=state.split, then=self._loaded)

    def _loaded(self, outcome) -> None:
        if self._opening is None:
            return
        if not outcome.ok:
            self.refused.append(f"its data could not be loaded ({outcome.error or 'cancelled'})")
            self._after_data(None)
            return
        self.restored.append("the data")
        self._after_data("current")

    def _after_data(self, data: Optional[str]) -> None:
        """The data is in (``data`` "current") or not (None): the model, then the rest."""
        workspace, images = self._opening
        workbench = self.workbench
        workbench.clear_user_images()
        workbench.add_user_images(images)
        saved, prepared = workspace.model, workbench.data
        if saved is not None and data is not None and prepared is not None:
            if list(saved.class_names) != prepared.class_names:
                self.refused.append("the model (its classes are not those of the data loaded)")
            else:
                label = f"{workspace.path}: its model"
                allocate = self.job_queue.runner.shared_files.empty  # the worker process trains on them

                def job(ctx):
                    return jobs.model_on_data(saved, prepared, ctx, label, allocate)

                self.job_queue.run("model", job, "Restoring the workspace's model", on_done=self._model_done)
                return
        elif saved is not None:
            self.refused.append("the model (it needs its data)")
        self._finish()

    def _model_done(self, outcome) -> None:
        if self._opening is None:
            return
        if outcome.ok and self.workbench.is_current(outcome.result.features.data_key):
            self.workbench.clear_model()
            self.workbench.set_model(outcome.result)
            self.window.features_panel.set_spec_text(outcome.result.features.spec_text)
            self.restored.append("the model")
        else:
            self.refused.append(f"the model ({outcome.error or 'the data changed'})")
        self._finish()

    def _finish(self) -> None:
        workspace, _ = self._opening
        self._opening = None
        state, w, workbench = workspace.state, self.window, self.workbench
        selection = state.selection
        if selection is not None and self._selectable(selection):
            workbench.select(selection)
        for lab in w.labs:
            entry = state.labs.get(lab.object_name)
            if entry is None:
                continue
            if hasattr(lab, "restore_workspace_state"):
                problems = lab.restore_workspace_state(entry)
            else:
                problems = setting_values.restore(lab, entry.get("settings", {}))
            self.refused += [f"{lab.title}: {p}" for p in problems]
            lab.request_refresh()  # controls set in code announce nothing to some labs
        self.restored.append("the labs' settings")
        shown = w.view_tabs.index_of_title(state.view)  # saved as the whole title
        if shown >= 0:
            w.view_tabs.setCurrentIndex(shown)
        text = f"Opened the workspace {workspace.path}: restored {', '.join(self.restored)}"
        if self.refused:
            text += f"; not restored: {'; '.join(self.refused)}"
        if self.notes:
            text += f" ({'; '.join(self.notes)})"
        self.workbench.post_message(text, error=bool(self.refused))

    def _selectable(self, selection: Selection) -> bool:
        workbench = self.workbench
        if selection.split == "yours":
            return selection.index < len(workbench.user_images)
        prepared = workbench.data
        part = prepared.split(selection.split) if prepared is not None else None
        return part is not None and selection.index < len(part.labels)
