"""Visual words: the codebook a ``words`` feature block learned, and where its words fire.

Left, the codebook (:class:`~linviz.gui.views.codebook_view.CodebookView`): every word as the
patch it stands for, ordered by how often it fires. Right, for the selected image: where the
picked word fires (the image lit where the word's triangle activation is high), and the
image's strongest words, which pick a word too. The arithmetic is
:mod:`linviz.explore.visual_words`; this module only shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from linviz.gui.labs.lab import Lab
from linviz.gui.views.codebook_view import CodebookView
from linviz.gui.views.mosaic_view import MosaicView
from linviz.workbench.pictures import grid_mosaic, upscale

TILE = 128  # the image, the firing map and the word, side by side
WORD_TILE = 40  # the strongest words
STRONGEST = 12
QUICK_WORDS = "words-quick"
NO_WORDS = ("Visual words are features learned from the training images: a codebook of small patches "
            "(k-means on whitened 6x6 patches), each image described by which words fire where. Learn a "
            "small codebook with the button below, or choose the preset words (a bigger one, slower to learn) "
            "in the Features panel and Extract.")


@dataclass(frozen=True)
class FiringResult:
    caption: str
    firing: object  # WordFiring
    image: np.ndarray
    word: int


def firing_job(image: np.ndarray, pipeline, block, word: Optional[int], caption: str):
    from linviz.explore.visual_words import where_words_fire

    def job(ctx) -> FiringResult:
        firing = where_words_fire(image, pipeline, block)
        chosen = int(firing.strongest[0]) if word is None else int(word)
        return FiringResult(caption, firing, image, chosen)

    return job


def codebook_job(pipeline, block):
    from linviz.explore.visual_words import codebook_pictures

    def job(ctx):
        return codebook_pictures(pipeline, block)

    return job


class VisualWordsLab(Lab):
    title = "Visual words"
    order = 15
    object_name = "visualWordsLab"

    def __init__(self, workbench, job_queue, parent=None):
        super().__init__(workbench, job_queue, parent)
        self.caption = QLabel(NO_WORDS)
        self.caption.setWordWrap(True)
        self.caption.setObjectName("viewCaption")
        self.codebook_view = CodebookView()
        self.firing_caption = QLabel("")
        self.firing_caption.setWordWrap(True)
        self.firing_caption.setObjectName("viewCaption")
        self.firing_view = MosaicView()
        self.firing_view.setObjectName("wordFiringView")
        self.strongest_caption = QLabel("")
        self.strongest_caption.setWordWrap(True)
        self.strongest_caption.setObjectName("viewCaption")
        self.strongest_view = MosaicView()
        self.strongest_view.setObjectName("strongestWordsView")
        self.strongest_view.tileClicked.connect(self._on_strong_word)
        self.strongest_view.tile_tooltip = self._strong_word_text
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.firing_caption)
        right_layout.addWidget(self.firing_view, 3)
        right_layout.addWidget(self.strongest_caption)
        right_layout.addWidget(self.strongest_view, 2)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setObjectName("visualWordsSplitter")
        split.setChildrenCollapsible(False)
        split.addWidget(self.codebook_view)
        split.addWidget(right)
        split.setSizes([520, 420])
        self.panes = split
        # without word features: what to do, in one click (the panes would show nothing)
        self.learn_button = QPushButton(f"Learn visual words ({QUICK_WORDS})")
        self.learn_button.setToolTip(f"Extract the {QUICK_WORDS} features: a small codebook learned from the "
                                     "training images in seconds, as if chosen in the Features panel (the current "
                                     "model goes, as with Extract there)")
        self.learn_button.clicked.connect(lambda: self.featuresRequested.emit(QUICK_WORDS))
        learn_row = QHBoxLayout()
        learn_row.addWidget(self.learn_button)
        learn_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.caption)
        layout.addLayout(learn_row)
        layout.addWidget(split, 1)
        layout.addStretch(0)  # takes the height when the panes are hidden: the button stays under the caption

        self.block = None
        self.pipeline = None
        self.firing: Optional[FiringResult] = None
        self._strong_order = np.zeros(0, dtype=np.int64)
        self._codebook_for = None
        self.codebook_view.wordPicked.connect(self._on_word_picked)
        workbench.features_changed.connect(self.request_refresh)
        workbench.selection_changed.connect(self.request_refresh)
        workbench.user_images_changed.connect(self.request_refresh)

    # ------------------------------------------------------------------ refresh
    def _words_block(self):
        from linviz.explore.visual_words import words_blocks

        features = self.workbench.features
        pipeline = features.pipeline if features is not None else None
        found = words_blocks(pipeline)
        return (pipeline, found[0]) if found else (None, None)

    def refresh(self) -> None:
        pipeline, block = self._words_block()
        self.panes.setVisible(block is not None)
        self.learn_button.setVisible(block is None)
        if block is None:
            self.pipeline = self.block = None
            self._codebook_for = None
            self.caption.setText(NO_WORDS)
            self.codebook_view.set_codebook(None)
            self._clear_firing("")
            return
        p = block.params
        self.caption.setText(f"The codebook: {p['k']} visual words ({p['patch']}x{p['patch']} "
                             f"patches, stride {p['stride']}), learned from the training images. A word fires on "
                             "a patch nearer to it than to the average word; an image's feature for a word is its "
                             f"activation summed over each of the {block.params['pool']}x{block.params['pool']} "
                             "regions of the image.")
        key = (id(pipeline), block.index)
        if self._codebook_for != key:
            self._codebook_for = key
            self.pipeline, self.block = pipeline, block
            self.submit("codebook", codebook_job(pipeline, block), self._on_codebook)
        self._request_firing(self.codebook_view.picked)

    def _request_firing(self, word: Optional[int]) -> None:
        selected = self.workbench.selected_image()
        if selected is None or self.block is None:
            self._clear_firing("Select an image (gallery, confusion matrix or your images) to see where the words "
                               "fire in it.")
            return
        self.submit("firing", firing_job(selected.image, self.pipeline, self.block, word, selected.caption),
                    self._on_firing)

    def _on_codebook(self, outcome) -> None:
        if outcome.error:
            self.workbench.post_message(f"Visual words: {outcome.error}", error=True)
        if outcome.ok:
            self.codebook_view.set_codebook(outcome.result)
            if self.firing is not None:
                self._show_firing(self.firing)  # the patches arrived after the firing maps

    def _on_word_picked(self, word: int) -> None:
        if self.firing is not None and self.firing.firing.maps.shape[2] > word:
            self._show_firing(FiringResult(self.firing.caption, self.firing.firing, self.firing.image, word))
        else:
            self._request_firing(word)

    def _on_firing(self, outcome) -> None:
        if outcome.error:
            self.workbench.post_message(f"Visual words: {outcome.error}", error=True)
        if outcome.ok:
            self._show_firing(outcome.result)

    # ------------------------------------------------------------------ drawing
    def _clear_firing(self, text: str) -> None:
        self.firing = None
        self.firing_caption.setText(text)
        self.strongest_caption.setText("")
        self.firing_view.clear_picture()
        self.strongest_view.clear_picture()
        self._strong_order = np.zeros(0, dtype=np.int64)

    def _show_firing(self, result: FiringResult) -> None:
        from linviz.explore.visual_words import firing_picture

        self.firing = result
        firing, word = result.firing, result.word
        book = self.codebook_view.codebook
        if self.codebook_view.picked != word:
            self.codebook_view.pick(word, emit=False)
        image = result.image
        values = firing.pixel_map(word, image.shape[:2])
        rank = int(np.flatnonzero(firing.strongest == word)[0]) + 1
        where = np.mean(firing.maps[:, :, word] > 0)
        self.firing_caption.setText(
            f"{result.caption}: where word {word} fires (lit orange; dim where it stays quiet). It fires on "
            f"{100 * where:.0f}% of the patches, total {_compact(firing.totals[word])}: the image's "
            f"{_ordinal(rank)} strongest word of {firing.maps.shape[2]:,}.")
        tiles = [upscale(np.ascontiguousarray(image), TILE), upscale(firing_picture(image, values), TILE)]
        if book is not None and word < book.k:
            tiles.append(upscale(book.pictures[word], TILE))
        picture, layout = grid_mosaic([tiles], gap=6, row_gap=int(0.2 * TILE))
        self.firing_view.set_mosaic(picture, layout, margin_top=0.2 * TILE)
        labels = ["image", f"word {word} fires", f"word {word}"][:len(tiles)]
        self.firing_view.set_labels([(text, *self._above(layout, 0, c)) for c, text in enumerate(labels)])
        self._show_strongest(firing, book)

    def _show_strongest(self, firing, book) -> None:
        if book is None:
            return
        order = firing.strongest[:STRONGEST]
        self._strong_order = order
        tiles = [upscale(book.pictures[j], WORD_TILE) for j in order]
        cols = STRONGEST // 2
        grid = [tiles[r * cols:(r + 1) * cols] for r in range(2)]
        picture, layout = grid_mosaic(grid, gap=4, row_gap=int(0.45 * WORD_TILE))
        self.strongest_view.set_mosaic(picture, layout, margin_top=0.45 * WORD_TILE)
        self.strongest_view.set_labels([(_compact(firing.totals[j]), *self._above(layout, k // cols, k % cols))
                                        for k, j in enumerate(order)])
        self.strongest_caption.setText(f"The image's {len(order)} strongest words, with their activation "
                                       "summed over the image (click one to see where it fires)")

    @staticmethod
    def _above(layout, row, col):
        y, x = layout.origin(row, col)
        return x + layout.tile_w / 2, y - 1, "top"

    def _on_strong_word(self, row: int, col: int) -> None:
        k = row * (STRONGEST // 2) + col
        if 0 <= k < len(self._strong_order):
            self.codebook_view.pick(int(self._strong_order[k]))

    def _strong_word_text(self, row: int, col: int) -> str:
        k = row * (STRONGEST // 2) + col
        book = self.codebook_view.codebook
        if book is None or not 0 <= k < len(self._strong_order):
            return ""
        return book.describe(int(self._strong_order[k]))


def _compact(value: float) -> str:
    """At most 5 characters: 0.42, 12.3, 456, 1.7k, 23k."""
    value = float(value)
    if abs(value) >= 10_000:
        return f"{value / 1000:.0f}k"
    if abs(value) >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.3g}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n:,}{suffix}"
