"""A raw store (what ingestion writes) built straight from font bytes, for stage tests.

Index rows come from ingestion's own ``describe`` (names, weight, licence id...), so
they are the rows ingestion would write for the same files; only the walking of
sources is skipped. Files go under ``files/<sha[:2]>/<sha256>.<format>`` and the store
is committed with a manifest and ``_SUCCESS``, so it is a valid stage input.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
from pydantic import Field

from glyphflow.core.config import ConfigModel
from glyphflow.ingestion.fontinfo import describe
from glyphflow.io import records, shards, storage
from glyphflow.io.outputs import StageOutput
from tests.support.fonts import FontSpec, make_font

__all__ = ["font_rows", "make_raw_store"]

FontItem = bytes | FontSpec | tuple[str, bytes]


class _StoreConfig(ConfigModel):
    """Stands in for ingestion's config in the test store's manifest."""

    sources: list[str] = Field(default_factory=list)


def font_rows(data: bytes, name: str) -> list[dict[str, Any]]:
    """Index rows (one per face) of one font file, as ingestion describes it."""
    fmt, faces = describe(data)
    sha = hashlib.sha256(data).hexdigest()
    rows = []
    for meta in faces:
        face = int(meta["face_index"])
        rows.append(
            {
                **meta,
                "id": sha if len(faces) == 1 else f"{sha}#{face}",
                "sha256": sha,
                "stored_path": f"files/{sha[:2]}/{sha}.{fmt}",
                "source_url": f"test://fonts/{name}",
                "archive_path": None,
                "format": fmt,
                "bytes": len(data),
            }
        )
    return rows


def make_raw_store(url: str, fonts: Iterable[FontItem]) -> str:
    """Write a committed raw store at ``url`` holding ``fonts``; returns ``url``.

    Items are font bytes, a :class:`FontSpec` (built with ``make_font``, named after its
    family), or ``(name, bytes)``; the name becomes the row's ``source_url``.
    """
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(fonts):
        if isinstance(item, FontSpec):
            name, data = f"{item.family}-{item.style}.{item.fmt}", make_font(item)
        elif isinstance(item, tuple):
            name, data = item
        else:
            name, data = f"font-{i}", item
        for row in font_rows(data, name):
            if row["id"] in seen:
                continue
            seen.add(row["id"])
            target = storage.join(url, row["stored_path"])
            if not storage.exists(target):
                storage.write_bytes(target, data)
            rows.append(row)
    output = StageOutput(url, "ingestion", _StoreConfig(sources=["tests"]))
    output.begin()
    table = pa.Table.from_pylist(rows, schema=records.FONT_INDEX_SCHEMA)
    shards.write_table(storage.join(url, "fonts.parquet"), table)
    output.counts = {"fonts": len(rows)}
    output.commit()
    return url
