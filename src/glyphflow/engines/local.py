"""The local engine: in-process, or a pool of worker processes, results in input order.

With ``workers: 1`` elements are processed in the calling process, one after another.
With more, elements travel to a process pool in chunks; at most ``max_pending`` chunks
are in flight, so memory stays bounded however many elements stream in, and results are
yielded in input order (a slow chunk holds back later ones, never reorders them).

Workers start from a fork server by default (``spawn`` where there is none): a clean
process that imported the function's module once, so no threads or locks of the caller
are inherited, yet a new worker costs a fork, not a fresh interpreter's imports (this
matters in follow mode, which starts a pool per batch of arrivals). Workers receive
``context`` once through the pool initializer and ignore SIGINT, so an interrupted run
is stopped by the parent, which drains what is in flight and shuts the pool down.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import Any, TypeVar

__all__ = ["LocalEngine"]

T = TypeVar("T")
R = TypeVar("R")

_log = logging.getLogger(__name__)
_worker_context: Any = None


def _init_worker(context: Any) -> None:
    global _worker_context
    _worker_context = context
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_chunk(fn: Callable[[Any, Any], Any], chunk: list[Any]) -> list[Any]:
    return [fn(item, _worker_context) for item in chunk]


class LocalEngine:
    """Run in this process (``workers=1``) or in a pool of ``workers`` processes."""

    name = "local"

    def __init__(
        self,
        workers: int = 1,
        chunksize: int = 4,
        max_pending: int | None = None,
        start_method: str | None = None,
    ) -> None:
        if workers == 0:
            workers = os.cpu_count() or 1
        if workers < 1:
            raise ValueError(f"workers must be >= 1, or 0 for one per CPU (got {workers})")
        if chunksize < 1:
            raise ValueError(f"chunksize must be >= 1 (got {chunksize})")
        methods = multiprocessing.get_all_start_methods()
        if start_method is None:
            start_method = "forkserver" if "forkserver" in methods else "spawn"
        if start_method not in methods:
            valid = ", ".join(methods)
            raise ValueError(f"start_method must be one of {valid} (got {start_method!r})")
        self.workers = workers
        self.chunksize = chunksize
        self.max_pending = max_pending or 4 * workers
        self.start_method = start_method

    def __repr__(self) -> str:
        return f"LocalEngine(workers={self.workers}, chunksize={self.chunksize})"

    def map(
        self,
        fn: Callable[[T, Any], R],
        items: Iterable[T],
        context: Any = None,
        *,
        scratch_url: str | None = None,
    ) -> Iterator[R]:
        """Yield ``fn(item, context)`` for each item, in input order."""
        if self.workers == 1:
            for item in items:
                yield fn(item, context)
            return
        yield from self._pooled(fn, items, context)

    def _pooled(self, fn: Callable[[T, Any], R], items: Iterable[T], context: Any) -> Iterator[R]:
        source = iter(items)
        mp_context = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver":
            # The server imports the function's module once; workers fork from it.
            mp_context.set_forkserver_preload([fn.__module__])
        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=mp_context,
            initializer=_init_worker,
            initargs=(context,),
        )
        pending: deque[Future[list[R]]] = deque()

        def submit() -> bool:
            chunk = list(islice(source, self.chunksize))
            if not chunk:
                return False
            pending.append(pool.submit(_run_chunk, fn, chunk))
            return True

        try:
            while len(pending) < self.max_pending and submit():
                pass
            while pending:
                results = pending.popleft().result()
                submit()
                yield from results
        finally:
            # Early exit (stop requested, error): drop queued chunks, wait for running ones.
            pool.shutdown(wait=True, cancel_futures=True)
