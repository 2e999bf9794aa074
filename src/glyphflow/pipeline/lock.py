"""One pipeline run per workdir at a time: an exclusive lock file in a local workdir.

Two ``glyphflow run`` on the same workdir would interleave: both decide a step must run,
both write its output folder, and ``_pipeline.json`` ends up describing neither run. So
a run holds ``<workdir>/.glyphflow.lock`` for as long as it runs, and a second run fails
at once with a message naming the holder.

The lock is ``fcntl.flock`` on that file, which the kernel drops when the holding process
ends, however it ends: a crashed or killed run never leaves a lock that blocks the next
one. The JSON written into the file (pid, host, start time, pipeline file) is only there
to say who holds it; an old one left in the file means nothing. The file itself stays
(deleting a lock file races with a process about to lock it).

Limits, said plainly: there is no lock for a workdir that is not on a local filesystem
(``s3://`` and the like; object stores have no lock to take), and none where ``fcntl`` is
missing (Windows); flock on a network filesystem (NFS) is only as good as that mount's
lock support. Within one process the lock is re-entrant, so a sweep holding it can run
its points through the runner, which takes it again.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

from glyphflow.core.errors import GlyphflowError
from glyphflow.io import storage

__all__ = ["LOCK_NAME", "WorkdirLockedError", "workdir_lock"]

LOCK_NAME = ".glyphflow.lock"

_log = logging.getLogger(__name__)
_held: dict[str, int] = {}  # lock file path -> nesting depth, for this process


class WorkdirLockedError(GlyphflowError):
    """Another run holds the workdir; this run did nothing."""


@contextmanager
def workdir_lock(workdir: str, pipeline: str = "") -> Iterator[str | None]:
    """Hold the workdir's lock for the block; yield the lock file's path (None: no lock)."""
    if not storage.is_local(workdir):
        _log.debug("workdir %s is not local: no lock (concurrent runs are not prevented)", workdir)
        yield None
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield None
        return
    directory = os.path.abspath(storage.strip_protocol(workdir))
    path = os.path.join(directory, LOCK_NAME)
    if _held.get(path):
        _held[path] += 1
        try:
            yield path
        finally:
            _held[path] -= 1
        return
    os.makedirs(directory, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WorkdirLockedError(_locked_message(workdir, path, fd)) from None
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "pipeline": pipeline,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
        _held[path] = 1
        try:
            yield path
        finally:
            del _held[path]
            os.ftruncate(fd, 0)  # the next reader finds no stale holder
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _locked_message(workdir: str, path: str, fd: int) -> str:
    try:
        holder = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
    except (OSError, ValueError):
        holder = {}
    if isinstance(holder, dict) and holder.get("pid"):
        who = (
            f"pid {holder.get('pid')} on {holder.get('host', '?')}, "
            f"since {holder.get('since', '?')}"
        )
        if holder.get("pipeline"):
            who += f", running {holder['pipeline']}"
    else:
        who = "a process that has not written its details yet"
    return (
        f"workdir {workdir} is in use by another glyphflow run ({who}); lock file {path}. "
        "Wait for that run to finish (or stop it), or give this run another workdir "
        "(--set pipeline.workdir=...). The lock is released when its process ends, so "
        "there is no stale lock to delete."
    )
