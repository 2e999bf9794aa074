"""What sources yield: items to fetch, and failures found while listing.

An :class:`Item` is one top-level thing a source found: a local file, an object in a
bucket, or a URL to download. It is the unit of incremental work: the ledger remembers,
per item, how it looked (size, modification time, ETag) and what it produced, so an
unchanged item is never read or downloaded again.

A :class:`Failure` is something that could not be used, with a short ``reason`` code
(counted in the manifest) and a message a person can act on. Sources yield failures for
what goes wrong while listing (a web page that answers 404, a link robots.txt forbids);
the item processor yields them for bad files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["TRANSIENT_REASONS", "Failure", "Item", "ItemKind"]

#: How an item's bytes are reached: a local path, an fsspec URL, or an HTTP download.
ItemKind = Literal["local", "fsspec", "http"]

#: Failures that may go away by themselves; they are retried on the next run, never cached.
TRANSIENT_REASONS = frozenset(
    {"download_failed", "http_error", "timeout", "truncated_download", "read_error", "not_found"}
)


@dataclass(frozen=True)
class Item:
    """One file a source found. ``url`` is what ``source_url`` columns record."""

    source: str
    url: str
    kind: ItemKind
    #: URLs of Type 1 metrics files (.afm, .pfm) beside a Type 1 font, same ``kind``.
    companions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Failure:
    """Something that could not be used, and why."""

    source: str
    source_url: str
    archive_path: str | None
    reason: str
    message: str

    @property
    def transient(self) -> bool:
        return self.reason in TRANSIENT_REASONS

    def row(self) -> dict[str, str | None]:
        return {
            "source_url": self.source_url,
            "archive_path": self.archive_path,
            "reason": self.reason,
            "message": self.message,
            "source": self.source,
        }
