"""The playground's plane: the decision map, the points, each class's line and arrow.

It reports what the mouse does (a click on empty plane, a point, a tip or a line dragged, a
drag finished) and draws a state it is given; what a drag means for W, b and the points is
the lab's business.
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal

from linviz.explore import playground as pgd
from linviz.gui.labs._playground.items import (ARROW_SCALE, POINT_BRUSHES, POINT_PENS, ClassHandles, PlaneViewBox,
                                               PointsItem, SmoothImageItem, draw_arrow, line_foot, plane_rgb)
from linviz.gui.views.plot_style import plain_axes, show_colors

MAP_PIXELS = 2.0  # screen pixels per decision-map grid point (drawn smoothed between them)
MAP_MAX = 1000  # grid points per side at most
# What the mouse does on the plane, and what the plane draws.
INSTRUCTIONS = ("Click: add a point · drag: move it · right-click: remove it · drag an arrow's tip: w_j · "
                "drag a line: b_j (its score is 0 on the line and grows along the arrow)")

def legend_text(loss: str) -> str:
    """The line under the plane, in the words of the loss shown: under an SVM loss a point is
    ringed when it has a loss (inside a margin, or wrong); under softmax every point has some
    loss, so a ring marks the misclassified ones, and there is no margin band."""
    if pgd.PLAYGROUND_LOSSES[loss].hinge:
        return "Arrows: w_j × ¼ · dashed: −gradient · ringed: has a loss · darker band: SVM margin"
    return "Arrows: w_j × ¼ · dashed: −gradient · ringed: misclassified (under softmax every point has a loss)"


LEGEND_TIP = ("Arrows: w_j drawn at a quarter of its length, from the line's point nearest the origin.\n"
              "Dashed arrows: the negative gradient of w_j (at the tip) and the shift of the line that −db_j "
              "brings;\nStep moves along them times the step size.\n"
              "Ringed points have a loss: SVM losses: inside a margin (or on the wrong side); softmax: "
              "misclassified.\nDarker bands: where a point of the winning class would still have an SVM loss.")


def fit_extent(points: np.ndarray) -> tuple:
    """(x0, x1, y0, y1): a square around the origin that holds the points with a margin."""
    e = max(1.3, 1.25 * float(np.max(np.abs(points)))) if len(points) else 2.0
    e = min(e, pgd.COORD_LIMIT)
    return (-e, e, -e, e)


class Plane(pg.PlotWidget):
    pointAdded = Signal(float, float)  # a click on empty plane
    pointMoved = Signal(int, float, float)
    pointRemoved = Signal(int)
    tipMoved = Signal(int, float, float)  # class j's arrow tip dragged to (x, y)
    lineMoved = Signal(int, float, float)  # class j's line dragged through (x, y)
    dragFinished = Signal()

    def __init__(self, parent=None):
        view = PlaneViewBox(lockAspect=True, enableMenu=False)
        super().__init__(parent, viewBox=view)
        self.view = view
        self.view.setMouseEnabled(x=False, y=False)
        self.setObjectName("playgroundPlane")
        self.setMinimumSize(220, 200)
        item = self.getPlotItem()
        item.hideButtons()
        plain_axes(item)
        item.showGrid(x=True, y=True, alpha=0.15)
        self.map_image = SmoothImageItem()
        self.map_image.setZValue(-10)
        self.view.addItem(self.map_image, ignoreBounds=True)
        self.points_item = PointsItem()
        self.points_item.setZValue(40)
        self.view.addItem(self.points_item)
        self.handles: list[ClassHandles] = []
        self._drawing = False  # handle moves while drawing are ours, not the user's
        self._extent = None
        self._shown: Optional[tuple] = None  # (state, margins) of the last drawing, for a resize
        self.points_item.pointMoved.connect(self.pointMoved)
        self.points_item.pointDropped.connect(lambda _: self.dragFinished.emit())
        self.points_item.pointRemoved.connect(self.pointRemoved)
        self.view.planeClicked.connect(self.pointAdded)
        self.view.sigRangeChanged.connect(self._draw_map)  # a resize widens the view: color all of it

    def set_classes(self, n_classes: int) -> None:
        """A line and an arrow per class."""
        for handles in self.handles:
            handles.remove(self.view)
        self.handles = []
        for j in range(n_classes):
            handles = ClassHandles(self.view, j)
            handles.line.sigPositionChanged.connect(lambda item, j=j: self._moved(self.lineMoved, j, item.pos()))
            handles.line.sigPositionChangeFinished.connect(lambda _: self.dragFinished.emit())
            handles.tip.sigPositionChanged.connect(lambda item, j=j: self._moved(self.tipMoved, j, item.pos()))
            handles.tip.sigPositionChangeFinished.connect(lambda _: self.dragFinished.emit())
            self.handles.append(handles)

    def _moved(self, signal, j: int, p) -> None:
        if not self._drawing:
            signal.emit(j, float(p.x()), float(p.y()))

    def clamp(self, x: float, y: float) -> np.ndarray:
        """Inside the visible plane (and the file format's bounds)."""
        (x0, x1), (y0, y1) = self.view.viewRange()
        limit = pgd.COORD_LIMIT
        return np.array([min(max(x, x0, -limit), x1, limit), min(max(y, y0, -limit), y1, limit)])

    # ------------------------------------------------------------------ drawing
    def draw(self, state: pgd.PlaygroundState, ev: Optional[pgd.Evaluation], *, extent: tuple, anchors: dict,
             margins: bool, gradient: bool) -> None:
        """Show ``state``: the view over ``extent``, the map (``margins``: darker bands), the
        points (ringed: a loss), each arrow from its ``anchors`` entry (a tip being dragged)
        or from its line, and the negative gradient when ``gradient`` and ``ev`` is known."""
        self._drawing = True
        self._shown = (state, margins)
        try:
            if self._extent != extent:
                self._extent = extent
                x0, x1, y0, y1 = extent
                self.view.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
            self._draw_map()
            self._draw_points(state, ev)
            for j, handles in enumerate(self.handles):
                self._draw_class(state, j, handles, ev, anchors.get(j), gradient)
        finally:
            self._drawing = False

    def _draw_map(self, *_) -> None:
        """The plane's colors over the whole visible range (wider than the data's extent when
        the view is not square)."""
        if not self.isVisible() or self._shown is None:
            return
        state, margins = self._shown
        s = state.settings
        (x0, x1), (y0, y1) = self.view.viewRange()
        # about one grid point per MAP_PIXELS screen pixels: smooth band edges at any window size
        rect = self.view.sceneBoundingRect()
        nx = int(np.clip(rect.width() / MAP_PIXELS, 40, MAP_MAX))
        ny = int(np.clip(rect.height() / MAP_PIXELS, 40, MAP_MAX))
        dmap = pgd.decision_map(state.W, state.b, (x0, x1, y0, y1), (nx, ny), loss=s.loss, delta=s.delta,
                                probabilities=s.shading == "probability")
        show_colors(self.map_image, plane_rgb(dmap, s.shading, state.n_classes, margins))
        self.map_image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))

    def _draw_points(self, state: pgd.PlaygroundState, ev) -> None:
        n = len(state.labels)
        flagged = ev.flagged if ev is not None else np.zeros(n, dtype=bool)
        # the same few pen and brush objects every time: the scatter renders each style once
        brushes = [POINT_BRUSHES[c % len(POINT_BRUSHES)] for c in state.labels.tolist()]
        pens = [POINT_PENS[f] for f in flagged.tolist()]
        sizes = np.where(flagged, 15, 11)
        self.points_item.setData(pos=state.points, brush=brushes, pen=pens, size=sizes, data=np.arange(n))

    @staticmethod
    def _draw_class(state, j: int, handles: ClassHandles, ev, anchor, gradient: bool) -> None:
        w, b = state.W[j], float(state.b[j])
        has_line = bool(np.any(w))
        foot = line_foot(w, b)
        base = foot if anchor is None else anchor
        handles.line.setVisible(has_line)
        if has_line:
            handles.line.setAngle(math.degrees(math.atan2(w[1], w[0])) + 90.0)
            handles.line.setPos(foot)
        tip = base + ARROW_SCALE * w
        draw_arrow(handles.shaft, handles.head, base, tip)
        handles.tip.setPos(float(tip[0]), float(tip[1]))
        show_grad = ev is not None and gradient
        for item in (handles.grad_w, handles.grad_w_head, handles.grad_b, handles.grad_b_head):
            item.setVisible(show_grad)
        if show_grad:
            draw_arrow(handles.grad_w, handles.grad_w_head, tip, tip - ARROW_SCALE * ev.dW[j])
            # the line's shift if b_j moved by −db_j (w_j fixed): db_j / |w_j| along w_j
            shift = (ev.db[j] / float(w @ w)) * w if has_line else np.zeros(2)
            draw_arrow(handles.grad_b, handles.grad_b_head, foot, foot + shift)
