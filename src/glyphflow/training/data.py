"""Training data: the configured filters over :mod:`glyphflow.io.glyphsets`, in memory
when the split fits ``data.memory_limit_mb``, streamed from its parts otherwise."""

from __future__ import annotations

import logging

from glyphflow.core.errors import UsageError
from glyphflow.io.glyphsets import (
    FontArrays,
    GlyphArrays,
    MemoryData,
    Selection,
    Source,
    StreamingData,
    describe,
    epoch_rng,
    load_items,
    reader_for,
)
from glyphflow.io.shards import list_shards
from glyphflow.training.config import DataConfig

__all__ = [
    "FontArrays",
    "GlyphArrays",
    "MemoryData",
    "Selection",
    "Source",
    "StreamingData",
    "describe",
    "epoch_rng",
    "load_items",
    "open_training_data",
    "selection",
]

_log = logging.getLogger(__name__)


def selection(source: Source, config: DataConfig) -> Selection:
    """The data section's filters resolved against ``source``."""
    return Selection.build(
        source,
        characters=config.characters,
        include=config.fonts.include,
        exclude=config.fonts.exclude,
        min_confidence=config.min_confidence,
    )


def open_training_data(
    source: Source,
    config: DataConfig,
    sel: Selection,
    kind: str,
    batch_size: int,
    seed: int,
    rank: int = 0,
    world: int = 1,
) -> MemoryData | StreamingData:
    """The training split, in memory when it fits ``memory_limit_mb`` (or as configured)."""
    split = config.train_split
    url = source.split_url(split)
    if not list_shards(url):
        raise UsageError(f"no training records at {url} (data.train_split is {split!r})")
    mode = config.mode
    if mode == "auto":
        reader, strided = reader_for(source, split, sel, rank, world)
        height, width = source.image_shape
        per_row = height * width * (len(source.charset) if source.layout == "font" else 1)
        estimate = reader.num_rows() * per_row // (world if strided else 1)
        if source.layout == "glyph" and kind == "fonts":
            estimate *= 2  # grouped fonts hold a slot for every character
        mode = "memory" if estimate <= config.memory_limit_mb << 20 else "stream"
        _log.info("training data: about %.1f MB -> %s mode", estimate / 2**20, mode)
    if mode == "memory":
        items = load_items(source, split, sel, kind, rank, world)
        if len(items) == 0:
            raise UsageError(f"no training items left in {url} after the data filters")
        return MemoryData(items, batch_size, seed, rank)
    return StreamingData(
        source, split, sel, kind, batch_size, seed, config.shuffle_buffer, rank, world
    )
