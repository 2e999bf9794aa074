"""Ingestion: gather font files from folders, archives, buckets, web pages and this machine.

The first stage of the pipeline. :func:`run` reads the sources named in an
:class:`~glyphflow.ingestion.config.IngestionConfig` and writes a content-addressed raw
store: every font file once under its sha256, ``fonts.parquet`` with one row per face,
``failures.parquet`` with one row per thing that could not be used and why, and the
``items.parquet`` ledger that makes reruns incremental.

Importing this package is cheap: ``run`` loads the stage (pyarrow, fontTools) on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glyphflow.ingestion.config import IngestionConfig

if TYPE_CHECKING:
    from glyphflow.ingestion.stage import run

__all__ = ["IngestionConfig", "run"]


def __getattr__(name: str) -> Any:
    if name == "run":
        from glyphflow.ingestion.stage import run

        return run
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
