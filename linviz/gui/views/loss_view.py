"""The loss of every iteration with a centred smoothed line on top; the data loss and the
regularization loss as separate curves, the weight norm ||W|| on its own axis; a log scale
whose axis always has numbers; an x-range that follows the run; a hover read-out.

Smoothing (:mod:`linviz.explore.curves`): 0 is the raw loss; the default (0.8) averages 9
iterations centred on each one (at most a tenth of the run), so the line stays inside the raw
curve's band instead of lagging above it as a causal moving average does. The smoothed line is recomputed only
where it changed (its newest points), and both lines are drawn from block minima and maxima
kept as the run grows (:mod:`linviz.explore.peak_pyramid`): a frame costs what its new
points and the plot's pixel columns cost, however long the run.
"""

from __future__ import annotations

import time
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from linviz.explore.curves import DEFAULT_SMOOTHING, MAX_SMOOTHING, CurveSmoother, FollowingRange, log_ticks, \
    smooth_curve, tick_label
from linviz.explore.peak_pyramid import PeakPyramid
from linviz.gui.runtime.redraw import Redraw
from linviz.gui.views.empty_plot import EmptyHint
from linviz.gui.views.hover_readout import HoverPlotWidget, HoverReadout
from linviz.gui.views.plot_style import CountAxis, plain_axes, settle

EMPTY_TEXT = "Press Train: the loss of every minibatch shows here, falling as the classifier learns"
RAW_COLOR = (120, 150, 200)
SMOOTHED_COLOR = (200, 60, 20)
DATA_COLOR = (30, 130, 60)
REG_COLOR = (140, 60, 170)
NORM_COLOR = (90, 90, 90)


class LogTicksAxis(pg.AxisItem):
    """A value axis that, in log mode, labels 1-2-5 steps when fewer than two powers of ten
    are in view (pyqtgraph then shows only unlabelled minor ticks), with readable numbers."""

    def logTickValues(self, minVal, maxVal, size, stdTicks):
        ticks = log_ticks(10.0 ** minVal, 10.0 ** maxVal, max_ticks=max(2, int(size / 28)))
        return [(1.0, [float(np.log10(t)) for t in ticks])]

    def logTickStrings(self, values, scale, spacing):
        return [tick_label(float(10.0 ** v) * scale) for v in values]


class _RunLine(pg.PlotDataItem):
    """A line given only the part of a run in view, whose bounds are still the whole run's:
    the plot's auto-range (its "A" button, View All) shows the whole run at once, instead of
    widening the view a little at each repaint to what the line was last given."""

    def __init__(self, whole_bounds, **opts):
        super().__init__(**opts)
        self._whole_bounds = whole_bounds  # () -> ((x0, x1), (y0, y1)) as on screen, or None

    def dataBounds(self, ax, frac=1.0, orthoRange=None):
        whole = self._whole_bounds()
        return whole[ax] if whole is not None else (None, None)


def _nice_ceiling(value: float) -> float:
    """The next of 1, 2, 5 x 10^k at or above ``value``."""
    if value <= 0:
        return 1.0
    exponent = np.floor(np.log10(value))
    for step in (1.0, 2.0, 5.0, 10.0):
        if step * 10**exponent >= value:
            return float(step * 10**exponent)
    return float(10 ** (exponent + 1))


class LossView(QWidget):
    """Draws plain arrays (``set_losses``); bound to a workbench, draws its training frames."""

    def __init__(self, workbench=None, parent=None):
        super().__init__(parent)
        self.setObjectName("lossPlot")
        self.plot = HoverPlotWidget(axisItems={"left": LogTicksAxis("left"), "bottom": CountAxis("bottom")})
        item = self.plot.getPlotItem()
        plain_axes(item)
        item.setLabel("bottom", "iteration")
        item.setLabel("left", "loss")
        # No grid and no per-frame auto-range: with a grid every curve update repaints the
        # axes (they draw the grid lines), and a range that moves every frame regenerates
        # their ticks. Together they were most of the GUI thread's time while training.
        # The ranges below move in steps instead (see _update_ranges).
        item.getViewBox().disableAutoRange()
        self._x_axis = FollowingRange()  # the x range follows the run, a few moves a second
        self._y_range = (np.inf, -np.inf)
        # Long runs reach millions of iterations: both lines get what is in view, a stroke
        # per pixel column from the pyramids (pyqtgraph's own downsampling walks the whole
        # series at every frame)
        self.raw_curve = _RunLine(self._whole_run_bounds, pen=pg.mkPen(RAW_COLOR, width=1))
        self.smoothed_curve = _RunLine(self._whole_run_bounds, pen=pg.mkPen(SMOOTHED_COLOR, width=2))
        for curve in (self.raw_curve, self.smoothed_curve):
            item.addItem(curve)
        item.setMenuEnabled(False, None)  # its plot options (log x, downsampling) would fight the lines; View All stays
        self._raw_peaks, self._smoothed_peaks = PeakPyramid(), PeakPyramid()
        self._in_frame = False  # set_losses draws the lines once, after moving the ranges
        item.getViewBox().sigXRangeChanged.connect(self._on_view_changed)
        item.getViewBox().sigResized.connect(self._on_view_changed)
        dash = Qt.PenStyle.DashLine
        self.data_curve = item.plot([], [], pen=pg.mkPen(DATA_COLOR, width=2, style=dash), name="data loss",
                                    connect="finite")
        self.reg_curve = item.plot([], [], pen=pg.mkPen(REG_COLOR, width=2, style=dash), name="regularization",
                                   connect="finite")
        self.expected_line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen((120, 120, 120), style=dash))
        self.expected_line.setVisible(False)
        item.addItem(self.expected_line, ignoreBounds=True)
        self._build_norm_axis(item)
        self.hint = EmptyHint(item, EMPTY_TEXT)

        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setObjectName("smoothingSlider")
        self.smoothing_slider.setRange(0, int(round(MAX_SMOOTHING * 100)))
        self.smoothing_slider.setValue(int(round(DEFAULT_SMOOTHING * 100)))
        self.smoothing_slider.setMinimumWidth(50)
        self.smoothing_slider.setMaximumWidth(90)
        self.smoothing_slider.setToolTip("Smoothing of the orange line: 0 = the raw loss. Every point is the mean of a "
                                         "window centred on it, so the line never lags behind the loss")
        self.smoothing_label = QLabel()
        self.smoothing_label.setMinimumWidth(self.smoothing_label.fontMetrics().horizontalAdvance("0.00"))
        self.parts_box = QCheckBox("data+reg")
        self.parts_box.setToolTip("The data loss and the regularization loss λ·R(W) as separate curves "
                                  "(per snapshot; the loss is their sum)")
        self.norm_toggle = QCheckBox("‖W‖")
        self.norm_toggle.setToolTip("The weight norm ‖W‖ (without the biases) per snapshot, on the right axis")
        self.log_box = QCheckBox("log")
        self.log_box.setToolTip("Log-scale loss axis")
        top = QHBoxLayout()
        top.setContentsMargins(4, 0, 4, 0)
        top.setSpacing(4)
        smoothing_name = QLabel("smooth")
        smoothing_name.setToolTip(self.smoothing_slider.toolTip())
        top.addWidget(smoothing_name)
        top.addWidget(self.smoothing_slider)
        top.addWidget(self.smoothing_label)
        top.addStretch(1)
        top.addWidget(self.parts_box)
        top.addWidget(self.norm_toggle)
        top.addWidget(self.log_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)

        self._losses = np.zeros(0, dtype=np.float32)
        self._smoothed = np.zeros(0, dtype=np.float32)
        self._per_snapshot: Optional[np.ndarray] = None
        self._positive_seen, self._positive_min = 0, np.inf  # _smallest_positive's progress
        self._smoother = CurveSmoother(DEFAULT_SMOOTHING)
        self._norm_hi = 0.0
        self._expected: Optional[float] = None
        self.readout = HoverReadout(self.plot, self._describe)
        self.smoothing_slider.valueChanged.connect(self._on_smoothing)
        self.parts_box.toggled.connect(self._on_parts_toggled)
        self.norm_toggle.toggled.connect(self._on_norm_toggled)
        self.log_box.toggled.connect(self._on_log_toggled)
        self._on_smoothing(self.smoothing_slider.value())
        self._on_parts_toggled(False)
        self._on_norm_toggled(False)
        self._set_title()
        self._run = None
        if workbench is not None:
            self._redraw = Redraw(workbench, self._on_frame, 0, widget=self)  # every frame, while it is seen
            workbench.frame_changed.connect(self._redraw)

    def _build_norm_axis(self, item) -> None:
        """||W|| in a second view box on the right axis, linked to the loss plot's x."""
        self.norm_view = pg.ViewBox(enableMouse=False)
        self.norm_view.disableAutoRange()
        item.showAxis("right")
        right = item.getAxis("right")
        right.setLabel("‖W‖")
        right.linkToView(self.norm_view)
        item.scene().addItem(self.norm_view)
        self.norm_view.setXLink(item)
        self.norm_view.setZValue(-100)  # below the loss view: the mouse stays with the loss plot
        self.norm_curve = pg.PlotDataItem([], [], pen=pg.mkPen(NORM_COLOR, width=2, style=Qt.PenStyle.DotLine),
                                          symbol="o", symbolSize=3, symbolPen=None, symbolBrush=NORM_COLOR)
        self.norm_view.addItem(self.norm_curve)
        item.getViewBox().sigResized.connect(self._sync_norm_view)

    @Slot()
    def _sync_norm_view(self) -> None:
        vb = self.plot.getPlotItem().getViewBox()
        self.norm_view.setGeometry(vb.sceneBoundingRect())
        self.norm_view.linkedViewChanged(vb, self.norm_view.XAxis)

    # ------------------------------------------------------------------ the workbench
    def _on_frame(self, frame) -> None:
        if frame is None:
            self._run = None
            self.clear()
            return
        snap = frame.snapshot
        if frame.run != self._run:
            # A new run's curves replace the old ones; the empty plot's sentence only while it
            # has none (hiding the axes and showing them again in one frame laid the plot out
            # twice at the run's start)
            if len(snap.losses):
                self._forget()
            else:
                self.clear()
            self._run = frame.run
            self.set_expected_initial_loss(snap.expected_initial_loss)
        self.set_losses(snap.losses, getattr(snap, "per_snapshot", None))
        if snap.done:  # the run's whole width, without the look-ahead of a growing run
            self._update_ranges(final=True)
            settle(self.plot.getPlotItem().getViewBox(), self.norm_view)

    # ------------------------------------------------------------------ drawing
    def set_losses(self, losses: np.ndarray, per_snapshot: Optional[np.ndarray] = None) -> None:
        """Per-iteration losses (iteration 1..n) of a run that grows at its end, and optionally
        its per-snapshot rows (iteration, data loss, regularization loss, ||W||)."""
        losses = np.asarray(losses, dtype=np.float32)
        n = len(losses)
        if n == 0:
            if len(self._losses):
                self.clear()
            return
        rows = 0 if per_snapshot is None else len(per_snapshot)
        old_rows = 0 if self._per_snapshot is None else len(self._per_snapshot)
        if n == len(self._losses) and rows == old_rows:
            return  # nothing new: skip the redraw
        self._losses = losses
        self._per_snapshot = per_snapshot
        if self.hint.empty:
            self.hint.filled()
            self.plot.getPlotItem().getViewBox().disableAutoRange()  # the ranges are set below
            self._show_extras()
        self._in_frame = True
        try:
            self._raw_peaks.update(losses)
            self._smooth()
            self._draw_parts()
            self._update_ranges()
        finally:
            self._in_frame = False
        self._draw_lines()
        settle(self.plot.getPlotItem().getViewBox(), self.norm_view)

    def _smooth(self) -> None:
        self._smoothed = self._smoother.update(self._losses)
        self._smoothed_peaks.update(self._smoothed, changed_from=self._smoother.changed_from)

    def _draw_lines(self) -> None:
        """Both lines as far as they are in view, a stroke per pixel column."""
        vb = self.plot.getPlotItem().getViewBox()
        (left, right), columns = vb.viewRange()[0], max(1, int(vb.width()))
        for curve, peaks in ((self.raw_curve, self._raw_peaks), (self.smoothed_curve, self._smoothed_peaks)):
            x, y = peaks.view(left - 1, right - 1, columns)  # iteration i is point i - 1
            curve.setData(x + 1, y, skipFiniteCheck=True)

    def _smallest_positive(self) -> float:
        """The run's smallest positive loss (a log axis has no 0; an SVM without regularization
        can reach it), folding in only the points new since the last call; inf: none."""
        n = len(self._losses)
        if n < self._positive_seen:  # another series
            self._positive_seen, self._positive_min = 0, np.inf
        new = self._losses[self._positive_seen:]
        new = new[np.isfinite(new) & (new > 0)]
        if len(new):
            self._positive_min = min(self._positive_min, float(new.min()))
        self._positive_seen = n
        return self._positive_min

    def _whole_run_bounds(self):
        """The whole run's x and y extent as on screen (log10 of the loss on a log axis)."""
        n = len(self._losses)
        lo, hi = self._raw_peaks.extremes() if n else (np.nan, np.nan)
        if not (np.isfinite(lo) and np.isfinite(hi)):
            return None
        if self.log_box.isChecked():
            lo = lo if lo > 0 else self._smallest_positive()
            if not np.isfinite(lo) or hi <= 0:
                return None
            lo, hi = np.log10(lo), np.log10(hi)
        return (1.0, float(max(n, 2))), (float(lo), float(hi))

    @Slot()
    def _on_view_changed(self, *_) -> None:
        """A zoom, a pan, a resize, or the range following the run: other columns in view."""
        if len(self._losses) and not self._in_frame:
            self._draw_lines()

    def _draw_parts(self) -> None:
        table = self._per_snapshot
        if table is None or len(table) == 0:
            for curve in (self.data_curve, self.reg_curve, self.norm_curve):
                curve.setData([], [])
            return
        x = table[:, 0]
        if self.parts_box.isChecked():
            weight = self._smoother.smoothing
            data, reg = smooth_curve(table[:, 1], weight), table[:, 2]
            if self.log_box.isChecked():  # no zeros on a log axis (no regularization: no curve)
                data, reg = np.where(data > 0, data, np.nan), np.where(reg > 0, reg, np.nan)
            self.data_curve.setData(x, data)
            self.reg_curve.setData(x, reg)
        if self.norm_toggle.isChecked():
            norms = table[:, 3]
            self.norm_curve.setData(x, norms)
            top = float(np.nanmax(norms)) if np.isfinite(norms).any() else 0.0
            if top > self._norm_hi:
                self._norm_hi = _nice_ceiling(top * 1.05)
                self.norm_view.setYRange(0, self._norm_hi, padding=0.02)

    def _update_ranges(self, final: bool = False) -> None:
        n = len(self._losses)
        if n == 0:
            return
        vb = self.plot.getPlotItem().getViewBox()
        x_hi = self._x_axis.update(n, time.monotonic(), final=final)
        if x_hi is not None:
            vb.setXRange(0, x_hi, padding=0.01)
        values = np.asarray(self._raw_peaks.extremes(), dtype=np.float32)  # without walking the run
        if self.log_box.isChecked() and not values[0] > 0:  # a zero loss: the smallest positive one
            values[0] = self._smallest_positive()
        values = values[np.isfinite(values)]
        if self.parts_box.isChecked() and self._per_snapshot is not None and len(self._per_snapshot):
            parts = self._per_snapshot[:, 1:3].ravel()
            values = np.concatenate([values, parts[np.isfinite(parts)]]).astype(np.float32)
        if self.log_box.isChecked():
            values = np.log10(values[values > 0])
        if len(values) == 0:
            return
        lo, hi = float(values.min()), float(values.max())
        old_lo, old_hi = self._y_range
        if lo < old_lo or hi > old_hi:
            margin = 0.05 * max(hi - lo, 1e-3)
            self._y_range = (lo - margin, hi + margin)
            vb.setYRange(*self._y_range, padding=0)

    def set_expected_initial_loss(self, value: float | None) -> None:
        """The dashed line: what a random model should score first (C-1 or ln C)."""
        if value is None or not np.isfinite(value) or value <= 0:
            self._expected = None
            self.expected_line.setVisible(False)
            return
        self._expected = value
        self.expected_line.setValue(np.log10(value) if self.log_box.isChecked() else value)
        self.expected_line.setVisible(not self.hint.empty)

    def clear(self) -> None:
        """No curves: the empty plot says what fills it."""
        self._forget()
        self.hint.show(EMPTY_TEXT)
        self._show_extras()

    def _forget(self) -> None:
        """Drop the curves and what was derived from them (ranges, smoothing), axes kept."""
        self._losses = np.zeros(0, dtype=np.float32)
        self._smoothed = np.zeros(0, dtype=np.float32)
        self._per_snapshot = None
        self._smoother.reset()
        self._positive_seen, self._positive_min = 0, np.inf
        self._raw_peaks.reset()
        self._smoothed_peaks.reset()
        for curve in (self.raw_curve, self.smoothed_curve, self.data_curve, self.reg_curve, self.norm_curve):
            curve.setData([], [])
        self.expected_line.setVisible(False)
        self.readout.clear()
        self._x_axis.reset()
        self._norm_hi = 0.0
        self._y_range = (np.inf, -np.inf)

    @property
    def point_count(self) -> int:
        return len(self._losses)

    @property
    def smoothed(self) -> np.ndarray:
        """The smoothed line as drawn."""
        return self._smoothed

    # ------------------------------------------------------------------ controls
    @Slot(int)
    def _on_smoothing(self, position: int) -> None:
        weight = min(position / 100.0, MAX_SMOOTHING)
        self.smoothing_label.setText(f"{weight:.2f}")
        self._smoother.set_smoothing(weight)
        if len(self._losses):
            self._smooth()
            self._draw_lines()
            self._draw_parts()

    def _set_title(self) -> None:
        """The legend lives in the title: inside the plot it always covers some curve."""
        parts = [("per iteration", RAW_COLOR), ("smoothed", SMOOTHED_COLOR)]
        if self.parts_box.isChecked():
            parts += [("data", DATA_COLOR), ("reg", REG_COLOR)]
        if self.norm_toggle.isChecked():
            parts.append(("‖W‖ (right)", NORM_COLOR))
        self.plot.getPlotItem().setTitle("Loss: " + ", ".join(
            f'<span style="color:#{_hex(color)}">{name}</span>' for name, color in parts))

    @Slot(bool)
    def _on_parts_toggled(self, on: bool) -> None:
        self._set_title()
        self.data_curve.setVisible(on)
        self.reg_curve.setVisible(on)
        self._y_range = (np.inf, -np.inf)
        self._draw_parts()
        self._update_ranges()

    @Slot(bool)
    def _show_extras(self) -> None:
        """The ||W|| axis and the expected first loss: with a run's curves, not beside the
        empty plot's sentence."""
        filled = not self.hint.empty
        self.plot.getPlotItem().getAxis("right").setVisible(filled and self.norm_toggle.isChecked())
        self.expected_line.setVisible(filled and self._expected is not None)

    def _on_norm_toggled(self, on: bool) -> None:
        self._set_title()
        self.norm_curve.setVisible(on)
        self.plot.getPlotItem().getAxis("right").setVisible(on and not self.hint.empty)
        if on:
            self._norm_hi = 0.0
            self._sync_norm_view()
            self._draw_parts()

    @Slot(bool)
    def _on_log_toggled(self, on: bool) -> None:
        self.plot.getPlotItem().setLogMode(y=on)
        self._y_range = (np.inf, -np.inf)  # ranges are in log10 units in log mode
        self._draw_parts()
        self._update_ranges()
        if self.expected_line.isVisible():
            self.set_expected_initial_loss(self._expected)

    # ------------------------------------------------------------------ hover
    def _describe(self, x: float, _y: float) -> Optional[str]:
        n = len(self._losses)
        if n == 0:
            return None
        i = int(np.clip(round(x), 1, n)) - 1
        text = f"iteration {i + 1:,}: loss {self._losses[i]:.4f}"
        if len(self._smoothed) > i and self._smoother.smoothing > 0:
            text += f", smoothed {self._smoothed[i]:.4f}"
        table = self._per_snapshot
        if table is not None and len(table) and (self.parts_box.isChecked() or self.norm_toggle.isChecked()):
            k = int(np.clip(np.searchsorted(table[:, 0], i + 1, side="right") - 1, 0, len(table) - 1))
            at = f"\nsnapshot at {int(table[k, 0]):,}:"
            if self.parts_box.isChecked():
                at += f" data {table[k, 1]:.4f}, reg {table[k, 2]:.4g}"
            if self.norm_toggle.isChecked():
                at += f" ‖W‖ {table[k, 3]:.4g}"
            text += at
        return text


def _hex(color) -> str:
    return "".join(f"{c:02x}" for c in color)
