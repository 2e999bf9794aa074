"""Arrow schemas of the records stages exchange, and glyph image (de)coding.

Records are Parquet so that Beam, Spark, DuckDB and pandas read them as they are.
Glyph images are raw uint8 bytes of a fixed shape; the shape (and the charset, for
per-font rows) travels in the schema metadata, so a reader never guesses it.

Stages may add fields to these schemas (``schema.append(...)``); the fields here are the
ones other stages rely on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "ACCEPTED_FONT_SCHEMA",
    "CHARSET_KEY",
    "FAILURE_SCHEMA",
    "FONT_INDEX_SCHEMA",
    "IMAGE_SHAPE_KEY",
    "INSTANCE_TYPE",
    "REJECTION_SCHEMA",
    "charset_of",
    "font_schema",
    "glyph_schema",
    "image_shape",
    "images_from_arrow",
    "images_to_arrow",
    "with_metadata",
]

IMAGE_SHAPE_KEY = b"glyphflow.image_shape"
CHARSET_KEY = b"glyphflow.charset"

AXIS_TYPE = pa.struct(
    [
        ("tag", pa.string()),
        ("minimum", pa.float32()),
        ("default", pa.float32()),
        ("maximum", pa.float32()),
    ]
)

#: One row per font face in the raw store (written by ingestion).
FONT_INDEX_SCHEMA = pa.schema(
    [
        ("id", pa.string()),  # sha256 of the file, plus "#face" for collections
        ("sha256", pa.string()),
        ("face_index", pa.int32()),
        ("stored_path", pa.string()),  # relative to the raw store
        ("source_url", pa.string()),
        ("archive_path", pa.string()),  # member path inside an archive, or null
        ("format", pa.string()),  # ttf otf ttc otc woff woff2 pfb pfa
        ("bytes", pa.int64()),
        ("family", pa.string()),
        ("subfamily", pa.string()),
        ("full_name", pa.string()),
        ("postscript_name", pa.string()),
        ("weight_class", pa.int32()),
        ("width_class", pa.int32()),
        ("italic", pa.bool_()),
        ("variable", pa.bool_()),
        ("axes", pa.list_(AXIS_TYPE)),
        ("num_glyphs", pa.int32()),
        ("license_text", pa.string()),
        ("license_url", pa.string()),
        ("license_id", pa.string()),
        ("version", pa.string()),
    ]
)

#: Axis coordinates of a named instance of a variable font, e.g. [{tag: wght, value: 700}].
INSTANCE_TYPE = pa.list_(pa.struct([("tag", pa.string()), ("value", pa.float32())]))

#: One row per font accepted by validation: the raw index row (``stored_path`` still
#: relative to the raw store named in the manifest's ``input_urls["raw"]``), plus
#: ``instance``: null for a whole font, or the coordinates of the named instance of a
#: variable font this row stands for (when validation expands instances; a reader must
#: instantiate the font at these coordinates before rendering it).
ACCEPTED_FONT_SCHEMA = FONT_INDEX_SCHEMA.append(pa.field("instance", INSTANCE_TYPE))

#: One row per (font, failed rule) from validation: every rule a font failed, not only
#: the first. Family, file and source are repeated so the table reads on its own.
REJECTION_SCHEMA = pa.schema(
    [
        ("font_id", pa.string()),
        ("rule", pa.string()),  # registered name of the validation rule
        ("message", pa.string()),  # what was wrong, for a person
        ("family", pa.string()),
        ("full_name", pa.string()),
        ("stored_path", pa.string()),  # relative to the raw store
        ("source_url", pa.string()),
    ]
)

#: Something that could not be used, and why (ingestion, preprocessing).
FAILURE_SCHEMA = pa.schema(
    [
        ("source_url", pa.string()),
        ("archive_path", pa.string()),
        ("reason", pa.string()),  # short machine-readable code
        ("message", pa.string()),  # what a person should read
    ]
)


def with_metadata(schema: pa.Schema, **values: Any) -> pa.Schema:
    """``schema`` with ``glyphflow.<key>`` metadata entries (JSON-encoded values)."""
    meta = dict(schema.metadata or {})
    for key, value in values.items():
        meta[f"glyphflow.{key}".encode()] = json.dumps(value).encode()
    return schema.with_metadata(meta)


def glyph_schema(size: int, charset: str) -> pa.Schema:
    """One row per rendered glyph: the font it came from, its character and image."""
    schema = pa.schema(
        [
            ("font_id", pa.string()),
            ("family", pa.string()),
            ("split", pa.string()),
            ("char", pa.string()),
            ("label", pa.int16()),  # index of ``char`` in the charset
            ("image", pa.binary(size * size)),  # uint8, row-major, shape in metadata
        ]
    )
    return with_metadata(schema, image_shape=[size, size], charset=charset)


def font_schema(size: int, charset: str) -> pa.Schema:
    """One row per font: every glyph of the charset, with a presence mask."""
    count = len(charset)
    schema = pa.schema(
        [
            ("font_id", pa.string()),
            ("family", pa.string()),
            ("split", pa.string()),
            ("images", pa.binary(count * size * size)),  # (len(charset), size, size) uint8
            ("present", pa.binary(count)),  # one byte per character: 1 present, 0 missing
        ]
    )
    return with_metadata(schema, image_shape=[size, size], charset=charset)


def image_shape(schema: pa.Schema) -> tuple[int, int]:
    """The (height, width) of glyph images recorded in ``schema``'s metadata."""
    raw = (schema.metadata or {}).get(IMAGE_SHAPE_KEY)
    if raw is None:
        raise ValueError("schema has no glyphflow.image_shape metadata: not a glyph record")
    height, width = json.loads(raw)
    return int(height), int(width)


def charset_of(schema: pa.Schema) -> str:
    """The charset (label order) recorded in ``schema``'s metadata."""
    raw = (schema.metadata or {}).get(CHARSET_KEY)
    if raw is None:
        raise ValueError("schema has no glyphflow.charset metadata: not a glyph record")
    charset: str = json.loads(raw)
    return charset


def images_to_arrow(images: NDArray[np.uint8]) -> pa.FixedSizeBinaryArray:
    """Pack an (N, ...) uint8 array as N fixed-size binary values without a Python loop."""
    array = np.ascontiguousarray(images, dtype=np.uint8)
    count = array.shape[0]
    width = int(np.prod(array.shape[1:])) if array.ndim > 1 else 1
    buffer = pa.py_buffer(array.reshape(count, width).tobytes())
    result: pa.FixedSizeBinaryArray = pa.Array.from_buffers(pa.binary(width), count, [None, buffer])
    return result


def images_from_arrow(column: Any, shape: Sequence[int]) -> NDArray[np.uint8]:
    """Unpack a fixed-size binary column into an (N, *shape) uint8 array (no Python loop)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    count = len(column)
    per_item = int(np.prod(shape))
    if count == 0:
        return np.zeros((0, *shape), dtype=np.uint8)
    if column.null_count:
        raise ValueError("image column holds nulls")
    data = column.buffers()[1]
    start = column.offset * per_item
    flat = np.frombuffer(data, dtype=np.uint8, count=count * per_item, offset=start)
    return flat.reshape(count, *shape)
