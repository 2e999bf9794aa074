"""Glyph datasets as arrays: the records of a preprocessing output, filtered, in memory
or streamed, in an order fixed by a seed.

The input is a preprocessing (or scoring) output: ``train/ val/ test/`` folders of Parquet
parts in one of two layouts (``glyph``: a row per glyph; ``font``: a row per font with
all its glyphs and a presence mask). Readers ask for one of two kinds of items:

- ``glyphs``: :class:`GlyphArrays` of single glyph images and labels;
- ``fonts``: :class:`FontArrays` of every glyph of a font and a presence mask.

Either layout gives either kind. A :class:`Selection` (characters, family patterns,
minimum classifier confidence of scored records) applies while reading. The order of
items in an epoch depends only on (seed, epoch, rank), so a resumed training run sees
exactly the batches an uninterrupted one would. With several ranks each reads its own
parts. Training reads its splits here; evaluation and serving can read the test split
the same way.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from glyphflow.core.errors import UsageError
from glyphflow.io import records, storage
from glyphflow.io.outputs import read_manifest
from glyphflow.io.shards import ShardReader, list_shards

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
    "reader_for",
]

_log = logging.getLogger(__name__)


def epoch_rng(seed: int, *parts: int) -> np.random.Generator:
    """A generator determined by the seed and the given counters (epoch, step, rank...)."""
    return np.random.default_rng([seed & 0xFFFFFFFF, *(p & 0xFFFFFFFF for p in parts)])


# --------------------------------------------------------------------------- source


@dataclass(frozen=True)
class Source:
    """What an input folder holds: layout, charset, image shape, render settings."""

    url: str
    layout: str  # "glyph" or "font"
    charset: str
    image_shape: tuple[int, int]
    render: dict[str, Any]
    columns: tuple[str, ...]
    manifest: dict[str, Any] | None = None

    def split_url(self, split: str) -> str:
        return storage.join(self.url, split)


def describe(url: str) -> Source:
    """Read the layout, charset and image shape of the records at ``url`` (and its manifest)."""
    schema = None
    for split in ("train", "val", "test"):
        if list_shards(storage.join(url, split)):
            schema = ShardReader(storage.join(url, split)).schema
            break
    if schema is None:
        raise UsageError(
            f"no glyph records under {url}: expected train/, val/, test/ folders of "
            "part-NNNNN.parquet (the output of `glyphflow preprocess`)"
        )
    names = tuple(schema.names)
    if "image" in names and "label" in names:
        layout = "glyph"
    elif "images" in names and "present" in names:
        layout = "font"
    else:
        raise UsageError(
            f"{url}: records are neither the glyph nor the font layout (columns: {names})"
        )
    try:
        charset = records.charset_of(schema)
        shape = records.image_shape(schema)
    except ValueError as err:
        raise UsageError(f"{url}: {err}") from None
    manifest = read_manifest(url)
    config = manifest.config if manifest is not None else {}
    # Preprocessing keeps the render settings in its config; stages that pass glyph
    # records on (scoring) carry them forward in the manifest's extra.
    extra = manifest.extra if manifest is not None else {}
    render = dict(config.get("render") or extra.get("render") or {})
    if not render:
        _log.warning(
            "%s: the input manifest has no render settings; the model will carry none", url
        )
    return Source(
        url,
        layout,
        charset,
        shape,
        render,
        names,
        manifest.model_dump(mode="json") if manifest is not None else None,
    )


# --------------------------------------------------------------------------- items


@dataclass
class GlyphArrays:
    """Single glyphs: ``images`` uint8 [N, H, W], ``labels`` int64 [N] (model charset)."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def take(self, index: np.ndarray) -> GlyphArrays:
        return GlyphArrays(self.images[index], self.labels[index])

    @staticmethod
    def concat(parts: list[GlyphArrays], shape: tuple[int, int]) -> GlyphArrays:
        if not parts:
            return GlyphArrays(np.zeros((0, *shape), np.uint8), np.zeros(0, np.int64))
        return GlyphArrays(
            np.concatenate([p.images for p in parts]), np.concatenate([p.labels for p in parts])
        )


@dataclass
class FontArrays:
    """Whole fonts: ``images`` uint8 [F, C, H, W], ``present`` bool [F, C], ids and families."""

    images: np.ndarray
    present: np.ndarray
    font_ids: list[str] = field(default_factory=list)
    families: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.present.shape[0])

    def take(self, index: np.ndarray) -> FontArrays:
        idx = np.asarray(index)
        return FontArrays(
            self.images[idx],
            self.present[idx],
            [self.font_ids[i] for i in idx.tolist()],
            [self.families[i] for i in idx.tolist()],
        )

    @staticmethod
    def concat(parts: list[FontArrays], count: int, shape: tuple[int, int]) -> FontArrays:
        if not parts:
            return FontArrays(
                np.zeros((0, count, *shape), np.uint8), np.zeros((0, count), bool), [], []
            )
        return FontArrays(
            np.concatenate([p.images for p in parts]),
            np.concatenate([p.present for p in parts]),
            [i for p in parts for i in p.font_ids],
            [f for p in parts for f in p.families],
        )

    def glyphs(self) -> GlyphArrays:
        """Every present glyph as a single item."""
        fonts, chars = np.nonzero(self.present)
        return GlyphArrays(self.images[fonts, chars], chars.astype(np.int64))


Items = GlyphArrays | FontArrays


# --------------------------------------------------------------------------- selection


@dataclass
class Selection:
    """The filters of a config resolved against a source: model charset and label map."""

    charset: str
    remap: np.ndarray  # source label -> model label, or -1 (dropped)
    include: list[re.Pattern[str]]
    exclude: list[re.Pattern[str]]
    min_confidence: float | None

    @classmethod
    def build(
        cls,
        source: Source,
        characters: str | None = None,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        min_confidence: float | None = None,
    ) -> Selection:
        """Resolve filters against ``source``: ``characters`` (kept in the dataset's order),
        family regexes searched in the family name, minimum classifier confidence."""
        charset = source.charset
        if characters is not None:
            unknown = sorted({c for c in characters if c not in source.charset})
            if unknown:
                raise UsageError(
                    f"data.characters: {''.join(unknown)!r} not in the dataset's charset "
                    f"{source.charset!r}"
                )
            charset = "".join(c for c in source.charset if c in characters)
        remap = np.array([charset.find(c) for c in source.charset], dtype=np.int64)
        if min_confidence is not None and "confidence" not in source.columns:
            _log.warning(
                "data.min_confidence is set but %s has no confidence column (records not "
                "scored); no glyph is dropped for confidence",
                source.url,
            )
            min_confidence = None
        return cls(
            charset,
            remap,
            [re.compile(p) for p in include],
            [re.compile(p) for p in exclude],
            min_confidence,
        )

    def family_ok(self, family: str | None) -> bool:
        name = family or ""
        if self.include and not any(p.search(name) for p in self.include):
            return False
        return not any(p.search(name) for p in self.exclude)

    def family_mask(self, families: pa.Array) -> np.ndarray:
        if not self.include and not self.exclude:
            return np.ones(len(families), bool)
        unique = pc.unique(families).to_pylist()
        allowed = pa.array([f for f in unique if self.family_ok(f)], type=families.type)
        return np.asarray(pc.fill_null(pc.is_in(families, value_set=allowed), False))

    def columns(self, source: Source) -> list[str]:
        base = ["font_id", "family"]
        base += ["label", "image"] if source.layout == "glyph" else ["images", "present"]
        if self.min_confidence is not None:
            base.append("confidence")
        return base


# --------------------------------------------------------------------------- conversion


def _glyph_batch(
    batch: pa.RecordBatch, source: Source, sel: Selection
) -> tuple[list[str], list[str], GlyphArrays]:
    """Glyph-layout rows that pass the filters: their font ids, families and arrays."""
    labels = np.asarray(batch.column("label").to_numpy(zero_copy_only=False), dtype=np.int64)
    mapped = sel.remap[labels]
    keep = mapped >= 0
    keep &= sel.family_mask(batch.column("family"))
    if sel.min_confidence is not None:
        conf = np.asarray(
            pc.fill_null(batch.column("confidence"), 0.0).to_numpy(zero_copy_only=False)
        )
        keep &= conf >= sel.min_confidence
    index = np.nonzero(keep)[0]
    images = records.images_from_arrow(batch.column("image"), source.image_shape)[index]
    font_ids = batch.column("font_id").take(pa.array(index)).to_pylist()
    families = batch.column("family").take(pa.array(index)).to_pylist()
    return font_ids, families, GlyphArrays(np.ascontiguousarray(images), mapped[index])


def _font_batch(batch: pa.RecordBatch, source: Source, sel: Selection) -> FontArrays:
    """Font-layout rows that pass the filters, reduced to the model charset."""
    count = len(source.charset)
    height, width = source.image_shape
    keep_chars = np.nonzero(sel.remap >= 0)[0]
    flags = records.images_from_arrow(batch.column("present"), (count,))
    present = flags[:, keep_chars] > 0
    if sel.min_confidence is not None:
        conf_col = batch.column("confidence")
        conf = np.zeros((len(batch), count), np.float32)
        for row, values in enumerate(conf_col.to_pylist()):
            if values is not None:
                conf[row, : len(values)] = values
        present &= conf[:, keep_chars] >= sel.min_confidence
    rows = sel.family_mask(batch.column("family")) & present.any(axis=1)
    index = np.nonzero(rows)[0]
    images = records.images_from_arrow(batch.column("images"), (count, height, width))
    return FontArrays(
        np.ascontiguousarray(images[index][:, keep_chars]),
        present[index],
        batch.column("font_id").take(pa.array(index)).to_pylist(),
        batch.column("family").take(pa.array(index)).to_pylist(),
    )


def _group_fonts(
    font_ids: list[str],
    families: list[str],
    glyphs: GlyphArrays,
    count: int,
    shape: tuple[int, int],
) -> FontArrays:
    """Glyph rows grouped into fonts (in order of first appearance)."""
    order: dict[str, int] = {}
    names: list[str] = []
    for font_id, family in zip(font_ids, families, strict=True):
        if font_id not in order:
            order[font_id] = len(order)
            names.append(family)
    rows = np.array([order[f] for f in font_ids], dtype=np.int64)
    images = np.zeros((len(order), count, *shape), np.uint8)
    present = np.zeros((len(order), count), bool)
    images[rows, glyphs.labels] = glyphs.images
    present[rows, glyphs.labels] = True
    return FontArrays(images, present, list(order), names)


def _convert(batch: pa.RecordBatch, source: Source, sel: Selection, kind: str) -> Items:
    shape = source.image_shape
    if source.layout == "glyph":
        font_ids, families, glyphs = _glyph_batch(batch, source, sel)
        if kind == "glyphs":
            return glyphs
        return _group_fonts(font_ids, families, glyphs, len(sel.charset), shape)
    fonts = _font_batch(batch, source, sel)
    return fonts if kind == "fonts" else fonts.glyphs()


def _concat(parts: list[Any], kind: str, sel: Selection, shape: tuple[int, int]) -> Items:
    if kind == "glyphs":
        return GlyphArrays.concat(parts, shape)
    return FontArrays.concat(parts, len(sel.charset), shape)


# --------------------------------------------------------------------------- readers


def reader_for(
    source: Source, split: str, sel: Selection, rank: int, world: int
) -> tuple[ShardReader, bool]:
    """This rank's parts, and whether it must instead take every world-th item of all parts."""
    url = source.split_url(split)
    columns = sel.columns(source)
    total = len(list_shards(url))
    if world > 1 and total < world:
        _log.warning(
            "%s has %d parts for %d ranks; every rank reads all parts and keeps every %d-th item",
            url,
            total,
            world,
            world,
        )
        return ShardReader(url, columns=columns), True
    return ShardReader(url, rank, world, columns=columns), False


def load_items(
    source: Source,
    split: str,
    sel: Selection,
    kind: str,
    rank: int = 0,
    world: int = 1,
    limit: int | None = None,
) -> Items:
    """Every item of ``split`` (for this rank) in memory, in record order."""
    reader, strided = reader_for(source, split, sel, rank, world)
    if source.layout == "glyph" and kind == "fonts":
        # Fonts are whole only once all their glyph rows are read.
        ids: list[str] = []
        fams: list[str] = []
        parts: list[GlyphArrays] = []
        for batch in reader.iter_batches():
            font_ids, families, glyphs = _glyph_batch(batch, source, sel)
            ids += font_ids
            fams += families
            parts.append(glyphs)
        items: Items = _group_fonts(
            ids,
            fams,
            GlyphArrays.concat(parts, source.image_shape),
            len(sel.charset),
            source.image_shape,
        )
    else:
        chunks: list[Any] = []
        seen = 0
        for batch in reader.iter_batches():
            chunk = _convert(batch, source, sel, kind)
            chunks.append(chunk)
            seen += len(chunk)
            if limit is not None and seen >= limit * (world if strided else 1):
                break
        items = _concat(chunks, kind, sel, source.image_shape)
    if strided:
        items = items.take(np.arange(rank, len(items), world))
    if limit is not None and len(items) > limit:
        items = items.take(np.arange(limit))
    return items


class MemoryData:
    """All of a split in memory; each epoch a permutation seeded by (seed, epoch, rank)."""

    streaming = False

    def __init__(self, items: Items, batch_size: int, seed: int, rank: int = 0) -> None:
        self.items = items
        self.batch_size = batch_size
        self.seed = seed
        self.rank = rank

    def __len__(self) -> int:
        return len(self.items)

    @property
    def steps_per_epoch(self) -> int:
        n = len(self.items)
        if n == 0:
            return 0
        return max(1, n // self.batch_size)

    def batches(self, epoch: int, skip: int = 0) -> Iterator[Items]:
        """Full batches (the last partial one is dropped, unless it is the only one)."""
        n = len(self.items)
        order = epoch_rng(self.seed, epoch, self.rank, 1).permutation(n)
        size = min(self.batch_size, n)
        for step in range(skip, self.steps_per_epoch):
            yield self.items.take(order[step * size : (step + 1) * size])


class StreamingData:
    """Parts read one at a time in a seeded order, items shuffled within a buffer.

    Glyph-layout records grouped into fonts are grouped per record batch: a font whose
    rows straddle two batches arrives as two partial fonts. The font layout (one row per
    font) has no such seams, which is why it suits font_style training at scale.
    """

    streaming = True

    def __init__(
        self,
        source: Source,
        split: str,
        sel: Selection,
        kind: str,
        batch_size: int,
        seed: int,
        shuffle_buffer: int,
        rank: int = 0,
        world: int = 1,
    ) -> None:
        self.source = source
        self.split = split
        self.sel = sel
        self.kind = kind
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle_buffer = max(shuffle_buffer, batch_size)
        self.rank = rank
        self.world = world
        self._reader, self._strided = reader_for(source, split, sel, rank, world)
        rows = self._reader.num_rows() // (world if self._strided else 1)
        count = len(source.charset)
        if source.layout == "glyph" and kind == "fonts":
            rows = max(1, rows // max(1, count))
        elif source.layout == "font" and kind == "glyphs":
            rows = rows * len(sel.charset)
        self._estimate = rows

    def __len__(self) -> int:
        return self._estimate

    @property
    def steps_per_epoch(self) -> int:
        """An estimate (filters are applied while reading), used to size schedules."""
        return max(1, self._estimate // self.batch_size)

    def batches(self, epoch: int, skip: int = 0) -> Iterator[Items]:
        rng = epoch_rng(self.seed, epoch, self.rank, 2)
        shards = [self._reader.shards[i] for i in rng.permutation(len(self._reader.shards))]
        buffer: list[Any] = []
        held = 0
        produced = 0
        offset = 0
        for shard in shards:
            reader = ShardReader(shard, columns=self._reader.columns)
            for batch in reader.iter_batches():
                chunk = _convert(batch, self.source, self.sel, self.kind)
                if self._strided:
                    keep = np.arange(len(chunk))
                    keep = keep[(keep + offset) % self.world == self.rank]
                    offset += len(chunk)
                    chunk = chunk.take(keep)
                if len(chunk) == 0:
                    continue
                buffer.append(chunk)
                held += len(chunk)
                if held >= self.shuffle_buffer:
                    items = _concat(buffer, self.kind, self.sel, self.source.image_shape)
                    items = items.take(rng.permutation(len(items)))
                    full = len(items) // self.batch_size * self.batch_size
                    for start in range(0, full, self.batch_size):
                        if produced >= skip:
                            yield items.take(np.arange(start, start + self.batch_size))
                        produced += 1
                    rest = items.take(np.arange(full, len(items)))
                    buffer, held = ([rest], len(rest)) if len(rest) else ([], 0)
        if held:
            items = _concat(buffer, self.kind, self.sel, self.source.image_shape)
            items = items.take(rng.permutation(len(items)))
            size = self.batch_size if produced or len(items) >= self.batch_size else len(items)
            for start in range(0, len(items) - size + 1, size):
                if produced >= skip:
                    yield items.take(np.arange(start, start + size))
                produced += 1
