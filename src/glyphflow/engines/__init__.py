"""Execution engines: map one picklable function over many elements, results in order.

Stages describe per-element work (render one font, score one shard) as a plain function
``fn(element, context) -> result`` and hand it to an engine picked in config as
``{class: local|beam, kwargs: {...}}``. Whatever the engine, results come back in input
order, so the same input gives byte-identical records:

- ``local`` (default): in-process when ``workers`` is 1, else a process pool.
- ``beam``: the same function inside an Apache Beam pipeline (DirectRunner locally;
  Dataflow, Flink or Spark through ``beam_options``).

Engines register lazily, so naming them in a config imports neither multiprocessing
machinery nor apache_beam.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

from glyphflow.core.registry import Registry

__all__ = ["Engine", "ItemFunction", "engines"]

T = TypeVar("T")
R = TypeVar("R")

#: The per-element function an engine maps: ``fn(element, context) -> result``. It must
#: be picklable (a module-level function) and must not depend on global state.
ItemFunction = Callable[[Any, Any], Any]


class Engine(Protocol):
    """What every engine provides."""

    name: str

    def map(
        self,
        fn: Callable[[T, Any], R],
        items: Iterable[T],
        context: Any = None,
        *,
        scratch_url: str | None = None,
    ) -> Iterator[R]:
        """Yield ``fn(item, context)`` for every item, in input order.

        ``context`` is shipped once to each worker (a config, a model). ``scratch_url``
        is a folder the engine may use for temporary files and removes when done.
        """
        ...


engines: Registry[Any] = Registry("engine")
engines.register_lazy("local", "glyphflow.engines.local:LocalEngine")
engines.register_lazy("beam", "glyphflow.engines.beam:BeamEngine")
