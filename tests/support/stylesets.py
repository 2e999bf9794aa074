"""Synthetic glyph datasets with chosen font styles (scoring and evaluation tests).

:mod:`tests.support.glyphsets` draws each font's style at random; the evaluation tests
need to place styles: test fonts *between* the training fonts, where a nearest-neighbour
copy is far off and a model of style can interpolate. The glyphs are drawn by
:func:`tests.support.glyphsets.draw_glyph`, written in preprocessing's layouts with its
manifest (``render`` settings), exactly like :func:`make_glyph_dataset` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from glyphflow.core.config import ConfigModel
from glyphflow.io import records, storage
from glyphflow.io.outputs import StageOutput
from glyphflow.io.shards import ShardWriter
from tests.support.glyphsets import FontStyle, draw_glyph

__all__ = ["StyledFont", "between_corpus", "write_styled_dataset"]


@dataclass(frozen=True)
class StyledFont:
    font_id: str
    split: str
    style: FontStyle
    missing: str = ""  # characters this font lacks
    ink: float = 1.0  # darkness of the strokes: 1 black, lower greyer


class _StyledPreprocessing(ConfigModel):
    render: dict[str, Any]
    layout: str


def write_styled_dataset(
    url: str,
    fonts: Sequence[StyledFont],
    charset: str = "ABCDEF",
    size: int = 16,
    layout: str = "font",
    parts: int = 2,
) -> str:
    """Write ``fonts`` as a committed preprocessing-like output at ``url``; returns ``url``."""
    render = {"glyph_size": size, "charset": charset, "generator": "tests.support.stylesets"}
    output = StageOutput(url, "preprocessing", _StyledPreprocessing(render=render, layout=layout))
    output.begin()
    for split in ("train", "val", "test"):
        members = [f for f in fonts if f.split == split]
        schema = (
            records.font_schema(size, charset)
            if layout == "font"
            else records.glyph_schema(size, charset)
        )
        rows: list[dict[str, Any]] = []
        for font in members:
            glyphs = {
                c: (draw_glyph(c, font.style, size) * font.ink).round().astype(np.uint8)
                for c in charset
                if c not in font.missing
            }
            family = f"Styled {font.font_id}"
            if layout == "font":
                images = np.zeros((len(charset), size, size), np.uint8)
                present = np.zeros(len(charset), np.uint8)
                for char, image in glyphs.items():
                    images[charset.index(char)] = image
                    present[charset.index(char)] = 1
                rows.append(
                    {
                        "font_id": font.font_id,
                        "family": family,
                        "split": split,
                        "images": images.tobytes(),
                        "present": present.tobytes(),
                    }
                )
            else:
                rows.extend(
                    {
                        "font_id": font.font_id,
                        "family": family,
                        "split": split,
                        "char": char,
                        "label": charset.index(char),
                        "image": image.tobytes(),
                    }
                    for char, image in glyphs.items()
                )
        per_part = max(1, -(-len(rows) // parts))
        with ShardWriter(storage.join(url, split), schema) as writer:
            for start in range(0, len(rows), per_part):
                writer.write(rows[start : start + per_part])
                writer.flush()
            if not rows:
                writer.write(pa.Table.from_pylist([], schema=schema))
        output.counts[f"{split}_fonts"] = len(members)
    output.commit()
    return url


def between_corpus(seed: int = 0, test_fonts: int = 6) -> list[StyledFont]:
    """Training fonts at two extremes of ink, test fonts in between.

    Every training font is either pale or black (with a little jitter in stroke, slant
    and size); validation and test fonts have middling ink. The nearest training font of
    a test font is therefore far from it, while a model that has learnt how glyphs vary
    with ink draws the in-between style.
    """
    rng = np.random.default_rng(seed)
    fonts: list[StyledFont] = []

    def style() -> FontStyle:
        return FontStyle(
            stroke=0.16 + float(rng.uniform(-0.01, 0.01)),
            slant=float(rng.uniform(-0.03, 0.03)),
            scale=0.8 + float(rng.uniform(-0.02, 0.02)),
        )

    for index in range(16):
        ink = (0.3 if index % 2 else 1.0) + float(rng.uniform(-0.03, 0.0))
        fonts.append(StyledFont(f"train-{index:03d}", "train", style(), ink=ink))
    for split, count in (("val", 2), ("test", test_fonts)):
        for i in range(count):
            ink = 0.65 + float(rng.uniform(-0.05, 0.05))
            fonts.append(StyledFont(f"{split}-{i:03d}", split, style(), ink=ink))
    return fonts
