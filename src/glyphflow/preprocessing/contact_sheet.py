"""A contact sheet: one row of glyphs per sample font, as a PNG beside the dataset.

The sample is the ``fonts`` rendered fonts with the smallest sha256 of their id: it
depends only on which fonts the dataset holds, not on the engine or on the order they
were rendered in, and a rerun that adds fonts only swaps in the ones that rank first.
The sample's glyphs are kept in ``contact_sheet.parquet`` so reruns can redraw the sheet
without reading the dataset.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from glyphflow.io import records, shards, storage
from glyphflow.preprocessing.tasks import FontResult

if TYPE_CHECKING:
    from numpy.typing import NDArray
    from PIL import Image

__all__ = ["PNG_NAME", "SAMPLE_NAME", "ContactSample", "draw_sheet"]

PNG_NAME = "contact_sheet.png"
SAMPLE_NAME = "contact_sheet.parquet"

_LABEL_WIDTH = 180
_GAP = 1
_MISSING = 225  # grey cell: character not produced
_PAPER = 255


@dataclass(frozen=True)
class _Entry:
    rank: str
    font_id: str
    label: str
    images: NDArray[np.uint8]  # (C, S, S), ink 255
    present: NDArray[np.bool_]


class ContactSample:
    """The sample fonts of a contact sheet, kept as rendered fonts arrive."""

    def __init__(self, limit: int, size: int, charset: str) -> None:
        self.limit = limit
        self.size = size
        self.charset = charset
        self.entries: dict[str, _Entry] = {}
        self.changed = False

    def _schema(self) -> pa.Schema:
        schema = records.font_schema(self.size, self.charset)
        return schema.append(pa.field("label", pa.string())).append(pa.field("rank", pa.string()))

    @classmethod
    def load(cls, output: str, limit: int, size: int, charset: str) -> ContactSample:
        """The sample saved under ``output`` (empty if none)."""
        sample = cls(limit, size, charset)
        url = storage.join(output, SAMPLE_NAME)
        if storage.exists(url):
            table = shards.read_table(url)
            count = len(charset)
            images = records.images_from_arrow(table["images"], (count, size, size))
            present = records.images_from_arrow(table["present"], (count,)).astype(bool)
            for i, row in enumerate(table.select(["font_id", "label", "rank"]).to_pylist()):
                sample._keep(
                    _Entry(row["rank"], row["font_id"], row["label"], images[i], present[i])
                )
            sample.changed = False
        return sample

    def offer(self, result: FontResult) -> None:
        """Consider a rendered font for the sample."""
        glyphs = result.glyphs
        if glyphs is None:
            return
        rank = hashlib.sha256(result.task.font_id.encode()).hexdigest()
        if len(self.entries) >= self.limit and rank >= max(e.rank for e in self.entries.values()):
            return
        task = result.task
        label = task.postscript_name or glyphs.postscript_name or task.family or task.font_id
        self._keep(_Entry(rank, task.font_id, label, glyphs.images, glyphs.present))

    def _keep(self, entry: _Entry) -> None:
        self.entries[entry.font_id] = entry
        if len(self.entries) > self.limit:
            worst = max(self.entries.values(), key=lambda e: e.rank)
            del self.entries[worst.font_id]
        self.changed = True

    def ordered(self) -> list[_Entry]:
        return sorted(self.entries.values(), key=lambda e: e.rank)

    def save(self, output: str) -> None:
        """Write the sample's glyphs and the PNG under ``output``."""
        entries = self.ordered()
        if not entries:
            storage.remove(storage.join(output, SAMPLE_NAME))
            storage.remove(storage.join(output, PNG_NAME))
            return
        images = np.stack([e.images for e in entries])
        present = np.stack([e.present for e in entries]).astype(np.uint8)
        count = len(entries)
        table = pa.table(
            {
                "font_id": pa.array([e.font_id for e in entries], pa.string()),
                "family": pa.array([""] * count, pa.string()),
                "split": pa.array([""] * count, pa.string()),
                "images": records.images_to_arrow(images),
                "present": records.images_to_arrow(present),
                "label": pa.array([e.label for e in entries], pa.string()),
                "rank": pa.array([e.rank for e in entries], pa.string()),
            },
            schema=self._schema(),
        )
        shards.write_table(storage.join(output, SAMPLE_NAME), table)
        png = io.BytesIO()
        draw_sheet(entries, self.size, self.charset).save(png, format="PNG", optimize=False)
        storage.write_bytes(storage.join(output, PNG_NAME), png.getvalue())


def draw_sheet(entries: list[_Entry], size: int, charset: str) -> Image.Image:
    """A Pillow image: a label column, then one cell per character, one row per font."""
    from PIL import Image, ImageDraw, ImageFont

    columns = len(charset)
    step = size + _GAP
    width = _LABEL_WIDTH + columns * step
    height = max(1, len(entries)) * step
    grid = np.full((height, columns * step), _PAPER, dtype=np.uint8)
    for row, entry in enumerate(entries):
        top = row * step
        for col in range(columns):
            left = col * step
            cell = grid[top : top + size, left : left + size]
            if entry.present[col]:
                cell[...] = 255 - entry.images[col]
            else:
                cell[...] = _MISSING
    sheet = Image.new("L", (width, height), _PAPER)
    sheet.paste(Image.fromarray(grid), (_LABEL_WIDTH, 0))
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for row, entry in enumerate(entries):
        draw.text((4, row * step + size // 2 - 6), entry.label[:28], fill=0, font=font)
    return sheet
