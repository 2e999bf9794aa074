"""One item, start to finish: revalidate, fetch, read, store, describe.

For each item the processor

1. looks in the ledger: an unchanged item (same validator, settings and source, its
   stored files present) is reused without reading it; an HTTP item is revalidated with
   a conditional request, never downloaded again when the server says it is the same;
2. gets the bytes onto the local disk: a local file is read where it is, a bucket
   object or a download is streamed to a temporary file under the size limit;
3. hashes them: the same bytes as last time (a touched file, a server without
   validators) reuse the ledger's rows too;
4. tells font from archive by content, reads fonts and archive members within the
   limits, stores each font once under its sha256 (Type 1 metrics files beside it), and
   describes each face; everything wrong becomes a failure row with a reason.

It runs in worker threads; the store and the HTTP client are shared and thread-safe.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import posixpath
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from glyphflow import __version__
from glyphflow.ingestion.archives import (
    ArchiveLimits,
    Member,
    archive_kind,
    read_members,
)
from glyphflow.ingestion.config import Limits
from glyphflow.ingestion.fontinfo import describe
from glyphflow.ingestion.http import DownloadError, HttpClient
from glyphflow.ingestion.items import Failure, Item
from glyphflow.ingestion.ledger import Entry
from glyphflow.ingestion.sources import is_archive_name
from glyphflow.ingestion.store import RawStore, stored_path
from glyphflow.io import storage
from glyphflow.io.fontfiles import (
    COLLECTION_FORMATS,
    COMPANION_EXTENSIONS,
    SNIFF_BYTES,
    TYPE1_FORMATS,
    FontFileError,
    has_font_extension,
    sniff_format,
)

__all__ = ["Outcome", "Processor", "settings_hash"]

_log = logging.getLogger(__name__)
_CHUNK = 1 << 20
_HEAD_BYTES = max(SNIFF_BYTES, 4096)
#: Failures that leave an item's last good rows in place (see ``Processor.process``).
_KEEP_ON = frozenset(
    {"timeout", "download_failed", "truncated_download", "http_error", "read_error"}
)
#: Bump when the rows an item produces change for the same bytes and limits.
_ROWS_VERSION = 1


def settings_hash(limits: Limits) -> str:
    """What shapes an item's rows besides its bytes: limits, package and row version."""
    payload = {"limits": limits.model_dump(), "version": __version__, "rows": _ROWS_VERSION}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class Outcome:
    """What processing one item gave."""

    item: Item
    entry: Entry | None = None  # None when nothing is worth recording (transient failure)
    failures: list[Failure] = field(default_factory=list)  # not in the entry (transient)
    reused: bool = False  # the ledger's rows were reused: nothing read or stored
    changed: bool = True  # the entry differs from the ledger's: journal it
    downloaded: int = 0  # bytes downloaded or copied for this item

    def failure_rows(self) -> list[dict[str, Any]]:
        rows = list(self.entry.failures) if self.entry else []
        return rows + [f.row() for f in self.failures]


class _ItemError(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class _Rows:
    """Rows being built for one item."""

    item: Item
    faces: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)

    def fail(self, reason: str, message: str, archive_path: str | None = None) -> None:
        self.failures.append(
            Failure(self.item.source, self.item.url, archive_path, reason, message).row()
        )


class Processor:
    """Turns items into ledger entries (see the module docstring)."""

    def __init__(
        self,
        limits: Limits,
        store: RawStore,
        http: HttpClient | None,
        temp_dir: str,
        cache: dict[str, Entry],
    ) -> None:
        self.limits = limits
        self.store = store
        self.http = http
        self.temp_dir = temp_dir
        self.cache = cache
        self.settings = settings_hash(limits)
        self.archive_limits = ArchiveLimits(
            max_members=limits.max_archive_members,
            max_member_bytes=limits.max_file_bytes,
            max_total_bytes=limits.max_archive_bytes,
            max_ratio=limits.max_compression_ratio,
        )

    # ------------------------------------------------------------------ entry point

    def process(self, item: Item) -> Outcome:
        """Process one item; never raises for a bad input (it becomes a failure)."""
        known = self._usable(item)
        try:
            if item.kind == "http":
                return self._http_item(item, known)
            return self._file_item(item, known)
        except (_ItemError, DownloadError) as err:
            failure = Failure(item.source, item.url, None, err.reason, str(err))
            # An item that cannot be revalidated now (a timeout, a server error) keeps
            # its last rows: a network blip must not drop fonts from the index. An item
            # that is gone (deleted file, HTTP 404/410) does not.
            keep = known is not None and err.reason in _KEEP_ON and not getattr(err, "gone", False)
            return Outcome(item, known if keep else None, [failure], reused=keep, changed=False)
        except Exception as err:  # a bug or an input no check foresaw: report, go on
            _log.warning("unexpected error on %s: %s: %s", item.url, type(err).__name__, err)
            _log.debug("traceback", exc_info=True)
            message = f"unexpected error ({type(err).__name__}: {err}); please report it"
            return Outcome(
                item, failures=[Failure(item.source, item.url, None, "internal_error", message)]
            )

    def _usable(self, item: Item) -> Entry | None:
        entry = self.cache.get(item.url)
        if entry is None:
            return None
        if (entry.source, entry.kind, entry.settings) != (item.source, item.kind, self.settings):
            return None
        if not self.store.has_all(entry.stored):
            return None
        return entry

    # ------------------------------------------------------------------ kinds of item

    def _file_item(self, item: Item, known: Entry | None) -> Outcome:
        validator = self._probe(item)
        if known is not None and known.validator == validator:
            return Outcome(item, known, reused=True, changed=False)
        with self._local_copy(item) as (path, copied):
            sha = _sha256_file(path)
            # Same bytes as last time: reuse (unless metrics files beside it may differ).
            if known is not None and known.sha256 == sha and not item.companions:
                return Outcome(item, replace(known, validator=validator), reused=True)
            entry = self._ingest(item, path, validator, sha)
            return Outcome(item, entry, downloaded=copied)

    def _http_item(self, item: Item, known: Entry | None) -> Outcome:
        if self.http is None:
            raise _ItemError("download_failed", "no HTTP client in this run")
        with self.http.download(
            item.url, self.limits.max_download_bytes, known.validator if known else None
        ) as download:
            if download.not_modified and known is not None:
                changed = download.validator != known.validator
                entry = replace(known, validator=download.validator) if changed else known
                return Outcome(item, entry, reused=True, changed=changed)
            assert download.path is not None
            if known is not None and known.sha256 == download.sha256:
                entry = replace(known, validator=download.validator)
                return Outcome(item, entry, reused=True, downloaded=download.size)
            entry = self._ingest(item, download.path, download.validator, download.sha256)
            return Outcome(item, entry, downloaded=download.size)

    def _probe(self, item: Item) -> dict[str, Any]:
        """How the item (and its companions) look now, without reading them."""
        urls = [item.url, *item.companions]
        try:
            if item.kind == "local":
                stats = [os.stat(u) for u in urls]
                parts = [{"size": s.st_size, "mtime_ns": s.st_mtime_ns} for s in stats]
            else:
                parts = [_remote_validator(u) for u in urls]
        except FileNotFoundError:
            raise _ItemError("not_found", f"{item.url} disappeared while listing") from None
        except OSError as err:
            raise _ItemError("read_error", f"cannot read {item.url}: {err}") from None
        return {"file": parts[0], "companions": parts[1:]} if parts[1:] else parts[0]

    @contextmanager
    def _local_copy(self, item: Item) -> Iterator[tuple[str, int]]:
        """A local path of the item's bytes, and how many bytes were copied to get it."""
        if item.kind == "local":
            yield item.url, 0
            return
        limit = self.limits.max_download_bytes
        fd, path = tempfile.mkstemp(prefix="copy-", suffix=".part", dir=self.temp_dir)
        try:
            size = 0
            try:
                with (
                    os.fdopen(fd, "wb") as sink,
                    storage.open_url(item.url, "rb", None) as source,
                ):
                    while chunk := source.read(_CHUNK):
                        size += len(chunk)
                        if size > limit:
                            raise _ItemError(
                                "too_large",
                                f"{item.url} is over {limit} bytes (limits.max_download_bytes)",
                            )
                        sink.write(chunk)
            except OSError as err:
                raise _ItemError("read_error", f"cannot read {item.url}: {err}") from None
            yield path, size
        finally:
            if os.path.exists(path):
                os.remove(path)

    # ------------------------------------------------------------------ content

    def _ingest(self, item: Item, path: str, validator: dict[str, Any], sha: str | None) -> Entry:
        rows = _Rows(item)
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            head = handle.read(_HEAD_BYTES)
        name = posixpath.basename(item.url.split("?", 1)[0])
        kind = None if sniff_format(head) else archive_kind(head, name)
        if size == 0:
            rows.fail("empty_file", "the file is empty (0 bytes)")
        elif kind is not None:
            self._archive(rows, path, kind)
        elif size > self.limits.max_file_bytes:
            rows.fail(
                "too_large",
                f"{size} bytes, over the limit of {self.limits.max_file_bytes} "
                "(limits.max_file_bytes)",
            )
        else:
            with open(path, "rb") as handle:
                data = handle.read()
            self._font(rows, data, None, self._companions(item))
        return Entry(
            source_url=item.url,
            source=item.source,
            kind=item.kind,
            validator=validator,
            sha256=sha,
            settings=self.settings,
            faces=rows.faces,
            failures=rows.failures,
            stored=sorted(set(rows.stored)),
        )

    def _companions(self, item: Item) -> dict[str, bytes]:
        """The bytes of a Type 1 font's metrics files, by extension (``afm``, ``pfm``)."""
        found: dict[str, bytes] = {}
        for url in item.companions:
            extension = posixpath.splitext(url)[1].lower().lstrip(".")
            try:
                if storage.size_of(url) > self.limits.max_file_bytes:
                    continue
                found.setdefault(extension, storage.read_bytes(url))
            except OSError as err:
                _log.warning("cannot read %s beside %s: %s", url, item.url, err)
        return found

    def _font(
        self,
        rows: _Rows,
        data: bytes,
        archive_path: str | None,
        companions: dict[str, bytes],
    ) -> tuple[str, str] | None:
        """Describe, store and index one font file; returns its (format, sha256)."""
        try:
            fmt, faces = describe(data)
        except FontFileError as err:
            rows.fail(err.reason, str(err), archive_path)
            return None
        sha = hashlib.sha256(data).hexdigest()
        relative = stored_path(sha, fmt)
        self.store.put(relative, data)
        rows.stored.append(relative)
        for face in faces:
            index = int(face["face_index"])
            rows.faces.append(
                {
                    "id": f"{sha}#{index}" if fmt in COLLECTION_FORMATS else sha,
                    "sha256": sha,
                    "stored_path": relative,
                    "source_url": rows.item.url,
                    "archive_path": archive_path,
                    "format": fmt,
                    "bytes": len(data),
                    "source": rows.item.source,
                    **face,
                }
            )
        if fmt in TYPE1_FORMATS:
            self._store_companions(rows, sha, companions)
        return fmt, sha

    def _store_companions(self, rows: _Rows, sha: str, companions: dict[str, bytes]) -> None:
        for extension, payload in sorted(companions.items()):
            relative = stored_path(sha, extension)
            self.store.put(relative, payload)
            rows.stored.append(relative)

    def _archive(self, rows: _Rows, path: str, kind: str) -> None:
        nested: list[str] = []

        def select(name: str) -> bool:
            if is_archive_name(name):
                nested.append(name)
                return False
            return has_font_extension(name) or name.lower().endswith(COMPANION_EXTENSIONS)

        metrics: dict[tuple[str, str], dict[str, bytes]] = {}
        type1: dict[tuple[str, str], str] = {}
        for event in read_members(path, kind, self.archive_limits, select):  # type: ignore[arg-type]
            if not isinstance(event, Member):
                rows.fail(event.reason, event.message, event.path)
                continue
            key = _stem_key(event.path)
            if event.path.lower().endswith(COMPANION_EXTENSIONS):
                extension = posixpath.splitext(event.path)[1].lower().lstrip(".")
                metrics.setdefault(key, {}).setdefault(extension, event.data)
                continue
            result = self._font(rows, event.data, event.path, {})
            if result is not None and result[0] in TYPE1_FORMATS:
                type1.setdefault(key, result[1])
        for name in nested:
            rows.fail(
                "nested_archive",
                "archives inside archives are not read; extract this one and ingest it",
                name,
            )
        for key, sha in type1.items():
            self._store_companions(rows, sha, metrics.get(key, {}))


def _stem_key(member: str) -> tuple[str, str]:
    folder, base = posixpath.split(member.replace("\\", "/"))
    return folder, posixpath.splitext(base)[0].lower()


def _remote_validator(url: str) -> dict[str, Any]:
    fs, path = storage.filesystem(url)
    info = fs.info(path)
    etag = info.get("ETag") or info.get("etag") or info.get("md5Hash") or info.get("md5")
    when = info.get("LastModified") or info.get("mtime") or info.get("updated")
    out: dict[str, Any] = {"size": info.get("size")}
    if etag:
        out["etag"] = str(etag)
    if when is not None:
        out["modified"] = str(when)
    return out


def _sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
