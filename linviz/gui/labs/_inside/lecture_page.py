"""The lecture's two worked examples as the lecture draws them, with the lab's own numbers:
the 2 x 2 image, its pixels stretched into x, W x + b = s beside the score table; and the
cat / car / frog images' SVM losses (2.9, 0, 12.9 with Δ = 1)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPixmap
from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from linviz.explore import lecture_examples as lecture
from linviz.gui.views.tables import reading_table, table_height
from linviz.gui.widgets.fitting_splitter import FittingSplitter
from linviz.gui.widgets.wrapped_label import WrappedLabel

PIXEL = 44  # screen pixels per pixel of the lecture's 2 x 2 image, at the page's base size
ROW_HEIGHT = 22  # the score table's rows, at the base size
BASE_WIDTH = 900  # the page's width at its base size: wider pages draw larger, up to MAX_SCALE
MAX_SCALE = 1.6
CLASS_TINTS = ("#fde0dd", "#e0ecf4", "#e5f5e0")  # the rows of W, b and s, one per class


def pixels_picture(pixels: np.ndarray, pixel: int = PIXEL, font: QFont = None) -> QPixmap:
    """The image's pixels as gray squares of ``pixel`` screen pixels, each with its value
    written on it."""
    rows, cols = pixels.shape
    pixmap = QPixmap(cols * pixel + 1, rows * pixel + 1)
    pixmap.fill(QColor(255, 255, 255))
    painter = QPainter(pixmap)
    font = QFont(font) if font is not None else QFont()
    font.setBold(True)
    painter.setFont(font)
    for r in range(rows):
        for c in range(cols):
            value = int(pixels[r, c])
            rect = QRectF(c * pixel, r * pixel, pixel, pixel)
            painter.fillRect(rect, QColor(value, value, value))
            painter.setPen(QColor(120, 120, 120))
            painter.drawRect(rect)
            painter.setPen(QColor(0, 0, 0) if value > 110 else QColor(255, 255, 255))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(value))
    painter.end()
    return pixmap


def equation_html(W: np.ndarray, x: np.ndarray, b: np.ndarray, s: np.ndarray, classes) -> str:
    """W x + b = s as the lecture's figure lays it out: W's rows, the column x beside them."""
    cell = 'style="padding: 2px 6px; text-align: right; background: {bg}"'
    rows = []
    for r in range(len(x)):
        parts = []
        if r < len(classes):
            bg = CLASS_TINTS[r % len(CLASS_TINTS)]
            parts.append(f'<td style="padding: 2px 6px"><b>{classes[r]}</b></td>')
            parts += [f"<td {cell.format(bg=bg)}>{v:g}</td>" for v in W[r]]
        else:
            parts += ["<td></td>"] * (1 + W.shape[1])
        parts.append(f"<td {cell.format(bg='#eeeeee')}>{x[r]:g}</td>")
        if r < len(classes):
            bg = CLASS_TINTS[r % len(CLASS_TINTS)]
            parts += ['<td style="padding: 2px 4px">+</td>', f"<td {cell.format(bg=bg)}>{b[r]:g}</td>",
                      '<td style="padding: 2px 4px">=</td>', f"<td {cell.format(bg=bg)}><b>{s[r]:g}</b></td>"]
        rows.append("<tr>" + "".join(parts) + "</tr>")
    head = ('<tr><td></td><td colspan="4" style="text-align: center"><i>W</i></td><td style="text-align: center">'
            '<i>x</i></td><td></td><td style="text-align: center"><i>b</i></td><td></td>'
            '<td style="text-align: center"><i>s</i></td></tr>')
    return f'<table cellspacing="2">{head}{"".join(rows)}</table>'


def svm_html(example, classes) -> str:
    """The three images' scores (a column per image, its true class bold) and their losses."""
    head = "<tr><td></td>" + "".join(f'<td style="padding: 2px 8px"><b>{c} image</b></td>' for c in classes) + "</tr>"
    rows = []
    for j, name in enumerate(classes):
        cells = []
        for i, b in enumerate(example.breakdowns):
            value = f"{b.scores[j]:g}"
            cells.append(f'<td style="padding: 2px 8px; text-align: right">'
                         f'{"<b>" + value + "</b>" if i == j else value}'
                         "</td>")
        rows.append(f'<tr><td style="padding: 2px 8px">{name}</td>{"".join(cells)}</tr>')
    losses = "".join(f'<td style="padding: 2px 8px; text-align: right; background: #fff4d6"><b>{b.data_loss:.3g}'
                     "</b></td>" for b in example.breakdowns)
    rows.append(f'<tr><td style="padding: 2px 8px">loss L_i</td>{losses}</tr>')
    return f'<table cellspacing="2">{head}{"".join(rows)}</table>'


class LecturePage(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("lecturePage")
        self.picture = QLabel()
        self.picture.setPixmap(pixels_picture(lecture.IMAGE_PIXELS))
        self.picture.setToolTip("The lecture's image: 2 x 2 pixels, stretched row by row into the column x")
        self.equation = QLabel()
        self.equation.setTextFormat(Qt.TextFormat.RichText)
        self.table = reading_table("lectureScoreTable", row_height=ROW_HEIGHT, selectable=False, stretch_last=False)
        self.image_note = WrappedLabel("")
        self.image_note.setObjectName("viewCaption")
        self.svm = QLabel()
        self.svm.setTextFormat(Qt.TextFormat.RichText)
        self.svm.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)  # the note right below it
        self.svm_note = WrappedLabel("")
        self.svm_note.setObjectName("viewCaption")
        self.svm_note.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

        figure = QHBoxLayout()
        figure.addWidget(self.picture, 0, Qt.AlignmentFlag.AlignVCenter)
        figure.addWidget(QLabel("→"), 0, Qt.AlignmentFlag.AlignVCenter)
        figure.addWidget(self.equation, 0, Qt.AlignmentFlag.AlignVCenter)
        figure.addStretch(1)
        left_box = QWidget()
        left = QVBoxLayout(left_box)
        left.setContentsMargins(0, 0, 8, 0)
        left.addWidget(_title("An image to class scores: s = W x + b"))
        left.addLayout(figure)
        left.addWidget(self.table)
        left.addWidget(self.image_note)
        left.addStretch(1)
        right_box = QWidget()
        right = QVBoxLayout(right_box)
        right.setContentsMargins(8, 0, 0, 0)
        right.addWidget(_title("The multiclass SVM loss of three images"))
        # the scores and their note: one above the other beside the first example, side by side
        # below it (the page then needs no more height than the lab has at 1024 x 700)
        self.svm_row = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        self.svm_row.addWidget(self.svm)
        self.svm_row.addWidget(self.svm_note)
        right.addLayout(self.svm_row)
        right.addStretch(1)
        # side by side on a wide window, the second below the first on a narrow one: the page
        # never widens the window
        self.splitter = FittingSplitter(left_box, right_box, lambda: left_box.minimumSizeHint().width(),
                                        second_width=right_box.minimumSizeHint().width(),
                                        first_height=lambda: left_box.sizeHint().height(), turned=self._turned)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.splitter)

    _scale = 1.0

    def resizeEvent(self, event) -> None:
        """A wide window draws the examples larger (the page's minimum stays below its width:
        it grows with the scale, about 0.9 x BASE_WIDTH at the base size)."""
        super().resizeEvent(event)
        scale = min(max(event.size().width() / BASE_WIDTH, 1.0), MAX_SCALE)
        if abs(scale - self._scale) >= 0.05:
            self._apply_scale(scale)

    def _apply_scale(self, scale: float) -> None:
        self._scale = scale
        font = QFont(self.parentWidget().font() if self.parentWidget() is not None else QFont())
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * scale)
        else:
            font.setPixelSize(round(font.pixelSize() * scale))
        for widget in (self, *self.findChildren(QWidget)):  # each its own: the style sheet stops inheritance
            widget.setFont(font)
        self.picture.setPixmap(pixels_picture(lecture.IMAGE_PIXELS, round(PIXEL * scale), font))
        self.table.verticalHeader().setDefaultSectionSize(round(ROW_HEIGHT * scale))
        self.table.resizeColumnsToContents()
        self._fit_table()
        self.splitter.refit()  # larger parts may no longer fit side by side

    def _fit_table(self) -> None:
        """As high as its rows: the three classes in sight, no scroll bar."""
        self.table.setFixedHeight(table_height(self.table))

    def _turned(self, orientation) -> None:
        below = orientation == Qt.Orientation.Vertical
        self.svm_row.setDirection(QBoxLayout.Direction.LeftToRight if below else QBoxLayout.Direction.TopToBottom)
        # beside the scores the note takes the width; under them, no more than its lines
        self.svm_row.setStretch(1, 1 if below else 0)
        top = Qt.AlignmentFlag.AlignTop if below else Qt.AlignmentFlag(0)  # one above the other: no cells to align in
        for widget in (self.svm, self.svm_note):
            self.svm_row.setAlignment(widget, top)

    def show_examples(self, image, svm) -> None:
        """``image``: the image example's ScoreBreakdown; ``svm``: the three images' SvmExample."""
        from linviz.gui.labs.inside_image import fill_score_table, loss_term

        classes = lecture.IMAGE_CLASSES
        self.equation.setText(equation_html(lecture.IMAGE_W, lecture.image_x(), lecture.IMAGE_B, image.scores,
                                            classes))
        fill_score_table(self.table, image, list(classes), exact=True)
        self._fit_table()
        self.image_note.setText(
            f"True class: cat, and the classifier scores dog highest. This image: {loss_term(image, 'cat')}. "
            "The lecture's figure prints 61.95 for the ship: it left out the ship's bias −1.2.")
        delta = svm.breakdowns[0].delta
        losses = " + ".join(f"{v:.3g}" for v in svm.losses)
        first = svm.breakdowns[0]
        terms = " + ".join(f"max(0, {first.scores[j]:g} − {first.scores[0]:g} + {delta:g})"
                           for j in range(1, len(first.scores)))
        self.svm.setText(svm_html(svm, lecture.SVM_CLASSES))
        self.svm_note.setText(
            f"Δ = {delta:g}. Each image's loss sums, over the other classes, max(0, s_j − s_y + Δ); the cat image's: "
            f"{terms} = {first.data_loss:.3g}. The loss over the three: L = ({losses}) / 3 = {svm.mean_loss:.3g}.")
        self.splitter.refit()  # the parts' widths are known now (laid out while empty, they fitted any width)


def _title(text: str) -> QLabel:
    label = QLabel(f"<b>{text}</b>")
    return label
