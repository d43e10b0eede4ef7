"""Feature specs: which features, with which parameters, as a small immutable value.

Text form (what the CLI's ``--features`` and model files use): items separated by commas,
each a feature name followed by ``:key=value`` parameters, for example
``hog:cell=8:block=2,hue:bins=10``. Omitted parameters take their defaults; ``str(spec)``
is the canonical form with *every* parameter spelled out in a fixed order, so two specs
that mean the same thing print the same, and a saved spec does not change meaning if a
default changes later. A preset name (``best``, ``hog+hue``, ...) stands for its spec.

Each feature is a block type of :mod:`linviz.features.blocks`, which declares its
parameters (type, default, range or choices, help line); ``python main.py features --help``
and the features panel list them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from linviz.errors import LinvizError
from linviz.features.blocks import block_names, block_type, resolve_block_name

FEATURE_NAMES = block_names()

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
    # a bag of visual words learned from the training images (Coates, Lee & Ng 2011): 1,600 words
    # of 6x6 patches pooled over the quadrants (6,400 features), and a quicker 400-word version
    "words": "words",
    "words-quick": "words:k=400:samples=100000:iters=10",
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
    kind_of_block = block_type(name)
    values = {}
    for key, raw in given.items():
        key = kind_of_block.param_alias(key)
        if key not in kind_of_block.param_names():
            raise LinvizError(
                f"feature spec {text!r}: {name} has no parameter {key!r} "
                f"(it has {', '.join(kind_of_block.param_names())})"
            )
        param = kind_of_block.param(key)
        if param.kind is int:
            try:
                value = int(raw)
            except ValueError:
                raise LinvizError(f"feature spec {text!r}: {name}:{key} must be a whole number, got {raw!r}") from None
            if not param.low <= value <= param.high:
                raise LinvizError(f"feature spec {text!r}: {name}:{key} must be between {param.low} and "
                                  f"{param.high}, got {value}")
        else:
            match = [c for c in param.choices if c.lower() == raw.lower()]
            if not match:
                raise LinvizError(f"feature spec {text!r}: {name}:{key} must be one of {', '.join(param.choices)}, "
                                  f"got {raw!r}")
            value = match[0]
        values[key] = value
    params = tuple((p.name, values.get(p.name, p.default)) for p in kind_of_block.params)
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
        known = resolve_block_name(name)
        if known is None:
            raise LinvizError(
                f"feature spec {original!r}: unknown feature {name.lower()!r}; features: {', '.join(block_names())}; "
                f"presets: {', '.join(PRESETS)}"
            )
        given: dict[str, str] = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise LinvizError(f"feature spec {original!r}: expected key=value, got {pair!r}")
            key = key.strip().lower()
            if key in given:
                raise LinvizError(f"feature spec {original!r}: {known}:{key} given twice")
            given[key] = value.strip()
        item = _make_item(known, given, original)
        if item in items:
            raise LinvizError(f"feature spec {original!r}: {item} appears twice")
        items.append(item)
    return FeatureSpec(tuple(items))


def warm_up_version(spec) -> FeatureSpec:
    """The spec with every block's parameters made tiny where the block says so (the same
    kernels on little work: a words codebook of 8 words), for loading kernels ahead of time."""
    spec = parse_feature_spec(spec)
    items = []
    for item in spec.items:
        params = block_type(item.name).warm_up_params(dict(item.params))
        candidate = FeatureItem(item.name, tuple((key, params[key]) for key, _ in item.params))
        if candidate not in items:
            items.append(candidate)
    return FeatureSpec(tuple(items))
