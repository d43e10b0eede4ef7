"""Short names of feature specs, for a table cell or a caption: 'best', 'hog+hue', or the blocks
with their main parameter ('hog 4/8/16, hue 12')."""

from __future__ import annotations

_PRESET_NAMES: dict[str, str] = {}


def preset_names() -> dict[str, str]:
    """Canonical spec -> the preset's name."""
    if not _PRESET_NAMES:
        from linviz.features import PRESETS, parse_feature_spec

        for name, text in PRESETS.items():
            _PRESET_NAMES.setdefault(str(parse_feature_spec(text)), name)
    return _PRESET_NAMES


def short_spec(spec: str) -> str:
    """A preset's name when ``spec`` (canonical) is a preset, else each kind of block with its
    main parameter: 'hog:orient=9:cell=8:...,hue:bins=10:sqrt=0' -> 'hog 8, hue 10'."""
    preset = preset_names().get(spec)
    if preset is not None:
        return preset
    details: dict[str, list[str]] = {}
    for item in spec.split(","):
        kind, _, rest = item.partition(":")
        params = dict(p.split("=", 1) for p in rest.split(":") if "=" in p)
        detail = params.get("cell") or params.get("bins") or params.get("grid") or params.get("size", "")
        details.setdefault(kind, [])
        if detail not in ("", "0"):
            details[kind].append(detail)
    return ", ".join(f"{kind} {'/'.join(values)}" if values else kind for kind, values in details.items())


HISTOGRAM_WORDS = {"hue": "hue", "sat": "saturation", "val": "value"}


def describe_spec(spec: str) -> str:
    """A spec in words, every block of it: 'HOG at cells of 4, 8, 16 px (9 orientations, 2 x 2
    blocks, L1-sqrt, strongest channel); hue 12, saturation 8, value 8 bins histograms
    (square-rooted); 8 x 8 color layout'."""
    from linviz.features import parse_feature_spec

    items = parse_feature_spec(spec).items
    parts = []
    hogs = [dict(i.params) for i in items if i.name == "hog"]
    if hogs:
        cells = ", ".join(str(h["cell"]) for h in hogs)
        shared = []
        for key, words in (("orient", "{} orientations"), ("block", "{0} x {0} blocks"), ("norm", "{}"),
                           ("color", "{}")):
            values = {h[key] for h in hogs}
            if len(values) == 1:
                value = values.pop()
                if key == "color":
                    value = {"gray": "gray", "max": "strongest channel"}.get(value, value)
                if key == "norm":
                    value = {"none": "not normalized"}.get(value, value)
                shared.append(words.format(value))
        parts.append(f"HOG at cells of {cells} px ({', '.join(shared)})")
    histograms = [i for i in items if i.name in HISTOGRAM_WORDS]
    if histograms:
        bins = ", ".join(f"{HISTOGRAM_WORDS[i.name]} {i.param('bins')}" for i in histograms)
        rooted = all(i.param("sqrt") for i in histograms)
        parts.append(f"{bins} bins histograms" + (" (square-rooted)" if rooted else ""))
    for item in items:
        if item.name == "raw":
            size, gray = item.param("size"), item.param("gray")
            details = ([f"{size} x {size}"] if size else []) + (["gray"] if gray else [])
            parts.append("raw pixels" + (f" ({', '.join(details)})" if details else ""))
        elif item.name == "layout":
            parts.append(f"{item.param('grid')} x {item.param('grid')} color layout")
        elif item.name not in HISTOGRAM_WORDS and item.name != "hog":
            parts.append(f"{item.name} ({', '.join(f'{k} {v}' for k, v in item.params)})")
    return "; ".join(parts)
