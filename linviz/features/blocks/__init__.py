"""The feature blocks: one module per kind, each declaring its parameters, its size for an
image size, its extraction and how its weights and evidence are read (see
:mod:`linviz.features.blocks.base`). Spec parsing, the pipeline, the features panel, the
evidence maps, the templates view and the CLI read these declarations; adding a block is one
module here and its line in :data:`_MODULES`.
"""

from __future__ import annotations

import importlib

from linviz.features.blocks.base import (BlockType, EvidenceMap, FeatureBlock, JointExtraction, Param, Registry,
                                         WeightPictures)

# In the order the features panel lists them.
_MODULES = ("raw", "hog", "histograms", "layout", "words")


def _build_registry() -> Registry:
    registry = Registry()
    for name in _MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        for block_type in getattr(module, "BLOCKS", None) or (module.BLOCK,):
            registry.add(block_type)
    return registry


_REGISTRY = _build_registry()


def block_types() -> tuple:
    """Every block type, in the features panel's order."""
    return tuple(_REGISTRY.types.values())


def block_names() -> tuple:
    return tuple(_REGISTRY.types)


def resolve_block_name(name: str):
    """The spec name for ``name`` or one of its aliases (any case), else None."""
    name = name.lower()
    name = _REGISTRY.aliases.get(name, name)
    return name if name in _REGISTRY.types else None


def block_type(name: str) -> BlockType:
    """The block type of a spec name (KeyError for an unknown one)."""
    return _REGISTRY.types[name]


__all__ = ["BlockType", "EvidenceMap", "FeatureBlock", "JointExtraction", "Param", "WeightPictures",
           "block_names", "block_type", "block_types", "resolve_block_name"]
