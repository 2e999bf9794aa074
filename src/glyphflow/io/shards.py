"""Sharded Parquet: a writer that rolls files at a size, a reader that splits them.

A dataset is a folder of ``part-NNNNN.parquet`` files (zstd). The writer starts a new
part when the buffered data reaches ``max_bytes`` and commits each part atomically, so a
reader never sees half a part. The reader iterates rows or record batches across parts
in name order from any URL, and gives each of N workers (or distributed ranks) its own
subset of parts, every part to exactly one of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from glyphflow.io import storage

__all__ = [
    "PART_PATTERN",
    "ShardReader",
    "ShardWriter",
    "assign_shards",
    "list_shards",
    "part_name",
    "read_table",
    "write_table",
]

PART_PATTERN = re.compile(r"part-(\d{5,})\.parquet$")
DEFAULT_MAX_BYTES = 64 << 20


def part_name(index: int, prefix: str = "part") -> str:
    return f"{prefix}-{index:05d}.parquet"


def write_table(url: str, table: pa.Table, compression: str = "zstd") -> int:
    """Write one Parquet file atomically; returns its size in bytes."""
    with storage.atomic_write(url, "wb", compression=None) as handle:
        pq.write_table(table, handle, compression=compression)
    return storage.size_of(url)


def read_table(url: str, columns: Sequence[str] | None = None) -> pa.Table:
    """Read one Parquet file (or every part of a shard folder) into a table."""
    if storage.exists(url) and not url.endswith(".parquet"):
        return ShardReader(url, columns=columns).read_table()
    with storage.open_url(url, "rb", compression=None) as handle:
        table: pa.Table = pq.read_table(handle, columns=list(columns) if columns else None)
    return table


class ShardWriter:
    """Append rows; get ``part-NNNNN.parquet`` files of about ``max_bytes`` each.

    ``max_bytes`` bounds the in-memory (uncompressed Arrow) size of a part; the file on
    disk is smaller after compression. Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        url: str,
        schema: pa.Schema,
        max_bytes: int = DEFAULT_MAX_BYTES,
        start_index: int = 0,
        compression: str = "zstd",
        row_group_rows: int = 8192,
    ) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be > 0 (got {max_bytes})")
        self.url = url
        self.schema = schema
        self.max_bytes = max_bytes
        self.compression = compression
        self.row_group_rows = row_group_rows
        self._next_index = start_index
        self._batches: list[pa.RecordBatch] = []
        self._buffered = 0
        self.files: list[str] = []
        self.rows_written = 0
        storage.makedirs(url)

    def write(self, rows: pa.Table | pa.RecordBatch | Iterable[Mapping[str, Any]]) -> None:
        """Buffer rows (a table, a batch, or dicts); flush full parts as they fill."""
        if isinstance(rows, pa.Table):
            batches = rows.cast(self.schema).to_batches()
        elif isinstance(rows, pa.RecordBatch):
            batches = [rows.cast(self.schema)] if rows.schema != self.schema else [rows]
        else:
            listed = list(rows)
            if not listed:
                return
            batches = [pa.RecordBatch.from_pylist(listed, schema=self.schema)]
        for batch in batches:
            self._add(batch)

    def _add(self, batch: pa.RecordBatch) -> None:
        # Split a batch bigger than a part so parts stay near max_bytes.
        while batch.num_rows:
            room = self.max_bytes - self._buffered
            per_row = max(1, batch.nbytes // max(1, batch.num_rows))
            take = batch.num_rows if batch.nbytes <= room else max(1, room // per_row)
            head = batch.slice(0, take)
            self._batches.append(head)
            self._buffered += head.nbytes
            batch = batch.slice(take)
            if self._buffered >= self.max_bytes:
                self.flush()

    def flush(self) -> str | None:
        """Commit what is buffered as one part; returns its URL (None if nothing buffered)."""
        if not self._batches:
            return None
        table = pa.Table.from_batches(self._batches, schema=self.schema)
        url = storage.join(self.url, part_name(self._next_index))
        with storage.atomic_write(url, "wb", compression=None) as handle:
            pq.write_table(
                table, handle, compression=self.compression, row_group_size=self.row_group_rows
            )
        self.files.append(url)
        self.rows_written += table.num_rows
        self._next_index += 1
        self._batches = []
        self._buffered = 0
        return url

    def close(self) -> list[str]:
        """Flush the last part; returns every part written."""
        self.flush()
        return list(self.files)

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()


def list_shards(url: str) -> list[str]:
    """Parts of a dataset: a folder of ``part-*.parquet``, a glob, or a single file."""
    if any(ch in url for ch in "*?["):
        return storage.glob(url)
    if url.endswith(".parquet"):
        return [url]
    return [u for u in storage.listdir(url) if PART_PATTERN.search(u)]


def assign_shards(shards: Sequence[str], rank: int, world: int) -> list[str]:
    """The parts of worker ``rank`` among ``world``: each part goes to exactly one worker."""
    if world < 1 or not 0 <= rank < world:
        raise ValueError(f"rank must be in [0, world) and world >= 1 (got {rank}, {world})")
    return list(shards[rank::world])


class ShardReader:
    """Read a sharded dataset from any URL, whole or as worker ``rank`` of ``world``."""

    def __init__(
        self,
        url: str,
        rank: int = 0,
        world: int = 1,
        columns: Sequence[str] | None = None,
    ) -> None:
        self.url = url
        self.columns = list(columns) if columns else None
        self.shards = assign_shards(list_shards(url), rank, world)

    @property
    def schema(self) -> pa.Schema:
        if not self.shards:
            raise FileNotFoundError(f"no parquet parts at {self.url}")
        with storage.open_url(self.shards[0], "rb", compression=None) as handle:
            schema: pa.Schema = pq.read_schema(handle)
        return schema

    def iter_batches(self, batch_size: int = 4096) -> Iterator[pa.RecordBatch]:
        """Record batches across parts in order; never more than one part's group in memory."""
        for shard in self.shards:
            with storage.open_url(shard, "rb", compression=None) as handle:
                parquet = pq.ParquetFile(handle)
                yield from parquet.iter_batches(batch_size=batch_size, columns=self.columns)

    def iter_rows(self) -> Iterator[dict[str, Any]]:
        for batch in self.iter_batches():
            yield from batch.to_pylist()

    def read_table(self) -> pa.Table:
        tables = []
        for shard in self.shards:
            with storage.open_url(shard, "rb", compression=None) as handle:
                tables.append(pq.read_table(handle, columns=self.columns))
        if not tables:
            raise FileNotFoundError(f"no parquet parts at {self.url}")
        return pa.concat_tables(tables)

    def num_rows(self) -> int:
        total = 0
        for shard in self.shards:
            with storage.open_url(shard, "rb", compression=None) as handle:
                total += pq.ParquetFile(handle).metadata.num_rows
        return total
