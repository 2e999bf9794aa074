"""``glyphflow score``: every split of a glyph dataset, scored by a classifier, same layout.

The driver reads each split's parts in order and cuts them into batches of
``batch_size`` records; the engine maps :func:`~glyphflow.scoring.score.score_batch`
over them and hands results back in order; the driver writes one output part per input
part, so the output mirrors the input (same splits, parts, rows and order, same schema
metadata) with the score fields added. The manifest records the classifier's bundle
digest, so a rerun with the same inputs and config finds its output current and stops.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from glyphflow.core.errors import UsageError
from glyphflow.core.logs import progress
from glyphflow.core.manifest import Manifest
from glyphflow.io import records, storage
from glyphflow.io.outputs import StageOutput, read_manifest
from glyphflow.io.shards import ShardWriter, list_shards
from glyphflow.scoring.config import ScoringConfig
from glyphflow.scoring.score import ScoreContext, layout_of, score_batch, scored_schema

__all__ = ["load_classifier", "run"]

_log = logging.getLogger(__name__)

_MLFLOW_PREFIXES = ("models:/", "runs:/", "mlflow-artifacts:/")
_NO_ROLL = 1 << 62  # parts are cut where the input's are, never by size


def _tracking_uri(config: ScoringConfig) -> str:
    from glyphflow.tracking.uri import default_workdir, resolve_tracking_uri

    return str(resolve_tracking_uri(config.tracking_uri, default_workdir(config.output)))


def load_classifier(config: ScoringConfig) -> tuple[Any, bytes]:
    """The classifier named by ``config.model`` and its bundle as bytes (for the workers)."""
    from glyphflow.models import load, save

    if config.model.startswith(_MLFLOW_PREFIXES):
        from glyphflow.tracking.registry import load_model

        model = load_model(config.model, tracking_uri=_tracking_uri(config))
    else:
        model = load(config.model)
    if not (hasattr(model, "features") and hasattr(model, "predict")):
        raise UsageError(
            f"{config.model} is a {type(model).__name__}, not a glyph classifier; scoring "
            "needs a model trained with model.class: classifier"
        )
    url = "memory://glyphflow-scoring/driver.pt"
    save(model, url, getattr(model, "bundle_extra", None))
    try:
        return model, storage.read_bytes(url)
    finally:
        storage.remove(url)


def _batches(
    splits: list[tuple[str, list[str]]], batch_size: int
) -> Iterator[tuple[tuple[str, int], pa.RecordBatch]]:
    """``((split, part), batch)`` over every split and part, in order."""
    for split, shards in splits:
        for part, shard in enumerate(shards):
            with storage.open_url(shard, "rb", compression=None) as handle:
                for batch in pq.ParquetFile(handle).iter_batches(batch_size=batch_size):
                    yield (split, part), batch


def _num_rows(shard: str) -> int:
    with storage.open_url(shard, "rb", compression=None) as handle:
        return int(pq.ParquetFile(handle).metadata.num_rows)


def _read_schema(shard: str) -> pa.Schema:
    with storage.open_url(shard, "rb", compression=None) as handle:
        schema: pa.Schema = pq.read_schema(handle)
    return schema


def run(config: ScoringConfig) -> Manifest:
    """Score every configured split of ``config.glyphs`` into ``config.output``."""
    from glyphflow.engines import engines

    model, bundle = load_classifier(config)
    digest = hashlib.sha256(bundle).hexdigest()
    # A model on storage is an input the pipeline runner can re-check; a registry or run
    # URI is recorded by the digest of the bundle it resolved to.
    inputs = {"glyphs": config.glyphs}
    pinned = {}
    if config.model.startswith(_MLFLOW_PREFIXES):
        pinned["model"] = f"sha256:{digest}"
    else:
        inputs["model"] = config.model
    output = StageOutput(config.output, "scoring", config, inputs=inputs, input_fingerprints=pinned)
    if output.is_current():
        _log.info("scoring: %s is current; nothing to do", config.output)
        manifest = read_manifest(config.output)
        assert manifest is not None
        return manifest
    splits = _splits(config)
    if not splits:
        raise UsageError(
            f"{config.glyphs} holds none of the splits {', '.join(config.splits)}; give the "
            "output folder of the preprocessing stage"
        )
    schema, layout, charset, shape = _input_schema(config, model, splits)
    out_schema = scored_schema(
        schema,
        json.dumps({"model": config.model, "bundle_sha256": digest, "charset": model.charset}),
    )
    context = ScoreContext.create(
        bundle,
        layout=layout,
        charset=charset,
        image_shape=shape,
        schema=out_schema,
        device=config.device,
        threads=config.threads,
    )
    output.begin()
    engine = engines.build(config.engine)
    stats = {split: _Stats() for split, _ in splits}
    total = sum(_num_rows(shard) for _, shards in splits for shard in shards)
    scratch = output.path(".scratch")
    writer: ShardWriter | None = None
    current: tuple[str, int] | None = None
    try:
        with progress("scoring", total=total, unit="records") as bar:
            for key, scored in engine.map(
                score_batch, _batches(splits, config.batch_size), context, scratch_url=scratch
            ):
                if writer is None or current is None or key[0] != current[0]:
                    if writer is not None:
                        writer.close()
                    storage.remove(output.path(key[0]), recursive=True)
                    writer = ShardWriter(output.path(key[0]), out_schema, max_bytes=_NO_ROLL)
                elif key != current:
                    writer.flush()
                current = key
                writer.write(scored)
                stats[key[0]].add(scored, layout, charset)
                bar.advance(scored.num_rows)
        if writer is not None:
            writer.close()
    finally:
        storage.remove(scratch, recursive=True)
    for split, _ in splits:
        if stats[split].records == 0:  # an empty split still exists, with the schema
            storage.remove(output.path(split), recursive=True)
            with ShardWriter(output.path(split), out_schema) as empty:
                empty.write(pa.Table.from_pylist([], schema=out_schema))
        output.counts[f"{split}_records"] = stats[split].records
        output.counts[f"{split}_glyphs"] = stats[split].glyphs
    output.extra["classifier"] = {"model": config.model, "bundle_sha256": digest}
    output.extra["statistics"] = {split: stats[split].summary() for split, _ in splits}
    upstream = read_manifest(config.glyphs)
    if upstream is not None and isinstance(upstream.config.get("render"), dict):
        # Downstream stages (training) read the render settings of the glyphs they get.
        output.extra["render"] = upstream.config["render"]
    return output.commit()


def _splits(config: ScoringConfig) -> list[tuple[str, list[str]]]:
    found = []
    for split in config.splits:
        source = storage.join(config.glyphs, split)
        shards = list_shards(source) if storage.exists(source) else []
        if shards:
            found.append((split, shards))
        else:
            _log.warning("scoring: %s has no parts; split %r skipped", source, split)
    return found


def _input_schema(
    config: ScoringConfig, model: Any, splits: list[tuple[str, list[str]]]
) -> tuple[pa.Schema, str, str, tuple[int, int]]:
    """The input schema (the same in every split), its layout, charset and image shape."""
    schema = _read_schema(splits[0][1][0])
    for split, shards in splits[1:]:
        other = _read_schema(shards[0])
        if not other.equals(schema, check_metadata=True):
            raise UsageError(
                f"{config.glyphs}: split {split!r} has another schema than {splits[0][0]!r}; "
                "every split of one dataset must share fields, charset and image shape"
            )
    try:
        layout = layout_of(schema)
        shape = records.image_shape(schema)
        charset = records.charset_of(schema)
    except ValueError as err:
        raise UsageError(f"{splits[0][1][0]}: {err}") from None
    if tuple(shape) != tuple(model.image_shape):
        raise UsageError(
            f"{config.model} reads {model.image_shape[0]}x{model.image_shape[1]} glyphs but "
            f"{config.glyphs} holds {shape[0]}x{shape[1]}; score with a classifier trained "
            "on glyphs of the same size"
        )
    unknown = sorted(set(charset) - set(model.charset))
    if unknown:
        _log.warning(
            "scoring: the classifier does not know %s; their glyphs get confidence 0",
            "".join(unknown),
        )
    return schema, layout, charset, (int(shape[0]), int(shape[1]))


class _Stats:
    """Running figures of one split: records, glyphs, accuracy, confidence distribution."""

    def __init__(self) -> None:
        self.records = 0
        self.glyphs = 0
        self.correct = 0
        self.confidences: list[np.ndarray] = []

    def add(self, scored: pa.RecordBatch, layout: str, charset: str) -> None:
        conf, hits, count = _batch_stats(scored, layout, charset)
        self.records += scored.num_rows
        self.glyphs += count
        self.correct += hits
        self.confidences.append(conf)

    def summary(self) -> dict[str, Any]:
        values = np.concatenate(self.confidences) if self.confidences else np.zeros(0)
        quantiles = (
            {str(q): round(float(np.quantile(values, q)), 6) for q in (0.01, 0.05, 0.25, 0.5)}
            if len(values)
            else {}
        )
        return {
            "records": self.records,
            "glyphs": self.glyphs,
            "accuracy": round(self.correct / self.glyphs, 6) if self.glyphs else None,
            "mean_confidence": round(float(values.mean()), 6) if len(values) else None,
            "confidence_quantiles": quantiles,
        }


def _batch_stats(scored: pa.RecordBatch, layout: str, charset: str) -> tuple[np.ndarray, int, int]:
    """Confidences of the glyphs in a scored batch, how many were read right, how many."""
    if layout == "glyph":
        conf = scored.column("confidence").to_numpy(zero_copy_only=False)
        predicted = scored.column("predicted").to_pylist()
        chars = scored.column("char").to_pylist()
        hits = sum(p == c for p, c in zip(predicted, chars, strict=True))
        return conf, hits, len(conf)
    count = len(charset)
    present = records.images_from_arrow(scored.column("present"), (count,)).astype(bool)
    conf_all = scored.column("confidence").flatten().to_numpy(zero_copy_only=False)
    conf_all = conf_all.reshape(-1, count)
    predicted = scored.column("predicted").flatten().to_pylist()
    hits = 0
    for row, col in zip(*np.nonzero(present), strict=True):
        hits += predicted[int(row) * count + int(col)] == charset[int(col)]
    return conf_all[present], hits, int(present.sum())
