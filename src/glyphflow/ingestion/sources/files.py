"""The ``files`` source: URLs, folders and globs on any storage, and http(s) URLs.

Each entry of ``urls`` may be

- a file (``fonts/A.ttf``, ``s3://bucket/pack.zip``): taken whatever its name, its
  content decides what it is;
- a folder: walked (``recursive``) for font files and archives by their names;
- a glob (``downloads/*.zip``, ``s3://bucket/**/*.otf``): every match, folders walked;
- an ``http(s)://`` URL: downloaded (streamed to disk, revalidated on reruns).

Names found by walking or globbing are kept when they end with a font or archive
extension and match ``include`` but not ``exclude`` (fnmatch patterns on the URL or
the file name). Type 1 fonts take their ``.afm``/``.pfm`` of the same stem along.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from pydantic import Field

from glyphflow.ingestion.items import Failure, Item
from glyphflow.ingestion.sources import (
    Source,
    SourceOptions,
    is_wanted_name,
    matches_any,
    pair_companions,
)
from glyphflow.io import storage
from glyphflow.io.fontfiles import COMPANION_EXTENSIONS

__all__ = ["FilesSource", "walk_local"]

_GLOB_CHARS = set("*?[")


class FilesOptions(SourceOptions):
    urls: list[str] = Field(min_length=1, description="files, folders, globs or http(s) URLs")
    recursive: bool = Field(True, description="walk sub-folders of folders")
    include: list[str] = Field(default_factory=lambda: ["*"], description="fnmatch patterns")
    exclude: list[str] = Field(default_factory=list, description="fnmatch patterns")


class FilesSource(Source):
    """Fonts and archives at URLs, folders and globs (see the module docstring)."""

    Options = FilesOptions
    options: FilesOptions

    def items(self) -> Iterator[Item | Failure]:
        for raw in self.options.urls:
            url = raw.strip()
            if url.startswith(("http://", "https://")):
                yield Item(self.name, url, "http")
                continue
            if storage.is_local(url):
                url = os.path.abspath(os.path.expanduser(storage.strip_protocol(url)))
            yield from self._expand(url)

    def _expand(self, url: str) -> Iterator[Item | Failure]:
        local = storage.is_local(url)
        if _GLOB_CHARS & set(url):
            matches = storage.glob(url)
            if not matches:
                yield self.failure(url, "not_found", f"the pattern {url!r} matches nothing")
            files: list[str] = []
            for match in matches:
                if _is_dir(match):
                    files.extend(self._walk(match))
                else:
                    files.append(match)
            yield from self._items_of(files, local, filtered=True)
        elif _is_dir(url):
            yield from self._items_of(self._walk(url), local, filtered=True)
        elif storage.exists(url):
            yield from self._items_of([url, *_sibling_companions(url)], local, filtered=False)
        else:
            yield self.failure(
                url, "not_found", f"no such file or folder: {url}; check the path or URL"
            )

    def _walk(self, url: str) -> list[str]:
        if storage.is_local(url):
            return walk_local(url, self.options.recursive)
        fs, path = storage.filesystem(url)
        found = fs.find(path) if self.options.recursive else fs.ls(path, detail=False)
        return sorted(fs.unstrip_protocol(p) for p in found if not fs.isdir(p))

    def _items_of(self, urls: list[str], local: bool, filtered: bool) -> Iterator[Item]:
        companions = pair_companions(urls)
        for url in sorted(set(urls)):
            if url.lower().endswith(COMPANION_EXTENSIONS):
                continue
            if filtered and not (
                is_wanted_name(url)
                and matches_any(url, self.options.include)
                and not matches_any(url, self.options.exclude)
            ):
                continue
            yield Item(self.name, url, "local" if local else "fsspec", companions.get(url, ()))


def _is_dir(url: str) -> bool:
    if storage.is_local(url):
        return os.path.isdir(storage.strip_protocol(url))
    fs, path = storage.filesystem(url)
    return bool(fs.isdir(path))


def _sibling_companions(url: str) -> list[str]:
    """The .afm/.pfm files beside a Type 1 font named ``url`` (any case of extension)."""
    stem, ext = os.path.splitext(url)
    if ext.lower() not in (".pfb", ".pfa", ".t1"):
        return []
    candidates = [stem + e for c in COMPANION_EXTENSIONS for e in (c, c.upper())]
    return [c for c in candidates if storage.exists(c)]


def walk_local(root: str, recursive: bool = True) -> list[str]:
    """Every file below a local folder, sorted; symlinked folders followed once."""
    found: list[str] = []
    seen: set[str] = set()
    for folder, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs.sort()
        found.extend(os.path.join(folder, name) for name in files)
        if not recursive:
            dirs[:] = []
    return sorted(p for p in found if os.path.isfile(p))
