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
landscape (the quick lane, the newest request wins).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFrame,
                               QGridLayout, QHBoxLayout, QHeaderView, QLabel, QPushButton, QScrollArea,
                               QSlider, QSpinBox, QSplitter, QTableView, QTabWidget, QVBoxLayout, QWidget)

from linviz.explore import playground as pgd
from linviz.gui.labs.lab import Lab
from linviz.gui.widgets.log_slider import LogSlider
from linviz.gui.views.plot_style import outward_ticks

CLASS_COLORS = [(214, 39, 40), (44, 160, 44), (31, 119, 180), (255, 127, 14), (148, 103, 189)]
ARROW_SCALE = 0.25  # an arrow is w_j drawn at a quarter of its length (data units)
MAP_PIXELS = 3.0  # screen pixels per decision-map grid point
MAP_MAX = 500  # grid points per side at most
LANDSCAPE_SIZE = 25
PLAY_TICK_MS = 30
MAX_UNDO = 200
MAX_PATH = 2000
SCORE0 = 5  # the table's columns: #, x, y, class, L_i, then the scores s_0 .. s_C-1

INSTRUCTIONS = ("Click: add a point · drag: move it · right-click: remove it · drag an arrow's tip: w_j · "
                "drag a line: b_j (its score is 0 on the line and grows along the arrow)")
LEGEND = "Arrows: w_j × ¼ · dashed: −gradient · ringed: has a loss · darker band: SVM margin"
LEGEND_TIP = ("Arrows: w_j drawn at a quarter of its length, from the line's point nearest the origin.\n"
              "Dashed arrows: the negative gradient of w_j (at the tip) and the shift of the line that −db_j "
              "brings;\nStep moves along them times the step size.\n"
              "Ringed points have a loss: SVM losses: inside a margin (or on the wrong side); softmax: "
              "misclassified.\nDarker bands: where a point of the winning class would still have an SVM loss.")


POINT_BRUSHES = [pg.mkBrush(*color) for color in CLASS_COLORS]
POINT_PENS = {False: pg.mkPen((255, 255, 255), width=1.2), True: pg.mkPen((0, 0, 0), width=3)}  # ringed: a loss


def class_color(j: int) -> tuple:
    return CLASS_COLORS[j % len(CLASS_COLORS)]


def plane_rgb(dmap: pgd.DecisionMap, shading: str, n_classes: int, margins: bool) -> np.ndarray:
    """The decision map as uint8 RGB (ny, nx, 3): each class's color, pale to full by the
    shading, darker inside the margin bands."""
    colors = np.array([class_color(j) for j in range(n_classes)], dtype=np.float32)
    if shading == "class":  # one tint per class, darker in the bands: a lookup, no arithmetic per pixel
        tint = 255.0 - (255.0 - colors) * 0.3
        lut = np.vstack([tint, tint * (0.82 if margins else 1.0)]).astype(np.uint8)
        return lut[dmap.winner + n_classes * dmap.in_margin]
    if shading == "probability":
        strength = 0.08 + 0.55 * np.clip((dmap.top_probability - 1.0 / n_classes) / (1.0 - 1.0 / n_classes), 0, 1)
    else:  # "score"
        peak = float(np.max(np.abs(dmap.top_score))) or 1.0
        strength = 0.08 + 0.55 * np.clip(dmap.top_score / peak, 0, 1)
    strength = strength.astype(np.float32)
    rgb = 255.0 - (255.0 - colors[dmap.winner]) * strength[..., None]
    if margins:
        rgb *= np.where(dmap.in_margin, 0.82, 1.0)[..., None]
    return rgb.astype(np.uint8)  # within 0..255 by construction


class PlaneViewBox(pg.ViewBox):
    """A fixed view (no pan or zoom: a drag belongs to the items) that reports clicks on empty plane."""

    planeClicked = Signal(float, float)

    def mouseClickEvent(self, ev):
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            p = self.mapSceneToView(ev.scenePos())
            self.planeClicked.emit(float(p.x()), float(p.y()))
        else:
            ev.ignore()

    def mouseDragEvent(self, ev, axis=None):
        ev.ignore()

    def wheelEvent(self, ev, axis=None):
        ev.ignore()


class PointsItem(pg.ScatterPlotItem):
    """The points: drag one to move it, right-click one to remove it."""

    pointMoved = Signal(int, float, float)
    pointDropped = Signal(int)
    pointRemoved = Signal(int)

    def __init__(self):
        super().__init__(pxMode=True)
        self._dragged: Optional[int] = None

    def index_at(self, pos) -> Optional[int]:
        spots = self.pointsAt(pos)
        return int(spots[0].index()) if len(spots) else None

    def mouseDragEvent(self, ev):
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        if ev.isStart():
            self._dragged = self.index_at(ev.buttonDownPos())
        if self._dragged is None:
            ev.ignore()
            return
        ev.accept()
        p = ev.pos()
        self.pointMoved.emit(self._dragged, float(p.x()), float(p.y()))
        if ev.isFinish():
            self.pointDropped.emit(self._dragged)
            self._dragged = None

    def mouseClickEvent(self, ev):
        index = self.index_at(ev.pos())
        if index is None:
            ev.ignore()
            return
        ev.accept()  # a click on a point never adds one on top of it
        if ev.button() == Qt.MouseButton.RightButton:
            self.pointRemoved.emit(index)


class LineHandle(pg.InfiniteLine):
    """A class's line; a click on it is not a click on the plane (it adds no point)."""

    def mouseClickEvent(self, ev):
        super().mouseClickEvent(ev)
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()


class TipHandle(pg.TargetItem):
    """The tip of a class's arrow; a click on it adds no point either."""

    def mouseClickEvent(self, ev):
        super().mouseClickEvent(ev)
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()


class ClassHandles:
    """One class's drawables: the line (drag: b_j), the arrow for w_j with its tip handle
    (drag: w_j), and the dashed negative-gradient arrows."""

    def __init__(self, view: pg.ViewBox, j: int):
        color = class_color(j)
        self.line = LineHandle(pos=(0, 0), angle=90, movable=True, pen=pg.mkPen(color, width=2.5),
                               hoverPen=pg.mkPen(color, width=5))
        self.shaft = pg.PlotCurveItem(pen=pg.mkPen(color, width=2.5))
        self.head = pg.ArrowItem(angle=0, headLen=14, tipAngle=35, tailLen=0, pen=pg.mkPen(color),
                                 brush=pg.mkBrush(color))
        self.tip = TipHandle(pos=(0, 0), size=13, symbol="o", pen=pg.mkPen((30, 30, 30), width=1.5),
                             brush=pg.mkBrush(*color, 90), hoverBrush=pg.mkBrush(*color, 220), movable=True)
        dark = tuple(int(c * 0.6) for c in color)
        dashed = pg.mkPen(dark, width=2, style=Qt.PenStyle.DashLine)
        self.grad_w = pg.PlotCurveItem(pen=dashed)
        self.grad_w_head = pg.ArrowItem(angle=0, headLen=9, tipAngle=40, tailLen=0, pen=pg.mkPen(dark),
                                        brush=pg.mkBrush(dark))
        self.grad_b = pg.PlotCurveItem(pen=dashed)
        self.grad_b_head = pg.ArrowItem(angle=0, headLen=9, tipAngle=40, tailLen=0, pen=pg.mkPen(dark),
                                        brush=pg.mkBrush(dark))
        for z, item in enumerate((self.line, self.grad_b, self.grad_b_head, self.shaft, self.head, self.grad_w,
                                  self.grad_w_head, self.tip)):
            item.setZValue(10 + z)
            view.addItem(item, ignoreBounds=True)
        self.items = [self.line, self.shaft, self.head, self.tip, self.grad_w, self.grad_w_head, self.grad_b,
                      self.grad_b_head]

    def remove(self, view: pg.ViewBox) -> None:
        for item in self.items:
            view.removeItem(item)


def _arrow(shaft, head, start, end) -> None:
    """A straight arrow from start to end (head hidden when it has no length)."""
    shaft.setData([start[0], end[0]], [start[1], end[1]])
    d = np.subtract(end, start)
    visible = float(np.hypot(*d)) > 1e-9
    head.setVisible(visible)
    if visible:
        # ArrowItem: angle 0 points left, on screen (y down): this points it along d.
        head.setStyle(angle=180.0 - math.degrees(math.atan2(d[1], d[0])))
        head.setPos(float(end[0]), float(end[1]))


def caption(text: str, name: str = "viewCaption") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setObjectName(name)
    return label


def column(*parts) -> QWidget:
    """A widget stacking widgets and layouts without margins; ``(part, stretch)`` stretches."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for part in parts:
        part, stretch = part if isinstance(part, tuple) else (part, 0)
        if isinstance(part, QWidget):
            layout.addWidget(part, stretch)
        else:
            layout.addLayout(part, stretch)
    return box


def grid(rows) -> QGridLayout:
    """Rows of cells, left to right: a widget, a layout or a label's text, or (cell, column span)."""
    layout = QGridLayout()
    for r, cells in enumerate(rows):
        c = 0
        for cell in cells:
            cell, span = cell if isinstance(cell, tuple) else (cell, 1)
            if isinstance(cell, str):
                cell = QLabel(cell)
            if isinstance(cell, QWidget):
                layout.addWidget(cell, r, c, 1, span)
            else:
                layout.addLayout(cell, r, c, 1, span)
            c += span
    return layout


def splitter(orientation, parts) -> QSplitter:
    """A splitter of ``(widget, stretch, initial size)``; no part collapses to nothing."""
    split = QSplitter(orientation)
    split.setChildrenCollapsible(False)
    for k, (widget, stretch, _) in enumerate(parts):
        split.addWidget(widget)
        split.setStretchFactor(k, stretch)
    split.setSizes([size for _, _, size in parts])
    return split


def line_foot(w: np.ndarray, b: float) -> np.ndarray:
    """The point of the line w . x + b = 0 nearest the origin (the origin if w = 0)."""
    n2 = float(w @ w)
    return -b * w / n2 if n2 > 0 else np.zeros(2)


class PointsTableModel(QAbstractTableModel):
    """Every point's x, y, class, scores and loss (numbers right-aligned; ringed losses red)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.state: Optional[pgd.PlaygroundState] = None
        self.evaluation: Optional[pgd.Evaluation] = None
        self._bold = QFont()
        self._bold.setBold(True)

    def set_values(self, state: pgd.PlaygroundState, evaluation: Optional[pgd.Evaluation]) -> None:
        reshaped = (self.state is None or len(self.state.labels) != len(state.labels)
                    or self.state.n_classes != state.n_classes
                    or (self.evaluation is None) != (evaluation is None))
        if reshaped:
            self.beginResetModel()
        self.state, self.evaluation = state, evaluation
        if reshaped:
            self.endResetModel()
        elif self.rowCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, self.columnCount() - 1))

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if self.state is None or parent.isValid() else len(self.state.labels)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if self.state is None or parent.isValid() else 5 + self.state.n_classes

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or self.state is None:
            return None
        C = self.state.n_classes
        if role == Qt.ItemDataRole.DisplayRole:
            return (["#", "x", "y", "class", "L_i"] + [f"s{j}" for j in range(C)])[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            if section >= SCORE0:
                j = section - SCORE0
                return f"s{j} = w{j} · x + b{j}: class {j}'s score (bold: the true class's)"
            return {0: "The point's number", 3: "Its true class",
                    4: "The point's data loss L_i (red: the point has a loss)"}.get(section)
        if role == Qt.ItemDataRole.ForegroundRole and section >= SCORE0:
            return QBrush(QColor(*class_color(section - SCORE0)))
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.state is None:
            return None
        r, c = index.row(), index.column()
        C = self.state.n_classes
        label = int(self.state.labels[r])
        ev = self.evaluation
        if role == Qt.ItemDataRole.DisplayRole:
            if c == 0:
                return str(r)
            if c in (1, 2):
                return f"{self.state.points[r, c - 1]:.2f}"
            if c == 3:
                return f"● {label}"
            if ev is None:
                return "…"
            if c == 4:
                return f"{ev.losses[r]:.3f}"
            return f"{ev.scores[r, c - SCORE0]:.2f}"
        if role == Qt.ItemDataRole.TextAlignmentRole and c != 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole:
            if c == 4 and ev is not None and ev.flagged[r]:
                return QBrush(QColor(255, 205, 205))
        if role == Qt.ItemDataRole.ForegroundRole and c == 3:
            return QBrush(QColor(*class_color(label)))
        if role == Qt.ItemDataRole.FontRole and (c == 3 or ev is not None and c == SCORE0 + label):
            return self._bold  # the true class's score
        return None


class PlaygroundLab(Lab):
    title = "2-D playground"
    order = 60
    object_name = "playgroundView"

    def __init__(self, workbench, job_queue, parent=None):
        super().__init__(workbench, job_queue, parent)
        self.state = pgd.new_state()
        self.evaluation: Optional[pgd.Evaluation] = None
        self.history: list[tuple[int, float]] = []  # (iteration, total loss) after each step
        self.path: list[tuple[np.ndarray, np.ndarray]] = []  # (W, b) before and after each step
        self.landscape: Optional[pgd.Landscape] = None
        self._landscape_center: Optional[tuple] = None
        self._undo: list[pgd.PlaygroundState] = []
        self._editing = None  # the edit in progress (merged into one undo entry)
        self._anchor: dict[int, np.ndarray] = {}  # a dragged tip's arrow base, fixed during the drag
        self._syncing = False  # drawing the state: handle moves are ours, not the user's
        self._kernels_warm = False
        self._warming = False
        self._landscape_busy = False
        self._landscape_again: Optional[str] = None
        self._view_extent = None
        self._randomize_count = 0
        self._extent = self._fit_extent()
        self.pacer = pgd.Pacer(self.state.settings.pace)
        self.play_timer = QTimer(self)
        self.play_timer.setInterval(PLAY_TICK_MS)
        self.play_timer.timeout.connect(self.tick)

        self._build_plane()
        self._build_table()
        optimize, settings_tabs = self._build_controls()
        plots = self._build_plots()

        self.caption = caption(INSTRUCTIONS)
        self.legend = caption(LEGEND)
        self.legend.setToolTip(LEGEND_TIP)
        self.plane.setToolTip(LEGEND_TIP)
        self.note = caption("", "playgroundNote")
        self.note.setStyleSheet("QLabel { background: #fff4d6; border: 1px solid #e0c070; padding: 3px; }")
        self.note.setVisible(False)

        # Left: the plane above the table (what a drag changes, side by side with the numbers).
        # Right: the optimizer's buttons always in sight, the settings in tabs, the plots below.
        left = splitter(Qt.Orientation.Vertical, [(column((self.plane, 1), self.legend), 3, 450),
                                                  (column((self.table, 1), self.totals), 2, 250)])
        lower = splitter(Qt.Orientation.Vertical, [(settings_tabs, 0, 150), (plots, 1, 400)])
        right = column(optimize, (lower, 1))
        split = splitter(Qt.Orientation.Horizontal, [(left, 3, 600), (right, 2, 360)])
        split.setObjectName("playgroundSplitter")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(self.note)
        layout.addWidget(split, 1)
        self._show_settings()
        self._rebuild_class_widgets()
        self.view.sigRangeChanged.connect(self._draw_map)  # a resize widens the view: color all of it

    # ------------------------------------------------------------------ building
    def _build_plane(self) -> None:
        self.view = PlaneViewBox(lockAspect=True, enableMenu=False)
        self.view.setMouseEnabled(x=False, y=False)
        self.plane = pg.PlotWidget(viewBox=self.view)
        self.plane.setObjectName("playgroundPlane")
        self.plane.setMinimumSize(220, 200)
        item = self.plane.getPlotItem()
        item.hideButtons()
        outward_ticks(item)
        item.showGrid(x=True, y=True, alpha=0.15)
        self.map_image = pg.ImageItem()
        self.map_image.setZValue(-10)
        self.view.addItem(self.map_image, ignoreBounds=True)
        self.points_item = PointsItem()
        self.points_item.setZValue(40)
        self.view.addItem(self.points_item)
        self.points_item.pointMoved.connect(self.move_point)
        self.points_item.pointDropped.connect(self._end_edit)
        self.points_item.pointRemoved.connect(self.remove_point)
        self.view.planeClicked.connect(self.add_point)
        self.handles: list[ClassHandles] = []

    def _build_table(self) -> None:
        self.table_model = PointsTableModel(self)
        self.table = QTableView()
        self.table.setObjectName("playgroundTable")
        self.table.setModel(self.table_model)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setMinimumSectionSize(20)
        header.setStretchLastSection(False)
        self.table_model.modelReset.connect(self._size_columns)
        self.table.setMinimumHeight(90)
        self.totals = QLabel("")
        self.totals.setObjectName("playgroundTotals")
        self.totals.setWordWrap(True)
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def _size_columns(self) -> None:
        """Fixed column widths that fit their numbers (a scroll bar rather than "1.…")."""
        metrics = self.table.fontMetrics()
        number = metrics.horizontalAdvance("−00.00") + 10
        widths = [metrics.horizontalAdvance("000") + 10, number, number, metrics.horizontalAdvance("class") + 12,
                  metrics.horizontalAdvance("00.000") + 10]
        widths += [number] * self.state.n_classes
        for column, width in enumerate(widths):
            self.table.setColumnWidth(column, width)

    def _build_controls(self) -> tuple:
        s = self.state.settings
        # Optimize: the buttons first, always at the top of the column.
        self.step_button = QPushButton("Step")
        self.step_button.setObjectName("playgroundStep")
        self.step_button.setToolTip("One full-batch gradient step: W −= step size × dW, b −= step size × db")
        self.play_button = QPushButton("Play")
        self.play_button.setObjectName("playgroundPlay")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Take steps at the chosen pace until Pause")
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Back to before the last change (a drag, a step, a Play run, ...)")
        self.randomize_button = QPushButton("Randomize")
        self.randomize_button.setToolTip("Random W (−3..3) and b (−1..1)")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("The starting W and b, iteration 0 (the points stay)")
        self.save_button = QPushButton("Save")
        self.save_button.setToolTip("Save the points, W, b and the settings as a small JSON file")
        self.load_button = QPushButton("Load")
        self.load_button.setToolTip("Load a playground JSON file")
        self.pace_spin = QDoubleSpinBox(decimals=1, minimum=0.5, maximum=60.0, singleStep=1.0, value=s.pace)
        self.pace_spin.setSuffix(" /s")
        self.pace_spin.setToolTip("Play's pace: steps per second")
        self.step_slider = LogSlider(1e-3, 10.0, s.step_size)
        self.step_slider.setToolTip("The step size (learning rate)")
        self.iteration_label = QLabel("")
        self.iteration_label.setObjectName("playgroundIteration")
        self.status = caption("")
        self.status.setVisible(False)

        optimize = QGridLayout()
        optimize.setContentsMargins(2, 2, 2, 2)
        optimize.setVerticalSpacing(3)
        for column, button in enumerate((self.step_button, self.play_button, self.undo_button)):
            optimize.addWidget(button, 0, column)
        for column, button in enumerate((self.randomize_button, self.reset_button)):
            optimize.addWidget(button, 1, column)
        files = QHBoxLayout()
        files.setSpacing(2)
        files.addWidget(self.save_button)
        files.addWidget(self.load_button)
        optimize.addLayout(files, 1, 2)
        step_row = QHBoxLayout()
        step_row.addWidget(QLabel("Step size"))
        step_row.addWidget(self.step_slider, 1)
        optimize.addLayout(step_row, 2, 0, 1, 3)
        pace_row = QHBoxLayout()
        pace_row.addWidget(QLabel("Pace"))
        pace_row.addWidget(self.pace_spin)
        pace_row.addSpacing(8)
        pace_row.addWidget(self.iteration_label, 1)
        optimize.addLayout(pace_row, 3, 0, 1, 3)
        optimize.addWidget(self.status, 4, 0, 1, 3)

        # Data
        self.preset_box = QComboBox()
        for key, text in pgd.PRESETS.items():
            self.preset_box.addItem(text, key)
        self.classes_spin = QSpinBox(minimum=pgd.MIN_CLASSES, maximum=pgd.MAX_CLASSES, value=s.n_classes)
        self.seed_spin = QSpinBox(minimum=0, maximum=999_999, value=s.seed)
        self.count_slider = QSlider(Qt.Orientation.Horizontal)
        self.count_slider.setRange(pgd.MIN_GENERATED, pgd.MAX_GENERATED)
        self.count_slider.setValue(s.n_points)
        self.count_label = QLabel(str(s.n_points))
        self.count_label.setMinimumWidth(self.count_label.fontMetrics().horizontalAdvance("000"))
        self.noise_slider = QSlider(Qt.Orientation.Horizontal)
        self.noise_slider.setRange(0, 100)
        self.noise_slider.setValue(int(round(s.noise * 100)))
        self.noise_label = QLabel(f"{s.noise:.2f}")
        self.noise_label.setMinimumWidth(self.noise_label.fontMetrics().horizontalAdvance("0.00"))
        self.preset_box.setObjectName("playgroundPreset")
        self.classes_spin.setObjectName("playgroundClasses")
        self.seed_spin.setObjectName("playgroundSeed")
        self.count_slider.setObjectName("playgroundCount")
        self.noise_slider.setObjectName("playgroundNoise")
        self.add_class_box = QComboBox()
        self.add_class_box.setToolTip("The class of the points you add by clicking")
        data = grid([["Preset", (self.preset_box, 3)],
                     ["Classes", self.classes_spin, "Seed", self.seed_spin],
                     ["Points", (self.count_slider, 2), self.count_label],
                     ["Noise", (self.noise_slider, 2), self.noise_label],
                     ["Click adds", (self.add_class_box, 3)]])

        # Loss
        self.loss_box = QComboBox()
        for key, text in pgd.LOSS_NAMES.items():
            self.loss_box.addItem(text, key)
        self.delta_spin = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=10.0, singleStep=0.25, value=s.delta)
        self.delta_spin.setToolTip("The SVM margin Δ")
        self.reg_box = QComboBox()
        for key, text in (("l2", "L2"), ("l1", "L1"), ("elastic", "elastic")):
            self.reg_box.addItem(text, key)
        self.reg_box.setToolTip("The penalty on W (b is not regularized): L2 ΣW², L1 Σ|W|, elastic ΣW² + Σ|W|")
        self.reg_slider = LogSlider(1e-4, 10.0, s.reg, allow_zero=True)
        self.reg_slider.setToolTip("The regularization strength λ")
        self.shading_box = QComboBox()
        for key, text in pgd.SHADINGS.items():
            self.shading_box.addItem(text, key)
        self.shading_box.setToolTip("What the plane's color shows; its hue is always the winning class")
        self.margins_check = QCheckBox("Margins")
        self.margins_check.setChecked(True)
        self.margins_check.setToolTip("Darken the SVM's margin bands: a point there has a loss even when "
                                      "it is classified right")
        self.gradient_check = QCheckBox("Gradient")
        self.gradient_check.setChecked(True)
        self.gradient_check.setToolTip("Dashed arrows: the negative gradient of w_j (at the tip) and the shift "
                                       "of the line it brings (from b_j)")
        checks = QHBoxLayout()
        checks.addWidget(self.margins_check)
        checks.addWidget(self.gradient_check)
        checks.addStretch(1)
        loss = grid([["Loss", (self.loss_box, 3)],
                     ["Δ", self.delta_spin, "Reg.", self.reg_box],
                     ["λ", (self.reg_slider, 3)],
                     ["Shade", (self.shading_box, 3)],
                     [(checks, 4)]])

        # Parameters: a row per class
        self.params_grid = QGridLayout()
        self.param_spins: dict[str, QDoubleSpinBox] = {}

        optimize_box = QWidget()
        optimize_box.setObjectName("playgroundOptimize")
        optimize_box.setLayout(optimize)
        tabs = QTabWidget()
        tabs.setObjectName("playgroundSettingsTabs")
        tabs.setDocumentMode(True)
        for title, inner in (("W and b", self.params_grid), ("Loss", loss), ("Data", data)):
            page = QWidget()
            page_layout = QVBoxLayout(page)
            page_layout.setContentsMargins(4, 4, 4, 4)
            page_layout.addLayout(inner)
            page_layout.addStretch(1)
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            scroll.setWidget(page)
            tabs.addTab(scroll, title)
        self.settings_tabs = tabs
        optimize_box.setMinimumWidth(optimize_box.minimumSizeHint().width())

        self.step_button.clicked.connect(self.step)
        self.play_button.toggled.connect(self._on_play_toggled)
        self.undo_button.clicked.connect(self.undo)
        self.randomize_button.clicked.connect(self.randomize)
        self.reset_button.clicked.connect(self.reset)
        self.save_button.clicked.connect(self._save_dialog)
        self.load_button.clicked.connect(self._load_dialog)
        self.pace_spin.valueChanged.connect(self._on_pace)
        self.step_slider.valueChanged.connect(lambda v: self._set_setting(step_size=float(v)))
        self.preset_box.activated.connect(self._on_data_settings)
        self.classes_spin.valueChanged.connect(self._on_data_settings)
        self.seed_spin.valueChanged.connect(self._on_data_settings)
        self.count_slider.valueChanged.connect(self._on_data_settings)
        self.noise_slider.valueChanged.connect(self._on_data_settings)
        self.loss_box.activated.connect(lambda _: self._set_setting(loss=self.loss_box.currentData()))
        self.delta_spin.valueChanged.connect(lambda v: self._set_setting(delta=float(v)))
        self.reg_box.activated.connect(lambda _: self._set_setting(reg_type=self.reg_box.currentData()))
        self.reg_slider.valueChanged.connect(lambda v: self._set_setting(reg=float(v)))
        self.shading_box.activated.connect(lambda _: self._set_setting(shading=self.shading_box.currentData()))
        self.margins_check.toggled.connect(lambda _: self._draw())
        self.gradient_check.toggled.connect(lambda _: self._draw())
        return optimize_box, tabs

    def _build_plots(self) -> QWidget:
        self.loss_plot = pg.PlotWidget()
        self.loss_plot.setObjectName("playgroundLossCurve")
        self.loss_plot.setMinimumHeight(70)
        item = self.loss_plot.getPlotItem()
        item.hideButtons()
        outward_ticks(item)
        item.setTitle("total loss per iteration", size="9pt")
        item.getAxis("bottom").enableAutoSIPrefix(False)
        item.getViewBox().setMouseEnabled(x=False, y=False)
        self.loss_curve = item.plot(pen=pg.mkPen((31, 119, 180), width=2))

        self.landscape_plot = pg.PlotWidget()
        self.landscape_plot.setObjectName("playgroundLandscape")
        self.landscape_plot.setMinimumHeight(90)
        item = self.landscape_plot.getPlotItem()
        item.hideButtons()
        outward_ticks(item)
        item.getViewBox().setMouseEnabled(x=False, y=False)
        self.landscape_image = pg.ImageItem()
        self.landscape_image.setColorMap(pg.colormap.get("viridis"))
        item.addItem(self.landscape_image)
        self.path_curve = item.plot(pen=pg.mkPen((255, 255, 255), width=1.5), symbol="o", symbolSize=4,
                                    symbolBrush=(255, 255, 255), symbolPen=None)
        self.here_mark = pg.ScatterPlotItem(size=11, symbol="x", pen=pg.mkPen((230, 30, 30), width=2.5),
                                            brush=pg.mkBrush(230, 30, 30))
        item.addItem(self.here_mark)
        self.landscape_x_box = QComboBox()
        self.landscape_y_box = QComboBox()
        for box in (self.landscape_x_box, self.landscape_y_box):
            box.setToolTip("The landscape's parameters: the total loss over them, the others fixed")
            box.activated.connect(self._on_landscape_params)
        self.landscape_caption = caption("")
        choose = QHBoxLayout()
        choose.addWidget(QLabel("Landscape"))
        choose.addWidget(self.landscape_x_box, 1)
        choose.addWidget(QLabel("×"))
        choose.addWidget(self.landscape_y_box, 1)
        return column((self.loss_plot, 2), choose, (self.landscape_plot, 3), self.landscape_caption)

    def _rebuild_class_widgets(self) -> None:
        """Handles, spin boxes and class lists for the current number of classes."""
        C = self.state.n_classes
        for handles in self.handles:
            handles.remove(self.view)
        self.handles = []
        for j in range(C):
            handles = ClassHandles(self.view, j)
            handles.line.sigPositionChanged.connect(lambda item, j=j: self.on_line_moved(j, item))
            handles.line.sigPositionChangeFinished.connect(self._end_edit)
            handles.tip.sigPositionChanged.connect(lambda item, j=j: self.on_tip_moved(j, item))
            handles.tip.sigPositionChangeFinished.connect(self._end_edit)
            self.handles.append(handles)
        while self.params_grid.count():
            widget = self.params_grid.takeAt(0).widget()
            if widget is not None:
                widget.setParent(None)  # gone now, not at the next return to the event loop
                widget.deleteLater()
        self.param_spins = {}
        for k, text in enumerate(("", "w·x", "w·y", "b")):
            self.params_grid.addWidget(QLabel(text), 0, k)
        for j in range(C):
            name = QLabel(f"class {j}")
            name.setStyleSheet(f"QLabel {{ color: rgb{class_color(j)}; font-weight: bold; }}")
            self.params_grid.addWidget(name, j + 1, 0)
            for k, param in enumerate((f"w{j}x", f"w{j}y", f"b{j}")):
                spin = QDoubleSpinBox(decimals=2, minimum=-pgd.PARAM_LIMIT, maximum=pgd.PARAM_LIMIT, singleStep=0.1)
                spin.setMinimumWidth(spin.fontMetrics().horizontalAdvance("−00.00") + 26)
                spin.setKeyboardTracking(False)
                spin.valueChanged.connect(lambda v, p=param: self.set_param(p, v))
                self.params_grid.addWidget(spin, j + 1, k + 1)
                self.param_spins[param] = spin
        current = self.add_class_box.currentIndex()
        self.add_class_box.clear()
        for j in range(C):
            self.add_class_box.addItem(f"class {j}", j)
        self.add_class_box.setCurrentIndex(min(max(current, 0), C - 1))
        names = pgd.param_names(C)
        for box, chosen in zip((self.landscape_x_box, self.landscape_y_box), self.state.settings.landscape):
            box.blockSignals(True)
            box.clear()
            for p in names:
                box.addItem(pgd.param_label(p), p)
            box.setCurrentIndex(names.index(chosen))
            box.blockSignals(False)
        self._changed(landscape="recenter")

    # ------------------------------------------------------------------ state changes
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
        self.undo_button.setEnabled(True)

    def _set_state(self, state: pgd.PlaygroundState, *, manual: bool = True, landscape: str = "update") -> None:
        self.state = state
        if manual:
            self.path.clear()
        self._changed(landscape=landscape)

    def set_param(self, name: str, value: float) -> None:
        """A spin box (or a test) sets one parameter."""
        if self._syncing:
            return
        if pgd.get_param(self.state.W, self.state.b, name) == float(value):
            return
        self._begin_edit(("param", name))
        W, b = pgd.with_param(self.state.W, self.state.b, name, float(np.clip(value, -pgd.PARAM_LIMIT,
                                                                                pgd.PARAM_LIMIT)))
        self._set_state(self.state.replace(W=W, b=b))

    def on_tip_moved(self, j: int, item) -> None:
        """The tip of class j's arrow moved: w_j = (tip − arrow base) / ARROW_SCALE; b_j stays.
        The base stays where it was for the whole drag, so the tip follows the mouse."""
        if self._syncing:
            return
        self._begin_edit(("tip", j))
        anchor = self._anchor.setdefault(j, line_foot(self.state.W[j], self.state.b[j]))
        p = item.pos()
        w = np.clip((np.array([p.x(), p.y()]) - anchor) / ARROW_SCALE, -pgd.PARAM_LIMIT, pgd.PARAM_LIMIT)
        W = np.array(self.state.W)
        W[j] = w
        self._set_state(self.state.replace(W=W))

    def on_line_moved(self, j: int, item) -> None:
        """Class j's line was dragged through point p: b_j = −w_j · p, so it moves parallel; w_j stays."""
        if self._syncing:
            return
        w = self.state.W[j]
        if not np.any(w):
            return  # no line to drag: w_j = 0 scores the same everywhere
        self._begin_edit(("line", j))
        p = item.pos()
        b = np.array(self.state.b)
        b[j] = float(np.clip(-(w @ np.array([p.x(), p.y()])), -pgd.PARAM_LIMIT, pgd.PARAM_LIMIT))
        self._set_state(self.state.replace(b=b))

    def add_point(self, x: float, y: float) -> None:
        if len(self.state.labels) >= pgd.MAX_POINTS:
            self._say(f"At most {pgd.MAX_POINTS} points.")
            return
        self._end_edit()
        self._push_undo()
        p = self._clamp(x, y)
        self._set_state(self.state.replace(points=np.vstack([self.state.points, p]),
                                           labels=np.append(self.state.labels, self.add_class_box.currentData() or 0)))

    def move_point(self, index: int, x: float, y: float) -> None:
        if not 0 <= index < len(self.state.labels):
            return
        self._begin_edit(("point", index))
        points = np.array(self.state.points)
        points[index] = self._clamp(x, y)
        self._set_state(self.state.replace(points=points))

    def remove_point(self, index: int) -> None:
        if not 0 <= index < len(self.state.labels):
            return
        self._end_edit()
        self._push_undo()
        self._set_state(self.state.replace(points=np.delete(self.state.points, index, axis=0),
                                           labels=np.delete(self.state.labels, index)))

    def _clamp(self, x: float, y: float) -> np.ndarray:
        """Inside the visible plane (and the file format's bounds)."""
        (x0, x1), (y0, y1) = self.view.viewRange()
        limit = pgd.COORD_LIMIT
        return np.array([min(max(x, x0, -limit), x1, limit), min(max(y, y0, -limit), y1, limit)])

    def step(self, *_) -> None:
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

    def undo(self) -> None:
        self._end_edit()
        if not self._undo:
            return
        self.pause()
        previous = self._undo.pop()
        self.undo_button.setEnabled(bool(self._undo))
        self.history = [(i, v) for i, v in self.history if i <= previous.iteration]
        self._apply_state(previous)

    def _apply_state(self, state: pgd.PlaygroundState) -> None:
        """Show a whole state (undo, load, new data): widgets, handles, extent, landscape."""
        classes_changed = state.n_classes != self.state.n_classes
        self.state = state
        self.path.clear()
        self._extent = self._fit_extent()
        self.pacer.set_pace(state.settings.pace)
        self._show_settings()
        if classes_changed or len(self.handles) != state.n_classes:
            self._rebuild_class_widgets()  # redraws, recentres the landscape
        else:
            self._sync_landscape_boxes()
            self._changed(landscape="recenter")

    def _set_setting(self, **changes) -> None:
        if self._syncing:
            return
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

    def _on_pace(self, value: float) -> None:
        self.pacer.set_pace(value)
        self._set_setting(pace=float(value))

    def _on_data_settings(self, *_) -> None:
        """New points from the preset and its parameters (undoable)."""
        if self._syncing:
            return
        self.count_label.setText(str(self.count_slider.value()))
        self.noise_label.setText(f"{self.noise_slider.value() / 100:.2f}")
        sender = self.sender()
        preset = self.preset_box.currentData()
        C = 3 if preset == "demo" else self.classes_spin.value()
        settings = self.state.settings
        landscape = settings.landscape if C == settings.n_classes else ("w0x", "b0")
        try:
            settings = dataclasses.replace(settings, preset=preset, n_classes=C, seed=self.seed_spin.value(),
                                           n_points=self.count_slider.value(), noise=self.noise_slider.value() / 100,
                                           landscape=landscape)
        except ValueError as exc:
            self._say(str(exc))
            return
        self.new_data(settings, ("data", sender.objectName() if sender is not None else ""))

    def new_data(self, settings: pgd.PlaygroundSettings, edit_key="data") -> None:
        """The preset's points; W and b are kept when the number of classes stays, else reset.
        Changes with the same ``edit_key`` in a row (a slider's drag) are one undo entry."""
        self.pause()
        self._begin_edit(edit_key)
        fresh = pgd.new_state(settings)
        if fresh.n_classes == self.state.n_classes:
            fresh = fresh.replace(W=self.state.W, b=self.state.b, iteration=self.state.iteration)
        else:
            self.history.clear()
        self._apply_state(fresh)

    def _on_landscape_params(self, *_) -> None:
        x, y = self.landscape_x_box.currentData(), self.landscape_y_box.currentData()
        if x == y:
            self._sync_landscape_boxes()
            self._say("Choose two different parameters for the landscape.")
            return
        self._set_setting(landscape=(x, y))  # new parameters: the landscape recentres on them

    def _sync_landscape_boxes(self) -> None:
        names = pgd.param_names(self.state.n_classes)
        for box, chosen in zip((self.landscape_x_box, self.landscape_y_box), self.state.settings.landscape):
            box.blockSignals(True)
            box.setCurrentIndex(names.index(chosen))
            box.blockSignals(False)

    # ------------------------------------------------------------------ play
    def _on_play_toggled(self, playing: bool) -> None:
        if playing:
            self._end_edit()
            self._push_undo()  # Undo after a run goes back to before it
            self.pacer.set_pace(self.pace_spin.value())
            self.pacer.start()
            self.play_timer.start()
            self.play_button.setText("Pause")
        else:
            self.pacer.stop()
            self.play_timer.stop()
            self.play_button.setText("Play")

    def play(self) -> None:
        self.play_button.setChecked(True)

    def pause(self) -> None:
        self.play_button.setChecked(False)

    @property
    def playing(self) -> bool:
        return self.play_button.isChecked()

    def tick(self) -> None:
        """The play timer: take the steps the pacer says are due."""
        self.advance(self.pacer.due())

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

    def _save_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the playground", "playground.json", "JSON (*.json)")
        if path:
            self.save_to(path)

    def _load_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a playground", "", "JSON (*.json);;All files (*)")
        if path:
            self.load_from(path)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))
        self.status.setStyleSheet("QLabel { color: #b00020; }" if error else "")
        if error:
            self.workbench.post_message(f"2-D playground: {text}", error=True)

    # ------------------------------------------------------------------ computing
    def refresh(self) -> None:
        """Shown (the lab reads nothing from the workbench): draw, warming the kernels first."""
        self._changed(landscape="recenter")

    def _warm_for(self, loss: str) -> bool:
        """svm / softmax run on compiled kernels: load them once, on the quick lane, first
        (from Numba's cache that takes about a second; the GUI stays responsive)."""
        if loss in pgd.NUMPY_TERMS or self._kernels_warm:
            return True
        if not self._warming:
            self._warming = True
            self.submit("warmup", _warmup_job(), self._on_warm)
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
        s = self.state.settings
        self.evaluation = pgd.evaluate_state(self.state) if self._warm_for(s.loss) else None
        if self.evaluation is not None:
            self._record(self.state.iteration, self.evaluation.total)
        self._draw()
        self._draw_history()
        self._request_landscape(landscape)

    def _request_landscape(self, mode: str) -> None:
        """``recenter``: around the current values; ``follow``: keep the window unless the
        current values leave its inner part; ``update``: same window, new slice."""
        if not self._warm_for(self.state.settings.loss):
            return
        if self._landscape_busy:  # one at a time: while playing, a newer request would cancel it every step
            self._landscape_again = "recenter" if "recenter" in (mode, self._landscape_again) else mode
            return
        here = tuple(pgd.get_param(self.state.W, self.state.b, p) for p in self.state.settings.landscape)
        span = self._landscape_span(here)
        center = self._landscape_center
        if (mode == "recenter" or center is None or center[2] != self.state.settings.landscape
                or any(abs(h - c) > 0.8 * center[3] for h, c in zip(here, center[:2]))):
            center = (here[0], here[1], self.state.settings.landscape, span)
            self._landscape_center = center
        self._landscape_busy = True
        self.submit("landscape", _landscape_job(self.state, center), self._on_landscape)

    @staticmethod
    def _landscape_span(here) -> float:
        return max(2.0, 0.6 * max(abs(v) for v in here))

    def _on_landscape(self, outcome) -> None:
        self._landscape_busy = False
        again, self._landscape_again = self._landscape_again, None
        if again is not None and self.active:
            self._request_landscape(again)
        if outcome.error:
            self._say(f"Landscape: {outcome.error}", error=True)
        if not outcome.ok or outcome.result is None:
            return
        self.landscape = outcome.result
        self._draw_landscape()

    # ------------------------------------------------------------------ drawing
    def _fit_extent(self) -> tuple:
        pts = self.state.points
        e = max(1.3, 1.25 * float(np.max(np.abs(pts)))) if len(pts) else 2.0
        e = min(e, pgd.COORD_LIMIT)
        return (-e, e, -e, e)

    def _draw(self) -> None:
        s = self.state.settings
        ev = self.evaluation
        self._syncing = True
        try:
            x0, x1, y0, y1 = self._extent
            if self._view_extent != self._extent:
                self._view_extent = self._extent
                self.view.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
            self._draw_map()
            self._draw_points(ev)
            for j, handles in enumerate(self.handles):
                self._draw_class(j, handles, ev)
            for name, spin in self.param_spins.items():
                value = pgd.get_param(self.state.W, self.state.b, name)
                if spin.value() != round(value, 2):
                    spin.setValue(value)
        finally:
            self._syncing = False
        self.table_model.set_values(self.state, ev)
        self._show_totals(ev)
        note = pgd.separability_note(s.preset)
        self.note.setText(note or "")
        self.note.setVisible(note is not None)
        self.delta_spin.setEnabled(s.loss in pgd.SVM_LOSSES)
        self.margins_check.setEnabled(s.loss in pgd.SVM_LOSSES)
        self._draw_here()

    def _draw_map(self, *_) -> None:
        """The plane's colors over the whole visible range (wider than the data's extent when
        the view is not square)."""
        if not self.active:
            return
        s = self.state.settings
        (x0, x1), (y0, y1) = self.view.viewRange()
        extent = (x0, x1, y0, y1)
        # about one grid point per MAP_PIXELS screen pixels: smooth band edges at any window size
        rect = self.view.sceneBoundingRect()
        nx = int(np.clip(rect.width() / MAP_PIXELS, 40, MAP_MAX))
        ny = int(np.clip(rect.height() / MAP_PIXELS, 40, MAP_MAX))
        dmap = pgd.decision_map(self.state.W, self.state.b, extent, (nx, ny), loss=s.loss, delta=s.delta,
                                probabilities=s.shading == "probability")
        margins = self.margins_check.isChecked() and s.loss in pgd.SVM_LOSSES
        self.map_image.setImage(plane_rgb(dmap, s.shading, self.state.n_classes, margins), levels=(0, 255),
                                autoLevels=False)
        self.map_image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))

    def _draw_points(self, ev) -> None:
        n = len(self.state.labels)
        flagged = ev.flagged if ev is not None else np.zeros(n, dtype=bool)
        # the same few pen and brush objects every time: the scatter renders each style once
        brushes = [POINT_BRUSHES[c % len(POINT_BRUSHES)] for c in self.state.labels.tolist()]
        pens = [POINT_PENS[f] for f in flagged.tolist()]
        sizes = np.where(flagged, 15, 11)
        self.points_item.setData(pos=self.state.points, brush=brushes, pen=pens, size=sizes, data=np.arange(n))

    def _draw_class(self, j: int, handles: ClassHandles, ev) -> None:
        w, b = self.state.W[j], float(self.state.b[j])
        has_line = bool(np.any(w))
        foot = line_foot(w, b)
        base = self._anchor.get(j, foot)
        handles.line.setVisible(has_line)
        if has_line:
            handles.line.setAngle(math.degrees(math.atan2(w[1], w[0])) + 90.0)
            handles.line.setPos(foot)
        tip = base + ARROW_SCALE * w
        _arrow(handles.shaft, handles.head, base, tip)
        handles.tip.setPos(float(tip[0]), float(tip[1]))
        show_grad = ev is not None and self.gradient_check.isChecked()
        for item in (handles.grad_w, handles.grad_w_head, handles.grad_b, handles.grad_b_head):
            item.setVisible(show_grad)
        if show_grad:
            _arrow(handles.grad_w, handles.grad_w_head, tip, tip - ARROW_SCALE * ev.dW[j])
            # the line's shift if b_j moved by −db_j (w_j fixed): db_j / |w_j| along w_j
            shift = (ev.db[j] / float(w @ w)) * w if has_line else np.zeros(2)
            _arrow(handles.grad_b, handles.grad_b_head, foot, foot + shift)

    def _show_totals(self, ev) -> None:
        s = self.state.settings
        if ev is None:
            self.totals.setText("Loading the compiled losses…")
            return
        n = len(self.state.labels)
        reg_words = {"l2": "L2: λ·ΣW²", "l1": "L1: λ·Σ|W|", "elastic": "elastic: λ·Σ(W² + |W|)"}[s.reg_type]
        self.totals.setText(
            f"<b>{pgd.LOSS_NAMES[s.loss]}</b>{f', Δ = {s.delta:g}' if s.loss in pgd.SVM_LOSSES else ''}: "
            f"data loss {ev.data_loss:.4f} (mean L_i of {n} points) + regularization {ev.reg_loss:.4f} "
            f"({reg_words}, λ = {s.reg:g}; b is free) = <b>total {ev.total:.4f}</b> · "
            f"accuracy {ev.correct}/{n} ({100 * ev.accuracy:.0f}%)")

    def _draw_history(self) -> None:
        axis = self.loss_plot.getPlotItem().getAxis("left")
        if self.history:
            its, losses = zip(*self.history)
            self.loss_curve.setData(np.array(its, dtype=float), np.array(losses))
            low, high = min(losses), max(losses)
            # the lowest and highest loss only: a short plot has no room for more labels
            axis.setTicks([[(v, f"{v:.3g}") for v in sorted({low, high})]])
        else:
            self.loss_curve.setData([], [])
            axis.setTicks(None)
        ev = self.evaluation
        accuracy = f" · accuracy {100 * ev.accuracy:.0f}%" if ev is not None else ""
        self.iteration_label.setText(f"Iteration {self.state.iteration}{accuracy}")

    def _draw_landscape(self) -> None:
        land = self.landscape
        if land is None:
            return
        x0, x1, y0, y1 = land.xs[0], land.xs[-1], land.ys[0], land.ys[-1]
        low, high = float(land.total.min()), float(land.total.max())
        self.landscape_image.setImage(land.total, autoLevels=False, levels=(low, max(high, low + 1e-9)))
        self.landscape_image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        item = self.landscape_plot.getPlotItem()
        item.setXRange(x0, x1, padding=0)
        item.setYRange(y0, y1, padding=0)
        self.landscape_caption.setText(f"Total loss {low:.3g} (dark) to {high:.3g} (bright) over "
                                       f"{pgd.param_label(land.params[0])} (→) × {pgd.param_label(land.params[1])} "
                                       "(↑), the rest as now; ×: now, white: the steps")
        self._draw_here()

    def _draw_here(self) -> None:
        params = self.state.settings.landscape
        here = [pgd.get_param(self.state.W, self.state.b, p) for p in params]
        self.here_mark.setData([here[0]], [here[1]])
        if self.path:
            xs = [pgd.get_param(W, b, params[0]) for W, b in self.path]
            ys = [pgd.get_param(W, b, params[1]) for W, b in self.path]
            self.path_curve.setData(xs, ys)
        else:
            self.path_curve.setData([], [])

    def _show_settings(self) -> None:
        """The widgets show the state's settings (without feeding back)."""
        s = self.state.settings
        self._syncing = True
        try:
            self.preset_box.setCurrentIndex(self.preset_box.findData(s.preset))
            for widget, value in ((self.classes_spin, s.n_classes), (self.seed_spin, s.seed),
                                  (self.count_slider, s.n_points), (self.noise_slider, int(round(s.noise * 100))),
                                  (self.delta_spin, s.delta), (self.pace_spin, s.pace)):
                widget.blockSignals(True)
                widget.setValue(value)
                widget.blockSignals(False)
            self.count_label.setText(str(s.n_points))
            self.noise_label.setText(f"{s.noise:.2f}")
            generated = s.preset != "demo"
            for widget in (self.classes_spin, self.count_slider, self.noise_slider):
                widget.setEnabled(generated)
            self.loss_box.setCurrentIndex(self.loss_box.findData(s.loss))
            self.reg_box.setCurrentIndex(self.reg_box.findData(s.reg_type))
            self.shading_box.setCurrentIndex(self.shading_box.findData(s.shading))
            for slider, value in ((self.reg_slider, s.reg), (self.step_slider, s.step_size)):
                slider.blockSignals(True)
                slider.setValue(value)
                slider._on_slider(slider.slider.value())
                slider.blockSignals(False)
        finally:
            self._syncing = False
        self.undo_button.setEnabled(bool(self._undo))


def _warmup_job():
    def job(ctx) -> bool:
        state = pgd.new_state()
        for loss in ("svm", "softmax"):
            pgd.evaluate(state.points, state.labels, state.W, state.b, loss=loss, reg=0.1)
            pgd.loss_landscape(state.replace(settings=dataclasses.replace(state.settings, loss=loss)), size=2)
        return True

    return job


def _landscape_job(state: pgd.PlaygroundState, center):
    def job(ctx) -> Optional[pgd.Landscape]:
        return pgd.loss_landscape(state, center=center[:2], span=center[3], size=LANDSCAPE_SIZE,
                                  cancelled=ctx.cancelled)

    return job
