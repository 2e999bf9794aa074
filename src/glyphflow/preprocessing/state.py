"""What a dataset folder already holds, so reruns and follow mode only render new fonts.

``rendered/part-NNNNN.parquet`` lists every font tried: id, split, outcome. Each state
part is written (atomically) at a checkpoint, after the data parts it vouches for, and
names them in its metadata. So on start:

- a state whose dataset key (render config, layout, splits, seed...) differs from the
  current one means the records would differ: the dataset is cleared and rebuilt;
- a data part no state part names was left by a killed run: it is removed, and its fonts
  (absent from the state) are rendered again;
- every font in the state is skipped, except failures that may pass on a retry.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq

from glyphflow.io import shards, storage
from glyphflow.preprocessing.config import SPLITS
from glyphflow.preprocessing.tasks import RETRYABLE

__all__ = ["STATE_DIR", "STATE_SCHEMA", "DatasetState", "FontState"]

STATE_DIR = "rendered"
_KEY = b"glyphflow.dataset_key"
_PARTS = b"glyphflow.parts"

STATE_SCHEMA = pa.schema(
    [
        ("font_id", pa.string()),
        ("family", pa.string()),
        ("split", pa.string()),
        ("status", pa.string()),  # ok | failed
        ("reason", pa.string()),
        ("message", pa.string()),
        ("glyphs", pa.int32()),
        ("source_url", pa.string()),
        ("archive_path", pa.string()),
    ]
)

_log = logging.getLogger(__name__)


class FontState(NamedTuple):
    """The latest outcome for one font (kept small: one per font in memory)."""

    split: str
    status: str  # ok | failed
    glyphs: int
    reason: str | None


class DatasetState:
    """The state of one dataset folder: fonts done, parts committed, next part numbers."""

    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.key = key
        self.state_url = storage.join(url, STATE_DIR)
        self.next_part = dict.fromkeys(SPLITS, 0)
        self._next_state = 0
        self.fonts: dict[str, FontState] = {}
        self._failed_rows: dict[str, Mapping[str, Any]] = {}

    @classmethod
    def open(cls, url: str, key: str, extra_files: Sequence[str] = ()) -> DatasetState:
        """Read the state at ``url``; clear the dataset if it was made differently."""
        state = cls(url, key)
        parts = shards.list_shards(state.state_url)
        keys = {_metadata(part).get(_KEY, b"").decode() for part in parts}
        if parts and keys != {key}:
            _log.info("dataset at %s was made with other settings: rebuilding it", url)
            state.clear(extra_files)
            return state
        if not parts:
            state.clear(extra_files)  # records without a state cannot be trusted
            return state
        committed: set[str] = set()
        for part in parts:
            committed.update(json.loads(_metadata(part).get(_PARTS, b"[]")))
            for batch in shards.ShardReader(part).iter_batches():
                state._add(batch.to_pylist())
        state._next_state = _next_index(parts)
        for split in SPLITS:
            found = shards.list_shards(storage.join(url, split))
            kept = []
            for part in found:
                relative = f"{split}/{part.rsplit('/', 1)[-1]}"
                if relative in committed:
                    kept.append(part)
                else:
                    _log.info("removing %s: written by a run that did not finish", relative)
                    storage.remove(part)
            state.next_part[split] = _next_index(kept)
        return state

    def clear(self, extra_files: Sequence[str] = ()) -> None:
        """Remove every record, state and derived file of the dataset."""
        for name in (*SPLITS, STATE_DIR):
            storage.remove(storage.join(self.url, name), recursive=True)
        for name in extra_files:
            storage.remove(storage.join(self.url, name))
        self.fonts.clear()
        self._failed_rows.clear()
        self.next_part = dict.fromkeys(SPLITS, 0)
        self._next_state = 0

    @property
    def known(self) -> set[str]:
        """Ids to skip: every font tried, except failures worth retrying."""
        return {
            font_id
            for font_id, font in self.fonts.items()
            if not (font.status == "failed" and font.reason in RETRYABLE)
        }

    def record(self, rows: Sequence[Mapping[str, Any]], parts: Iterable[str]) -> None:
        """Commit a checkpoint: ``rows`` of fonts tried, whose records are in ``parts``
        (URLs of data parts written since the last checkpoint, already committed)."""
        if not rows:
            return
        root = self.url.rstrip("/") + "/"
        relative = sorted(p[len(root) :] if p.startswith(root) else p for p in parts)
        schema = STATE_SCHEMA.with_metadata(
            {_KEY: self.key.encode(), _PARTS: json.dumps(relative).encode()}
        )
        table = pa.Table.from_pylist(list(rows), schema=schema)
        shards.write_table(storage.join(self.state_url, shards.part_name(self._next_state)), table)
        self._next_state += 1
        self._add(rows)

    def _add(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            font_id = row["font_id"]
            self.fonts[font_id] = FontState(
                row["split"], row["status"], int(row["glyphs"] or 0), row["reason"]
            )
            if row["status"] == "failed":
                self._failed_rows[font_id] = dict(row)
            else:
                self._failed_rows.pop(font_id, None)

    def failures(self) -> list[Mapping[str, Any]]:
        """The state rows of fonts whose latest outcome is a failure, oldest first."""
        return list(self._failed_rows.values())


def _metadata(url: str) -> dict[bytes, bytes]:
    with storage.open_url(url, "rb", compression=None) as handle:
        return dict(pq.read_schema(handle).metadata or {})


def _next_index(parts: Sequence[str]) -> int:
    numbers = [int(m.group(1)) for p in parts if (m := re.search(r"part-(\d+)\.parquet$", p))]
    return max(numbers, default=-1) + 1
