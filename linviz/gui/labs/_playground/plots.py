"""The playground's two plots: the total loss per iteration, and the loss landscape over two
parameters with the current values (a red ×) and the path of the steps (white). The landscape
asks for its own grids on the lab's quick lane, one at a time."""

from __future__ import annotations

from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from linviz.explore import playground as pgd
from linviz.gui.labs._playground.jobs import landscape_job
from linviz.gui.labs._playground.layout import caption
from linviz.gui.views.empty_plot import EmptyHint
from linviz.gui.views.plot_style import plain_axes


def _fixed_plot(name: str, minimum_height: int) -> pg.PlotWidget:
    plot = pg.PlotWidget()
    plot.setObjectName(name)
    plot.setMinimumHeight(minimum_height)
    item = plot.getPlotItem()
    item.hideButtons()
    plain_axes(item)
    item.getViewBox().setMouseEnabled(x=False, y=False)
    return plot


class LossPlots(QWidget):
    """The loss curve above the landscape, with the two boxes that choose its parameters."""

    parametersChosen = Signal(str, str)  # the landscape's x and y parameters
    failed = Signal(str)  # a landscape could not be computed: why

    def __init__(self, submit, parent=None):
        """``submit(kind, job, on_done)``: the lab's quick lane."""
        super().__init__(parent)
        self._submit = submit
        self.landscape: Optional[pgd.Landscape] = None
        self._center: Optional[tuple] = None  # (x, y, parameters, span) of the grid asked for last
        self._busy = False
        self._again: Optional[str] = None  # asked for while busy: the mode to ask with when done
        self._state: Optional[pgd.PlaygroundState] = None  # the newest state asked about
        self._here: Optional[tuple] = None  # (state, path) drawn last
        self.loss_plot = _fixed_plot("playgroundLossCurve", 80)
        item = self.loss_plot.getPlotItem()
        # the axis names it, not a title: a title's row left the curve 20 pixels at 1024 x 700
        item.setLabel("left", "total loss")
        self.loss_curve = item.plot(pen=pg.mkPen((31, 119, 180), width=2))
        self.loss_hint = EmptyHint(item)

        self.landscape_plot = _fixed_plot("playgroundLandscape", 90)
        item = self.landscape_plot.getPlotItem()
        self.landscape_image = pg.ImageItem()
        self.landscape_image.setColorMap(pg.colormap.get("viridis"))
        item.addItem(self.landscape_image)
        self.path_curve = item.plot(pen=pg.mkPen((255, 255, 255), width=1.5), symbol="o", symbolSize=4,
                                    symbolBrush=(255, 255, 255), symbolPen=None)
        self.here_mark = pg.ScatterPlotItem(size=11, symbol="x", pen=pg.mkPen((230, 30, 30), width=2.5),
                                            brush=pg.mkBrush(230, 30, 30))
        item.addItem(self.here_mark)
        self.x_box = QComboBox()
        self.y_box = QComboBox()
        for box in (self.x_box, self.y_box):
            box.setToolTip("The landscape's parameters: the total loss over them, the others fixed")
            box.activated.connect(lambda _: self.parametersChosen.emit(self.x_box.currentData(),
                                                                       self.y_box.currentData()))
        self.caption = caption("")
        choose = QHBoxLayout()
        choose.addWidget(QLabel("Landscape"))
        choose.addWidget(self.x_box, 1)
        choose.addWidget(QLabel("×"))
        choose.addWidget(self.y_box, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot, 2)
        layout.addLayout(choose)
        layout.addWidget(self.landscape_plot, 3)
        layout.addWidget(self.caption)

    def set_parameters(self, names: list[str], chosen: tuple) -> None:
        """Offer ``names`` in both boxes (when they changed) and show ``chosen`` (x, y)."""
        for box, name in zip((self.x_box, self.y_box), chosen):
            box.blockSignals(True)
            if [box.itemData(i) for i in range(box.count())] != list(names):
                box.clear()
                for p in names:
                    box.addItem(pgd.param_label(p), p)
            box.setCurrentIndex(list(names).index(name))
            box.blockSignals(False)

    def request_landscape(self, state: pgd.PlaygroundState, mode: str) -> None:
        """``recenter``: around the current values; ``follow``: keep the window unless the
        current values leave its inner part; ``update``: same window, new slice."""
        self._state = state
        if self._busy:  # one at a time: while playing, a newer request would cancel it every step
            self._again = "recenter" if "recenter" in (mode, self._again) else mode
            return
        params = state.settings.landscape
        here = tuple(pgd.get_param(state.W, state.b, p) for p in params)
        center = self._center
        if (mode == "recenter" or center is None or center[2] != params
                or any(abs(h - c) > 0.8 * center[3] for h, c in zip(here, center[:2]))):
            center = self._center = (here[0], here[1], params, max(2.0, 0.6 * max(abs(v) for v in here)))
        self._busy = True
        self._submit("landscape", landscape_job(state, center), self._on_landscape)

    def _on_landscape(self, outcome) -> None:
        self._busy = False
        again, self._again = self._again, None
        if again is not None and self.isVisible():
            self.request_landscape(self._state, again)
        if outcome.error:
            self.failed.emit(f"Landscape: {outcome.error}")
        if not outcome.ok or outcome.result is None:
            return
        self.landscape = outcome.result
        self.draw_landscape(self.landscape)
        if self._here is not None:
            self.draw_here(*self._here)

    def draw_history(self, history: list[tuple[int, float]]) -> None:
        """The total loss at each iteration; the axis labels only its lowest and highest value."""
        axis = self.loss_plot.getPlotItem().getAxis("left")
        if len(history) < 2:  # one point has no curve (and its axes would run from -0.4 to 0.4)
            self.loss_curve.setData([], [])
            axis.setTicks(None)
            now = f" (now {history[-1][1]:.3g})" if history else ""
            self.loss_hint.show(f"Step or Play: the total loss after every step{now}")
            return
        self.loss_hint.filled()
        if history:
            its, losses = zip(*history)
            self.loss_curve.setData(np.array(its, dtype=float), np.array(losses))
            low, high = min(losses), max(losses)
            # the lowest and highest loss only: a short plot has no room for more labels
            axis.setTicks([[(v, f"{v:.3g}") for v in sorted({low, high})]])
        else:
            self.loss_curve.setData([], [])
            axis.setTicks(None)

    def draw_landscape(self, land: Optional[pgd.Landscape]) -> None:
        if land is None:
            return
        x0, x1, y0, y1 = land.xs[0], land.xs[-1], land.ys[0], land.ys[-1]
        low, high = float(land.total.min()), float(land.total.max())
        self.landscape_image.setImage(land.total, autoLevels=False, levels=(low, max(high, low + 1e-9)))
        self.landscape_image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        item = self.landscape_plot.getPlotItem()
        item.setXRange(x0, x1, padding=0)
        item.setYRange(y0, y1, padding=0)
        self.caption.setText(f"Total loss {low:.3g} (dark) to {high:.3g} (bright) over "
                             f"{pgd.param_label(land.params[0])} (→) × {pgd.param_label(land.params[1])} "
                             "(↑), the rest as now; ×: now, white: the steps")

    def draw_here(self, state: pgd.PlaygroundState, path: list) -> None:
        """The current values of the landscape's parameters, and the path of the steps."""
        self._here = (state, path)
        params = state.settings.landscape
        here = [pgd.get_param(state.W, state.b, p) for p in params]
        self.here_mark.setData([here[0]], [here[1]])
        if path:
            xs = [pgd.get_param(W, b, params[0]) for W, b in path]
            ys = [pgd.get_param(W, b, params[1]) for W, b in path]
            self.path_curve.setData(xs, ys)
        else:
            self.path_curve.setData([], [])
