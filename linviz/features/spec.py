"""Feature specs: which features, with which parameters, as a small immutable value.

Text form (what the CLI's ``--features`` and model files use): items separated by commas,
each a feature name followed by ``:key=value`` parameters, for example
``hog:cell=8:block=2,hue:bins=10``. Omitted parameters take their defaults; ``str(spec)``
is the canonical form with *every* parameter spelled out in a fixed order, so two specs
that mean the same thing print the same, and a saved spec does not change meaning if a
default changes later. A preset name (``best``, ``hog+hue``, ...) stands for its spec.

Features and parameters (defaults in brackets):

=========  ====================================================================
raw        raw pixels in [0, 1]: ``gray`` (0/1) [0], ``size`` (average down to
           size x size; 0 = keep) [0]
hog        HOG: ``orient`` [9], ``cell`` pixels [8], ``block`` cells [1], ``norm``
           (L1, L1-sqrt, L2, L2-Hys, none) [L2-Hys], ``color`` (gray = luma, max = the
           strongest channel's gradient) [gray], ``sqrt`` (0/1: square root of
           each value, "power normalization") [0]
hue        chroma-weighted HSV hue histogram: ``bins`` [10], ``sqrt`` [0]
sat        HSV saturation histogram: ``bins`` [10], ``sqrt`` [0]
val        HSV value histogram: ``bins`` [10], ``sqrt`` [0]
layout     image averaged to grid x grid RGB: ``grid`` [4]
=========  ====================================================================
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from linviz.errors import LinvizError
from linviz.features.hog_descriptor import HOG_NORMS

# name -> ordered {param: (type, default)}; the order is the canonical order
_PARAMS: dict[str, dict[str, tuple[type, Any]]] = {
    "raw": {"gray": (int, 0), "size": (int, 0)},
    "hog": {
        "orient": (int, 9),
        "cell": (int, 8),
        "block": (int, 1),
        "norm": (str, "L2-Hys"),
        "color": (str, "gray"),
        "sqrt": (int, 0),
    },
    "hue": {"bins": (int, 10), "sqrt": (int, 0)},
    "sat": {"bins": (int, 10), "sqrt": (int, 0)},
    "val": {"bins": (int, 10), "sqrt": (int, 0)},
    "layout": {"grid": (int, 4)},
}
_ALIASES = {
    "pixels": "raw",
    "saturation": "sat",
    "value": "val",
    "color_layout": "layout",
    "hue_histogram": "hue",
}
_PARAM_ALIASES = {
    "hog": {"orientations": "orient", "pixels_per_cell": "cell", "cells_per_block": "block", "block_norm": "norm"},
    "raw": {"grayscale": "gray"},
}
_RANGES = {
    ("raw", "gray"): (0, 1),
    ("raw", "size"): (0, 1024),
    ("hog", "orient"): (1, 180),
    ("hog", "cell"): (1, 256),
    ("hog", "block"): (1, 16),
    ("hog", "sqrt"): (0, 1),
    ("hue", "bins"): (1, 360),
    ("sat", "bins"): (1, 360),
    ("val", "bins"): (1, 360),
    ("hue", "sqrt"): (0, 1),
    ("sat", "sqrt"): (0, 1),
    ("val", "sqrt"): (0, 1),
    ("layout", "grid"): (1, 256),
}
_CHOICES = {("hog", "norm"): HOG_NORMS, ("hog", "color"): ("gray", "max")}

FEATURE_NAMES = tuple(_PARAMS)

# The best preset comes out of the accuracy study (``python main.py bench --only study``).
PRESETS: dict[str, str] = {
    "raw": "raw",
    "raw16": "raw:size=16",
    "hog": "hog",
    # the course's features: HOG 9 orientations / 8x8 cells left unnormalized as the course
    # computes them (0.515 on CIFAR-10; per-cell L2-Hys gives 0.450), and a 10-bin hue histogram
    "hog+hue": "hog:orient=9:cell=8:block=1:norm=none,hue:bins=10",
    "color": "hue:bins=12,sat:bins=8,val:bins=8,layout:grid=4",
    # the accuracy study's winner: HOG at three cell sizes on the strongest color channel,
    # color histograms and an 8x8 color layout (D = 2344; see README / bench_study)
    "best": "hog:cell=4:block=2:norm=L1-sqrt:color=max,hog:cell=8:block=2:norm=L1-sqrt:color=max,"
    "hog:cell=16:block=2:norm=L1-sqrt:color=max,hue:bins=12:sqrt=1,sat:bins=8:sqrt=1,val:bins=8:sqrt=1,"
    "layout:grid=8",
}


@dataclass(frozen=True)
class FeatureItem:
    """One feature of a spec: its name and its parameters (all of them, canonical order)."""

    name: str
    params: tuple[tuple[str, Any], ...]

    def param(self, key: str):
        return dict(self.params)[key]

    def __str__(self) -> str:
        return ":".join([self.name] + [f"{k}={v}" for k, v in self.params])


@dataclass(frozen=True)
class FeatureSpec:
    """An immutable feature spec; ``str(spec)`` is its canonical text."""

    items: tuple[FeatureItem, ...]

    def __post_init__(self):
        if not self.items:
            raise LinvizError("feature spec: no features")

    def __str__(self) -> str:
        return ",".join(str(item) for item in self.items)

    def to_json(self) -> str:
        """JSON text (a string holding the canonical spec)."""
        return json.dumps(str(self))

    @staticmethod
    def from_json(text: str) -> "FeatureSpec":
        return parse_feature_spec(json.loads(text))


def _make_item(name: str, given: dict[str, str], text: str) -> FeatureItem:
    table = _PARAMS[name]
    values = {}
    for key, raw in given.items():
        key = _PARAM_ALIASES.get(name, {}).get(key, key)
        if key not in table:
            raise LinvizError(
                f"feature spec {text!r}: {name} has no parameter {key!r} (it has {', '.join(table)})"
            )
        kind, _ = table[key]
        if kind is int:
            try:
                value = int(raw)
            except ValueError:
                raise LinvizError(f"feature spec {text!r}: {name}:{key} must be a whole number, got {raw!r}") from None
            lo, hi = _RANGES.get((name, key), (-(2**31), 2**31))
            if not lo <= value <= hi:
                raise LinvizError(f"feature spec {text!r}: {name}:{key} must be between {lo} and {hi}, got {value}")
        else:
            choices = _CHOICES[(name, key)]
            match = [c for c in choices if c.lower() == raw.lower()]
            if not match:
                raise LinvizError(f"feature spec {text!r}: {name}:{key} must be one of {', '.join(choices)}, got {raw!r}")
            value = match[0]
        values[key] = value
    params = tuple((key, values.get(key, default)) for key, (_, default) in table.items())
    return FeatureItem(name, params)


def parse_feature_spec(text) -> FeatureSpec:
    """A preset name or a comma-separated spec -> :class:`FeatureSpec` (LinvizError if bad).

    Also accepts a FeatureSpec (returned as is).
    """
    if isinstance(text, FeatureSpec):
        return text
    if not isinstance(text, str) or not text.strip():
        raise LinvizError("feature spec: empty; give a preset (" + ", ".join(PRESETS) + ") or e.g. 'hog,hue'")
    original = text
    text = text.strip()
    if text.lower() in PRESETS:
        text = PRESETS[text.lower()]
    items = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise LinvizError(f"feature spec {original!r}: empty item")
        name, *pairs = [p.strip() for p in part.split(":")]
        name = _ALIASES.get(name.lower(), name.lower())
        if name not in _PARAMS:
            raise LinvizError(
                f"feature spec {original!r}: unknown feature {name!r}; features: {', '.join(FEATURE_NAMES)}; "
                f"presets: {', '.join(PRESETS)}"
            )
        given: dict[str, str] = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise LinvizError(f"feature spec {original!r}: expected key=value, got {pair!r}")
            key = key.strip().lower()
            if key in given:
                raise LinvizError(f"feature spec {original!r}: {name}:{key} given twice")
            given[key] = value.strip()
        item = _make_item(name, given, original)
        if item in items:
            raise LinvizError(f"feature spec {original!r}: {item} appears twice")
        items.append(item)
    return FeatureSpec(tuple(items))
