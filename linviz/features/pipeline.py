"""The feature pipeline: a spec -> one float32 matrix, standardized on the training split.

``FeaturePipeline(spec)``
    ``extract(images)`` computes every feature of the spec into one preallocated float32
    ``(N, D)`` matrix, in chunks of images (progress is reported and ``cancel`` checked
    between chunks, so a GUI can show a bar and stop it); ``fit(train_features)`` learns
    the standardization; ``transform_features`` applies it and appends the bias column (=1)
    *last*; ``transform(images)`` does both for new images, including a single image.

Standardization. Every column gets its training mean subtracted. The scale is one number
per *block* (a feature of the spec): the root mean square of that block's column standard
deviations, so each block has unit average variance. Why per block and not per column:

* templates stay readable: within a block, weights keep their relative sizes, so a raw
  template still looks like the picture it prefers and a HOG template shows which
  orientations matter (per-column scaling would inflate rare, near-constant columns --
  border pixels, rare orientations -- into noise);
* blocks of very different sizes or units (HOG in [0, 0.2], a hue histogram summing to
  1, pixels in [0, 1]) are still put on an equal footing, which is what the linear model
  needs; the accuracy study measured both choices (see ``bench_study``).

``scaling="column"`` is available for comparison. Constant columns get scale 1.

Caching: ``extract(..., cache_key=...)`` keeps results in memory, keyed by
``(cache_key, canonical spec, image shape)`` (callers pass e.g. ``f"{dataset.key}/train"``),
in a least-recently-used cache bounded by ``$LINVIZ_FEATURE_CACHE_MB`` (default 1024 MB).
Cached matrices are returned read-only. Nothing goes to disk: re-extracting CIFAR-10 takes
well under a second, less than reading it back would.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from typing import Optional

import numpy as np

from linviz import environment
from linviz.errors import LinvizError, ModelFileError
from linviz.features._images import as_rgb_batch
from linviz.limits import (FEATURE_SCALE_RANGE, MAX_FEATURE_MEAN, MAX_IMAGE_SIZE, MIN_IMAGE_SIZE, format_bytes,
                           memory_limit)
from linviz.features.blocks import FeatureBlock, block_type, block_types
from linviz.features.spec import FeatureSpec, parse_feature_spec
from linviz.features.standardize import column_moments, standardize
from linviz.progress import check_cancelled, report

STATE_VERSION = 1
CHUNK_IMAGES = 4096
SCALINGS = ("block", "column")


def _place_blocks(spec: FeatureSpec, image_shape) -> list[FeatureBlock]:
    blocks, start = [], 0
    for index, item in enumerate(spec.items):
        block = block_type(item.name).place(item, tuple(int(v) for v in image_shape[:2]), start, index)
        blocks.append(block)
        start = block.stop
    return blocks


def _extraction_plan(blocks: list[FeatureBlock]) -> tuple[list, list[FeatureBlock]]:
    """(joint extractions, blocks extracted on their own): each block type may claim groups
    of the spec's blocks that it computes together in one pass (the first claim wins)."""
    claimed, joint = set(), []
    for kind in block_types():
        for extraction in kind.joint_extractions(blocks):
            if any(b.index in claimed for b in extraction.blocks):
                continue
            claimed.update(b.index for b in extraction.blocks)
            joint.append(extraction)
    return joint, [b for b in blocks if b.index not in claimed]


# --------------------------------------------------------------------------- cache


def _nbytes(value) -> int:
    if isinstance(value, dict):
        return sum(int(v.nbytes) for v in value.values())
    return int(value.nbytes)


def _freeze(value) -> None:
    for array in (value.values() if isinstance(value, dict) else (value,)):
        array.flags.writeable = False


class _FeatureCache:
    """A thread-safe, byte-bounded LRU of read-only arrays (or dicts of arrays): extracted
    feature matrices, and the fitted blocks' states."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._items: "OrderedDict[tuple, object]" = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        if _nbytes(value) > self.max_bytes:
            return
        _freeze(value)
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while sum(_nbytes(v) for v in self._items.values()) > self.max_bytes:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


#: Extracted features kept for reuse: ``$LINVIZ_FEATURE_CACHE_MB`` (0 to 1 TiB; default 1024).
FEATURE_CACHE = _FeatureCache(int(environment.number("LINVIZ_FEATURE_CACHE_MB", 1024.0, 0.0, 2.0**20) * 2**20))
# Fitted blocks' states (a codebook is a few MB), keyed by the training images, the block and
# the seed: extracting again with the same training split does not fit again.
FITTED_STATE_CACHE = _FeatureCache(64 * 2**20)


# --------------------------------------------------------------------------- pipeline


class FeaturePipeline:
    """Spec -> float32 feature matrix; standardization fitted on training features only."""

    def __init__(self, spec, scaling: str = "block", seed: int = 0):
        self.spec: FeatureSpec = parse_feature_spec(spec)
        if scaling not in SCALINGS:
            raise LinvizError(f"feature pipeline: scaling must be one of {', '.join(SCALINGS)}, got {scaling!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2**63:
            raise LinvizError(f"feature pipeline: the seed must be a whole number from 0 to 2^63 - 1, got {seed!r}")
        self.scaling = scaling
        self.seed = int(seed)  # what fitted blocks draw their random patches and start from
        self.image_shape: Optional[tuple] = None
        self.mean_: Optional[np.ndarray] = None
        self.scale_: Optional[np.ndarray] = None
        # fitted blocks' states by block index (a codebook and its whitening), learned from the
        # training images by fit_blocks or read from a model file: never refitted
        self.states_: dict[int, dict[str, np.ndarray]] = {}
        self._state_digest: Optional[str] = None
        self._blocks: Optional[list[FeatureBlock]] = None
        # seconds spent so far, per phase (fitting blocks, extraction, statistics, standardization)
        self.timings: dict[str, float] = {"fit_blocks": 0.0, "extract": 0.0, "fit": 0.0, "standardize": 0.0}

    def __repr__(self) -> str:
        fitted = "fitted" if self.is_fitted else "not fitted"
        return f"FeaturePipeline({str(self.spec)!r}, scaling={self.scaling!r}, {fitted})"

    # -- layout

    def blocks_for(self, image_shape) -> list[FeatureBlock]:
        """The column blocks for images of ``image_shape`` (H, W[, 3])."""
        return _place_blocks(self.spec, image_shape)

    @property
    def blocks(self) -> list[FeatureBlock]:
        """Column ranges of each feature (known once images were seen or the state loaded)."""
        if self._blocks is None:
            raise LinvizError("feature pipeline: blocks are known after the first extract() or fit()")
        return self._blocks

    @property
    def dim(self) -> int:
        """Number of feature columns, without the bias."""
        return self.blocks[-1].stop

    @property
    def is_fitted(self) -> bool:
        return self.mean_ is not None

    @property
    def has_fitted_blocks(self) -> bool:
        """The spec has blocks that learn from the training images (``words``)."""
        return any(block_type(item.name).fitted for item in self.spec.items)

    @property
    def blocks_fitted(self) -> bool:
        """Every block that learns from the training images has its state."""
        return self._blocks is not None and all(b.index in self.states_ for b in self._blocks if b.type.fitted)

    def state_of(self, block: FeatureBlock):
        """The fitted state of ``block`` (None for a block that learns nothing)."""
        return self.states_.get(block.index)

    def _set_image_shape(self, shape) -> None:
        shape = (int(shape[0]), int(shape[1]))
        if self.image_shape is None:
            self._blocks = self.blocks_for(shape)
            self.image_shape = shape
        elif shape != self.image_shape:
            raise LinvizError(
                f"feature pipeline: images are {shape[0]}x{shape[1]} but this pipeline was set up for "
                f"{self.image_shape[0]}x{self.image_shape[1]} images"
            )

    # -- extraction

    def extract(self, images, progress=None, cancel=None, *, cache_key: Optional[str] = None) -> np.ndarray:
        """Unstandardized features, float32 ``(N, D)``, no bias column.

        ``images``: uint8 ``(N, H, W, 3)`` or one ``(H, W, 3)``. ``progress(done, total)`` is
        called after each chunk of images, ``cancel`` checked before each (raises
        :class:`linviz.errors.Cancelled`). With ``cache_key`` the result is cached in memory
        (see module docstring) and may come back read-only.
        """
        arr = as_rgb_batch(images, "features")
        self._set_image_shape(arr.shape[1:3])
        check_feature_memory(self.spec, len(arr), self.dim)
        self._check_blocks_fitted()
        key = None
        if cache_key is not None:
            key = (str(cache_key), str(self.spec), arr.shape, self.state_digest())
            cached = FEATURE_CACHE.get(key)
            if cached is not None:
                report(progress, len(arr), len(arr))
                return cached
        out = self._extract_into(arr, np.empty((arr.shape[0], self.dim), dtype=np.float32), progress, cancel)
        if key is not None:
            FEATURE_CACHE.put(key, out)
        return out

    def _extract_into(self, arr: np.ndarray, out: np.ndarray, progress=None, cancel=None) -> np.ndarray:
        """Features of ``arr`` into the first ``dim`` columns of ``out`` (C-contiguous float32,
        ``dim`` or more columns), every kernel writing straight into its columns."""
        started = time.perf_counter()
        n = arr.shape[0]
        blocks = self.blocks
        joint, alone = _extraction_plan(blocks)
        chunk_images = min([CHUNK_IMAGES] + [b.type.chunk_images for b in blocks if b.type.chunk_images])
        report(progress, 0, n)
        for start in range(0, n, chunk_images):
            check_cancelled(cancel)
            stop = min(n, start + chunk_images)
            chunk = arr[start:stop]
            rows = out[start:stop]
            for extraction in joint:
                extraction.run(chunk, rows)
            for block in alone:
                block.type.extract(block, chunk, rows[:, block.start:block.stop], self.states_.get(block.index))
            for block in blocks:
                block.type.finish(block, rows[:, block.start:block.stop])
            report(progress, stop, n)
        self.timings["extract"] += time.perf_counter() - started
        return out

    # -- fitted blocks

    def fit_blocks(self, images, progress=None, cancel=None, *, cache_key: Optional[str] = None) -> "FeaturePipeline":
        """Learn the state of every block that learns from images (the words' codebook) from
        ``images``, which must be *training* images; blocks already fitted keep their state.

        Deterministic from ``seed``. With ``cache_key`` (naming these images, as for
        :meth:`extract`) a state fitted before on the same images, block and seed is reused.
        ``progress(done, total)`` and ``cancel`` as for :meth:`extract`.
        """
        arr = as_rgb_batch(images, "features")
        self._set_image_shape(arr.shape[1:3])
        todo = [b for b in self.blocks if b.type.fitted and b.index not in self.states_]
        if todo and arr.shape[0] == 0:
            raise LinvizError("feature pipeline: no training images to fit the feature blocks on")
        started = time.perf_counter()
        for k, block in enumerate(todo):
            key = None if cache_key is None else (str(cache_key), block.name, arr.shape, self.seed)
            state = FITTED_STATE_CACHE.get(key) if key is not None else None
            if state is None:
                def part(done, total, k=k):
                    report(progress, k * total + done, len(todo) * total)
                state = block.type.fit(block, arr, self.seed, part, cancel)
                if key is not None:
                    FITTED_STATE_CACHE.put(key, state)
            self.states_[block.index] = state
        self._state_digest = None
        self.timings["fit_blocks"] += time.perf_counter() - started
        return self

    def _check_blocks_fitted(self) -> None:
        missing = [b for b in self.blocks if b.type.fitted and b.index not in self.states_]
        if missing:
            raise LinvizError(f"feature pipeline: the {missing[0].feature} block learns from the training images: "
                              "fit it first (fit_blocks or fit_transform on the training split)")

    def state_digest(self) -> str:
        """A fingerprint of the fitted blocks' states ("" without any): part of the cache key,
        so features of one codebook are never served for another."""
        if self._state_digest is None:
            digest = hashlib.blake2b(digest_size=16)
            for index in sorted(self.states_):
                for name in sorted(self.states_[index]):
                    array = np.ascontiguousarray(self.states_[index][name])
                    digest.update(f"{index}:{name}:{array.dtype.str}:{array.shape}".encode())
                    digest.update(array.tobytes())
            self._state_digest = digest.hexdigest() if self.states_ else ""
        return self._state_digest

    # -- standardization

    def fit(self, features) -> "FeaturePipeline":
        """Learn per-column means and the scales from *training* features (``extract`` output)."""
        if self._blocks is None:
            raise LinvizError("feature pipeline: call extract() on images before fit()")
        X = np.asarray(features)
        if X.ndim != 2 or X.shape[1] != self.dim or X.shape[0] == 0:
            raise LinvizError(f"feature pipeline: fit expects a non-empty (N, {self.dim}) matrix, got {X.shape}")
        return self._fit_columns(np.ascontiguousarray(X, dtype=np.float32))

    def _fit_columns(self, X: np.ndarray) -> "FeaturePipeline":
        """Fit on the first ``dim`` columns of a C-contiguous float32 matrix (float64 sums:
        50,000 rows of float32 would lose digits)."""
        started = time.perf_counter()
        mean, var = column_moments(X, self.dim)
        std = np.sqrt(var)
        if self.scaling == "column":
            scale = std
        else:
            scale = np.empty_like(std)
            for block in self.blocks:
                columns = slice(block.start, block.stop)
                scale[columns] = std[columns] if block.type.column_scaled else np.sqrt(np.mean(var[columns]))
        scale = np.where(scale > 1e-8, scale, 1.0)
        self.mean_ = mean.astype(np.float32)
        self.scale_ = scale.astype(np.float32)
        self.timings["fit"] += time.perf_counter() - started
        return self

    def transform_features(self, features, out: Optional[np.ndarray] = None) -> np.ndarray:
        """Standardized features with the bias column (=1) last, float32 ``(N, D + 1)``;
        written into ``out`` when given (C-contiguous float32 of that shape)."""
        if not self.is_fitted:
            raise LinvizError("feature pipeline: not fitted (call fit on the training features first)")
        X = np.asarray(features, dtype=np.float32)
        if X.ndim == 1:
            X = X[None]
        if X.ndim != 2 or X.shape[1] != self.dim:
            raise LinvizError(f"feature pipeline: expected (N, {self.dim}) features, got {X.shape}")
        shape = (X.shape[0], self.dim + 1)
        if out is None:
            out = np.empty(shape, dtype=np.float32)
        elif out.shape != shape or out.dtype != np.float32 or not out.flags.c_contiguous:
            raise ValueError(f"feature pipeline: out must be C-contiguous float32 {shape}, got {out.dtype} {out.shape}")
        return self._standardize(np.ascontiguousarray(X), out)

    def _standardize(self, X: np.ndarray, out: np.ndarray) -> np.ndarray:
        started = time.perf_counter()
        standardize(X, out, self.mean_, (np.float32(1.0) / self.scale_).astype(np.float32))
        self.timings["standardize"] += time.perf_counter() - started
        return out

    def _extract_with_bias_column(self, images, progress, cancel) -> np.ndarray:
        """Unstandardized features in the first ``dim`` columns of an (N, dim + 1) matrix, to
        be standardized in place (no second matrix, no copy)."""
        arr = as_rgb_batch(images, "features")
        self._set_image_shape(arr.shape[1:3])
        check_feature_memory(self.spec, len(arr), self.dim)
        self._check_blocks_fitted()
        return self._extract_into(arr, np.empty((arr.shape[0], self.dim + 1), dtype=np.float32), progress, cancel)

    def fit_transform(self, images, progress=None, cancel=None, *, cache_key: Optional[str] = None) -> np.ndarray:
        """Fit the blocks that learn (if not yet), extract the training images, fit the
        standardization on them, return their standardized matrix."""
        if not self.blocks_fitted:
            self.fit_blocks(images, progress, cancel, cache_key=cache_key)
        if cache_key is not None:  # the cached unstandardized matrix must stay as it is
            features = self.extract(images, progress, cancel, cache_key=cache_key)
            return self.fit(features).transform_features(features)
        X = self._extract_with_bias_column(images, progress, cancel)
        if X.shape[0] == 0:
            raise LinvizError(f"feature pipeline: fit expects a non-empty (N, {self.dim}) matrix, got (0, {self.dim})")
        self._fit_columns(X)
        return self._standardize(X, X)

    def transform(self, images, progress=None, cancel=None, *, cache_key: Optional[str] = None) -> np.ndarray:
        """Extract + standardize any images (another split, or one new image)."""
        if not self.is_fitted:
            raise LinvizError("feature pipeline: not fitted (call fit on the training features first)")
        if cache_key is not None:
            return self.transform_features(self.extract(images, progress, cancel, cache_key=cache_key))
        X = self._extract_with_bias_column(images, progress, cancel)
        return self._standardize(X, X)

    # -- persistence

    def _restore_block_states(self, state) -> None:
        """The fitted blocks' states from a saved state: each array of the exact dtype kind and
        shape the spec implies, then checked by its block (finite, bounded); never refitted."""
        for block in self.blocks:
            if not block.type.fitted:
                continue
            arrays = {}
            for name, (kinds, shape) in block.type.state_layout(block).items():
                key = block_state_key(block, name)
                if key not in state:
                    raise ModelFileError(f"feature pipeline state: the {block.feature} block's {name} "
                                         f"({key!r}) is missing")
                array = np.asarray(state[key])
                if array.dtype.kind not in kinds or array.shape != tuple(shape):
                    raise ModelFileError(f"feature pipeline state: the {block.feature} block's {name} is "
                                         f"{array.dtype} {array.shape}, expected {tuple(shape)}")
                arrays[name] = array
            try:
                self.states_[block.index] = block.type.check_state(block, arrays)
            except LinvizError as exc:
                raise ModelFileError(f"feature pipeline state: the {block.feature} block's state is refused: "
                                     f"{exc}") from None
        self._state_digest = None

    def state(self) -> dict[str, np.ndarray]:
        """Everything needed to rebuild the fitted pipeline, as numpy arrays (npz-friendly)."""
        if not self.is_fitted:
            raise LinvizError("feature pipeline: not fitted, nothing to save")
        arrays = {
            "feature_spec": np.array(str(self.spec)),
            "feature_scaling": np.array(self.scaling),
            "feature_image_shape": np.array(self.image_shape, dtype=np.int64),
            "feature_mean": self.mean_.copy(),
            "feature_scale": self.scale_.copy(),
            "feature_state_version": np.array(STATE_VERSION, dtype=np.int64),
        }
        for block in self.blocks:
            if block.type.fitted:
                for name in block.type.state_layout(block):
                    arrays[block_state_key(block, name)] = np.ascontiguousarray(self.states_[block.index][name])
        return arrays

    def state_layout(self) -> dict[str, tuple[str, tuple]]:
        """{model-file key: (dtype kinds, exact shape)} of every fitted block's state arrays,
        known from the spec and the image shape before anything is read."""
        layout = {}
        for block in self.blocks:
            if block.type.fitted:
                for name, rule in block.type.state_layout(block).items():
                    layout[block_state_key(block, name)] = rule
        return layout

    @classmethod
    def from_state(cls, state, *, statistics: bool = True) -> "FeaturePipeline":
        """Rebuild a fitted pipeline from :meth:`state` (ModelFileError if inconsistent).

        Every field is checked as hostile input: a whole-number version, text spec and
        scaling, a square image shape of 4 to 512 pixels, finite means and positive finite
        scales of the right length. With ``statistics=False`` only the layout is rebuilt
        (the pipeline is not fitted): its ``dim`` tells how long the statistics must be
        before they are read.
        """
        try:
            version = _state_int(state["feature_state_version"], "state version")
            if version > STATE_VERSION:
                raise ModelFileError(f"feature pipeline state version {version} is newer than this linviz "
                                     f"({STATE_VERSION})")
            spec = _state_text(state["feature_spec"], "spec")
            scaling = _state_text(state["feature_scaling"], "scaling")
            shape = np.asarray(state["feature_image_shape"])
            if shape.dtype.kind not in "iu" or shape.shape != (2,):
                raise ModelFileError(f"feature pipeline state: the image shape must be 2 whole numbers, "
                                     f"got {shape.dtype} {shape.shape}")
            height, width = (int(v) for v in shape)
            if height != width or not MIN_IMAGE_SIZE <= height <= MAX_IMAGE_SIZE:
                raise ModelFileError(f"feature pipeline state: images of {height}x{width} pixels (square, "
                                     f"{MIN_IMAGE_SIZE} to {MAX_IMAGE_SIZE} a side, expected)")
            pipeline = cls(spec, scaling=scaling)
            pipeline._set_image_shape((height, width))
            if not statistics:
                return pipeline
            pipeline._restore_block_states(state)
            mean = np.asarray(state["feature_mean"])
            scale = np.asarray(state["feature_scale"])
        except KeyError as exc:
            raise ModelFileError(f"feature pipeline state: missing {exc.args[0]!r}") from None
        except ModelFileError:
            raise
        except LinvizError as exc:
            raise ModelFileError(f"feature pipeline state: {exc}") from None
        if mean.shape != (pipeline.dim,) or scale.shape != (pipeline.dim,) or mean.dtype.kind != "f" or (
                scale.dtype.kind != "f"):
            raise ModelFileError(
                f"feature pipeline state: mean/scale of shape {mean.shape}/{scale.shape} do not fit "
                f"{pipeline.dim} features of {pipeline.spec}"
            )
        if not np.isfinite(mean).all():
            raise ModelFileError("feature pipeline state: the feature means contain NaN or infinite values")
        if not (np.isfinite(scale).all() and np.all(scale > 0)):
            raise ModelFileError("feature pipeline state: the feature scales must be finite and positive")
        # Bounded too: with bounded weights, every score of every image is then a finite float32.
        if mean.size and np.abs(mean).max() > MAX_FEATURE_MEAN:
            raise ModelFileError(f"feature pipeline state: the feature means must lie within ±{MAX_FEATURE_MEAN:g}")
        if scale.size and not (FEATURE_SCALE_RANGE[0] <= scale.min() and scale.max() <= FEATURE_SCALE_RANGE[1]):
            raise ModelFileError(f"feature pipeline state: the feature scales must lie from {FEATURE_SCALE_RANGE[0]:g} "
                                 f"to {FEATURE_SCALE_RANGE[1]:g}")
        pipeline.mean_, pipeline.scale_ = mean.astype(np.float32), scale.astype(np.float32)
        return pipeline


def block_state_key(block: FeatureBlock, name: str) -> str:
    """The model-file key of one array of a fitted block's state: feature_block<index>_<name>."""
    return f"feature_block{block.index}_{name}"


def _state_text(value, what: str) -> str:
    array = np.asarray(value)
    if array.shape != () or array.dtype.kind != "U":
        raise ModelFileError(f"feature pipeline state: the {what} must be text, got {array.dtype} {array.shape}")
    return str(array[()])


def _state_int(value, what: str) -> int:
    array = np.asarray(value)
    if array.shape != () or array.dtype.kind not in "iu":
        raise ModelFileError(f"feature pipeline state: the {what} must be a whole number, got "
                             f"{array.dtype} {array.shape}")
    return int(array[()])


def check_feature_memory(spec, n_images: int, dim: int) -> None:
    """Refuse, with the figure, a feature matrix larger than half of this machine's memory.

    A valid spec can still be enormous (``hog:cell=1:block=16:orient=180`` makes 13 million
    features per 32x32 image: 3 TB for CIFAR-10); this is checked before anything is
    allocated.
    """
    needed = int(n_images) * int(dim) * 4
    limit = memory_limit()
    if needed > limit:
        raise LinvizError(
            f"feature spec {str(spec)!r}: {int(n_images):,} images x {int(dim):,} features need "
            f"{format_bytes(needed)}, more than half of this machine's memory ({format_bytes(limit)}); "
            "choose larger cells, smaller blocks or fewer orientations"
        )
