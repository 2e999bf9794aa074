"""Shared helpers for the preprocessing tests: corpora, configs and reading records back."""

from __future__ import annotations

from typing import Any

import numpy as np

from glyphflow.glyphs import FontGlyphs, FontRenderError, RenderConfig, render_font
from glyphflow.io import records, shards, storage
from glyphflow.preprocessing.config import PreprocessingConfig
from tests.support.fonts import FontSpec
from tests.support.rawstore import StoredFont

SPLITS = ("train", "val", "test")


def corpus(count: int, start: int = 0) -> list[FontSpec]:
    """``count`` distinct fonts (two per family, styles differing in stroke and slant)."""
    return [
        FontSpec(
            family=f"Family {i // 2}",
            style="Bold" if i % 2 else "Regular",
            stroke=60.0 + 15 * (i % 5),
            slant=0.1 * (i % 3),
            seed=f"s{i}",
        )
        for i in range(start, start + count)
    ]


def corrupt(name: str = "Broken") -> StoredFont:
    data = f"{name}: this is not a font file ".encode() * 8
    return StoredFont(data, family=name, source_url=f"test://{name}")


def make_config(fonts: str, output: str, **changes: Any) -> PreprocessingConfig:
    data: dict[str, Any] = {"fonts": fonts, "output": output}
    data.update(changes)
    return PreprocessingConfig.model_validate(data)


def glyph_records(output: str) -> dict[tuple[str, int], bytes]:
    """(font_id, label) -> image bytes over every split of a glyph-layout dataset."""
    found: dict[tuple[str, int], bytes] = {}
    for split in SPLITS:
        folder = storage.join(output, split)
        if not shards.list_shards(folder):
            continue
        table = shards.read_table(folder)
        assert set(table["split"].to_pylist()) <= {split}
        size = records.image_shape(table.schema)
        images = records.images_from_arrow(table["image"], size)
        for font_id, label, image in zip(
            table["font_id"].to_pylist(), table["label"].to_pylist(), images, strict=True
        ):
            key = (font_id, label)
            assert key not in found, f"{key} recorded twice"
            found[key] = image.tobytes()
    return found


def part_digests(output: str) -> dict[str, str]:
    """Relative path -> sha256 of every data part and state part."""
    out = {}
    for folder in (*SPLITS, "rendered"):
        for part in shards.list_shards(storage.join(output, folder)):
            out[f"{folder}/{part.rsplit('/', 1)[-1]}"] = storage.sha256_of(part)
    return out


def as_array(data: bytes, size: int = 64) -> np.ndarray:
    return np.frombuffer(data, dtype=np.uint8).reshape(size, size)


def direct_renders(raw: str, config: RenderConfig | None = None) -> dict[str, FontGlyphs]:
    """font_id -> render_font of its stored file, for every face the raw store indexes."""
    out: dict[str, FontGlyphs] = {}
    for row in shards.read_table(storage.join(raw, "fonts.parquet")).to_pylist():
        data = storage.read_bytes(storage.join(raw, row["stored_path"]))
        try:
            out[row["id"]] = render_font(data, row["face_index"], config or RenderConfig())
        except FontRenderError:
            continue
    return out


def direct_records(raw: str, config: RenderConfig | None = None) -> dict[tuple[str, int], bytes]:
    """What glyph_records should hold, from direct calls of render_font."""
    found = {}
    for font_id, glyphs in direct_renders(raw, config).items():
        if glyphs.count < 5:
            continue
        for label in np.flatnonzero(glyphs.present):
            found[(font_id, int(label))] = glyphs.images[label].tobytes()
    return found
