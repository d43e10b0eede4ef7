"""The lecture's two worked examples as the lecture draws them, with the lab's own numbers:
the 2 x 2 image, its pixels stretched into x, W x + b = s beside the score table; and the
cat / car / frog images' SVM losses (2.9, 0, 12.9 with Δ = 1)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from linviz.explore import lecture_examples as lecture
from linviz.gui.views.tables import reading_table
from linviz.gui.widgets.fitting_splitter import FittingSplitter
from linviz.gui.widgets.wrapped_label import WrappedLabel

PIXEL = 44  # screen pixels per pixel of the lecture's 2 x 2 image
CLASS_TINTS = ("#fde0dd", "#e0ecf4", "#e5f5e0")  # the rows of W, b and s, one per class


def pixels_picture(pixels: np.ndarray) -> QPixmap:
    """The image's pixels as gray squares, each with its value written on it."""
    rows, cols = pixels.shape
    pixmap = QPixmap(cols * PIXEL + 1, rows * PIXEL + 1)
    pixmap.fill(QColor(255, 255, 255))
    painter = QPainter(pixmap)
    font = QFont()
    font.setBold(True)
    painter.setFont(font)
    for r in range(rows):
        for c in range(cols):
            value = int(pixels[r, c])
            rect = QRectF(c * PIXEL, r * PIXEL, PIXEL, PIXEL)
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
            cells.append(f'<td style="padding: 2px 8px; text-align: right">{"<b>" + value + "</b>" if i == j else value}'
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
        self.table = reading_table("lectureScoreTable", row_height=22, selectable=False, stretch_last=False)
        self.table.setMaximumHeight(4 * 22 + 40)
        self.image_note = WrappedLabel("")
        self.image_note.setObjectName("viewCaption")
        self.svm = QLabel()
        self.svm.setTextFormat(Qt.TextFormat.RichText)
        self.svm_note = WrappedLabel("")
        self.svm_note.setObjectName("viewCaption")

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
        right.addWidget(self.svm)
        right.addWidget(self.svm_note)
        right.addStretch(1)
        # side by side on a wide window, the second below the first on a narrow one: the page
        # never widens the window
        self.splitter = FittingSplitter(left_box, right_box, lambda: left_box.minimumSizeHint().width(),
                                        second_width=right_box.minimumSizeHint().width())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.splitter)

    def show_examples(self, image, svm) -> None:
        """``image``: the image example's ScoreBreakdown; ``svm``: the three images' SvmExample."""
        from linviz.gui.labs.inside_image import fill_score_table, loss_term

        classes = lecture.IMAGE_CLASSES
        self.equation.setText(equation_html(lecture.IMAGE_W, lecture.image_x(), lecture.IMAGE_B, image.scores,
                                            classes))
        fill_score_table(self.table, image, list(classes))
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


def _title(text: str) -> QLabel:
    label = QLabel(f"<b>{text}</b>")
    return label
