"""Raw stores and validation outputs written directly, for the tests of later stages.

A raw store is what ingestion writes: font files under ``files/ab/<sha256>.<ext>``, an
index ``fonts.parquet`` (``FONT_INDEX_SCHEMA``) with one row per face, and a committed
manifest. :func:`make_raw_store` builds one from test fonts, so stages downstream of
ingestion can be tested without running it; ``append=True`` adds fonts to an existing
store and recommits it (as a rerun of ingestion would), which is what follow mode and
incremental reruns watch for. :func:`make_accepted` writes a validation-like output
(``accepted.parquet`` naming a subset of a raw store's rows).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from pydantic import Field

from glyphflow.core.config import ConfigModel
from glyphflow.io import records, shards, storage
from glyphflow.io.outputs import StageOutput
from tests.support.fonts import FontSpec, make_font

__all__ = [
    "INDEX_NAME",
    "StoredFont",
    "index_rows",
    "make_accepted",
    "make_raw_store",
]

INDEX_NAME = "fonts.parquet"
ACCEPTED_NAME = "accepted.parquet"


class RawStoreConfig(ConfigModel):
    """Stands in for ingestion's config in the test store's manifest."""

    sources: list[str] = Field(default_factory=list)


class AcceptedConfig(ConfigModel):
    """Stands in for validation's config."""

    fonts: str


@dataclass
class StoredFont:
    """A font file to store, with index fields that cannot be read from it.

    ``faces`` > 1 stores a collection with one index row per face. Fields left None are
    read from the font with fontTools when possible (a corrupt file keeps them empty).
    """

    data: bytes
    format: str = "ttf"
    faces: int = 1
    family: str | None = None
    subfamily: str | None = None
    postscript_name: str | None = None
    source_url: str | None = None
    archive_path: str | None = None


FontLike = FontSpec | bytes | StoredFont


def _stored(item: FontLike) -> StoredFont:
    if isinstance(item, StoredFont):
        return item
    if isinstance(item, FontSpec):
        return StoredFont(make_font(item), format=item.fmt)
    return StoredFont(bytes(item), format=_sniff(bytes(item)))


def _sniff(data: bytes) -> str:
    head = data[:4]
    return {
        b"OTTO": "otf",
        b"ttcf": "ttc",
        b"wOFF": "woff",
        b"wOF2": "woff2",
    }.get(head, "ttf")


def _names(data: bytes, face: int) -> dict[str, Any]:
    """Family, style and other index fields read with fontTools (empty if unreadable)."""
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(io.BytesIO(data), fontNumber=face, lazy=True)
        name = font["name"]
        os2 = font.get("OS/2")
        return {
            "family": name.getBestFamilyName(),
            "subfamily": name.getBestSubFamilyName(),
            "full_name": name.getBestFullName(),
            "postscript_name": name.getDebugName(6),
            "weight_class": int(os2.usWeightClass) if os2 else None,
            "width_class": int(os2.usWidthClass) if os2 else None,
            "italic": bool(os2.fsSelection & 1) if os2 else None,
            "num_glyphs": len(font.getGlyphOrder()),
            "license_text": name.getDebugName(13),
            "license_url": name.getDebugName(14),
            "version": name.getDebugName(5),
            "variable": "fvar" in font,
        }
    except Exception:
        return {}


def index_rows(item: FontLike, source_url: str | None = None) -> tuple[bytes, list[dict[str, Any]]]:
    """The file bytes and the index rows (one per face) of one stored font."""
    font = _stored(item)
    sha = hashlib.sha256(font.data).hexdigest()
    rows = []
    for face in range(font.faces):
        meta = _names(font.data, face)
        for key in ("family", "subfamily", "postscript_name"):
            given = getattr(font, key)
            if given is not None:
                meta[key] = given
        rows.append(
            {
                "id": sha if font.faces == 1 else f"{sha}#{face}",
                "sha256": sha,
                "face_index": face,
                "stored_path": f"files/{sha[:2]}/{sha}.{font.format}",
                "source_url": font.source_url or source_url or f"test://fonts/{sha[:12]}",
                "archive_path": font.archive_path,
                "format": font.format,
                "bytes": len(font.data),
                "axes": [],
                **meta,
            }
        )
    return font.data, rows


def make_raw_store(url: str, specs: Iterable[FontLike], append: bool = False) -> str:
    """Write (or, with ``append``, extend) a committed raw store at ``url``; returns it.

    Items are :class:`FontSpec` (built with :func:`make_font`), raw bytes, or
    :class:`StoredFont` for collections, corrupt files and explicit index fields.
    Files already stored (same sha256) are not indexed twice.
    """
    index_url = storage.join(url, INDEX_NAME)
    existing: list[dict[str, Any]] = []
    if append and storage.exists(index_url):
        existing = shards.read_table(index_url).to_pylist()
    seen = {row["id"] for row in existing}
    rows = list(existing)
    for item in specs:
        data, new_rows = index_rows(item)
        for row in new_rows:
            if row["id"] in seen:
                continue
            seen.add(row["id"])
            target = storage.join(url, row["stored_path"])
            if not storage.exists(target):
                storage.write_bytes(target, data)
            rows.append(row)
    output = StageOutput(url, "ingestion", RawStoreConfig(sources=["tests"]))
    output.begin()
    shards.write_table(index_url, pa.Table.from_pylist(rows, schema=records.FONT_INDEX_SCHEMA))
    output.counts = {"fonts": len(rows)}
    output.commit()
    return url


def make_accepted(
    url: str, raw: str, keep: Callable[[dict[str, Any]], bool] | Sequence[str] | None = None
) -> str:
    """Write a validation-like output at ``url`` accepting rows of the raw store ``raw``.

    ``keep`` is a predicate on index rows or a list of ids (default: every row).
    """
    table = shards.read_table(storage.join(raw, INDEX_NAME))
    rows = table.to_pylist()
    if keep is None:
        accepted = rows
    elif callable(keep):
        accepted = [row for row in rows if keep(row)]
    else:
        wanted = set(keep)
        accepted = [row for row in rows if row["id"] in wanted]
    output = StageOutput(url, "validation", AcceptedConfig(fonts=raw), inputs={"raw": raw})
    output.begin()
    shards.write_table(
        storage.join(url, ACCEPTED_NAME),
        pa.Table.from_pylist(accepted, schema=records.FONT_INDEX_SCHEMA),
    )
    output.counts = {"accepted": len(accepted), "rejected": len(rows) - len(accepted)}
    output.commit()
    return url
