"""The per-font work an engine runs: read the file, render it, say what happened.

:func:`render_task` is a plain module-level function of (task, job) so any engine can
ship it to a worker. It never raises for a bad font: every outcome, good or bad, is a
:class:`FontResult`, so one broken file cannot stop a run.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from glyphflow.glyphs.config import RenderConfig
from glyphflow.glyphs.render import FontGlyphs, FontRenderError, render_font
from glyphflow.io import storage

__all__ = ["RETRYABLE", "FontResult", "FontTask", "RenderJob", "render_task"]

#: Failure reasons that may go away on a rerun (the file could not be read this time).
RETRYABLE = frozenset({"read_error"})


@dataclass(frozen=True, slots=True)
class FontTask:
    """One face to render, with what its records need from the index."""

    font_id: str
    url: str
    face_index: int
    format: str
    family: str
    subfamily: str
    postscript_name: str
    source_url: str
    archive_path: str | None
    split: str
    # The named instance of a variable font this row stands for, ((tag, value), ...), as
    # validation's ``instance`` column gives it; None renders the default instance.
    instance: tuple[tuple[str, float], ...] | None = None


@dataclass(frozen=True, slots=True)
class RenderJob:
    """What every worker needs besides the task: shipped once per worker."""

    render: RenderConfig
    min_glyphs: int = 1


@dataclass(frozen=True, slots=True)
class FontResult:
    """The outcome for one task: glyphs when rendered, else a reason and a message."""

    task: FontTask
    glyphs: FontGlyphs | None
    reason: str | None = None
    message: str | None = None

    @property
    def ok(self) -> bool:
        return self.glyphs is not None


# The last variable font file read by this process: its named instances come as
# consecutive tasks (adjacent rows of accepted.parquet), so it is read once, not once per
# instance. One entry, so memory stays one file per worker thread at most.
_last_read: tuple[str, bytes] | None = None
_last_lock = threading.Lock()


def _read(task: FontTask) -> bytes:
    global _last_read
    if not task.instance:
        return storage.read_bytes(task.url)
    with _last_lock:
        last = _last_read
    if last is not None and last[0] == task.url:
        return last[1]
    data = storage.read_bytes(task.url)
    with _last_lock:
        _last_read = (task.url, data)
    return data


def render_task(task: FontTask, job: RenderJob) -> FontResult:
    """Render one font; any failure becomes a result with a reason."""
    try:
        data = _read(task)
    except Exception as err:  # missing file, network, permissions: all retryable
        return FontResult(task, None, "read_error", f"cannot read {task.url}: {err}")
    try:
        instance = dict(task.instance) if task.instance else None
        glyphs = render_font(data, task.face_index, job.render, instance)
    except FontRenderError as err:
        return FontResult(task, None, err.reason, err.message)
    except Exception as err:  # a renderer bug must cost one font, not the run
        return FontResult(task, None, "render_error", f"{type(err).__name__}: {err}")
    count = glyphs.count
    if count == 0:
        missing = glyphs.missing()
        reasons = sorted({r for r in missing.values()})
        return FontResult(
            task, None, "no_glyphs", f"no character of the charset produced ({', '.join(reasons)})"
        )
    if count < job.min_glyphs:
        return FontResult(
            task,
            None,
            "too_few_glyphs",
            f"{count} glyphs produced, fewer than min_glyphs {job.min_glyphs}",
        )
    return FontResult(task, glyphs)
