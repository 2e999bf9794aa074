"""``glyphflow preprocess``: render the fonts of an index into split glyph datasets.

One pass streams the index, skips fonts already in the dataset (same render settings),
maps :func:`~glyphflow.preprocessing.tasks.render_task` over the rest with the configured
engine, and writes records to ``train/``, ``val/`` and ``test/`` as they come back (in
index order, whatever the engine). Every ``commit_every`` fonts the open parts are
closed and a state part records what they hold, so a killed run resumes where it
stopped. At the end: ``failures.parquet``, the contact sheet, and the manifest (which
carries the resolved render config that training and serving read back).

``follow=True`` repeats the pass whenever the upstream output is recommitted with new
fonts, committing the output after each, until SIGINT/SIGTERM (or ``stop``) asks it to
end: it then finishes the font in hand, commits, and returns.
"""

from __future__ import annotations

import hashlib
import logging
import signal
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from glyphflow.core.config import config_hash
from glyphflow.core.errors import StageFailedError, UsageError
from glyphflow.core.logs import progress
from glyphflow.core.manifest import Manifest
from glyphflow.engines import engines
from glyphflow.io import shards, storage
from glyphflow.io.outputs import StageOutput, is_complete, read_manifest
from glyphflow.io.shards import ShardWriter
from glyphflow.preprocessing.config import SPLITS, PreprocessingConfig
from glyphflow.preprocessing.contact_sheet import PNG_NAME, SAMPLE_NAME, ContactSample
from glyphflow.preprocessing.records import (
    FAILURE_SCHEMA,
    dataset_schema,
    failure_row,
    result_batch,
)
from glyphflow.preprocessing.sources import Source, index_fingerprint, iter_tasks, resolve_source
from glyphflow.preprocessing.state import DatasetState
from glyphflow.preprocessing.tasks import FontResult, RenderJob, render_task

__all__ = ["FAILURES_NAME", "STAGE", "dataset_key", "run"]

STAGE = "preprocessing"
FAILURES_NAME = "failures.parquet"
_SCRATCH = "_scratch"

_log = logging.getLogger(__name__)


def run(
    config: PreprocessingConfig, follow: bool = False, *, stop: threading.Event | None = None
) -> Manifest:
    """Render new fonts into the dataset at ``config.output``; with ``follow``, keep going."""
    if follow:
        return _follow(config, stop or threading.Event())
    manifest = _run_once(config, stop)
    if manifest is None:
        raise UsageError("stopped before anything was written")
    return manifest


def dataset_key(config: PreprocessingConfig) -> str:
    """A hash of every setting that decides the records: same key, reusable records."""
    return config_hash(
        {
            "render": config.render.model_dump(mode="json"),
            "layout": config.layout,
            "splits": config.splits.model_dump(mode="json"),
            "split_key": config.split_key,
            "seed": config.seed,
            "min_glyphs": config.effective_min_glyphs,
        }
    )


# ---------------------------------------------------------------------------- one pass


def _run_once(
    config: PreprocessingConfig, stop: threading.Event | None, *, strict: bool = True
) -> Manifest | None:
    source = resolve_source(config)
    inputs = {"fonts": config.fonts}
    if source.raw.rstrip("/") != config.fonts.rstrip("/"):
        inputs["raw"] = source.raw
    output = StageOutput(
        config.output,
        STAGE,
        config,
        inputs=inputs,
        input_fingerprints={"fonts": index_fingerprint(config.fonts)},
    )
    if output.is_current():  # a stopped pass commits under another fingerprint
        _log.info("%s is up to date with its input and config", config.output)
        return read_manifest(config.output)
    output.begin()
    scratch = output.path(_SCRATCH)
    storage.remove(scratch, recursive=True)
    state = DatasetState.open(
        config.output, dataset_key(config), extra_files=(FAILURES_NAME, PNG_NAME, SAMPLE_NAME)
    )
    pass_ = _Pass(config, output, state)
    try:
        stopped = pass_.render(source, stop, scratch)
    finally:
        storage.remove(scratch, recursive=True)
    if stopped:
        # Not every font of this input is in: the output must not look current (a rerun
        # resumes it) nor pass for the complete dataset downstream.
        partial = f"{output.fingerprint}:partial:{len(state.fonts)}"
        output.fingerprint = hashlib.sha256(partial.encode()).hexdigest()
    return pass_.finish(strict=strict, partial=stopped)


class _Pass:
    """One pass over the index: writers per split, checkpoints, counts, the sample."""

    def __init__(
        self, config: PreprocessingConfig, output: StageOutput, state: DatasetState
    ) -> None:
        self.config = config
        self.output = output
        self.state = state
        chars = config.chars
        size = config.render.glyph_size
        self.schema = dataset_schema(config.layout, size, chars)
        self.writers = {
            split: ShardWriter(
                output.path(split),
                self.schema,
                max_bytes=config.shard_max_bytes,
                start_index=state.next_part[split],
            )
            for split in SPLITS
        }
        self._reported = dict.fromkeys(SPLITS, 0)  # parts already named in the state
        self.pending: list[dict[str, Any]] = []
        self.sample = ContactSample.load(output.url, config.contact_sheet.fonts, size, chars)
        self.rendered = 0
        self.failed = 0
        self.glyphs = 0
        self.missing: Counter[str] = Counter()
        self.failure_reasons: Counter[str] = Counter()

    def render(self, source: Source, stop: threading.Event | None, scratch: str) -> bool:
        """Render every new font; True when ``stop`` ended the pass before the end."""
        config = self.config
        engine = engines.build(config.engine)
        job = RenderJob(config.render, config.effective_min_glyphs)
        tasks = iter_tasks(source, config, skip=self.state.known)
        results = engine.map(render_task, tasks, job, scratch_url=scratch)
        _log.info("rendering %s with %r", source.index, engine)
        stopped = False
        with progress("rendering fonts", unit="fonts") as bar:
            try:
                for result in results:
                    self._take(result)
                    bar.advance(1)
                    if len(self.pending) >= config.commit_every:
                        self.checkpoint()
                    if stop is not None and stop.is_set():
                        _log.info("stop requested: committing what is rendered")
                        stopped = True
                        break
            finally:
                close = getattr(results, "close", None)
                if close is not None:
                    close()
        self.checkpoint()
        return stopped

    def _take(self, result: FontResult) -> None:
        task = result.task
        glyphs = result.glyphs
        if glyphs is not None:
            batch = result_batch(result, self.config.layout, self.schema)
            self.writers[task.split].write(batch)
            self.sample.offer(result)
            self.rendered += 1
            self.glyphs += glyphs.count
            self.missing.update(r for r in glyphs.reasons if r is not None)
            self.pending.append(_state_row(result, "ok", glyphs.count))
        else:
            self.failed += 1
            self.failure_reasons[result.reason or "unknown"] += 1
            _log.debug("font %s failed: %s: %s", task.font_id, result.reason, result.message)
            self.pending.append(_state_row(result, "failed", 0))

    def checkpoint(self) -> None:
        """Close open parts, then record the fonts they hold in a state part."""
        parts: list[str] = []
        for split, writer in self.writers.items():
            writer.flush()
            parts.extend(writer.files[self._reported[split] :])
            self._reported[split] = len(writer.files)
        self.state.record(self.pending, parts)
        self.pending = []

    def finish(self, *, strict: bool, partial: bool = False) -> Manifest | None:
        config = self.config
        output = self.output
        failures = [failure_row_from_state(row) for row in self.state.failures()]
        table = pa.Table.from_pylist(failures, schema=FAILURE_SCHEMA)
        shards.write_table(output.path(FAILURES_NAME), table)
        if config.contact_sheet.enabled:
            self.sample.save(output.url)
        counts = _counts(self.state)
        counts.update(fonts_new=self.rendered, fonts_failed_new=self.failed, glyphs_new=self.glyphs)
        output.counts = counts
        output.extra = {
            "charset": config.chars,
            "image_shape": [config.render.glyph_size, config.render.glyph_size],
            "layout": config.layout,
            "dataset_key": self.state.key,
            "missing_glyphs_new": dict(sorted(self.missing.items())),
            "failure_reasons_new": dict(sorted(self.failure_reasons.items())),
            "partial": partial,
        }
        tried = counts["fonts"] + counts["fonts_failed"]
        if tried and counts["fonts_failed"] / tried > config.max_failed_fraction:
            message = (
                f"{counts['fonts_failed']} of {tried} fonts failed, more than "
                f"max_failed_fraction {config.max_failed_fraction}; reasons in "
                f"{output.path(FAILURES_NAME)}"
            )
            if strict:
                raise StageFailedError(message)
            _log.error("%s (not committed)", message)
            return None
        manifest = output.commit()
        _log.info(
            "%s: %d fonts (%d new), %d failed, %d glyphs",
            config.output,
            counts["fonts"],
            self.rendered,
            counts["fonts_failed"],
            counts["glyphs"],
        )
        return manifest


def _state_row(result: FontResult, status: str, glyphs: int) -> dict[str, Any]:
    task = result.task
    row = failure_row(result)
    return {
        "font_id": task.font_id,
        "family": task.family,
        "split": task.split,
        "status": status,
        "reason": result.reason,
        "message": result.message,
        "glyphs": glyphs,
        "source_url": row["source_url"],
        "archive_path": row["archive_path"],
    }


def failure_row_from_state(row: Mapping[str, Any]) -> dict[str, Any]:
    return {name: row.get(name) for name in FAILURE_SCHEMA.names}


def _counts(state: DatasetState) -> dict[str, int]:
    counts = {"fonts": 0, "fonts_failed": 0, "glyphs": 0}
    for split in SPLITS:
        counts[f"fonts_{split}"] = 0
        counts[f"glyphs_{split}"] = 0
    for font in state.fonts.values():
        if font.status == "ok":
            counts["fonts"] += 1
            counts["glyphs"] += font.glyphs
            counts[f"fonts_{font.split}"] += 1
            counts[f"glyphs_{font.split}"] += font.glyphs
        else:
            counts["fonts_failed"] += 1
    return counts


# ---------------------------------------------------------------------------- follow


def _follow(config: PreprocessingConfig, stop: threading.Event) -> Manifest:
    manifest = read_manifest(config.output) if is_complete(config.output, False) else None
    last_input: str | None = None
    with _stop_on_signals(stop):
        _log.info(
            "following %s (every %gs); stop with Ctrl-C", config.fonts, config.follow.poll_seconds
        )
        while not stop.is_set():
            try:
                fingerprint = index_fingerprint(config.fonts)
            except UsageError as err:  # not there yet, or being rewritten
                _log.debug("waiting for %s: %s", config.fonts, err)
                fingerprint = None
            if fingerprint is not None and fingerprint != last_input:
                try:
                    done = _run_once(config, stop, strict=False)
                except UsageError as err:  # e.g. the input changed under us: next poll
                    _log.warning("cannot process %s yet: %s", config.fonts, err)
                else:
                    manifest = done or manifest
                    last_input = fingerprint
            stop.wait(config.follow.poll_seconds)
    if manifest is None:
        raise UsageError(f"stopped before {config.fonts} was ready: nothing was written")
    return manifest


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set ``stop`` (a second SIGINT interrupts at once)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        _log.info("%s: finishing the font in hand, then stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
