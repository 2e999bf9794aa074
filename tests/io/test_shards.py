"""Sharded Parquet: size-rolled parts, order-preserving reads, worker splits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from glyphflow.io import records, shards, storage


def _glyph_rows(count: int, size: int = 16) -> pa.Table:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (count, size, size), dtype=np.uint8)
    schema = records.glyph_schema(size, "AB")
    return pa.table(
        {
            "font_id": [f"font-{i // 2:04d}" for i in range(count)],
            "family": ["Test"] * count,
            "split": ["train"] * count,
            "char": ["A" if i % 2 == 0 else "B" for i in range(count)],
            "label": pa.array([i % 2 for i in range(count)], pa.int16()),
            "image": records.images_to_arrow(images),
        },
        schema=schema,
    )


@pytest.fixture(params=["local", "memory", "s3"])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "local":
        return str(tmp_path / "glyphs")
    if request.param == "memory":
        return str(request.getfixturevalue("memory_url"))
    return str(request.getfixturevalue("s3_bucket")) + "/glyphs"


def test_writing_past_the_size_limit_rolls_parts(root: str) -> None:
    table = _glyph_rows(600)  # ~154 KB of images
    with shards.ShardWriter(root, table.schema, max_bytes=40_000) as writer:
        for start in range(0, 600, 50):
            writer.write(table.slice(start, 50))
    assert len(writer.files) >= 4
    assert [u.rsplit("/", 1)[1] for u in shards.list_shards(root)] == [
        shards.part_name(i) for i in range(len(writer.files))
    ]
    back = shards.ShardReader(root).read_table()
    assert back.equals(table)  # same rows, same order
    assert back.schema.metadata == table.schema.metadata


def test_rows_and_batches_iterate_in_order(root: str) -> None:
    table = _glyph_rows(100)
    with shards.ShardWriter(root, table.schema, max_bytes=10_000) as writer:
        writer.write(table)
    reader = shards.ShardReader(root)
    assert [r["font_id"] for r in reader.iter_rows()] == table.column("font_id").to_pylist()
    assert sum(b.num_rows for b in reader.iter_batches(batch_size=7)) == 100
    assert reader.num_rows() == 100


def test_splitting_among_three_readers_covers_every_shard_once(root: str) -> None:
    table = _glyph_rows(400)
    with shards.ShardWriter(root, table.schema, max_bytes=15_000) as writer:
        writer.write(table)
    everything = shards.list_shards(root)
    assert len(everything) >= 6
    parts = [shards.ShardReader(root, rank=r, world=3).shards for r in range(3)]
    assert sorted(p for part in parts for p in part) == sorted(everything)
    assert all(parts)
    ids = sorted(
        fid
        for r in range(3)
        for fid in shards.ShardReader(root, r, 3).read_table()["font_id"].to_pylist()
    )
    assert ids == sorted(table.column("font_id").to_pylist())


def test_images_round_trip_without_copies() -> None:
    images = np.arange(3 * 4 * 4, dtype=np.uint8).reshape(3, 4, 4)
    column = records.images_to_arrow(images)
    back = records.images_from_arrow(column, (4, 4))
    assert np.array_equal(back, images)
    sliced = records.images_from_arrow(column.slice(1, 2), (4, 4))
    assert np.array_equal(sliced, images[1:])


def test_schema_metadata_carries_shape_and_charset() -> None:
    schema = records.font_schema(32, "AbC")
    assert records.image_shape(schema) == (32, 32)
    assert records.charset_of(schema) == "AbC"
    with pytest.raises(ValueError, match="image_shape"):
        records.image_shape(pa.schema([("x", pa.int8())]))


def test_dict_rows_are_accepted(tmp_path: Path) -> None:
    schema = pa.schema([("reason", pa.string()), ("n", pa.int32())])
    url = str(tmp_path / "rows")
    with shards.ShardWriter(url, schema) as writer:
        writer.write([{"reason": "x", "n": 1}, {"reason": "y", "n": 2}])
    assert shards.read_table(url).to_pylist() == [{"reason": "x", "n": 1}, {"reason": "y", "n": 2}]


def test_bad_rank_is_refused() -> None:
    with pytest.raises(ValueError, match="rank"):
        shards.assign_shards(["a"], rank=3, world=3)


def test_single_table_write_is_atomic(tmp_path: Path) -> None:
    url = str(tmp_path / "fonts.parquet")
    size = shards.write_table(url, pa.table({"a": [1, 2]}))
    assert size == storage.size_of(url)
    assert shards.read_table(url).to_pylist() == [{"a": 1}, {"a": 2}]
