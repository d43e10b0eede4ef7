"""Inside one image: the lecture's worked example with this image's real numbers.

For the selected image and the current model: every class's score s_j = w_j . x + b_j, the
SVM margins and hinge terms or the softmax's e^(s_j - max s), probabilities and -ln p; the
image's loss, the mean data loss over a split and the regularization loss; and evidence maps
that show where each score comes from (:mod:`linviz.explore.evidence`), for the top class,
the true class, a class to compare with, and "why the top class rather than that one".
The arithmetic is :func:`linviz.explore.score_breakdown`; this module only shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QSplitter,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from linviz.gui.labs.lab import Lab
from linviz.workbench.pictures import bars_tile, diverging_rgb, grid_mosaic, hue_colors, upscale
from linviz.gui.views.mosaic_view import MosaicView
from linviz.gui.views.plot_style import outward_ticks
from linviz.gui.views.tables import reading_table, set_columns
from linviz.models.losses import LOSSES

TILE = 64
MEAN_LOSS_SAMPLE = 5000  # training images for the mean data loss when there is no validation split
# One color per feature block in the stacked bar (and its legend), then the bias.
BLOCK_COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (148, 103, 189), (140, 86, 75), (227, 119, 194),
                (188, 189, 34), (23, 190, 207)]
BIAS_COLOR = (127, 127, 127)

SVM_COLUMNS = [("class", "The class; ✔ marks the true class (or the one assumed true for a dropped image)"),
               ("score s_j", "s_j = w_j · x + b_j: the class's weights times the features, plus its bias"),
               ("margin\ns_j − s_y + Δ", "How far class j comes within Δ of the true class's score (no term for y)"),
               ("hinge\nmax(0, margin)", "This class's share of the SVM loss: positive when it is within Δ of the "
                                         "true class")]
SOFTMAX_COLUMNS = [("class", "The class; ✔ marks the true class (or the one assumed true for a dropped image)"),
                   ("score s_j", "s_j = w_j · x + b_j: the class's weights times the features, plus its bias"),
                   ("e^(s_j − max s)", "Unnormalized probability, shifted by the top score so nothing overflows "
                                       "(the shift cancels when normalizing)"),
                   ("p_j", "The probability p_j = e^(s_j) / Σ_k e^(s_k): the softmax"),
                   ("−ln p_j", "The loss if j were the true class (natural log); the true class's is L_i")]

# The lecture's 4-pixel cat (CS231n, linear classification): W rows cat, dog, ship.
LECTURE_W = np.array([[0.2, -0.5, 0.1, 2.0], [1.5, 1.3, 2.1, 0.0], [0.0, 0.25, 0.2, -0.3]])
LECTURE_B = np.array([1.1, 3.2, -1.2])
LECTURE_X = np.array([56.0, 231.0, 24.0, 2.0])
LECTURE_LOSS = "svm"  # the lecture works its example with the SVM (when no model says otherwise)
LECTURE_NOTE = ("The lecture's 4-pixel cat, x = [56, 231, 24, 2]: scores −96.8 (cat), 437.9 (dog), 60.75 (ship). "
                "The lecture's figure prints 61.95 for the ship: it left out the ship's bias −1.2.")


@dataclass(frozen=True)
class InsideResult:
    breakdown: object  # ScoreBreakdown
    class_names: list
    assumed: bool  # the true class was assumed (a dropped-in image)
    caption: str
    mean_loss: Optional[float]
    mean_loss_of: str  # which images the mean data loss is over
    rows: list  # (label, Evidence) per evidence row
    picture: Optional[np.ndarray]
    layout: object
    labels: list
    block_names: list


def short_block_name(name: str) -> str:
    """'hog:orient=9:cell=8:...' -> 'HOG 8px'; the full spec goes in a tooltip."""
    kind, _, rest = name.partition(":")
    params = dict(p.split("=", 1) for p in rest.split(":") if "=" in p)
    if kind == "hog":
        return f"HOG {params.get('cell', '?')}"
    if kind == "raw":
        return "pixels (gray)" if params.get("gray") not in (None, "0") else "pixels"
    if kind == "layout":
        return "layout"
    return {"hue": "hue", "sat": "sat.", "val": "value"}.get(kind, kind)


def evidence_picture(image: np.ndarray, rows: list, block_kinds: list) -> tuple:
    """One mosaic: a row per (label, Evidence), the image first, then a tile per block, each
    block's column on one color scale so the rows compare. Red: evidence for, blue: against."""
    scales = []
    for k in range(len(block_kinds)):
        peak = max(float(np.max(np.abs(ev.blocks[k].values))) for _, ev in rows) if rows else 1.0
        scales.append(peak or 1.0)
    grid = []
    for _, ev in rows:
        tiles = [upscale(np.ascontiguousarray(image), TILE)]
        for k, block in enumerate(ev.blocks):
            if block.kind == "hist":
                colors = hue_colors(len(block.values)) if block.name.startswith("hue") else None
                tiles.append(bars_tile(block.values, TILE, colors=colors, scale=scales[k]))
            else:
                tiles.append(upscale(diverging_rgb(block.values, scales[k]), TILE))
        grid.append(tiles)
    return grid_mosaic(grid, gap=4, row_gap=int(0.3 * TILE))


def inside_job(W, x, true_class, compare, model_options, delta, pipeline, image, class_names, caption,
               split_X, split_y, split_text):
    """The lab's whole computation, for the quick lane (a few milliseconds)."""
    from linviz.explore.evidence import evidence
    from linviz.explore.score_breakdown import score_breakdown
    from linviz.models import LossFunction

    def job(ctx) -> InsideResult:
        scores = x @ W
        top = int(np.argmax(scores))
        assumed = true_class is None
        y = top if assumed else int(true_class)
        options = dict(model_options)
        loss = options.pop("loss")
        options.pop("delta")  # the lab's own Δ (editable) replaces the model's
        breakdown = score_breakdown(W, x, y, loss=loss, delta=delta, **options)
        other = compare if compare is not None else int(np.argsort(scores)[-2]) if len(scores) > 1 else top
        mean_loss = None
        if split_X is not None and len(split_y):
            mean_loss, _ = LossFunction(loss, 0.0, delta=delta, squared=options["squared"])(W, split_X, split_y)
        names = class_names
        truth = "assumed true" if assumed else "true"
        rows = [(f"top: {names[top]}", evidence(W[:, top], x, pipeline)),
                (f"{truth}: {names[y]}", evidence(W[:, y], x, pipeline)),
                (f"compared: {names[other]}", evidence(W[:, other], x, pipeline)),
                (f"{names[top]} − {names[other]}", evidence(W[:, top] - W[:, other], x, pipeline))]
        blocks = pipeline.blocks
        picture, layout = evidence_picture(image, rows, [b.kind for b in blocks])
        stagger = len(blocks) > 4  # long rows of narrow tiles: alternate two label lines (as drawn)
        labels = [("image", *_above(layout, 0, 0))]
        labels += [(short_block_name(b.name), *_above(layout, 0, k + 1, lift=stagger and k % 2 == 0))
                   for k, b in enumerate(blocks)]
        labels += [(f"{label}  ({ev.score:+.2f})", *_left(layout, r)) for r, (label, ev) in enumerate(rows)]
        return InsideResult(breakdown, list(names), assumed, caption, None if mean_loss is None else float(mean_loss),
                            split_text, rows, picture, layout, labels, [b.name for b in blocks])

    return job


def _above(layout, row, col, lift=False):
    y, x = layout.origin(row, col)
    return x + layout.tile_w / 2, y - 1 - (0.28 * layout.tile_h if lift else 0.0), "top"


def _left(layout, row):
    y, x = layout.origin(row, 0)
    return x - 3, y + layout.tile_h / 2, "left"


class InsideImageLab(Lab):
    title = "Inside one image"
    order = 10
    object_name = "insideImageLab"

    def __init__(self, workbench, job_queue, parent=None):
        super().__init__(workbench, job_queue, parent)
        self.result: Optional[InsideResult] = None
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setObjectName("viewCaption")

        self.true_box = QComboBox()
        self.true_box.setToolTip("The class to treat as true. A dataset image has its label; "
                                 "for a dropped-in image choose one (default: the top class, assumed)")
        self.compare_box = QComboBox()
        self.compare_box.setToolTip("A class to compare with: its evidence, and why the top class wins over it")
        self.delta_spin = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=100.0, singleStep=0.5, value=1.0)
        self.delta_spin.setToolTip("The SVM margin Δ. Changing it recomputes this table, not the model")
        self.lecture_button = QPushButton("Lecture example")
        self.lecture_button.setCheckable(True)
        self.lecture_button.setToolTip("The lecture's 4-pixel cat, computed by the same code")
        controls = QHBoxLayout()
        for text, widget in (("True class", self.true_box), ("Compare with", self.compare_box), ("Δ", self.delta_spin)):
            controls.addWidget(QLabel(text))
            controls.addWidget(widget)
        controls.addStretch(1)
        controls.addWidget(self.lecture_button)

        # rows of 22 px: ten classes fit without scrolling
        self.table = reading_table("scoreTable", row_height=22, selectable=False, stretch_last=False)
        self.totals = QLabel("")
        self.totals.setWordWrap(True)
        self.totals.setObjectName("lossTotals")
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        numbers = QWidget()
        numbers_layout = QVBoxLayout(numbers)
        numbers_layout.setContentsMargins(0, 0, 0, 0)
        numbers_layout.addWidget(self.table, 1)
        numbers_layout.addWidget(self.totals)

        self.evidence_view = QWidget()
        self.evidence_view.setObjectName("evidenceView")
        self.evidence_caption = QLabel("Evidence maps: where each score comes from, drawn on what each feature "
                                       "block describes (red: for the class, blue: against; one scale per column)")
        self.evidence_caption.setWordWrap(True)
        self.evidence_caption.setObjectName("viewCaption")
        self.mosaic = MosaicView()
        self.bars = pg.PlotWidget()
        self.bars.setMinimumHeight(120)
        bars_item = self.bars.getPlotItem()
        outward_ticks(bars_item)
        bars_item.hideButtons()
        bars_item.getViewBox().setMouseEnabled(x=False, y=False)
        bars_item.getViewBox().invertY(True)
        bars_item.setLabel("bottom", "contribution to the score")
        bars_item.getAxis("bottom").enableAutoSIPrefix(False)
        self.bar_item = pg.BarGraphItem(x0=[], y=[], height=0.6, width=[], brushes=[])
        bars_item.addItem(self.bar_item)
        self.score_marks = pg.ScatterPlotItem(symbol="d", size=10, brush=pg.mkBrush(20, 20, 20))
        bars_item.addItem(self.score_marks)
        bars_item.addItem(pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen((90, 90, 90))))
        self.legend = QLabel("")
        self.legend.setWordWrap(True)
        self.legend.setObjectName("viewCaption")
        totals_box = QWidget()
        totals_layout = QVBoxLayout(totals_box)
        totals_layout.setContentsMargins(0, 0, 0, 0)
        bars_caption = QLabel("Each score as a sum: every feature block's share plus the bias (◆ = the score)")
        bars_caption.setWordWrap(True)
        bars_caption.setObjectName("viewCaption")
        totals_layout.addWidget(bars_caption)
        totals_layout.addWidget(self.bars, 1)
        totals_layout.addWidget(self.legend)
        evidence_layout = QVBoxLayout(self.evidence_view)
        evidence_layout.setContentsMargins(0, 0, 0, 0)
        evidence_layout.addWidget(self.evidence_caption)
        evidence_layout.addWidget(self.mosaic, 1)

        # The numbers and the stacked bar side by side above, the maps below at full width:
        # the maps need width (a column per feature block), the table needs height.
        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.setObjectName("insideNumbersSplitter")
        upper.setChildrenCollapsible(False)
        upper.addWidget(numbers)
        upper.addWidget(totals_box)
        upper.setStretchFactor(0, 3)
        upper.setStretchFactor(1, 2)
        upper.setSizes([560, 340])
        split = QSplitter(Qt.Orientation.Vertical)
        split.setObjectName("insideSplitter")
        split.setChildrenCollapsible(False)
        split.addWidget(upper)
        split.addWidget(self.evidence_view)
        split.setSizes([330, 330])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addLayout(controls)
        layout.addWidget(split, 1)

        self._model_delta = None
        self._unlabeled = None  # the pixels of the dropped-in image the true-class box is for
        workbench.data_changed.connect(self._on_classes)
        workbench.model_changed.connect(self._on_model)
        workbench.selection_changed.connect(self.request_refresh)
        workbench.user_images_changed.connect(self.request_refresh)
        self.true_box.activated.connect(self.request_refresh)
        self.compare_box.activated.connect(self.request_refresh)
        self.delta_spin.valueChanged.connect(self.request_refresh)
        self.lecture_button.toggled.connect(self.request_refresh)
        self._on_classes()

    # ------------------------------------------------------------------ inputs
    def _on_classes(self, *_) -> None:
        names = self.workbench.class_names
        for box, first in ((self.true_box, "top class (assumed)"), (self.compare_box, "runner-up")):
            box.blockSignals(True)
            box.clear()
            box.addItem(first, None)
            for c, name in enumerate(names):
                box.addItem(name, c)
            box.blockSignals(False)
        self.request_refresh()

    def _on_model(self, model) -> None:
        delta = float(model.settings.get("delta", 1.0)) if model is not None else None
        if delta is not None and delta != self._model_delta:  # a new run's margin; the user's edit stays otherwise
            self._model_delta = delta
            self.delta_spin.blockSignals(True)
            self.delta_spin.setValue(delta)
            self.delta_spin.blockSignals(False)
        self.delta_spin.setEnabled(model is not None and LOSSES[model.loss].hinge or self.lecture_button.isChecked())
        self.request_refresh()

    def _mean_loss_split(self):
        """(X, y, words) of the images the mean data loss is taken over."""
        data, features = self.workbench.data, self.workbench.features
        if data.has_validation:
            return features.X_val, data.val.labels, f"the validation split ({len(data.val.labels):,} images)"
        n = min(MEAN_LOSS_SAMPLE, len(data.train.labels))
        return (features.X_train[:n], data.train.labels[:n],
                f"the first {n:,} training images (no validation split)")

    # ------------------------------------------------------------------ refresh
    def refresh(self) -> None:
        if self.lecture_button.isChecked():
            self._show_lecture_example()
            return
        selected, model = self.workbench.selected_image(), self.workbench.model
        if selected is None:
            self._show_nothing("Select an image (gallery, confusion matrix or your images) to look inside the "
                               "classifier's decision for it.")
            return
        self._show_true_class(selected)
        if model is None or selected.x is None or model.W.shape[0] != len(selected.x):
            self._show_nothing(f"{selected.caption}: train a model (Model and training > Train) or load one to "
                               "see its scores, margins and losses for this image.")
            return
        true_class = selected.true_class if selected.true_class is not None else self.true_box.currentData()
        X, y, words = self._mean_loss_split()
        job = inside_job(np.asarray(model.W, dtype=np.float64), np.asarray(selected.x, dtype=np.float64), true_class,
                         self.compare_box.currentData(), model.loss_options(), float(self.delta_spin.value()),
                         model.features.pipeline, selected.image, self.workbench.class_names, selected.caption, X, y, words)
        self.submit("breakdown", job, self._on_result)

    def _show_true_class(self, selected) -> None:
        """A dataset image's label; for a dropped-in image, newly selected, "top class
        (assumed)" until the user picks a class for it -- never the class the box showed for
        the image selected before."""
        self.true_box.setEnabled(selected.true_class is None)
        if selected.true_class is not None:
            self._unlabeled = None
            self.true_box.setCurrentIndex(selected.true_class + 1)
        elif selected.image is not self._unlabeled:  # the same dropped image keeps the user's pick
            self._unlabeled = selected.image
            self.true_box.setCurrentIndex(0)

    def _on_result(self, outcome) -> None:
        if outcome.error:
            self.workbench.post_message(f"Inside one image: {outcome.error}", error=True)
        if not outcome.ok or self.lecture_button.isChecked():
            return
        result = outcome.result
        self.result = result
        b = result.breakdown
        names = result.class_names
        assumed = " (assumed)" if result.assumed else ""
        self.caption.setText(f"{result.caption}: {LOSSES[b.loss].short_label} model · true class {names[b.true_class]}{assumed} · "
                             f"top class {names[b.predicted_class]}")
        self._fill_table(b, names, assumed)
        self._show_totals(b, result, names)
        staggered = len(result.block_names) > 4
        self.mosaic.set_mosaic(result.picture, result.layout, margin_top=(0.75 if staggered else 0.4) * TILE,
                               margin_left=2.2 * TILE)
        self.mosaic.set_labels(result.labels)
        self._draw_bars(result)

    # ------------------------------------------------------------------ drawing
    def _fill_table(self, b, names, assumed: str) -> None:
        hinge = LOSSES[b.loss].hinge
        set_columns(self.table, SVM_COLUMNS if hinge else SOFTMAX_COLUMNS)
        self.table.setRowCount(len(names))
        bold = QFont()
        bold.setBold(True)
        for j, name in enumerate(names):
            is_true = j == b.true_class
            if hinge:
                values = [f"{b.scores[j]:.3f}", "—" if is_true else f"{b.margins[j]:.3f}",
                          "—" if is_true else f"{b.hinge[j]:.3f}"]
            else:
                values = [f"{b.scores[j]:.3f}", f"{b.exp_shifted[j]:.4g}", f"{b.probabilities[j]:.4f}",
                          f"{b.neg_log_probabilities[j]:.3f}"]
            label = f"✔ {name}{assumed}" if is_true else name
            for k, text in enumerate([label] + values):
                item = QTableWidgetItem(text)
                if k:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if is_true:
                    item.setFont(bold)
                    item.setBackground(pg.mkColor(225, 240, 225))
                self.table.setItem(j, k, item)

    def _show_totals(self, b, result: InsideResult, names) -> None:
        if LOSSES[b.loss].hinge:
            term = f"L_i = Σ hinge = {b.data_loss:.4f} (SVM, Δ = {b.delta:g}{', squared' if b.squared else ''})"
        else:
            term = f"L_i = −ln p_{names[b.true_class]} = {b.data_loss:.4f} (softmax, natural log)"
        lines = [f"This image: {term}"]
        if result.mean_loss is not None:
            lines.append(f"Mean data loss over {result.mean_loss_of}: {result.mean_loss:.4f}")
        lines.append(f"Regularization λ·R(W): {b.reg_loss:.4f}")
        if result.mean_loss is not None:
            lines.append(f"Objective (mean data loss + regularization): {result.mean_loss + b.reg_loss:.4f}")
        self.totals.setText("\n".join(lines))

    def _draw_bars(self, result: InsideResult) -> None:
        """One horizontal stacked bar per evidence row: positive parts to the right, negative
        to the left, a diamond at the score."""
        x0, widths, ys, brushes = [], [], [], []
        for r, (_, ev) in enumerate(result.rows):
            parts = [(block.total, BLOCK_COLORS[k % len(BLOCK_COLORS)]) for k, block in enumerate(ev.blocks)]
            parts.append((ev.bias, BIAS_COLOR))
            right = left = 0.0
            for value, color in parts:
                if value >= 0:
                    x0.append(right)
                    right += value
                else:
                    left += value
                    x0.append(left)
                widths.append(abs(value))
                ys.append(r)
                brushes.append(pg.mkBrush(*color))
        self.bar_item.setOpts(x0=x0, y=ys, width=widths, height=0.6, brushes=brushes)
        self.score_marks.setData([ev.score for _, ev in result.rows], list(range(len(result.rows))))
        item = self.bars.getPlotItem()
        item.getAxis("left").setTicks([[(r, label.split(":")[0]) for r, (label, _) in enumerate(result.rows)]])
        item.setYRange(-0.6, len(result.rows) - 0.4, padding=0)
        item.enableAutoRange(axis="x")
        names = [short_block_name(n) for n in result.block_names] + ["bias (means folded in)"]
        colors = [BLOCK_COLORS[k % len(BLOCK_COLORS)] for k in range(len(result.block_names))] + [BIAS_COLOR]
        self.legend.setText("  ".join(f'<span style="color:rgb{c}">■</span>&nbsp;{n}' for n, c in zip(names, colors)))

    def _show_nothing(self, message: str) -> None:
        self.cancel("breakdown")
        self.result = None
        self.caption.setText(message)
        self.table.setRowCount(0)
        self.totals.setText("")
        self.mosaic.clear_picture()
        self.bar_item.setOpts(x0=[], y=[], width=[], brushes=[])
        self.score_marks.setData([], [])
        self.legend.setText("")

    def _show_lecture_example(self) -> None:
        from linviz.explore.score_breakdown import score_breakdown

        W = np.vstack([LECTURE_W.T, LECTURE_B])
        x = np.append(LECTURE_X, 1.0)
        model = self.workbench.model
        loss = model.loss if model is not None else LECTURE_LOSS
        b = score_breakdown(W, x, 0, loss=loss, delta=float(self.delta_spin.value()))
        names = ["cat", "dog", "ship"]
        self._show_nothing(LECTURE_NOTE)
        self._fill_table(b, names, "")
        result = InsideResult(b, names, False, "lecture", None, "", [], None, None, [], [])
        self._show_totals(b, result, names)
