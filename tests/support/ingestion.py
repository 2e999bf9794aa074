"""Helpers for ingestion tests: build configs as users write them, read what a run wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from glyphflow.ingestion.config import IngestionConfig

__all__ = ["FAST_HTTP", "failures_by_reason", "make_config", "read", "tree"]

#: Fast network settings for tests: a short timeout, one quick retry, no rate limit.
FAST_HTTP = {"timeout_s": 0.5, "retries": 1, "backoff_s": 0.05, "rate_per_host": 1000}


def make_config(
    output: Path | str, sources: list[dict[str, Any]], **changes: Any
) -> IngestionConfig:
    """An ingestion config as a user would write it (validated the same way)."""
    data: dict[str, Any] = {
        "output": str(output),
        "sources": sources,
        "http": dict(FAST_HTTP),
        "workers": 2,
    }
    data.update(changes)
    return IngestionConfig.model_validate(data)


def read(output: Path | str, name: str) -> pa.Table:
    return pq.read_table(f"{output}/{name}")


def failures_by_reason(output: Path | str) -> dict[str, list[tuple[str, str | None]]]:
    """reason -> sorted [(last part of source_url, archive_path)]."""
    out: dict[str, list[tuple[str, str | None]]] = {}
    for row in read(output, "failures.parquet").to_pylist():
        name = row["source_url"].rstrip("/").rsplit("/", 1)[-1]
        out.setdefault(row["reason"], []).append((name, row["archive_path"]))
    return {k: sorted(v, key=str) for k, v in out.items()}


def tree(root: Path, skip: Path | None = None) -> set[str]:
    """Every file path below ``root`` (except below ``skip``), relative to ``root``."""
    found = set()
    for path in root.rglob("*"):
        if skip is not None and (path == skip or skip in path.parents):
            continue
        if path.is_file() or path.is_symlink():
            found.add(str(path.relative_to(root)))
    return found
