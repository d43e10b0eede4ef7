"""The plane's graphics items: a fixed view box that reports clicks, the draggable points,
and each class's line (drag: b_j), arrow for w_j with its tip (drag: w_j) and dashed
negative-gradient arrows; the plane's colors; the arithmetic of where an arrow starts."""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPainter

from linviz.explore import playground as pgd

CLASS_COLORS = [(214, 39, 40), (44, 160, 44), (31, 119, 180), (255, 127, 14), (148, 103, 189)]
ARROW_SCALE = 0.25  # an arrow is w_j drawn at a quarter of its length (data units)
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


class SmoothImageItem(pg.ImageItem):
    """An image scaled up smoothly (bilinear), not in blocks: the decision map is computed on a
    grid of a point per few screen pixels (fast enough to follow a drag) and drawn without
    stairs along the class boundaries, at any window size."""

    def paint(self, painter, *args) -> None:
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        super().paint(painter, *args)


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


def draw_arrow(shaft, head, start, end) -> None:
    """A straight arrow from start to end (head hidden when it has no length)."""
    shaft.setData([start[0], end[0]], [start[1], end[1]])
    d = np.subtract(end, start)
    visible = float(np.hypot(*d)) > 1e-9
    head.setVisible(visible)
    if visible:
        # ArrowItem: angle 0 points left, on screen (y down): this points it along d.
        head.setStyle(angle=180.0 - math.degrees(math.atan2(d[1], d[0])))
        head.setPos(float(end[0]), float(end[1]))


def line_foot(w: np.ndarray, b: float) -> np.ndarray:
    """The point of the line w . x + b = 0 nearest the origin (the origin if w = 0)."""
    n2 = float(w @ w)
    return -b * w / n2 if n2 > 0 else np.zeros(2)
