"""A split of a glyph dataset as whole fonts: one (C, H, W) image stack and mask per font.

The evaluation compares fonts, not glyphs: few-shot completion observes some glyphs of a
font and judges the rest, the baseline and the novelty check compare whole fonts. So both
record layouts of preprocessing (one row per glyph, or one row per font) are read into the
same :class:`FontTable`, fonts ordered by id, whatever the order of the shards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from glyphflow.core.errors import UsageError
from glyphflow.io import records, storage
from glyphflow.io.shards import ShardReader, list_shards

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["FontTable", "read_fonts"]


@dataclass
class FontTable:
    """Fonts of one split: ``images[N, C, H, W]`` uint8 and ``present[N, C]`` bool."""

    font_ids: list[str]
    families: list[str]
    charset: str
    images: NDArray[np.uint8]
    present: NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.font_ids)

    @property
    def image_shape(self) -> tuple[int, int]:
        return int(self.images.shape[-2]), int(self.images.shape[-1])

    def subset(self, indices: Sequence[int] | NDArray[np.int64]) -> FontTable:
        """The fonts at ``indices``, in that order."""
        index = np.asarray(indices, dtype=np.int64)
        return FontTable(
            [self.font_ids[i] for i in index],
            [self.families[i] for i in index],
            self.charset,
            self.images[index],
            self.present[index],
        )


def read_fonts(glyphs_url: str, split: str) -> FontTable:
    """Read split ``split`` of the glyph dataset at ``glyphs_url`` (either layout)."""
    url = storage.join(glyphs_url, split)
    if not storage.exists(url) or not list_shards(url):
        raise UsageError(
            f"{glyphs_url} has no {split!r} split ({url} holds no part-*.parquet); "
            "give the output folder of the preprocessing stage"
        )
    reader = ShardReader(url)
    schema = reader.schema
    charset = records.charset_of(schema)
    shape = records.image_shape(schema)
    names = set(schema.names)
    if {"images", "present"} <= names:
        return _from_font_rows(reader, charset, shape)
    if {"image", "label", "char"} <= names:
        return _from_glyph_rows(reader, charset, shape)
    raise UsageError(
        f"{url}: neither glyph records (image, label) nor font records (images, present); "
        f"found fields {sorted(names)}"
    )


def _from_font_rows(reader: ShardReader, charset: str, shape: tuple[int, int]) -> FontTable:
    count = len(charset)
    ids: list[str] = []
    families: list[str] = []
    images: list[NDArray[np.uint8]] = []
    present: list[NDArray[np.uint8]] = []
    columns = ["font_id", "family", "images", "present"]
    reader.columns = columns
    for batch in reader.iter_batches():
        ids.extend(str(v) for v in batch.column("font_id").to_pylist())
        families.extend(str(v or "") for v in batch.column("family").to_pylist())
        images.append(records.images_from_arrow(batch.column("images"), (count, *shape)).copy())
        present.append(records.images_from_arrow(batch.column("present"), (count,)).copy())
    return _ordered(
        ids,
        families,
        charset,
        np.concatenate(images) if images else np.zeros((0, count, *shape), np.uint8),
        np.concatenate(present).astype(bool) if present else np.zeros((0, count), bool),
    )


def _from_glyph_rows(reader: ShardReader, charset: str, shape: tuple[int, int]) -> FontTable:
    count = len(charset)
    reader.columns = ["font_id", "family", "label", "image"]
    index_of: dict[str, int] = {}
    families: list[str] = []
    stacks: list[NDArray[np.uint8]] = []
    masks: list[NDArray[np.bool_]] = []
    for batch in reader.iter_batches():
        glyphs = records.images_from_arrow(batch.column("image"), shape)
        labels = batch.column("label").to_numpy(zero_copy_only=False)
        for row, (font_id, family) in enumerate(
            zip(
                batch.column("font_id").to_pylist(), batch.column("family").to_pylist(), strict=True
            )
        ):
            slot = index_of.get(font_id)
            if slot is None:
                slot = index_of[font_id] = len(stacks)
                families.append(str(family or ""))
                stacks.append(np.zeros((count, *shape), np.uint8))
                masks.append(np.zeros(count, bool))
            label = int(labels[row])
            if 0 <= label < count:
                stacks[slot][label] = glyphs[row]
                masks[slot][label] = True
    return _ordered(
        list(index_of),
        families,
        charset,
        np.stack(stacks) if stacks else np.zeros((0, count, *shape), np.uint8),
        np.stack(masks) if masks else np.zeros((0, count), bool),
    )


def _ordered(
    ids: list[str],
    families: list[str],
    charset: str,
    images: NDArray[np.uint8],
    present: NDArray[np.bool_],
) -> FontTable:
    order = sorted(range(len(ids)), key=lambda i: ids[i])
    table = FontTable(ids, families, charset, images, present)
    return table.subset(order)
