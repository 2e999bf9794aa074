"""Synthetic glyph datasets: what the preprocessing stage writes, drawn with numpy.

``make_glyph_dataset(url, ...)`` writes ``train/ val/ test/`` shards in either record
layout (``glyph``: one row per glyph; ``font``: one row per font with a presence mask) and
commits the folder with a manifest whose config has a ``render`` section, exactly like a
preprocessing output, so training, scoring and evaluation tests read it as the real thing.

The glyphs are made to be learnable: each character is a fixed set of strokes on a 3x4
grid (chosen by a hash of the character, so characters differ), and each font has a
style (stroke width, slant, size) applied to all of its characters, so a style model can
recover a font's style from a few of its glyphs and redraw the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from glyphflow.core.config import ConfigModel
from glyphflow.io import records, storage
from glyphflow.io.outputs import StageOutput
from glyphflow.io.shards import ShardWriter
from tests.support.fonts import SEGMENTS

__all__ = ["FontStyle", "GlyphSet", "SyntheticFont", "draw_glyph", "make_glyph_dataset"]

# The same stroke grid as the FontBuilder fonts, so both kinds of test glyphs agree.
_SEGMENTS = np.array(SEGMENTS, dtype=np.float64)


@dataclass(frozen=True)
class FontStyle:
    """What a font does to every one of its glyphs (fractions of the image size)."""

    stroke: float = 0.12  # stroke width
    slant: float = 0.0  # horizontal shift per unit of height (positive leans right)
    scale: float = 0.8  # glyph box height


@dataclass(frozen=True)
class SyntheticFont:
    font_id: str
    family: str
    split: str
    style: FontStyle
    present: str  # characters this font has
    confidence: dict[str, float] = field(default_factory=dict)  # only when scored


@dataclass
class GlyphSet:
    """What was written: where, in which layout, and every font with its style."""

    url: str
    charset: str
    size: int
    layout: str
    render: dict[str, Any]
    fonts: list[SyntheticFont]

    def split(self, name: str) -> list[SyntheticFont]:
        return [f for f in self.fonts if f.split == name]

    def glyph_count(self, split: str) -> int:
        return sum(len(f.present) for f in self.split(split))


def _segments_of(char: str) -> np.ndarray:
    digest = hashlib.sha256(f"glyphset:{char}".encode()).digest()
    bits = int.from_bytes(digest[:4], "big")
    chosen = [i for i in range(len(_SEGMENTS)) if bits >> i & 1]
    if len(chosen) < 3:
        chosen = sorted({0, 1, *chosen, 2 + ord(char) % 10})
    return _SEGMENTS[chosen]


def draw_glyph(char: str, style: FontStyle, size: int) -> np.ndarray:
    """A (size, size) uint8 image of ``char`` in ``style``: anti-aliased strokes, ink = 255."""
    segments = _segments_of(char).copy()
    height = style.scale
    width = height * 0.6
    top = (1.0 - height) / 2
    left = (1.0 - width) / 2
    # grid -> unit square; slant shifts x by the height above the baseline
    ys = top + segments[..., 1] / 3.0 * height
    xs = left + segments[..., 0] / 2.0 * width + style.slant * ((top + height) - ys)
    points = np.stack([xs, ys], axis=-1) * size  # (S, 2, 2) in pixels
    grid = (np.indices((size, size)).transpose(1, 2, 0)[..., ::-1] + 0.5).reshape(-1, 2)
    start = points[:, 0][:, None, :]
    delta = (points[:, 1] - points[:, 0])[:, None, :]
    length2 = np.maximum((delta**2).sum(-1), 1e-9)
    t = np.clip(((grid[None] - start) * delta).sum(-1) / length2, 0.0, 1.0)
    nearest = start + t[..., None] * delta
    distance = np.sqrt(((grid[None] - nearest) ** 2).sum(-1)).min(axis=0)
    half = style.stroke * size / 2
    ink = np.clip(half - distance + 0.5, 0.0, 1.0)
    return (ink.reshape(size, size) * 255).round().astype(np.uint8)


class _SyntheticPreprocessing(ConfigModel):
    """The config recorded in the synthetic output's manifest (like preprocessing's)."""

    render: dict[str, Any]
    layout: str
    seed: int
    n_fonts: int


def _assign_splits(n: int, fractions: Sequence[float], rng: np.random.Generator) -> list[str]:
    counts = [round(n * f) for f in fractions[1:]]
    counts = [max(1, c) if n >= 3 else c for c in counts]
    labels = ["train"] * (n - sum(counts)) + ["val"] * counts[0] + ["test"] * counts[1]
    order = rng.permutation(n)
    return [labels[i] for i in np.argsort(order)]


def make_glyph_dataset(
    url: str,
    n_fonts: int = 12,
    charset: str = "ABCDEFGH",
    size: int = 16,
    layout: str = "font",
    seed: int = 0,
    *,
    splits: Sequence[float] = (0.6, 0.2, 0.2),
    missing: float = 0.0,
    scored: bool = False,
    rows_per_part: int | None = None,
) -> GlyphSet:
    """Write a committed synthetic glyph dataset at ``url``; returns what it holds.

    ``missing``: chance that a font lacks a character (at least one glyph stays).
    ``scored``: add the columns scoring writes (glyph layout: ``confidence``, ``predicted``,
    ``probabilities``; font layout: ``confidence`` per character), with confidences drawn
    uniformly from [0.5, 1).
    ``rows_per_part``: rows per Parquet part (default: about three parts per split).
    """
    if layout not in ("glyph", "font"):
        raise ValueError(f"layout must be glyph or font (got {layout!r})")
    rng = np.random.default_rng(seed)
    split_of = _assign_splits(n_fonts, splits, rng)
    fonts: list[SyntheticFont] = []
    for index in range(n_fonts):
        style = FontStyle(
            stroke=float(rng.uniform(0.07, 0.2)),
            slant=float(rng.uniform(-0.25, 0.25)),
            scale=float(rng.uniform(0.6, 0.9)),
        )
        keep = rng.random(len(charset)) >= missing
        if not keep.any():
            keep[rng.integers(len(charset))] = True
        present = "".join(c for c, k in zip(charset, keep, strict=True) if k)
        confidence = (
            {c: float(np.float32(rng.uniform(0.5, 1.0))) for c in present} if scored else {}
        )
        kind = "Sans" if index % 2 == 0 else "Serif"
        fonts.append(
            SyntheticFont(
                font_id=f"font-{seed}-{index:04d}",
                family=f"Synth {kind} {index}",
                split=split_of[index],
                style=style,
                present=present,
                confidence=confidence,
            )
        )
    render = {
        "glyph_size": size,
        "charset": charset,
        "normalisation": "synthetic",
        "generator": "tests.support.glyphsets",
    }
    output = StageOutput(
        url,
        "preprocessing",
        _SyntheticPreprocessing(render=render, layout=layout, seed=seed, n_fonts=n_fonts),
    ).begin()
    for split in ("train", "val", "test"):
        members = [f for f in fonts if f.split == split]
        _write_split(
            storage.join(url, split), members, charset, size, layout, scored, rows_per_part
        )
        output.counts[f"{split}_fonts"] = len(members)
    output.commit()
    return GlyphSet(url, charset, size, layout, render, fonts)


def _write_split(
    url: str,
    fonts: list[SyntheticFont],
    charset: str,
    size: int,
    layout: str,
    scored: bool,
    rows_per_part: int | None,
) -> None:
    if layout == "glyph":
        schema = records.glyph_schema(size, charset)
        if scored:
            schema = (
                schema.append(pa.field("confidence", pa.float32()))
                .append(pa.field("predicted", pa.string()))
                .append(pa.field("probabilities", pa.list_(pa.float32())))
            )
        rows: list[dict[str, Any]] = []
        for font in fonts:
            for char in font.present:
                row: dict[str, Any] = {
                    "font_id": font.font_id,
                    "family": font.family,
                    "split": font.split,
                    "char": char,
                    "label": charset.index(char),
                    "image": draw_glyph(char, font.style, size).tobytes(),
                }
                if scored:
                    conf = font.confidence[char]
                    probs = np.full(len(charset), (1 - conf) / max(1, len(charset) - 1), np.float32)
                    probs[charset.index(char)] = conf
                    row.update(confidence=conf, predicted=char, probabilities=probs.tolist())
                rows.append(row)
    else:
        schema = records.font_schema(size, charset)
        if scored:
            schema = schema.append(pa.field("confidence", pa.list_(pa.float32())))
        rows = []
        for font in fonts:
            images = np.zeros((len(charset), size, size), np.uint8)
            present = np.zeros(len(charset), np.uint8)
            for char in font.present:
                images[charset.index(char)] = draw_glyph(char, font.style, size)
                present[charset.index(char)] = 1
            row = {
                "font_id": font.font_id,
                "family": font.family,
                "split": font.split,
                "images": images.tobytes(),
                "present": present.tobytes(),
            }
            if scored:
                row["confidence"] = [font.confidence.get(c, 0.0) for c in charset]
            rows.append(row)
    per_part = rows_per_part or max(1, -(-len(rows) // 3))
    with ShardWriter(url, schema) as writer:
        for start in range(0, len(rows), per_part):
            writer.write(rows[start : start + per_part])
            writer.flush()
        if not rows:
            writer.write(pa.Table.from_pylist([], schema=schema))
