"""Inside one image: the lecture's worked example with this image's real numbers.

For the selected image and the current model: every class's score s_j = w_j . x + b_j, the
SVM margins and hinge terms or the softmax's e^(s_j - max s), probabilities and -ln p; the
image's loss, the mean data loss over a split and the regularization loss; each score as a
sum of what every feature block adds (against the average training image, or against an
absent feature with the means folded into the bias) and evidence maps that show where it
comes from (:mod:`linviz.explore.evidence`), for the top class, the true class, a class to
compare with, and "why the top class rather than that one". *Lecture example* shows the
lecture's own two examples (:mod:`linviz.explore.lecture_examples`). The arithmetic is
:func:`linviz.explore.score_breakdown`; this module only shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QPushButton, QSplitter, QStackedWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from linviz.explore.evidence import ABSENT, AVERAGE_IMAGE
from linviz.gui.labs._inside.lecture_page import LecturePage
from linviz.gui.labs._inside.mosaic import evidence_columns, evidence_mosaic, evidence_tiles, short_block_name
from linviz.gui.labs.lab import Lab
from linviz.gui.views.control_flow import control_flow
from linviz.gui.views.empty_plot import EmptyHint
from linviz.gui.views.mosaic_view import MosaicView
from linviz.gui.views.plot_style import fitting_title, plain_axes
from linviz.gui.views.tables import reading_table
from linviz.gui.widgets.image_picker import ImagePicker
from linviz.gui.widgets.wrapped_label import WrappedLabel
from linviz.models.losses import LOSSES
from linviz.text import decimals

MAX_TABLE_ROWS = 12  # the score table's rows in sight; more classes scroll
MEAN_LOSS_SAMPLE = 5000  # training images for the mean data loss when there is no validation split
# One color per feature block in the stacked bar (and its legend), then the bias.
BLOCK_COLORS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (148, 103, 189), (140, 86, 75), (227, 119, 194),
                (188, 189, 34), (23, 190, 207)]
BIAS_COLOR = (127, 127, 127)
BASELINE_WORDS = {AVERAGE_IMAGE: ("the average training image", "the average image's score"),
                  ABSENT: ("an absent feature (means in the bias)", "bias, every feature's mean folded in")}

CLASS_TIP = ("The class. (true): the image's class, in bold (assumed: the top class taken as true for a dropped "
             "image, until you pick its class); (top): the class the model picks, when it is another")
SVM_COLUMNS = [("class", CLASS_TIP),
               ("score s_j", "s_j = w_j · x + b_j: the class's weights times the features, plus its bias"),
               ("margin\ns_j − s_y + Δ", "How far class j comes within Δ of the true class's score (no term for y)"),
               ("hinge\nmax(0, margin)", "This class's share of the SVM loss: positive when it is within Δ of the "
                                         "true class")]
SOFTMAX_COLUMNS = [("class", CLASS_TIP),
                   ("score s_j", "s_j = w_j · x + b_j: the class's weights times the features, plus its bias"),
                   ("e^(s_j − max s)", "Unnormalized probability, shifted by the top score so nothing overflows "
                                       "(the shift cancels when normalizing)"),
                   ("p_j", "The probability p_j = e^(s_j) / Σ_k e^(s_k): the softmax"),
                   ("−ln p_j", "The loss if j were the true class (natural log); the true class's is L_i")]


@dataclass(frozen=True)
class InsideResult:
    breakdown: object  # ScoreBreakdown
    class_names: list
    assumed: bool  # the true class was assumed (a dropped-in image)
    caption: str
    mean_loss: Optional[float]
    mean_loss_of: str  # which images the mean data loss is over
    rows: list  # (label, Evidence) per evidence row
    tiles: list  # per evidence row: the image's tile, then one per feature block
    block_names: list
    relative_to: str  # the breakdown's baseline (linviz.explore.evidence)
    compared_note: str  # why the compared class is not the one chosen, or ""
    column_names: list  # the label of each tile after the image (a block, or a block's parts)


def fill_score_table(table, b, names, assumed: bool = False, exact: bool = False) -> None:
    """The lecture's table for breakdown ``b``: a row per class, the true class named so and bold,
    the top class named so when it is another (a tick on the true class read as "right").
    ``assumed``: the true class is the top one, taken as true.
    A model's numbers have a fixed number of decimals (a column reads down its points);
    ``exact``: the lecture's own numbers, without the zeros that say nothing (-96.8, 437.9)."""
    from linviz.gui.views.tables import set_columns

    def fixed(value: float, places: int) -> str:
        return decimals(value, places) if exact else f"{value:.{places}f}"

    hinge = LOSSES[b.loss].hinge
    set_columns(table, SVM_COLUMNS if hinge else SOFTMAX_COLUMNS)
    table.setRowCount(len(names))
    bold = QFont()
    bold.setBold(True)
    for j, name in enumerate(names):
        is_true = j == b.true_class
        if hinge:
            values = [fixed(b.scores[j], 3), "—" if is_true else fixed(b.margins[j], 3),
                      "—" if is_true else fixed(b.hinge[j], 3)]
        else:
            values = [fixed(b.scores[j], 3), f"{b.exp_shifted[j]:.3g}", fixed(b.probabilities[j], 4),
                      fixed(b.neg_log_probabilities[j], 3)]
        if is_true:
            label = f"{name} ({'assumed' if assumed else 'true'})"
        else:
            label = f"{name} (top)" if j == b.predicted_class else name
        for k, text in enumerate([label] + values):
            item = QTableWidgetItem(text)
            if k:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if is_true:
                item.setFont(bold)
                item.setBackground(pg.mkColor(228, 234, 244))  # not green: the true class is not a verdict
            table.setItem(j, k, item)


def loss_term(b, true_name: str) -> str:
    """'L_i = Σ hinge = 2.9 (SVM, Δ = 1)' or 'L_i = −ln p_cat = 0.021 (softmax, natural log)'."""
    if LOSSES[b.loss].hinge:
        return f"L_i = Σ hinge = {decimals(b.data_loss, 4)} (SVM, Δ = {b.delta:g}{', squared' if b.squared else ''})"
    return f"L_i = −ln p_{true_name} = {decimals(b.data_loss, 4)} (softmax, natural log)"


def inside_job(W, x, true_class, compare, model_options, delta, pipeline, image, class_names, caption,
               split_X, split_y, split_text, relative_to=AVERAGE_IMAGE):
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
        runner_up = int(np.argsort(scores)[-2]) if len(scores) > 1 else top
        other, note = (runner_up, "") if compare is None else (int(compare), "")
        if other == top and len(scores) > 1:  # "top − top" says nothing: the runner-up instead
            other, note = runner_up, f"{class_names[top]} is the top class here: compared with the runner-up"
        mean_loss = None
        if split_X is not None and len(split_y):
            mean_loss = LossFunction(loss, 0.0, delta=delta, squared=options["squared"]).value(W, split_X, split_y)
        names = class_names
        truth = "assumed true" if assumed else "true"

        def ev(w):
            return evidence(w, x, pipeline, relative_to=relative_to)

        rows = [(f"top: {names[top]}", ev(W[:, top])), (f"{truth}: {names[y]}", ev(W[:, y])),
                (f"compared: {names[other]}", ev(W[:, other])),
                (f"{names[top]} − {names[other]}", ev(W[:, top] - W[:, other]))]
        columns = evidence_columns(pipeline.blocks, pipeline)
        tiles = evidence_tiles(image, [e for _, e in rows], columns)
        return InsideResult(breakdown, list(names), assumed, caption, None if mean_loss is None else float(mean_loss),
                            split_text, rows, tiles, [b.name for b in pipeline.blocks], relative_to, note,
                            [label for label, _, _ in columns])

    return job


class InsideImageLab(Lab):
    title = "Inside one image"
    order = 10
    object_name = "insideImageLab"

    def __init__(self, workbench, job_queue, parent=None):
        super().__init__(workbench, job_queue, parent)
        self.result: Optional[InsideResult] = None
        self.caption = WrappedLabel("")
        self.caption.setObjectName("viewCaption")

        self.picker = ImagePicker(workbench)
        self.true_box = QComboBox()
        self.true_box.setToolTip("The class to treat as true. A dataset image has its label; "
                                 "for a dropped-in image choose one (default: the top class, assumed)")
        self.compare_box = QComboBox()
        self.compare_box.setToolTip("A class to compare with: its evidence, and why the top class wins over it")
        self.delta_spin = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=100.0, singleStep=0.5, value=1.0)
        self.delta_spin.setToolTip("The SVM margin Δ. Changing it recomputes this table, not the model")
        self.relative_box = QComboBox()
        for key, (words, _) in BASELINE_WORDS.items():
            self.relative_box.addItem(words, key)
        self.relative_box.setToolTip(
            "What each block's share is measured against. The average training image: the gray part is the score "
            "of the average image, each block's bar what this image adds to it. An absent feature: the gray part "
            "is the bias with every feature's mean folded in (large, and cancelled by the blocks')")
        self.lecture_button = QPushButton("Lecture example")
        self.lecture_button.setCheckable(True)
        self.lecture_button.setToolTip("The lecture's two worked examples, computed by the same code")
        controls = control_flow(self.picker, ("True class", self.true_box), ("Compare with", self.compare_box),
                                ("Δ", self.delta_spin), ("Shares against", self.relative_box), self.lecture_button)
        # what belongs to an image (hidden while the lecture's examples show; Δ serves both)
        self.image_controls = [self.picker] + [box.parentWidget() for box in
                                               (self.true_box, self.compare_box, self.relative_box)]

        # rows of 22 px: ten classes fit without scrolling
        self.table = reading_table("scoreTable", row_height=22, selectable=False, stretch_last=False)
        self.totals = WrappedLabel("")
        self.totals.setObjectName("lossTotals")
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        numbers = QWidget()
        numbers_layout = QVBoxLayout(numbers)
        numbers_layout.setContentsMargins(0, 0, 0, 0)
        numbers_layout.addWidget(self.table, 1)
        numbers_layout.addWidget(self.totals)

        self.evidence_view = QWidget()
        self.evidence_view.setObjectName("evidenceView")
        self.evidence_caption = WrappedLabel("")
        self.evidence_caption.setObjectName("viewCaption")
        self.mosaic = MosaicView()
        # The mosaic is rebuilt once the layout has settled (new captions change their heights,
        # and so the mosaic's size): once, in an event of its own, not inside a result's
        # drawing and again at the resize it causes.
        self._arrange_timer = QTimer(self)
        self._arrange_timer.setSingleShot(True)
        self._arrange_timer.setInterval(0)
        self._arrange_timer.timeout.connect(self._arrange_mosaic)
        self.mosaic.viewbox.sigResized.connect(self._arrange_timer.start)
        self._groups = 1
        self.bars = pg.PlotWidget()
        self.bars.setObjectName("scoreBars")
        self.bars.setMinimumHeight(120)
        bars_item = self.bars.getPlotItem()
        plain_axes(bars_item)
        bars_item.hideButtons()
        bars_item.getViewBox().setMouseEnabled(x=False, y=False)
        bars_item.getViewBox().invertY(True)
        fitting_title(bars_item, "bottom", "added to the score", "share")
        self.bar_item = pg.BarGraphItem(x0=[], y=[], height=0.6, width=[], brushes=[])
        bars_item.addItem(self.bar_item)
        self.score_marks = pg.ScatterPlotItem(symbol="d", size=10, brush=pg.mkBrush(20, 20, 20))
        bars_item.addItem(self.score_marks)
        self.zero_line = pg.InfiniteLine(pos=0, angle=90, pen=pg.mkPen((90, 90, 90)))
        bars_item.addItem(self.zero_line)
        self.bars_hint = EmptyHint(bars_item)
        self.legend = WrappedLabel("")
        self.legend.setObjectName("viewCaption")
        totals_box = QWidget()
        totals_layout = QVBoxLayout(totals_box)
        totals_layout.setContentsMargins(0, 0, 0, 0)
        self.bars_caption = WrappedLabel("")
        self.bars_caption.setObjectName("viewCaption")
        totals_layout.addWidget(self.bars_caption)
        totals_layout.addWidget(self.bars, 1)
        totals_layout.addWidget(self.legend)
        evidence_layout = QVBoxLayout(self.evidence_view)
        evidence_layout.setContentsMargins(0, 0, 0, 0)
        evidence_layout.addWidget(self.evidence_caption)
        evidence_layout.addWidget(self.mosaic, 1)

        # The numbers and the stacked bar side by side above, the maps below at full width:
        # the maps need width (a column per feature block), the table needs height. The
        # numbers keep their height when the window grows; the maps take the rest.
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
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([330, 330])
        self.splitter = split
        self.lecture_page = LecturePage()
        self.pages = QStackedWidget()
        self.pages.addWidget(split)
        self.pages.addWidget(self.lecture_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addWidget(controls)
        layout.addWidget(self.pages, 1)

        self._model_delta = None
        self._unlabeled = None  # the pixels of the dropped-in image the true-class box is for
        workbench.data_changed.connect(self._on_classes)
        workbench.model_changed.connect(self._on_model)
        workbench.selection_changed.connect(self.request_refresh)
        workbench.user_images_changed.connect(self.request_refresh)
        self.true_box.activated.connect(self.request_refresh)
        self.compare_box.activated.connect(self.request_refresh)
        self.relative_box.activated.connect(self.request_refresh)
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
        if names:  # the table's height now, not at a run's first result: no relayout mid-run
            self._size_numbers(len(names))
        self.request_refresh()

    def _on_model(self, model) -> None:
        delta = float(model.settings.get("delta", 1.0)) if model is not None else None
        if delta is not None and delta != self._model_delta:  # a new run's margin; the user's edit stays otherwise
            self._model_delta = delta
            self.delta_spin.blockSignals(True)
            self.delta_spin.setValue(delta)
            self.delta_spin.blockSignals(False)
        self._update_delta_enabled()
        self.request_refresh()

    def _update_delta_enabled(self) -> None:
        model = self.workbench.model
        lecture = self.lecture_button.isChecked()
        self.delta_spin.setEnabled(lecture or (model is not None and LOSSES[model.loss].hinge))

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
        lecture = self.lecture_button.isChecked()
        self.pages.setCurrentIndex(1 if lecture else 0)
        for widget in self.image_controls:  # the lecture's examples have their own classes
            widget.setVisible(not lecture)
        self._update_delta_enabled()
        if lecture:
            self._show_lecture_example()
            return
        selected, model = self.workbench.selected_image(), self.workbench.model
        if selected is None:
            self._show_nothing("Select an image (◀ ▶, Gallery…, the Training tab's gallery or confusion matrix, or "
                               "your images) to look inside the classifier's decision for it.")
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
                         model.features.pipeline, selected.image, self.workbench.class_names, selected.caption, X, y,
                         words, self.relative_box.currentData())
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
        note = f" ({result.compared_note})" if result.compared_note else ""
        self.caption.setText(f"{result.caption}: {LOSSES[b.loss].short_label} model · true class "
                             f"{names[b.true_class]}{assumed} · top class {names[b.predicted_class]}{note}")
        fill_score_table(self.table, b, names, result.assumed)
        self._show_totals(b, result, names)
        if (len(names), self.table.horizontalHeader().sizeHint().height()) != self._sized_for:
            self._size_numbers(len(names))  # new classes, or the header's first real height
        self._arrange_timer.start()
        self._draw_bars(result)

    # ------------------------------------------------------------------ drawing
    _sized_for = (0, 0)  # (classes, header height) the table was sized for

    def _size_numbers(self, n_classes: int) -> None:
        """The table shows every class's row (up to a dozen; more scroll): the numbers are the
        lesson, the maps below take the rest of the height."""
        table = self.table
        header = table.horizontalHeader().sizeHint().height()  # 0 until the first result's columns
        self._sized_for = (n_classes, header)
        rows = min(n_classes, MAX_TABLE_ROWS)
        table.setMinimumHeight(header + rows * table.verticalHeader().defaultSectionSize()
                               + 2 * table.frameWidth() + 2)
        total = sum(self.splitter.sizes())
        upper = self.splitter.widget(0).minimumSizeHint().height()
        if total > upper:
            self.splitter.setSizes([upper, total - upper])

    def _show_totals(self, b, result: InsideResult, names) -> None:
        lines = [f"This image: {loss_term(b, names[b.true_class])}"]
        if result.mean_loss is not None:
            lines.append(f"Mean data loss over {result.mean_loss_of}: {result.mean_loss:.4f}")
        lines.append(f"Regularization λ·R(W): {b.reg_loss:.4f}")
        if result.mean_loss is not None:
            lines.append(f"Objective (mean data loss + regularization): {result.mean_loss + b.reg_loss:.4f}")
        self.totals.setText("\n".join(lines))

    def _arrange_mosaic(self, *_) -> None:
        """The evidence rows in the arrangement (one column of rows, two, or four side by side)
        that draws the tiles largest in the view's shape: the maps grow with the window."""
        result = self.result
        if result is None or self.lecture_button.isChecked():
            return
        box = self.mosaic.viewbox
        key = (id(result), round(box.width()), round(box.height()))
        if key == self._drawn:
            return
        self._drawn = key
        picture, layout, labels, margins, self._groups = evidence_mosaic(
            result.tiles, [label for label, _ in result.rows], result.column_names,
            [ev.score for _, ev in result.rows], view_size=(box.width(), box.height()))
        self.mosaic.set_mosaic(picture, layout, margin_top=margins[0], margin_left=margins[1])
        self.mosaic.set_labels(labels)
        against = BASELINE_WORDS[result.relative_to][0]
        self.evidence_caption.setText(f"Evidence maps: where each score comes from, against {against}, drawn on what "
                                      "each feature block describes (red: for the class, blue: against; one scale "
                                      "per column)")

    _drawn = None

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
        self.bars_hint.filled()
        self.zero_line.setVisible(True)
        self.bar_item.setOpts(x0=x0, y=ys, width=widths, height=0.6, brushes=brushes)
        self.score_marks.setData([ev.score for _, ev in result.rows], list(range(len(result.rows))))
        item = self.bars.getPlotItem()
        item.getAxis("left").setTicks([[(r, label.split(":")[0]) for r, (label, _) in enumerate(result.rows)]])
        item.setYRange(-0.6, len(result.rows) - 0.4, padding=0)
        item.enableAutoRange(axis="x")
        against, bias_words = BASELINE_WORDS[result.relative_to]
        self.bars_caption.setText(f"Each score as a sum: what every feature block adds, against {against}, plus "
                                  f"the gray part (◆ = the score)")
        width = item.getViewBox().width()
        names = [short_block_name(n) for n in result.block_names] + [bias_words + _thin_part_note(result.rows, width)]
        colors = [BLOCK_COLORS[k % len(BLOCK_COLORS)] for k in range(len(result.block_names))] + [BIAS_COLOR]
        self.legend.setText("  ".join(f'<span style="color:rgb{c}">■</span>&nbsp;{n}' for n, c in zip(names, colors)))

    def _show_nothing(self, message: str) -> None:
        """No numbers to show: every part empties (no row, bar or map of an earlier image stays)."""
        self.cancel("breakdown")
        self.result = None
        self._drawn = None
        self.caption.setText(message)
        self.table.setRowCount(0)
        self.totals.setText("")
        self.mosaic.clear_picture()
        self.evidence_caption.setText("")
        self.bar_item.setOpts(x0=[], y=[], width=[], brushes=[])
        self.score_marks.setData([], [])
        self.bars.getPlotItem().getAxis("left").setTicks([[]])
        self.zero_line.setVisible(False)
        self.bars_hint.show("Each score as a sum of what the feature blocks add shows here")
        self.bars_caption.setText("")
        self.legend.setText("")

    def _show_lecture_example(self) -> None:
        from linviz.explore.lecture_examples import image_example, svm_example

        self._show_nothing("")
        model = self.workbench.model
        loss = model.loss if model is not None else "svm"  # the lecture works its example with the SVM
        delta = float(self.delta_spin.value())
        self.lecture_page.show_examples(image_example(loss, delta), svm_example(delta))
        whose = "the current model's loss" if model is not None else "the lecture's SVM loss: no model is trained yet"
        self.caption.setText("The lecture's two examples, computed by the code that computes your images: an image "
                             f"to class scores (with {whose}), and the SVM loss of three images. "
                             "Δ is editable; press Lecture example again to go back to your image.")


THIN_PART_PX = 2.0  # a part narrower than this on screen is a line at most
PLOT_PX = 300.0  # the bars' width to judge by before the plot is laid out


def _thin_part_note(rows, width_px: float) -> str:
    """When every row's gray part is too thin to see in bars ``width_px`` wide (the average
    image scores near 0), its size in words, so a student looking for gray is told why there
    is none."""
    biases = [ev.bias for _, ev in rows]
    if not biases:
        return ""
    lo = hi = 0.0
    for _, ev in rows:  # the bars' span: each row's parts stacked right and left of 0 (its score inside)
        parts = [block.total for block in ev.blocks] + [ev.bias]
        lo = min(lo, sum(v for v in parts if v < 0))
        hi = max(hi, sum(v for v in parts if v > 0))
    largest = max(abs(b) for b in biases)
    px = largest / max(hi - lo, 1e-12) * (width_px if width_px > 0 else PLOT_PX)
    if px >= THIN_PART_PX:
        return ""
    size = f"at most {largest:.3f}" if largest >= 0.0005 else "under 0.001"
    return f" ({size} here: too thin to see)"
