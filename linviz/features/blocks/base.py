"""What a feature block declares, and the placed block the pipeline lays out.

A :class:`BlockType` is one kind of feature (raw pixels, HOG, a histogram, the color layout,
visual words). It declares, and everything else reads:

* its spec name, aliases, a title and a one-line help text (the features panel, the CLI);
* its parameters (:class:`Param`: type, default, range or choices, help line), in the
  canonical order of the spec text;
* its output shape for an image size (:meth:`BlockType.shape`), and what the columns are
  (``kind``);
* how to extract it into its columns (:meth:`BlockType.extract`), and for a *fitted* block,
  how to learn its state from training images (:meth:`BlockType.fit`), which arrays that state
  holds (:meth:`BlockType.state_layout`) and how a saved state is checked
  (:meth:`BlockType.check_state`);
* how to read its weights and its evidence: :meth:`BlockType.evidence_map` sums a score's
  per-column contributions onto what the block describes (pixels, cells, bins, words and
  regions), :meth:`BlockType.weight_pictures` turns a class's weights into numbers to draw
  (:class:`WeightPictures`: an image, a signed map, bars or patches); the window paints them
  by their ``style`` and never by the block's name.

Nothing here draws: the features layer sits below the window's picture helpers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np

from linviz.errors import LinvizError

PARAM_TYPES = (int, str)


@dataclass(frozen=True)
class Param:
    """One parameter of a block: ``kind`` int (with ``low``..``high``) or str (``choices``)."""

    name: str
    kind: type
    default: Any
    help: str
    low: Optional[int] = None
    high: Optional[int] = None
    choices: tuple = ()
    aliases: tuple = ()

    def __post_init__(self):
        if self.kind not in PARAM_TYPES:
            raise TypeError(f"parameter {self.name}: kind must be int or str")
        if self.kind is int and (self.low is None or self.high is None or not self.low <= self.default <= self.high):
            raise TypeError(f"parameter {self.name}: a whole number needs low <= default <= high")
        if self.kind is str and self.default not in self.choices:
            raise TypeError(f"parameter {self.name}: a text parameter needs choices including its default")

    @property
    def is_switch(self) -> bool:
        """A 0/1 parameter (a check box in the features panel)."""
        return self.kind is int and (self.low, self.high) == (0, 1)

    def describe(self) -> str:
        """'orient: orientation bins, 1 to 180 [9]' -- for help texts and tooltips."""
        allowed = f"{self.low} to {self.high}" if self.kind is int else ", ".join(self.choices)
        return f"{self.name}: {self.help} ({allowed}) [{self.default}]"


@dataclass(frozen=True)
class FeatureBlock:
    """Where one feature of the spec lives in the matrix, and how to read it.

    ``name`` is the item's canonical spec text; ``kind`` and ``shape`` (of
    ``columns[start:stop]`` reshaped, C order) come from its :class:`BlockType`:

    * ``raw``    -- ``(H, W, 3)`` or ``(H, W)`` (after optional downscaling), values in [0, 1]
    * ``hog``    -- ``(block_rows, block_cols, cells_per_block, cells_per_block, orientations)``;
      ``params`` also has ``cells`` = (cell rows, cell cols), ``image_shape``
    * ``hist``   -- ``(bins,)``; ``params["channel"]`` is ``hue``, ``sat`` or ``val``
    * ``layout`` -- ``(grid, grid, 3)``
    * ``words``  -- ``(pool, pool, k)``: each word's activation summed over a pooling region;
      ``params`` also has ``grid`` = (patch rows, patch cols) and ``image_shape``
    """

    name: str
    kind: str
    params: dict
    start: int
    stop: int
    shape: tuple
    index: int = 0  # the item's place in the spec

    @property
    def size(self) -> int:
        return self.stop - self.start

    @property
    def feature(self) -> str:
        """The block type's spec name ('hog', 'words', ...)."""
        return self.name.split(":", 1)[0]

    @property
    def type(self) -> "BlockType":
        from linviz.features.blocks import block_type

        return block_type(self.feature)


@dataclass(frozen=True)
class WeightPictures:
    """A block's weights of every class as numbers to draw, and how to draw them.

    ``style``:

    * ``"rgb"``      -- ``pictures[c]`` (h, w, 3) signed: stretched per class, or on a shared
      scale with 0 at mid-gray;
    * ``"map"``      -- (h, w) signed, a diverging colormap (red for the class, blue against);
      ``peak_fraction`` of the largest value is drawn at full color;
    * ``"bars"``     -- (n,) signed bars; ``colors`` "hue" colors each bar by its hue;
    * ``"patches"``  -- (h, w, 3) uint8, ready to show (the words' own pictures).

    ``per_class``: each class on its own scale (stretched); else one scale for all classes,
    so that they compare.
    """

    style: str
    pictures: list
    peak_fraction: float = 1.0
    colors: Optional[str] = None
    per_class: bool = False


@dataclass(frozen=True)
class EvidenceMap:
    """A block's share of a score, summed onto what the block describes.

    ``values``: (h, w) over the image (pixels, cells, pooling regions) or (n,) bins;
    ``over_image``: the map lies over the whole image (drawn as a picture) rather than being
    bars (``colors`` "hue": each bar in its hue); ``parts``: an optional finer split as
    (part, contribution) pairs, largest |value| first (the words: which words gave the most;
    :meth:`BlockType.part_pictures` draws the parts).
    """

    values: np.ndarray
    over_image: bool
    parts: tuple = ()
    colors: Optional[str] = None


# A joint extraction: several blocks of one spec computed in one pass over the images.
# ``run(chunk, rows)`` writes every claimed block's columns of ``rows``.
@dataclass(frozen=True)
class JointExtraction:
    blocks: tuple
    run: Callable[[np.ndarray, np.ndarray], None]


class BlockType:
    """One kind of feature block; subclasses fill in the declarations (see the module doc)."""

    name: str = ""
    title: str = ""
    summary: str = ""
    kind: str = ""
    aliases: tuple = ()
    params: tuple = ()
    #: learns state from the training split (fit before extracting)
    fitted: bool = False
    #: columns are pixel values or their averages, strongly correlated (training defaults)
    pixel_like: bool = False
    #: at most this many images per extraction chunk (progress and cancel are checked between
    #: chunks); None: the pipeline's own
    chunk_images: Optional[int] = None
    #: standardize each column on its own (instead of one scale for the block's columns)
    column_scaled: bool = False

    # ----------------------------------------------------------------- parameters
    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def param_names(self) -> tuple:
        return tuple(p.name for p in self.params)

    def param_alias(self, key: str) -> str:
        for p in self.params:
            if key == p.name or key in p.aliases:
                return p.name
        return key

    def describe(self) -> str:
        """A help paragraph: the summary and each parameter."""
        lines = [f"{self.name}: {self.summary}"]
        lines += [f"  {p.describe()}" for p in self.params]
        return "\n".join(lines)

    # ----------------------------------------------------------------- layout
    def shape(self, params: dict, image_shape: tuple) -> tuple:
        """The block's output shape for (H, W) images (LinvizError when it does not fit)."""
        raise NotImplementedError

    def layout_params(self, params: dict, image_shape: tuple) -> dict:
        """``params`` plus what drawing the block needs (cells, channel, image shape...)."""
        return dict(params)

    def place(self, item, image_shape: tuple, start: int, index: int = 0) -> FeatureBlock:
        params = dict(item.params)
        shape = tuple(int(v) for v in self.shape(params, image_shape))
        size = int(np.prod(shape))
        return FeatureBlock(str(item), self.kind, self.layout_params(params, image_shape), start, start + size,
                            shape, index)

    # ----------------------------------------------------------------- extraction
    def extract(self, block: FeatureBlock, images: np.ndarray, out: np.ndarray, state=None) -> None:
        """Write the block's features of uint8 ``images`` (N, H, W, 3) into ``out`` (N, size),
        a view of the pipeline's matrix; ``state`` is the fitted state of a fitted block."""
        raise NotImplementedError

    def joint_extractions(self, blocks: Sequence[FeatureBlock]) -> list[JointExtraction]:
        """Groups of this spec's blocks this type computes together (default: none)."""
        return []

    def finish(self, block: FeatureBlock, out: np.ndarray) -> None:
        """After the columns are written: the ``sqrt`` option ("power normalization") of the
        blocks that have one (their values are >= 0)."""
        if block.params.get("sqrt"):
            np.sqrt(out, out=out)

    def warm_up_params(self, params: dict) -> dict:
        """Parameters that run the same kernels on tiny work (loading the compiled kernels
        ahead of the real work must not fit a full codebook)."""
        return dict(params)

    # ----------------------------------------------------------------- fitted blocks
    def fit(self, block: FeatureBlock, images: np.ndarray, seed: int, progress=None, cancel=None) -> dict:
        """Learn the state from training images; a dict of named arrays (fitted blocks only)."""
        raise LinvizError(f"feature block {block.feature} learns nothing")

    def state_layout(self, block: FeatureBlock) -> dict:
        """{array name: (dtype kinds, exact shape)} of a fitted state: what a file must hold."""
        return {}

    def check_state(self, block: FeatureBlock, state: dict) -> dict:
        """A fitted state read from a file, checked (LinvizError saying why if it is not fit
        for use); returns the arrays in the dtype extraction uses."""
        return {}

    # ----------------------------------------------------------------- reading
    def evidence_map(self, block: FeatureBlock, parts: np.ndarray, state=None) -> EvidenceMap:
        """Per-column contributions ``parts`` (the block's columns, float64) summed onto what
        the block describes."""
        return EvidenceMap(np.asarray(parts, dtype=np.float64), over_image=False)

    def weight_pictures(self, block: FeatureBlock, weights: np.ndarray, image_shape: tuple,
                        state=None) -> WeightPictures:
        """The weights (block size, C) of every class as numbers to draw."""
        return WeightPictures("bars", [weights[:, c] for c in range(weights.shape[1])])

    def part_pictures(self, block: FeatureBlock, state=None) -> Optional[np.ndarray]:
        """uint8 (n, h, w, 3) pictures of the parts an evidence map splits into (None: none)."""
        return None

    def short_name(self, block: FeatureBlock) -> str:
        """A label that fits beside a 64 px tile ('hog 8px', 'layout 4x4', 'words 1600')."""
        return self.name

    def reading(self, block: FeatureBlock) -> Optional[str]:
        """How to read its templates, for the templates view's caption (None: a histogram's
        bars, said once for all histograms)."""
        return None


FOR_COLOR = np.array([214, 96, 77], dtype=np.uint8)
AGAINST_COLOR = np.array([67, 147, 195], dtype=np.uint8)


def for_and_against_mosaic(pictures: np.ndarray, top, bottom, per_row: int = 4) -> np.ndarray:
    """A square picture of small pictures: ``top`` (indices into ``pictures``) in the upper
    half on a red frame (for), ``bottom`` in the lower half on a blue one (against),
    ``per_row`` a row, ``per_row // 2`` rows each."""
    n = per_row
    h = pictures.shape[1]
    side = n * h + n + 1
    out = np.empty((side, side, 3), dtype=np.uint8)
    half = (n // 2) * (h + 1)
    out[:half + 1] = FOR_COLOR
    out[half + 1:] = AGAINST_COLOR
    slots = n * n // 2
    chosen = [(k, j) for k, j in enumerate(list(top)[:slots])]
    chosen += [(slots + k, j) for k, j in enumerate(list(bottom)[:slots])]
    for k, j in chosen:
        r, c = divmod(k, n)
        y, x = 1 + r * (h + 1), 1 + c * (h + 1)
        out[y:y + h, x:x + h] = pictures[j]
    return out


@dataclass
class Registry:
    """The block types by spec name, in the order the features panel lists them."""

    types: dict = field(default_factory=dict)
    aliases: dict = field(default_factory=dict)

    def add(self, block_type: BlockType) -> None:
        if block_type.name in self.types:
            raise ValueError(f"feature block {block_type.name!r} registered twice")
        self.types[block_type.name] = block_type
        for alias in block_type.aliases:
            self.aliases[alias] = block_type.name
