"""The per-batch work of scoring: one record batch in, the same batch with scores out.

:func:`score_batch` is what every engine maps, so local (in-process or a process pool)
and Beam runs compute exactly the same numbers: the batches are cut by the driver, the
classifier comes as the same bundle bytes in :class:`ScoreContext`, and torch uses a
fixed number of threads while it scores.

Fields added:

- one row per glyph: ``probabilities`` (list<float32>, softmax over the classifier's
  charset), ``predicted`` (its most likely character) and ``confidence`` (float32, the
  probability of the record's own character: how sure the classifier is that this glyph
  is what it claims to be; 0 when the classifier does not know the character);
- one row per font: ``confidence`` (list<float32>, one per charset character, 0 where
  the glyph is missing) and ``predicted`` (list<string>, null where missing).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from glyphflow.io import records

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["SCORE_FIELDS", "ScoreContext", "layout_of", "score_batch", "scored_schema"]

#: Fields scoring adds, per layout.
SCORE_FIELDS: dict[str, list[pa.Field]] = {
    "glyph": [
        pa.field("probabilities", pa.list_(pa.float32())),
        pa.field("predicted", pa.string()),
        pa.field("confidence", pa.float32()),
    ],
    "font": [
        pa.field("confidence", pa.list_(pa.float32())),
        pa.field("predicted", pa.list_(pa.string())),
    ],
}

SCORING_KEY = b"glyphflow.scoring"


def layout_of(schema: pa.Schema) -> str:
    """``glyph`` or ``font``: which record layout ``schema`` holds."""
    names = set(schema.names)
    if {"images", "present"} <= names:
        return "font"
    if {"image", "char"} <= names:
        return "glyph"
    raise ValueError(
        f"neither glyph records (image, char) nor font records (images, present); "
        f"found fields {sorted(names)}"
    )


def scored_schema(schema: pa.Schema, scoring: str) -> pa.Schema:
    """``schema`` with the score fields added (replacing earlier scores) and metadata kept."""
    layout = layout_of(schema)
    added = SCORE_FIELDS[layout]
    names = {f.name for f in added}
    kept = [f for f in schema if f.name not in names]
    out = pa.schema([*kept, *added])
    metadata = dict(schema.metadata or {})
    metadata[SCORING_KEY] = scoring.encode()
    return out.with_metadata(metadata)


@dataclass(frozen=True)
class ScoreContext:
    """What every worker needs: the classifier bundle and how the records look."""

    bundle: bytes
    digest: str
    layout: str
    charset: str  # the dataset's charset (font layout: column order)
    image_shape: tuple[int, int]
    schema: pa.Schema  # output schema
    device: str = "cpu"
    threads: int | None = 1

    @classmethod
    def create(cls, bundle: bytes, **fields: Any) -> ScoreContext:
        return cls(bundle=bundle, digest=hashlib.sha256(bundle).hexdigest(), **fields)


# One loaded classifier per process and bundle: workers get the context once per chunk of
# work and must not reload the weights for every batch.
_LOADED: dict[tuple[str, str], Any] = {}


def _classifier(context: ScoreContext) -> Any:
    key = (context.digest, context.device)
    model = _LOADED.get(key)
    if model is None:
        from glyphflow.io import storage
        from glyphflow.models import load

        url = f"memory://glyphflow-scoring/{context.digest}.pt"
        storage.write_bytes(url, context.bundle)
        try:
            model = load(url, map_location=context.device)
        finally:
            storage.remove(url)
        _LOADED.clear()
        _LOADED[key] = model
    return model


@contextlib.contextmanager
def _torch_threads(count: int | None) -> Iterator[None]:
    import torch

    if count is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _probabilities(model: Any, images: NDArray[np.uint8], device: str) -> NDArray[np.float32]:
    """Softmax over the classifier's charset for glyphs ``images[N, H, W]``."""
    import torch

    if len(images) == 0:
        return np.zeros((0, len(model.charset)), np.float32)
    with torch.no_grad():
        x = torch.from_numpy(np.ascontiguousarray(images)).to(device)
        x = x.float().div(255.0).unsqueeze(1)
        probs: NDArray[np.float32] = torch.softmax(model(x).float(), dim=1).cpu().numpy()
    return probs


def _own_confidence(
    probs: NDArray[np.float32], chars: list[str], model_charset: str
) -> NDArray[np.float32]:
    index = {c: i for i, c in enumerate(model_charset)}
    out = np.zeros(len(chars), np.float32)
    for row, char in enumerate(chars):
        label = index.get(char)
        if label is not None:
            out[row] = probs[row, label]
    return out


def _list_array(values: pa.Array, lengths: NDArray[np.int64]) -> pa.ListArray:
    offsets = np.zeros(len(lengths) + 1, np.int32)
    np.cumsum(lengths, out=offsets[1:])
    result: pa.ListArray = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values)
    return result


def score_batch(
    item: tuple[Any, pa.RecordBatch], context: ScoreContext
) -> tuple[Any, pa.RecordBatch]:
    """Score one batch of records; returns ``(key, batch with the score fields)``."""
    key, batch = item
    model = _classifier(context)
    with _torch_threads(context.threads):
        if context.layout == "glyph":
            added = _score_glyphs(model, batch, context)
        else:
            added = _score_fonts(model, batch, context)
    names = {f.name for f in SCORE_FIELDS[context.layout]}
    columns = [batch.column(f.name) for f in context.schema if f.name not in names]
    columns.extend(added[f.name] for f in SCORE_FIELDS[context.layout])
    return key, pa.RecordBatch.from_arrays(columns, schema=context.schema)


def _score_glyphs(model: Any, batch: pa.RecordBatch, context: ScoreContext) -> dict[str, pa.Array]:
    images = records.images_from_arrow(batch.column("image"), context.image_shape)
    probs = _probabilities(model, images, context.device)
    chars = [str(c) for c in batch.column("char").to_pylist()]
    charset = model.charset
    predicted = [charset[i] for i in probs.argmax(axis=1)] if len(probs) else []
    lengths = np.full(len(probs), probs.shape[1], np.int64)
    return {
        "probabilities": _list_array(pa.array(probs.reshape(-1), pa.float32()), lengths),
        "predicted": pa.array(predicted, pa.string()),
        "confidence": pa.array(_own_confidence(probs, chars, charset), pa.float32()),
    }


def _score_fonts(model: Any, batch: pa.RecordBatch, context: ScoreContext) -> dict[str, pa.Array]:
    count = len(context.charset)
    shape = context.image_shape
    images = records.images_from_arrow(batch.column("images"), (count, *shape))
    present = records.images_from_arrow(batch.column("present"), (count,)).astype(bool)
    rows, cols = np.nonzero(present)
    probs = _probabilities(model, images[rows, cols], context.device)
    chars = [context.charset[c] for c in cols]
    confidence = np.zeros((len(images), count), np.float32)
    confidence[rows, cols] = _own_confidence(probs, chars, model.charset)
    predicted: list[str | None] = [None] * (len(images) * count)
    for slot, (row, col) in enumerate(zip(rows, cols, strict=True)):
        predicted[int(row) * count + int(col)] = model.charset[int(probs[slot].argmax())]
    lengths = np.full(len(images), count, np.int64)
    return {
        "confidence": _list_array(pa.array(confidence.reshape(-1), pa.float32()), lengths),
        "predicted": _list_array(pa.array(predicted, pa.string()), lengths),
    }
