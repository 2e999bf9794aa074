"""``run(config) -> Manifest``: the ingestion stage from sources to a committed raw store.

Layout of the raw store at ``config.output``::

    files/<sha[:2]>/<sha256>.<format>   every font file once (Type 1 .afm/.pfm beside it)
    fonts.parquet                       one row per distinct face (INDEX_SCHEMA)
    failures.parquet                    one row per thing not used, with its reason
    items.parquet                       the ledger that makes reruns incremental
    _manifest.json, _SUCCESS            the stage contract (counts per source and reason)

The run lists every source first (a web crawl reads its pages here), drops repeated
URLs, then processes items in ``workers`` threads, journaling finished items so a
killed run resumes. Output rows are sorted, so the same sources give the same files
whatever the thread timing, cache state or interruptions.
"""

from __future__ import annotations

import collections
import logging
import os
import posixpath
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from glyphflow.core.errors import StageFailedError
from glyphflow.core.logs import progress
from glyphflow.core.manifest import Manifest
from glyphflow.ingestion.config import IngestionConfig
from glyphflow.ingestion.http import HttpClient
from glyphflow.ingestion.items import Failure, Item
from glyphflow.ingestion.ledger import (
    FAILURES_SCHEMA,
    INDEX_SCHEMA,
    Entry,
    Ledger,
)
from glyphflow.ingestion.process import Outcome, Processor
from glyphflow.ingestion.sources import SOURCES, Source, SourceContext
from glyphflow.ingestion.store import FILES_DIR, RawStore
from glyphflow.io import shards, storage
from glyphflow.io.fontfiles import FORMATS, TYPE1_FORMATS
from glyphflow.io.outputs import StageOutput

__all__ = ["FAILURES_NAME", "FONTS_NAME", "run"]

_log = logging.getLogger(__name__)

FONTS_NAME = "fonts.parquet"
FAILURES_NAME = "failures.parquet"
_TMP_DIR = ".tmp"


def run(config: IngestionConfig) -> Manifest:
    """Gather the fonts of ``config.sources`` into the raw store at ``config.output``."""
    with _quiet_fonttools():
        return _run(config)


@contextmanager
def _quiet_fonttools() -> Iterator[None]:
    """fontTools logs each flaw of a malformed font (65,535 lines for one bad name table);
    the failure rows say what matters, so its chatter is muted for the run."""
    logger = logging.getLogger("fontTools")
    saved = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(saved)


def _run(config: IngestionConfig) -> Manifest:
    output = StageOutput(config.output, "ingestion", config).begin()
    store = RawStore(config.output).open()
    ledger = Ledger(config.output, config.checkpoint_items, config.checkpoint_seconds)
    cache = ledger.load()
    temp_dir, own_temp = _temp_dir(config)
    try:
        with HttpClient(config.http, temp_dir) as http:
            sources = _build_sources(config, SourceContext(http=http))
            items, listing_failures = _list_items(sources, config.output)
            processor = Processor(config.limits, store, http, temp_dir, cache)
            outcomes = _process(items, processor, ledger, config.workers)
            requests = http.requests
    finally:
        if own_temp:
            shutil.rmtree(temp_dir, ignore_errors=True)

    entries = [o.entry for o in outcomes if o.entry is not None]
    index = _index_table(entries, store)
    failures = _failure_table(outcomes, listing_failures)
    shards.write_table(output.path(FONTS_NAME), index)
    shards.write_table(output.path(FAILURES_NAME), failures)
    ledger.write(entries)

    output.counts.update(_counts(config, items, outcomes, listing_failures, index, store))
    output.extra.update(
        {"sources": config.source_names(), "http_requests": requests, "layout": "raw-store/1"}
    )
    faces = index.num_rows
    _log.info(
        "ingestion: %d faces from %d items (%d reused), %d new files, %d failures",
        faces,
        len(items),
        output.counts["items_reused"],
        store.files_written,
        failures.num_rows,
    )
    if faces < config.min_fonts:
        reasons = collections.Counter(failures.column("reason").to_pylist()).most_common(5)
        summary = ", ".join(f"{r}: {n}" for r, n in reasons) or "no failures either"
        raise StageFailedError(
            f"ingestion indexed {faces} faces, fewer than min_fonts={config.min_fonts} "
            f"({summary}); see {output.path(FAILURES_NAME)}. Check the sources in the config."
        )
    return output.commit(known_checksums=_known_checksums(store))


# ---------------------------------------------------------------------------- steps


def _temp_dir(config: IngestionConfig) -> tuple[str, bool]:
    """A local folder for downloads in flight, and whether this run owns (removes) it."""
    if config.temp_dir:
        os.makedirs(config.temp_dir, exist_ok=True)
        return tempfile.mkdtemp(prefix="glyphflow-ingest-", dir=config.temp_dir), True
    if storage.is_local(config.output):
        path = os.path.join(storage.strip_protocol(config.output), _TMP_DIR)
        shutil.rmtree(path, ignore_errors=True)  # whatever a killed run left
        os.makedirs(path, exist_ok=True)
        return path, True
    return tempfile.mkdtemp(prefix="glyphflow-ingest-"), True


def _build_sources(config: IngestionConfig, context: SourceContext) -> list[Source]:
    sources: list[Source] = []
    for name, spec in zip(config.source_names(), config.sources, strict=True):
        source_cls = SOURCES.get(spec.class_)
        options = source_cls.Options.model_validate(spec.kwargs)
        sources.append(source_cls(name, options, context))
    return sources


def _list_items(sources: Iterable[Source], output: str) -> tuple[list[Item], list[Failure]]:
    """Every item of every source, first listing of a URL wins; the raw store is skipped
    (an output folder inside a source folder must not ingest itself)."""
    inside_output = _inside(output)
    items: dict[str, Item] = {}
    failures: list[Failure] = []
    for source in sources:
        count = 0
        for found in source.items():
            if isinstance(found, Failure):
                _log.warning("source %s: %s", source.name, found.message)
                failures.append(found)
            elif inside_output(found.url):
                continue
            elif found.url in items:
                _log.debug("%s: %s is listed by an earlier source already", source.name, found.url)
            else:
                items[found.url] = found
                count += 1
        _log.info("source %s: %d items", source.name, count)
    return list(items.values()), failures


def _inside(output: str) -> Callable[[str], bool]:
    """A test for "this URL is inside the output folder"."""
    if storage.is_local(output):
        root = os.path.realpath(storage.strip_protocol(output)) + os.sep
        return lambda url: (
            storage.is_local(url) and os.path.realpath(storage.strip_protocol(url)).startswith(root)
        )
    prefix = output.rstrip("/") + "/"
    return lambda url: url.startswith(prefix)


def _process(
    items: list[Item], processor: Processor, ledger: Ledger, workers: int
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    failed = downloaded = 0
    with (
        progress("ingesting", total=len(items), unit="items") as bar,
        ThreadPoolExecutor(workers, thread_name_prefix="ingest") as pool,
    ):
        futures: list[Future[Outcome]] = [pool.submit(processor.process, i) for i in items]
        try:
            for future in as_completed(futures):
                outcome = future.result()
                outcomes.append(outcome)
                if outcome.entry is not None and outcome.changed:
                    ledger.record(outcome.entry)
                failed += len(outcome.failure_rows())
                downloaded += outcome.downloaded
                bar.advance()
                bar.update(status=f"{downloaded / 1e6:.1f} MB fetched, {failed} failures")
        except BaseException:
            for future in futures:
                future.cancel()
            ledger.flush()  # keep what finished: the next run resumes from it
            raise
    ledger.flush()
    return outcomes


def _index_table(entries: list[Entry], store: RawStore) -> pa.Table:
    faces = [face for entry in entries for face in entry.faces]
    faces.sort(key=lambda f: (f["id"], f["source_url"], f["archive_path"] or ""))
    rows: list[dict[str, Any]] = []
    for face in faces:
        if rows and rows[-1]["id"] == face["id"]:
            rows[-1]["duplicates"].append(
                {"source_url": face["source_url"], "archive_path": face["archive_path"]}
            )
            continue
        row = dict(face)
        row["duplicates"] = []
        row["companions"] = (
            store.companions_of(face["sha256"]) if face["format"] in TYPE1_FORMATS else []
        )
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=INDEX_SCHEMA)


def _failure_table(outcomes: list[Outcome], listing: list[Failure]) -> pa.Table:
    rows = [row for outcome in outcomes for row in outcome.failure_rows()]
    rows += [f.row() for f in listing]
    rows.sort(key=lambda r: (r["source_url"], r["archive_path"] or "", r["reason"], r["message"]))
    return pa.Table.from_pylist(rows, schema=FAILURES_SCHEMA)


def _counts(
    config: IngestionConfig,
    items: list[Item],
    outcomes: list[Outcome],
    listing: list[Failure],
    index: pa.Table,
    store: RawStore,
) -> dict[str, int]:
    counts: collections.Counter[str] = collections.Counter()
    counts["items"] = len(items)
    counts["items_reused"] = sum(o.reused for o in outcomes)
    counts["items_read"] = len(outcomes) - counts["items_reused"]
    counts["bytes_fetched"] = sum(o.downloaded for o in outcomes)
    counts["faces"] = index.num_rows
    counts["files"] = len(set(index.column("stored_path").to_pylist()))
    counts["files_written"] = store.files_written
    counts["bytes_written"] = store.bytes_written
    counts["duplicates"] = sum(len(d) for d in index.column("duplicates").to_pylist())
    for name in config.source_names():
        for key in ("items", "faces", "failures"):
            counts[f"source.{name}.{key}"] = 0
    for outcome in outcomes:
        name = outcome.item.source
        counts[f"source.{name}.items"] += 1
        counts[f"source.{name}.faces"] += len(outcome.entry.faces) if outcome.entry else 0
        for row in outcome.failure_rows():
            counts[f"source.{name}.failures"] += 1
            counts[f"failures.{row['reason']}"] += 1
    for failure in listing:
        counts[f"source.{failure.source}.failures"] += 1
        counts[f"failures.{failure.reason}"] += 1
    counts["failures"] = sum(v for k, v in counts.items() if k.startswith("failures."))
    return dict(sorted(counts.items()))


def _known_checksums(store: RawStore) -> dict[str, str]:
    """Font files are named by their sha256: no need to read them again for the manifest."""
    known: dict[str, str] = {}
    for relative in store.present():
        stem, extension = posixpath.splitext(posixpath.basename(relative))
        if relative.startswith(FILES_DIR + "/") and extension.lstrip(".") in FORMATS:
            known[relative] = stem
    return known
