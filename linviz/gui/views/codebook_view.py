"""The codebook of a visual-words block: every word as the patch it stands for (the whitening
undone), in one mosaic, ordered by how often each word fires; a click picks a word."""

from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from linviz.explore.visual_words import ORDERS
from linviz.gui.views.mosaic_view import MosaicView
from linviz.workbench.pictures import mosaic

ORDER_TITLES = {"activation": "fires most", "count": "nearest most often", "index": "codebook order"}
PATCH_PIXELS = 12  # each word drawn this many screen-independent pixels a side (nearest neighbour)


class CodebookView(QWidget):
    """Shows a :class:`~linviz.explore.visual_words.CodebookPictures`; ``wordPicked(word)``."""

    wordPicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("codebookView")
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setObjectName("viewCaption")
        self.order_box = QComboBox()
        self.order_box.setObjectName("codebookOrder")
        for key, title in ORDER_TITLES.items():
            self.order_box.addItem(title, key)
            self.order_box.setItemData(self.order_box.count() - 1, ORDERS[key], Qt.ItemDataRole.ToolTipRole)
        self.order_box.setToolTip("How the words are ordered (row by row)")
        self.mosaic = MosaicView()
        self.mosaic.tile_tooltip = self._tile_text
        self.mosaic.tileClicked.connect(self._on_tile)
        row = QHBoxLayout()
        row.addWidget(QLabel("Order"))
        row.addWidget(self.order_box)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addLayout(row)
        layout.addWidget(self.mosaic, 1)
        self.codebook = None
        self.order = np.zeros(0, dtype=np.int64)
        self.cols = 1
        self.picked: Optional[int] = None
        self.order_box.currentIndexChanged.connect(self._redraw)

    # ------------------------------------------------------------------ data
    def set_codebook(self, codebook) -> None:
        """Show ``codebook`` (None: nothing); the picked word stays picked if it still exists."""
        self.codebook = codebook
        if codebook is None:
            self.mosaic.clear_picture()
            self.order = np.zeros(0, dtype=np.int64)
            self.caption.setText("")
            return
        if self.picked is not None and self.picked >= codebook.k:
            self.picked = None
        losses = codebook.losses
        fit = (f"k-means loss {losses[0]:.2f} → {losses[-1]:.2f} in {len(losses)} iterations" if len(losses) else "")
        self.caption.setText(f"The codebook: {codebook.k:,} words of {codebook.pictures.shape[1]}x"
                             f"{codebook.pictures.shape[2]} pixels, each shown as the patch it stands for "
                             f"(whitening undone, contrast stretched). {fit}. Click a word to see where it fires.")
        self._redraw()

    @property
    def order_key(self) -> str:
        return self.order_box.currentData()

    def _redraw(self, *_) -> None:
        book = self.codebook
        if book is None:
            return
        self.order = book.order(self.order_key)
        self.cols = max(1, int(np.ceil(np.sqrt(book.k * 1.6))))  # a little wider than tall
        p = book.pictures.shape[1]
        scale = max(1, PATCH_PIXELS // p)
        tiles = np.repeat(np.repeat(book.pictures[self.order], scale, axis=1), scale, axis=2)
        picture, layout = mosaic(tiles, self.cols, gap=max(1, scale // 2))
        self.mosaic.set_mosaic(picture, layout)
        self.pick(self.picked, emit=False)

    # ------------------------------------------------------------------ picking
    def position_of(self, word: int) -> tuple[int, int]:
        place = int(np.flatnonzero(self.order == word)[0])
        return divmod(place, self.cols)

    def word_at(self, row: int, col: int) -> Optional[int]:
        place = row * self.cols + col
        return int(self.order[place]) if 0 <= place < len(self.order) else None

    def pick(self, word: Optional[int], emit: bool = True) -> None:
        self.picked = word
        if word is None or self.codebook is None:
            self.mosaic.highlight_tile(None)
            return
        self.mosaic.highlight_tile(*self.position_of(word))
        if emit:
            self.wordPicked.emit(int(word))

    def _on_tile(self, row: int, col: int) -> None:
        word = self.word_at(row, col)
        if word is not None:
            self.pick(word)

    def _tile_text(self, row: int, col: int) -> str:
        word = self.word_at(row, col)
        return self.codebook.describe(word) if word is not None and self.codebook is not None else ""
