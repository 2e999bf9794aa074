"""Sources: where fonts come from, as a registry a config picks from by name.

A config lists sources as ``{class: NAME, kwargs: {...}}``. Built-in names:

- ``files``: URLs, folders and globs on any fsspec backend, and http(s) URLs;
- ``system``: the fonts installed on this machine;
- ``web``: a crawl from a page URL to the font files and archives it links to.

A source class has an ``Options`` pydantic model (its kwargs, validated with the config)
and an ``items()`` method yielding :class:`~glyphflow.ingestion.items.Item` and
:class:`~glyphflow.ingestion.items.Failure`. Plugins register more classes in
``SOURCES`` through the ``glyphflow.plugins`` entry points.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from glyphflow.core.config import ConfigModel
from glyphflow.core.registry import Registry
from glyphflow.ingestion.items import Failure, Item
from glyphflow.io.fontfiles import COMPANION_EXTENSIONS, has_font_extension

if TYPE_CHECKING:
    from glyphflow.ingestion.http import HttpClient

__all__ = [
    "ARCHIVE_EXTENSIONS",
    "SOURCES",
    "Source",
    "SourceContext",
    "SourceOptions",
    "is_archive_name",
    "is_wanted_name",
    "matches_any",
    "pair_companions",
]

#: File name endings that announce an archive glyphflow reads member by member.
ARCHIVE_EXTENSIONS = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.bz2", ".tbz2")

SOURCES: Registry[Any] = Registry("source")
SOURCES.register_lazy("files", "glyphflow.ingestion.sources.files:FilesSource")
SOURCES.register_lazy("system", "glyphflow.ingestion.sources.system:SystemSource")
SOURCES.register_lazy("web", "glyphflow.ingestion.sources.web:WebSource")


class SourceOptions(ConfigModel):
    """Options every source accepts."""

    name: str | None = None  # label in counts and the ``source`` column; default: the class


@dataclass
class SourceContext:
    """What a source may use while listing: the shared HTTP client (web crawls)."""

    http: HttpClient | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Source:
    """Base of source classes: ``Options`` validates kwargs, ``items()`` lists the work."""

    Options: ClassVar[type[SourceOptions]] = SourceOptions

    def __init__(self, name: str, options: SourceOptions, context: SourceContext) -> None:
        self.name = name
        self.options = options
        self.context = context

    def items(self) -> Iterator[Item | Failure]:
        raise NotImplementedError

    def failure(
        self, url: str, reason: str, message: str, archive_path: str | None = None
    ) -> Failure:
        return Failure(self.name, url, archive_path, reason, message)


def is_archive_name(name: str) -> bool:
    return name.lower().endswith(ARCHIVE_EXTENSIONS)


def is_wanted_name(name: str) -> bool:
    """A font file or an archive, judged by its name (contents are checked later)."""
    return has_font_extension(name) or is_archive_name(name)


def matches_any(text: str, patterns: Sequence[str]) -> bool:
    """``fnmatch`` of ``text`` (or its last path segment) against any of ``patterns``."""
    base = posixpath.basename(text.rstrip("/"))
    return any(fnmatch.fnmatchcase(text, p) or fnmatch.fnmatchcase(base, p) for p in patterns)


def pair_companions(paths: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """For each Type 1 font among ``paths``, the .afm/.pfm files of the same folder and stem."""
    by_stem: dict[tuple[str, str], list[str]] = {}
    fonts: list[str] = []
    for path in paths:
        folder, base = posixpath.split(path)
        stem, ext = posixpath.splitext(base)
        if ext.lower() in COMPANION_EXTENSIONS:
            by_stem.setdefault((folder, stem.lower()), []).append(path)
        elif ext.lower() in (".pfb", ".pfa", ".t1"):
            fonts.append(path)
    out: dict[str, tuple[str, ...]] = {}
    for path in fonts:
        folder, base = posixpath.split(path)
        stem = posixpath.splitext(base)[0].lower()
        if (folder, stem) in by_stem:
            out[path] = tuple(sorted(by_stem[(folder, stem)]))
    return out
