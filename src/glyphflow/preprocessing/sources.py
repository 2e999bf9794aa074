"""Where the fonts come from: the upstream index, streamed, as per-font tasks.

The upstream is a validation output (``accepted.parquet``, whose manifest names the raw
store it was made from as ``input_urls["raw"]``) or a raw store itself
(``fonts.parquet``). Font files live in the raw store at ``stored_path``. The index is
read in record batches, never whole, and every font not rendered yet becomes a
:class:`FontTask` carrying everything a worker needs, split decided. A row of an
expanded variable font carries its named instance (``instance``), which the worker pins
before rendering; its family is the variable font's, so ``split_key: family`` keeps all
instances of one family in one split.
"""

from __future__ import annotations

import logging
from collections.abc import Container, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow.parquet as pq

from glyphflow.core.errors import UsageError
from glyphflow.io import storage
from glyphflow.io.outputs import read_manifest
from glyphflow.preprocessing.config import PreprocessingConfig
from glyphflow.preprocessing.splits import split_of
from glyphflow.preprocessing.tasks import FontTask

__all__ = [
    "ACCEPTED_NAME",
    "INDEX_NAME",
    "Source",
    "iter_tasks",
    "resolve_source",
]

ACCEPTED_NAME = "accepted.parquet"
INDEX_NAME = "fonts.parquet"

_COLUMNS = [
    "id",
    "face_index",
    "stored_path",
    "format",
    "family",
    "subfamily",
    "postscript_name",
    "source_url",
    "archive_path",
    "instance",  # accepted.parquet only: the named instance of a variable font
]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Source:
    """The index to read and the raw store its ``stored_path`` values are relative to."""

    upstream: str  # the URL given as ``fonts``
    index: str  # accepted.parquet or fonts.parquet
    raw: str  # the raw store


def resolve_source(config: PreprocessingConfig) -> Source:
    """Find the index under ``config.fonts`` and the raw store that holds the files."""
    upstream = config.fonts
    accepted = storage.join(upstream, ACCEPTED_NAME)
    index = storage.join(upstream, INDEX_NAME)
    if storage.exists(accepted):
        raw = config.raw
        if raw is None:
            manifest = read_manifest(upstream)
            raw = manifest.input_urls.get("raw") if manifest else None
        if not raw:
            raise UsageError(
                f"{upstream} holds accepted.parquet but its manifest names no raw store "
                "(input_urls.raw); set preprocessing.raw to the raw store URL"
            )
        return Source(upstream, accepted, raw)
    if storage.exists(index):
        return Source(upstream, index, config.raw or upstream)
    raise UsageError(
        f"{upstream} holds neither {ACCEPTED_NAME} (a validation output) nor {INDEX_NAME} "
        "(a raw store); point preprocessing.fonts at the output of ingestion or validation"
    )


def iter_tasks(
    source: Source,
    config: PreprocessingConfig,
    skip: Container[str] = (),
    batch_size: int = 1024,
) -> Iterator[FontTask]:
    """A task per font of the index not in ``skip``, in index order (ids seen once)."""
    seen: set[str] = set()
    with storage.open_url(source.index, "rb", compression=None) as handle:
        parquet = pq.ParquetFile(handle)
        names = set(parquet.schema_arrow.names)
        missing = {"id", "stored_path"} - names
        if missing:
            raise UsageError(
                f"{source.index} is not a font index: it lacks {', '.join(sorted(missing))}"
            )
        columns = [c for c in _COLUMNS if c in names]
        for batch in parquet.iter_batches(batch_size=batch_size, columns=columns):
            data = batch.to_pydict()
            for i, font_id in enumerate(data["id"]):
                if font_id is None or font_id in seen or font_id in skip:
                    continue
                seen.add(font_id)
                row = {name: data[name][i] for name in columns}
                family = row.get("family") or ""
                key = font_id if config.split_key == "font" else (_family_key(family) or font_id)
                yield FontTask(
                    font_id=font_id,
                    url=storage.join(source.raw, row["stored_path"]),
                    face_index=int(row.get("face_index") or 0),
                    format=row.get("format") or "",
                    family=family,
                    subfamily=row.get("subfamily") or "",
                    postscript_name=row.get("postscript_name") or "",
                    source_url=row.get("source_url") or "",
                    archive_path=row.get("archive_path"),
                    split=split_of(key, config.splits, config.seed),
                    instance=_instance(row.get("instance")),
                )


def _instance(value: list[dict[str, Any]] | None) -> tuple[tuple[str, float], ...] | None:
    """validation's ``instance`` ([{tag, value}]) as hashable (tag, value) pairs."""
    if not value:
        return None
    return tuple((str(axis["tag"]), float(axis["value"])) for axis in value)


def _family_key(family: str) -> str:
    return " ".join(family.split()).casefold()
