"""Rendered fonts as Arrow records, in the two layouts, plus failure rows.

Both layouts extend the shared schemas of :mod:`glyphflow.io.records` (the fields other
stages rely on come first, unchanged) with ``postscript_name`` and ``subfamily``.
Images go from the renderer's arrays to fixed-size binary columns without a Python loop.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from glyphflow.io import records
from glyphflow.preprocessing.tasks import FontResult

__all__ = [
    "FAILURE_SCHEMA",
    "dataset_schema",
    "failure_row",
    "result_batch",
]

_EXTRA_FIELDS = [("postscript_name", pa.string()), ("subfamily", pa.string())]

#: failures.parquet: the shared failure fields plus which font it was.
FAILURE_SCHEMA = records.FAILURE_SCHEMA.append(pa.field("font_id", pa.string())).append(
    pa.field("family", pa.string())
)


def dataset_schema(layout: str, size: int, charset: str) -> pa.Schema:
    """The record schema of a dataset in ``layout`` (``glyph`` or ``font``)."""
    base = (
        records.glyph_schema(size, charset)
        if layout == "glyph"
        else records.font_schema(size, charset)
    )
    for name, typ in _EXTRA_FIELDS:
        base = base.append(pa.field(name, typ))
    return records.with_metadata(base, layout=layout)


def result_batch(result: FontResult, layout: str, schema: pa.Schema) -> pa.RecordBatch:
    """The records of one rendered font (``result.ok`` must be true)."""
    glyphs = result.glyphs
    assert glyphs is not None
    task = result.task
    family = task.family or glyphs.family
    postscript = task.postscript_name or glyphs.postscript_name
    subfamily = task.subfamily or glyphs.style
    if layout == "glyph":
        labels = np.flatnonzero(glyphs.present)
        count = len(labels)
        chars = [glyphs.charset[i] for i in labels]
        columns = [
            pa.array([task.font_id] * count, pa.string()),
            pa.array([family] * count, pa.string()),
            pa.array([task.split] * count, pa.string()),
            pa.array(chars, pa.string()),
            pa.array(labels.astype(np.int16), pa.int16()),
            records.images_to_arrow(glyphs.images[labels]),
            pa.array([postscript] * count, pa.string()),
            pa.array([subfamily] * count, pa.string()),
        ]
    else:
        present = glyphs.present.astype(np.uint8)
        columns = [
            pa.array([task.font_id], pa.string()),
            pa.array([family], pa.string()),
            pa.array([task.split], pa.string()),
            records.images_to_arrow(glyphs.images[np.newaxis]),
            records.images_to_arrow(present[np.newaxis]),
            pa.array([postscript], pa.string()),
            pa.array([subfamily], pa.string()),
        ]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def failure_row(result: FontResult) -> dict[str, str | None]:
    """A failures.parquet row for a font that produced no records."""
    task = result.task
    return {
        "source_url": task.source_url or task.url,
        "archive_path": task.archive_path,
        "reason": result.reason,
        "message": result.message,
        "font_id": task.font_id,
        "family": task.family,
    }
