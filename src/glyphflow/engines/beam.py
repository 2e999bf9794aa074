"""The Beam engine: the same per-element function inside an Apache Beam pipeline.

Elements are written in chunks to a scratch folder; the pipeline reads the chunk
numbers, spreads them over workers (``Reshuffle``), applies the function to every
element of a chunk and writes the chunk's results next to it. When the pipeline has
finished, results are read back chunk by chunk in input order, so records come out
byte-identical to the local engine's whatever the runner did in between. A chunk's
result file is written atomically and is the same whichever attempt wrote it, so a
runner's retries are harmless.

``beam_options`` are passed through as pipeline flags, either a list
(``["--runner=DataflowRunner", "--project=p"]``) or a mapping
(``{runner: FlinkRunner, parallelism: 8}``); the default runner is the DirectRunner.
On a distributed runner the scratch folder must be a URL the workers can reach
(``temp_url``, e.g. ``gs://bucket/tmp``); stages pass a folder under their own output.

apache_beam is imported only when a pipeline runs (extra ``glyphflow[beam]``).
"""

from __future__ import annotations

import logging
import pickle
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, TypeVar

from glyphflow.core.errors import MissingDependencyError
from glyphflow.io import storage

__all__ = ["BeamEngine", "beam_flags"]

T = TypeVar("T")
R = TypeVar("R")

_log = logging.getLogger(__name__)


def beam_flags(options: Sequence[str] | Mapping[str, Any] | None) -> list[str]:
    """Pipeline flags from a list of flags or a mapping of option names to values."""
    if options is None:
        return []
    if isinstance(options, Mapping):
        flags: list[str] = []
        for key, value in options.items():
            name = key if key.startswith("--") else f"--{key}"
            if value is True:
                flags.append(name)
            elif value is False or value is None:
                continue
            elif isinstance(value, (list, tuple)):
                flags.extend(f"{name}={item}" for item in value)
            else:
                flags.append(f"{name}={value}")
        return flags
    return [str(flag) for flag in options]


def _chunk_url(root: str, kind: str, index: int) -> str:
    return storage.join(root, kind, f"chunk-{index:08d}.pkl")


class BeamEngine:
    """Map a function over elements in a Beam pipeline; results in input order."""

    name = "beam"

    def __init__(
        self,
        beam_options: Sequence[str] | Mapping[str, Any] | None = None,
        chunk_size: int = 8,
        temp_url: str | None = None,
    ) -> None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1 (got {chunk_size})")
        self.flags = beam_flags(beam_options)
        self.chunk_size = chunk_size
        self.temp_url = temp_url

    def __repr__(self) -> str:
        return f"BeamEngine(flags={self.flags!r}, chunk_size={self.chunk_size})"

    def map(
        self,
        fn: Callable[[T, Any], R],
        items: Iterable[T],
        context: Any = None,
        *,
        scratch_url: str | None = None,
    ) -> Iterator[R]:
        """Run the pipeline over ``items`` and yield ``fn(item, context)`` in input order."""
        beam, options_cls = _import_beam()
        owned = scratch_url is None and self.temp_url is None
        base = scratch_url or self.temp_url or tempfile.mkdtemp(prefix="glyphflow-beam-")
        root = storage.join(base, f"beam-{uuid.uuid4().hex[:12]}")
        try:
            count = self._write_inputs(items, root)
            if count == 0:
                return
            _log.info("beam: %d chunks of up to %d elements", count, self.chunk_size)
            apply = _make_apply(beam, fn, context, root)
            options = options_cls(self.flags)
            with beam.Pipeline(options=options) as pipeline:
                _ = (
                    pipeline
                    | "Chunks" >> beam.Create(list(range(count)))
                    | "Spread" >> beam.Reshuffle()
                    | "Apply" >> beam.ParDo(apply)
                )
            for index in range(count):
                results: list[R] = pickle.loads(storage.read_bytes(_chunk_url(root, "out", index)))
                yield from results
        finally:
            storage.remove(root, recursive=True)
            if owned:
                storage.remove(base, recursive=True)

    def _write_inputs(self, items: Iterable[T], root: str) -> int:
        source = iter(items)
        count = 0
        while chunk := list(islice(source, self.chunk_size)):
            storage.write_bytes(_chunk_url(root, "in", count), pickle.dumps(chunk))
            count += 1
        return count


def _import_beam() -> tuple[Any, Any]:
    try:
        import apache_beam as beam
        from apache_beam.options.pipeline_options import PipelineOptions
    except ImportError:
        raise MissingDependencyError("the beam engine", "beam", "apache_beam") from None
    return beam, PipelineOptions


def _make_apply(beam: Any, fn: Callable[[Any, Any], Any], context: Any, root: str) -> Any:
    """A DoFn applying ``fn`` to every element of a chunk (defined here: beam is lazy)."""

    class ApplyToChunk(beam.DoFn):  # type: ignore[misc]
        def __init__(self, fn: Callable[[Any, Any], Any], context: Any, root: str) -> None:
            self.fn = fn
            self.context = context
            self.root = root

        def process(self, index: int) -> Iterator[int]:
            chunk = pickle.loads(storage.read_bytes(_chunk_url(self.root, "in", index)))
            results = [self.fn(item, self.context) for item in chunk]
            storage.write_bytes(_chunk_url(self.root, "out", index), pickle.dumps(results))
            yield index

    return ApplyToChunk(fn, context, root)
