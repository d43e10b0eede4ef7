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
