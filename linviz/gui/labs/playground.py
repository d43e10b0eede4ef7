"""The 2-D playground: Stanford's linear-classification demo, and a little more.

A few points in the plane, in 2 to 5 classes; each class j has a line w_j . x + b_j = 0 with
an arrow for w_j (its score grows that way). Drag an arrow's tip to change w_j, a line's body
to shift it (b_j), a point to move it; click to add a point, right-click one to remove it.
The plane is colored by the winning class; the table lists every point's scores and loss,
recomputed while you drag. Step takes one full-batch gradient step (the dashed arrows show
the negative gradient before it is applied), Play repeats it at a chosen pace, and a small
loss landscape over two parameters shows the path of the steps.

The arithmetic is :mod:`linviz.explore.playground`; the lab holds its own state (it does not
depend on the loaded dataset or the image model). Computations are tiny and run on the GUI
thread, except the compiled losses' first load (a warm-up on the quick lane) and the
landscape (the quick lane, the newest request wins). The parts (the plane, the table, the
controls, the plots) are in :mod:`linviz.gui.labs._playground`; this module is the lab: its
state, what each user action does to it, and what is drawn after.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout

from linviz.explore import playground as pgd
from linviz.gui.labs._playground.controls import OptimizeBar, SettingsTabs
from linviz.gui.labs._playground.items import ARROW_SCALE, line_foot
from linviz.gui.labs._playground.jobs import warmup_job
from linviz.gui.labs._playground.layout import caption, column, splitter
from linviz.gui.labs._playground.plane import INSTRUCTIONS, LEGEND_TIP, Plane, fit_extent, legend_text
from linviz.gui.labs._playground.plots import LossPlots
from linviz.gui.labs._playground.points_table import PointsTable, totals_text
from linviz.gui.labs.lab import Lab

MAX_UNDO = 200  # undo entries kept
MAX_PATH = 2000  # steps of the path drawn on the landscape


class PlaygroundLab(Lab):
    title = "2-D playground"
    short_title = "Playground"
    order = 60
    object_name = "playgroundView"

    def __init__(self, workbench, job_queue, parent=None):
        super().__init__(workbench, job_queue, parent)
        self.state = pgd.new_state()
        self.evaluation: Optional[pgd.Evaluation] = None
        self.history: list[tuple[int, float]] = []  # (iteration, total loss) after each step
        self.path: list[tuple[np.ndarray, np.ndarray]] = []  # (W, b) before and after each step
        self._undo: list[pgd.PlaygroundState] = []
        self._editing = None  # the edit in progress (merged into one undo entry)
        self._anchor: dict[int, np.ndarray] = {}  # a dragged tip's arrow base, fixed during the drag
        self._kernels_warm = False
        self._warming = False
        self._randomize_count = 0
        self._extent = fit_extent(self.state.points)

        self.plane = Plane()
        self.plane.setToolTip(LEGEND_TIP)
        self.table = PointsTable()
        self.totals = caption("", "playgroundTotals")
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bar = OptimizeBar(self.state.settings)
        self.tabs = SettingsTabs(self.state.settings)
        self.plots = LossPlots(self.submit)
        self.caption = caption(INSTRUCTIONS)
        self.legend = caption(legend_text(self.state.settings.loss))
        self.legend.setToolTip(LEGEND_TIP)
        self.note = caption("", "playgroundNote")
        self.note.setStyleSheet("QLabel { background: #fff4d6; border: 1px solid #e0c070; padding: 3px; }")
        self.note.setVisible(False)
        self._connect()

        # Left: the plane above the table (what a drag changes, side by side with the numbers).
        # Right: the optimizer's buttons always in sight, the settings in tabs, the plots below.
        # The separability note (rings, checkerboard) goes under the plane it explains: it
        # never pushes the buttons on the right down under a click meant for them.
        left = splitter(Qt.Orientation.Vertical, [(column((self.plane, 1), self.legend, self.note), 3, 450),
                                                  (column((self.table, 1), self.totals), 2, 250)])
        lower = splitter(Qt.Orientation.Vertical, [(self.tabs, 0, self.tabs.needed_height()), (self.plots, 1, 400)])
        split = splitter(Qt.Orientation.Horizontal, [(left, 3, 600), (column(self.bar, (lower, 1)), 2, 360)])
        split.setObjectName("playgroundSplitter")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(split, 1)
        self._show_settings()
        self._set_classes()

    def _connect(self) -> None:
        plane, bar, tabs = self.plane, self.bar, self.tabs
        plane.pointAdded.connect(self.add_point)
        plane.pointMoved.connect(self.move_point)
        plane.pointRemoved.connect(self.remove_point)
        plane.tipMoved.connect(self.on_tip_moved)
        plane.lineMoved.connect(self.on_line_moved)
        plane.dragFinished.connect(self._end_edit)
        for button, action in ((bar.step_button, self.step), (bar.undo_button, self.undo),
                               (bar.randomize_button, self.randomize), (bar.reset_button, self.reset)):
            button.clicked.connect(lambda *_, action=action: action())
        bar.saveChosen.connect(self.save_to)
        bar.loadChosen.connect(self.load_from)
        bar.play_button.toggled.connect(self._on_play_toggled)
        bar.stepsDue.connect(self.advance)
        bar.pace_spin.valueChanged.connect(lambda v: self._set_setting(pace=float(v)))
        bar.step_slider.valueChanged.connect(lambda v: self._set_setting(step_size=float(v)))
        tabs.settingsEdited.connect(lambda changes: self._set_setting(**changes))
        tabs.dataEdited.connect(self._on_data_edited)
        tabs.paramEdited.connect(self.set_param)
        tabs.viewChanged.connect(self._draw)
        self.plots.parametersChosen.connect(self._on_landscape_params)
        self.plots.failed.connect(lambda text: self._say(text, error=True))

    def _set_classes(self) -> None:
        """Handles, spin boxes and class lists for the current number of classes."""
        self.plane.set_classes(self.state.n_classes)
        self.tabs.set_classes(self.state.n_classes)
        self.plots.set_parameters(pgd.param_names(self.state.n_classes), self.state.settings.landscape)
        self._changed(landscape="recenter")

    # ------------------------------------------------------------------ edits and undo
    def _begin_edit(self, key) -> None:
        """The first change of an edit (a drag, a spin box, a slider) saves an undo entry; the
        changes that follow with the same key belong to it."""
        if self._editing != key:
            self._anchor.clear()
            self._push_undo()
            self._editing = key

    def _end_edit(self, *_) -> None:
        self._editing = None
        if self._anchor:
            self._anchor.clear()
            self._draw()

    def _push_undo(self) -> None:
        self._undo.append(self.state)
        del self._undo[:-MAX_UNDO]
        self.bar.undo_button.setEnabled(True)

    def _set_state(self, state: pgd.PlaygroundState, *, manual: bool = True, landscape: str = "update") -> None:
        self.state = state
        if manual:
            self.path.clear()
        self._changed(landscape=landscape)

    def undo(self) -> None:
        self._end_edit()
        if not self._undo:
            return
        self.pause()
        previous = self._undo.pop()
        self.bar.undo_button.setEnabled(bool(self._undo))
        self.history = [(i, v) for i, v in self.history if i <= previous.iteration]
        self._apply_state(previous)

    # ------------------------------------------------------------------ what the hand changes
    def set_param(self, name: str, value: float) -> None:
        """A spin box (or a test) sets one parameter."""
        if pgd.get_param(self.state.W, self.state.b, name) == float(value):
            return
        self._begin_edit(("param", name))
        W, b = pgd.with_param(self.state.W, self.state.b, name, float(np.clip(value, -pgd.PARAM_LIMIT,
                                                                                pgd.PARAM_LIMIT)))
        self._set_state(self.state.replace(W=W, b=b))

    def on_tip_moved(self, j: int, x: float, y: float) -> None:
        """The tip of class j's arrow moved: w_j = (tip − arrow base) / ARROW_SCALE; b_j stays.
        The base stays where it was for the whole drag, so the tip follows the mouse."""
        self._begin_edit(("tip", j))
        anchor = self._anchor.setdefault(j, line_foot(self.state.W[j], self.state.b[j]))
        W = np.array(self.state.W)
        W[j] = np.clip((np.array([x, y]) - anchor) / ARROW_SCALE, -pgd.PARAM_LIMIT, pgd.PARAM_LIMIT)
        self._set_state(self.state.replace(W=W))

    def on_line_moved(self, j: int, x: float, y: float) -> None:
        """Class j's line was dragged through (x, y): b_j = −w_j · p, so it moves parallel; w_j stays."""
        w = self.state.W[j]
        if not np.any(w):
            return  # no line to drag: w_j = 0 scores the same everywhere
        self._begin_edit(("line", j))
        b = np.array(self.state.b)
        b[j] = float(np.clip(-(w @ np.array([x, y])), -pgd.PARAM_LIMIT, pgd.PARAM_LIMIT))
        self._set_state(self.state.replace(b=b))

    def add_point(self, x: float, y: float) -> None:
        if len(self.state.labels) >= pgd.MAX_POINTS:
            self._say(f"At most {pgd.MAX_POINTS} points.")
            return
        self._end_edit()
        self._push_undo()
        self._set_state(self.state.replace(points=np.vstack([self.state.points, self.plane.clamp(x, y)]),
                                           labels=np.append(self.state.labels, self.tabs.clicked_class)))

    def move_point(self, index: int, x: float, y: float) -> None:
        if not 0 <= index < len(self.state.labels):
            return
        self._begin_edit(("point", index))
        points = np.array(self.state.points)
        points[index] = self.plane.clamp(x, y)
        self._set_state(self.state.replace(points=points))

    def remove_point(self, index: int) -> None:
        if not 0 <= index < len(self.state.labels):
            return
        self._end_edit()
        self._push_undo()
        self._set_state(self.state.replace(points=np.delete(self.state.points, index, axis=0),
                                           labels=np.delete(self.state.labels, index)))

    # ------------------------------------------------------------------ optimizing
    def step(self) -> None:
        """One full-batch gradient step (the Step button), undoable."""
        self._end_edit()
        if not self._warm_for(self.state.settings.loss):
            self._say("The losses are still loading; try again in a moment.")
            return
        self._push_undo()
        self.advance(1)

    def advance(self, n: int) -> None:
        """``n`` gradient steps, then one redraw (Play takes the steps due at its pace)."""
        if n <= 0 or not self._warm_for(self.state.settings.loss):
            return
        for _ in range(n):
            before = self.state
            after, evaluation = pgd.gradient_step(before)
            self._record(before.iteration, evaluation.total)
            if not self.path:
                self.path.append((before.W, before.b))
            self.path.append((after.W, after.b))
            self.state = after
        del self.path[:-MAX_PATH]
        self._changed(landscape="follow")

    def _record(self, iteration: int, total: float) -> None:
        """The loss curve: the total loss at each iteration (the newest value of an iteration wins)."""
        if self.history and self.history[-1][0] == iteration:
            self.history[-1] = (iteration, total)
        else:
            self.history.append((iteration, total))

    def randomize(self) -> None:
        self._end_edit()
        self._push_undo()
        self._randomize_count += 1
        rng = np.random.default_rng([self.state.settings.seed, self._randomize_count])
        W, b = pgd.random_parameters(self.state.n_classes, rng)
        self._set_state(self.state.replace(W=W, b=b), landscape="recenter")

    def reset(self) -> None:
        """The starting W and b and iteration 0; the points and settings stay."""
        self._end_edit()
        self.pause()
        self._push_undo()
        W, b = pgd.initial_parameters(self.state.n_classes)
        self.history.clear()
        self._set_state(self.state.replace(W=W, b=b, iteration=0), landscape="recenter")

    # ------------------------------------------------------------------ settings and whole states
    def _apply_state(self, state: pgd.PlaygroundState) -> None:
        """Show a whole state (undo, load, new data): widgets, handles, extent, landscape."""
        classes_changed = state.n_classes != self.state.n_classes
        self.state = state
        self.path.clear()
        self._extent = fit_extent(state.points)
        self._show_settings()
        if classes_changed or len(self.plane.handles) != state.n_classes:
            self._set_classes()  # redraws, recentres the landscape
        else:
            self.plots.set_parameters(pgd.param_names(state.n_classes), state.settings.landscape)
            self._changed(landscape="recenter")

    def _set_setting(self, **changes) -> None:
        try:
            settings = dataclasses.replace(self.state.settings, **changes)
        except ValueError as exc:
            self._say(str(exc))
            return
        if settings == self.state.settings:
            return
        self._begin_edit(("settings", tuple(changes)))
        self.state = self.state.replace(settings=settings)
        if set(changes) <= {"pace", "step_size"}:
            return  # nothing drawn depends on them (the gradient arrows are the full gradient)
        self._changed(landscape="update")

    def _on_data_edited(self, changes: dict, widget_name: str) -> None:
        """New points from the preset and its parameters (undoable)."""
        settings = self.state.settings
        landscape = settings.landscape if changes["n_classes"] == settings.n_classes else ("w0x", "b0")
        try:
            settings = dataclasses.replace(settings, landscape=landscape, **changes)
        except ValueError as exc:
            self._say(str(exc))
            return
        self.new_data(settings, ("data", widget_name))

    def new_data(self, settings: pgd.PlaygroundSettings, edit_key="data") -> None:
        """The preset's points; W and b are kept when the number of classes stays, else reset.
        The iteration count and the loss curve start over (other points, another loss: as in
        TensorFlow Playground). Changes with the same ``edit_key`` in a row (a slider's drag)
        are one undo entry."""
        self.pause()
        self._begin_edit(edit_key)
        fresh = pgd.new_state(settings)
        if fresh.n_classes == self.state.n_classes:
            fresh = fresh.replace(W=self.state.W, b=self.state.b)
        self.history.clear()
        self._apply_state(fresh)

    def _on_landscape_params(self, x: str, y: str) -> None:
        if x == y:
            self.plots.set_parameters(pgd.param_names(self.state.n_classes), self.state.settings.landscape)
            self._say("Choose two different parameters for the landscape.")
            return
        self._set_setting(landscape=(x, y))  # new parameters: the landscape recentres on them

    def _show_settings(self) -> None:
        """The widgets show the state's settings (without feeding back)."""
        self.bar.show_settings(self.state.settings)
        self.tabs.show_settings(self.state.settings)
        self.bar.undo_button.setEnabled(bool(self._undo))

    # ------------------------------------------------------------------ play
    def _on_play_toggled(self, playing: bool) -> None:
        if playing:
            self._end_edit()
            self._push_undo()  # Undo after a run goes back to before it

    def play(self) -> None:
        self.bar.play_button.setChecked(True)

    def pause(self) -> None:
        self.bar.play_button.setChecked(False)

    @property
    def playing(self) -> bool:
        return self.bar.play_button.isChecked()

    def hideEvent(self, event) -> None:
        self.pause()  # a hidden lab computes nothing
        super().hideEvent(event)

    # ------------------------------------------------------------------ files
    def save_to(self, path) -> bool:
        try:
            written = pgd.save_state(self.state, path)
        except pgd.PlaygroundError as exc:
            self._say(str(exc), error=True)
            return False
        self._say(f"Saved {written}.")
        return True

    def load_from(self, path) -> bool:
        try:
            state = pgd.load_state(path)
        except pgd.PlaygroundError as exc:
            self._say(str(exc), error=True)
            return False
        self.set_state(state)
        self._say(f"Loaded {path}.")
        return True

    def set_state(self, state: pgd.PlaygroundState) -> None:
        """Show a whole new state (a file, a notebook, a test): undoable; the loss curve starts over."""
        self._end_edit()
        self.pause()
        self._push_undo()
        self.history.clear()
        self._apply_state(state)

    def workspace_state(self) -> dict:
        """What a workspace keeps of this lab: its whole state (points, lines, settings)."""
        return {"settings": {}, "playground": self.state}

    def restore_workspace_state(self, entry: dict) -> list[str]:
        """A workspace's state (validated when the workspace was read)."""
        if entry.get("playground") is not None:
            self.set_state(entry["playground"])
        return []

    def _say(self, text: str, error: bool = False) -> None:
        self.bar.say(text, error)
        if error:
            self.workbench.post_message(f"2-D playground: {text}", error=True)

    # ------------------------------------------------------------------ computing
    def refresh(self) -> None:
        """Shown (the lab reads nothing from the workbench): draw, warming the kernels first."""
        self._changed(landscape="recenter")

    def _warm_for(self, loss: str) -> bool:
        """The losses with a compiled kernel are loaded once, on the quick lane, first (from
        Numba's cache that takes about a second; the GUI stays responsive)."""
        if pgd.PLAYGROUND_LOSSES[loss].kernel_code is None or self._kernels_warm:
            return True
        if not self._warming:
            self._warming = True
            self.submit("warmup", warmup_job(), self._on_warm)
        return False

    def _on_warm(self, outcome) -> None:
        self._warming = False
        if outcome.error:
            self._say(f"The losses failed to load: {outcome.error}", error=True)
            return
        if outcome.ok:
            self._kernels_warm = True
            self._changed(landscape="recenter")

    def _changed(self, landscape: str = "update") -> None:
        """Recompute the numbers (once the kernels are loaded) and draw everything; while the
        lab is hidden only remember to do so when it is shown."""
        if not self.active:
            self._stale = True
            return
        self.evaluation = pgd.evaluate_state(self.state) if self._warm_for(self.state.settings.loss) else None
        if self.evaluation is not None:
            self._record(self.state.iteration, self.evaluation.total)
        self._draw()
        self.plots.draw_history(self.history)
        self.bar.show_iteration(self.state.iteration, self.evaluation)
        self._request_landscape(landscape)

    def _request_landscape(self, mode: str) -> None:
        if self._warm_for(self.state.settings.loss):
            self.plots.request_landscape(self.state, mode)

    # ------------------------------------------------------------------ drawing
    def _draw(self) -> None:
        hinge = pgd.PLAYGROUND_LOSSES[self.state.settings.loss].hinge
        self.plane.draw(self.state, self.evaluation, extent=self._extent, anchors=self._anchor,
                        margins=self.tabs.margins and hinge, gradient=self.tabs.gradient)
        self.tabs.show_state(self.state)
        self.table.points_model.set_values(self.state, self.evaluation)
        self.table.fit_numbers()
        self.totals.setText(totals_text(self.state, self.evaluation))
        self.legend.setText(legend_text(self.state.settings.loss))
        note = pgd.separability_note(self.state.settings.preset)
        self.note.setText(note or "")
        self.note.setVisible(note is not None)
        self.plots.draw_here(self.state, self.path)
