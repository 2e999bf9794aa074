"""The ledger: per item, how it looked and what it produced, so reruns do no work twice.

``items.parquet`` holds one row per item of the last complete run: its URL and source,
a validator (local: size and modification time; buckets: size and ETag; HTTP: ETag,
Last-Modified and length), the sha256 of its bytes, a hash of the settings that shape
results, and the index and failure rows it produced. An item whose validator (or,
failing that, content) and settings are unchanged, and whose stored files are all
present, is reused as it is: not read, not downloaded.

While a run is going, finished items are appended to ``_journal/`` in small Parquet
parts (atomically, every ``checkpoint_items`` items or ``checkpoint_seconds``). A run
killed half way leaves its journal; the next run reads it with ``items.parquet`` and
picks up where the last one stopped. A complete run folds everything into
``items.parquet`` and removes the journal.

Transient failures (timeouts, cut downloads, HTTP errors) are never recorded, so they
are retried on the next run.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from glyphflow.io import shards, storage
from glyphflow.io.records import FAILURE_SCHEMA, FONT_INDEX_SCHEMA

__all__ = [
    "FACE_SCHEMA",
    "FAILURES_SCHEMA",
    "INDEX_SCHEMA",
    "ITEMS_NAME",
    "ITEM_SCHEMA",
    "JOURNAL_DIR",
    "Entry",
    "Ledger",
]

_log = logging.getLogger(__name__)

ITEMS_NAME = "items.parquet"
JOURNAL_DIR = "_journal"

#: A face as the ledger keeps it: the index columns plus the source's name.
FACE_SCHEMA = FONT_INDEX_SCHEMA.append(pa.field("source", pa.string()))

_PLACE = pa.struct([("source_url", pa.string()), ("archive_path", pa.string())])

#: ``fonts.parquet``: one row per distinct face. Appended to the shared index schema:
#: ``source``; ``companions`` (stored .afm/.pfm of a Type 1 font, relative paths); and
#: ``duplicates`` (the other places the same face was found).
INDEX_SCHEMA = FACE_SCHEMA.append(pa.field("companions", pa.list_(pa.string()))).append(
    pa.field("duplicates", pa.list_(_PLACE))
)

#: ``failures.parquet``: the shared failure schema plus the source's name.
FAILURES_SCHEMA = FAILURE_SCHEMA.append(pa.field("source", pa.string()))

ITEM_SCHEMA = pa.schema(
    [
        ("source_url", pa.string()),
        ("source", pa.string()),
        ("kind", pa.string()),
        ("validator", pa.string()),  # canonical JSON
        ("sha256", pa.string()),  # of the item's bytes
        ("settings", pa.string()),  # hash of what shapes results
        ("faces", pa.list_(pa.struct(list(FACE_SCHEMA)))),
        ("failures", pa.list_(pa.struct(list(FAILURES_SCHEMA)))),
        ("stored", pa.list_(pa.string())),  # relative paths the rows rely on
    ]
)


@dataclass
class Entry:
    """One item's record in the ledger."""

    source_url: str
    source: str
    kind: str
    validator: dict[str, Any]
    sha256: str | None
    settings: str
    faces: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        return {
            "source_url": self.source_url,
            "source": self.source,
            "kind": self.kind,
            "validator": json.dumps(self.validator, sort_keys=True),
            "sha256": self.sha256,
            "settings": self.settings,
            "faces": self.faces,
            "failures": self.failures,
            "stored": self.stored,
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Entry:
        return cls(
            source_url=row["source_url"],
            source=row["source"],
            kind=row["kind"],
            validator=json.loads(row["validator"] or "{}"),
            sha256=row["sha256"],
            settings=row["settings"],
            faces=list(row["faces"] or []),
            failures=list(row["failures"] or []),
            stored=list(row["stored"] or []),
        )


def _table(entries: list[Entry]) -> pa.Table:
    return pa.Table.from_pylist([e.row() for e in entries], schema=ITEM_SCHEMA)


class Ledger:
    """Read the ledger of a raw store; journal finished items; fold them in at the end."""

    def __init__(self, url: str, checkpoint_items: int, checkpoint_seconds: float) -> None:
        self.url = url
        self.checkpoint_items = checkpoint_items
        self.checkpoint_seconds = checkpoint_seconds
        self._pending: list[Entry] = []
        self._lock = threading.Lock()
        self._last_flush = time.monotonic()
        self._run = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        self._parts = 0

    def load(self) -> dict[str, Entry]:
        """Every recorded item by URL: ``items.parquet``, then the journal, later wins."""
        entries: dict[str, Entry] = {}
        urls = []
        items_url = storage.join(self.url, ITEMS_NAME)
        if storage.exists(items_url):
            urls.append(items_url)
        urls += [
            u
            for u in storage.listdir(storage.join(self.url, JOURNAL_DIR))
            if u.endswith(".parquet")
        ]
        for url in urls:
            try:
                table = shards.read_table(url)
            except Exception as err:  # a damaged ledger costs a re-read, not the run
                _log.warning("ignoring unreadable ledger part %s: %s", url, err)
                continue
            if "settings" not in table.column_names:
                _log.warning("ignoring ledger part %s: unknown layout", url)
                continue
            for row in table.to_pylist():
                entry = Entry.from_row(row)
                entries[entry.source_url] = entry
        return entries

    def record(self, entry: Entry) -> None:
        """Journal a finished item; flush when a checkpoint is due."""
        with self._lock:
            self._pending.append(entry)
            due = (
                len(self._pending) >= self.checkpoint_items
                or time.monotonic() - self._last_flush >= self.checkpoint_seconds
            )
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
            self._last_flush = time.monotonic()
            part = self._parts
            self._parts += 1
        if not pending:
            return
        name = f"{self._run}-{part:05d}.parquet"
        shards.write_table(storage.join(self.url, JOURNAL_DIR, name), _table(pending))

    def write(self, entries: list[Entry]) -> None:
        """Fold everything into ``items.parquet`` and drop the journal."""
        with self._lock:
            self._pending = []
        ordered = sorted(entries, key=lambda e: e.source_url)
        shards.write_table(storage.join(self.url, ITEMS_NAME), _table(ordered))
        storage.remove(storage.join(self.url, JOURNAL_DIR), recursive=True)
