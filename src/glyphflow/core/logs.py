"""Logging and progress bars that respect ``--quiet`` and ``--verbose``.

Everything glyphflow says goes through :mod:`logging`; the CLI installs a rich handler
on stderr. Long work shows a rich progress bar unless quiet is set or stderr is not a
terminal (CI logs should not fill with redraws).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Progress", "configure_logging", "is_quiet", "progress"]

_state = {"quiet": False, "verbose": 0}


def configure_logging(verbose: int = 0, quiet: bool = False) -> None:
    """Install one stderr handler; ``verbose`` 1 = INFO+debug of glyphflow, quiet = WARNING."""
    _state["quiet"] = quiet
    _state["verbose"] = verbose
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_glyphflow", False):
            root.removeHandler(handler)
    from rich.console import Console
    from rich.logging import RichHandler

    handler = RichHandler(
        console=Console(stderr=True),
        show_path=verbose > 0,
        show_time=verbose > 0,
        rich_tracebacks=verbose > 0,
        markup=False,
    )
    handler._glyphflow = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("glyphflow").setLevel(level)
    # Chatty libraries stay at WARNING unless -vv.
    if verbose > 1:
        root.setLevel(logging.DEBUG)


def is_quiet() -> bool:
    return bool(_state["quiet"])


class Progress:
    """A minimal progress interface: ``advance(n)`` and ``update(**fields)``."""

    def __init__(self, bar: Any = None, task: Any = None) -> None:
        self._bar = bar
        self._task = task

    def advance(self, n: float = 1) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, n)

    def update(self, **fields: Any) -> None:
        if self._bar is not None:
            self._bar.update(self._task, **fields)


@contextmanager
def progress(description: str, total: float | None = None, unit: str = "") -> Iterator[Progress]:
    """A rich progress bar on a terminal; a silent one when quiet or not a terminal."""
    if is_quiet() or not sys.stderr.isatty():
        yield Progress()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as RichProgress

    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with RichProgress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task(description, total=total, status="")
        yield Progress(bar, task)
