"""Reading archives member by member, with limits, never writing a member to disk.

Archives (.zip, .tar, .tar.gz/.tgz, .tar.xz, .tar.bz2) come from strangers, so:

- no member is ever extracted to a path: selected members are read into memory, in
  chunks, up to ``max_member_bytes``; names are data, never file names;
- members whose names are absolute or climb out with ``..`` are refused
  (``unsafe_path``), and so are symbolic and hard links (``link_member``);
- a zip's central directory is checked before anything is read: its entry count
  (``too_many_members``), its declared uncompressed total (``archive_too_large``) and
  ratio to the file's size (``compression_ratio``);
- a tar's member headers are checked as they come (declared sizes against the total
  and the ratio), and the tar is decompressed by a bounded reader that stops when the
  bytes out exceed the total limit or the ratio to the compressed bytes in: a bomb
  stops at the limit, with a reason, before its bytes are held in memory.

Everything wrong is a :class:`Refusal` (member-level, or archive-level with ``path``
None) in the stream of members; reading goes on where it safely can.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import re
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Literal

__all__ = [
    "ArchiveKind",
    "ArchiveLimits",
    "Member",
    "Refusal",
    "archive_kind",
    "read_members",
    "unsafe_reason",
]

ArchiveKind = Literal["zip", "tar"]

_CHUNK = 1 << 16
#: Below this many uncompressed bytes a high compression ratio is harmless (text, zeros).
_RATIO_FLOOR = 4 << 20
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_GZ, _BZ2, _XZ = b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00"
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class ArchiveLimits:
    max_members: int
    max_member_bytes: int
    max_total_bytes: int
    max_ratio: float


@dataclass(frozen=True)
class Member:
    """A selected member's name (as written in the archive) and bytes."""

    path: str
    data: bytes


@dataclass(frozen=True)
class Refusal:
    """Why a member (``path``) or the rest of the archive (``path`` None) was not read."""

    path: str | None
    reason: str
    message: str


class _LimitExceededError(Exception):
    """A member broke a limit: refuse it, go on with the next."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class _StreamLimitError(_LimitExceededError):
    """The decompressed stream broke a limit: stop reading the archive."""


def archive_kind(head: bytes, name: str = "") -> ArchiveKind | None:
    """``zip`` or ``tar`` from the first 512+ bytes (and, for compressed tars, the name)."""
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    lowered = name.lower()
    if head.startswith((_GZ, _BZ2, _XZ)):
        # A compressed stream: a tar if the name says so, or if it decompresses to one.
        if ".tar" in lowered or lowered.endswith((".tgz", ".txz", ".tbz2")):
            return "tar"
        return "tar" if _decompresses_to_tar(head) else None
    return None


def _decompresses_to_tar(head: bytes) -> bool:
    try:
        if head.startswith(_GZ):
            inner = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 512)
        elif head.startswith(_XZ):
            inner = lzma.LZMADecompressor().decompress(head, 512)
        else:
            inner = bz2.BZ2Decompressor().decompress(head)[:512]
    except (zlib.error, lzma.LZMAError, OSError, EOFError, ValueError):
        return False
    return len(inner) >= 262 and inner[257:262] == b"ustar"


def unsafe_reason(name: str) -> str | None:
    """Why a member name could escape a folder it were extracted to, or None if it can't."""
    normal = name.replace("\\", "/")
    if "\x00" in normal:
        return "its name holds a NUL byte"
    if normal.startswith("/") or _DRIVE.match(normal):
        return "its path is absolute"
    if ".." in normal.split("/"):
        return "its path climbs out of the archive with '..'"
    return None


def read_members(
    path: str,
    kind: ArchiveKind,
    limits: ArchiveLimits,
    select: Callable[[str], bool],
) -> Iterator[Member | Refusal]:
    """The selected members of the archive at local ``path``, and every refusal."""
    if kind == "zip":
        yield from _zip_members(path, limits, select)
    else:
        yield from _tar_members(path, limits, select)


# ---------------------------------------------------------------------------- zip


def _zip_entry_count(handle: IO[bytes]) -> int | None:
    """The entry count of a zip's end-of-central-directory record, before parsing it."""
    try:
        record = zipfile._EndRecData(handle)  # type: ignore[attr-defined]
    except (OSError, ValueError, AttributeError):
        return None
    if not record:
        return None
    return int(record[zipfile._ECD_ENTRIES_TOTAL])  # type: ignore[attr-defined]


def _zip_members(
    path: str, limits: ArchiveLimits, select: Callable[[str], bool]
) -> Iterator[Member | Refusal]:
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        count = _zip_entry_count(handle)
        if count is not None and count > limits.max_members:
            yield _too_many(count, limits)
            return
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as err:
            yield Refusal(None, "corrupt_archive", f"cannot read the zip: {err}")
            return
        with archive:
            infos = archive.infolist()
            if len(infos) > limits.max_members:
                yield _too_many(len(infos), limits)
                return
            declared = sum(info.file_size for info in infos)
            if declared > limits.max_total_bytes:
                yield Refusal(
                    None,
                    "archive_too_large",
                    f"the zip declares {declared} bytes uncompressed, over the limit of "
                    f"{limits.max_total_bytes} (limits.max_archive_bytes)",
                )
                return
            if declared > _RATIO_FLOOR and declared > limits.max_ratio * max(size, 1):
                yield _ratio_refusal(None, declared, size, limits)
                return
            for info in infos:
                yield from _zip_member(archive, info, limits, select)


def _zip_member(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    limits: ArchiveLimits,
    select: Callable[[str], bool],
) -> Iterator[Member | Refusal]:
    name = info.filename
    problem = unsafe_reason(name)
    if problem:
        yield Refusal(name, "unsafe_path", f"member refused: {problem}")
        return
    mode = info.external_attr >> 16
    if info.create_system == 3 and (mode & 0o170000) == 0o120000:
        yield Refusal(name, "link_member", "member refused: it is a symbolic link")
        return
    if info.is_dir() or not select(name):
        return
    if info.file_size > limits.max_member_bytes:
        yield _member_too_large(name, info.file_size, limits)
        return
    if info.file_size > _RATIO_FLOOR and info.file_size > limits.max_ratio * max(
        info.compress_size, 1
    ):
        yield _ratio_refusal(name, info.file_size, info.compress_size, limits)
        return
    try:
        with archive.open(info) as stream:
            data = _read_bounded(stream, min(info.file_size, limits.max_member_bytes), name)
    except _LimitExceededError as err:
        yield Refusal(name, err.reason, str(err))
        return
    except RuntimeError as err:  # encrypted members
        yield Refusal(name, "encrypted_member", f"member refused: {err}")
        return
    except NotImplementedError as err:
        yield Refusal(name, "corrupt_archive", f"unsupported compression: {err}")
        return
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, ValueError) as err:
        yield Refusal(name, "corrupt_archive", f"member unreadable: {err}")
        return
    yield Member(name, data)


def _read_bounded(stream: IO[bytes], limit: int, name: str) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while chunk := stream.read(_CHUNK):
        total += len(chunk)
        if total > limit:
            raise _LimitExceededError(
                "too_large",
                f"member {name!r} gives more bytes than it declares or the limit allows "
                f"({limit}; limits.max_file_bytes)",
            )
        chunks.append(chunk)
    return b"".join(chunks)


# ---------------------------------------------------------------------------- tar


class _BoundedReader:
    """A decompressing reader that stops a bomb: limits on bytes out and on the ratio."""

    def __init__(self, path: str, limits: ArchiveLimits) -> None:
        self._raw = open(path, "rb")  # noqa: SIM115 (closed by close())
        head = self._raw.read(6)
        self._raw.seek(0)
        self._stream: Any
        if head.startswith(_GZ):
            self._stream = gzip.GzipFile(fileobj=self._raw, mode="rb")
        elif head.startswith(_XZ):
            self._stream = lzma.LZMAFile(self._raw, mode="rb")  # noqa: SIM115
        elif head.startswith(_BZ2):
            self._stream = bz2.BZ2File(self._raw, mode="rb")
        else:
            self._stream = self._raw
        self._limits = limits
        self.total = 0

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._stream.read(size)
        self.total += len(data)
        if self.total > self._limits.max_total_bytes:
            raise _StreamLimitError(
                "archive_too_large",
                f"more than {self._limits.max_total_bytes} bytes uncompressed "
                "(limits.max_archive_bytes)",
            )
        consumed = max(self._raw.tell(), 1)
        if self.total > _RATIO_FLOOR and self.total > self._limits.max_ratio * consumed:
            raise _StreamLimitError(
                "compression_ratio",
                f"{self.total} bytes out of {consumed} compressed: ratio over "
                f"{self._limits.max_ratio:g} (limits.max_compression_ratio); a zip bomb?",
            )
        return data

    def close(self) -> None:
        if self._stream is not self._raw:
            self._stream.close()
        self._raw.close()


def _tar_members(
    path: str, limits: ArchiveLimits, select: Callable[[str], bool]
) -> Iterator[Member | Refusal]:
    compressed = max(os.path.getsize(path), 1)
    reader = _BoundedReader(path, limits)
    count = 0
    declared = 0
    try:
        with tarfile.open(fileobj=reader, mode="r|") as archive:  # type: ignore[call-overload]
            for info in archive:
                count += 1
                if count > limits.max_members:
                    yield _too_many(count, limits, at_least=True)
                    return
                declared += info.size
                if declared > limits.max_total_bytes:
                    yield Refusal(
                        None,
                        "archive_too_large",
                        f"members declare more than {limits.max_total_bytes} bytes "
                        "uncompressed (limits.max_archive_bytes)",
                    )
                    return
                if declared > _RATIO_FLOOR and declared > limits.max_ratio * compressed:
                    yield _ratio_refusal(None, declared, compressed, limits)
                    return
                name = info.name
                problem = unsafe_reason(name)
                if problem:
                    yield Refusal(name, "unsafe_path", f"member refused: {problem}")
                    continue
                if info.issym() or info.islnk():
                    kind = "symbolic" if info.issym() else "hard"
                    yield Refusal(
                        name,
                        "link_member",
                        f"member refused: it is a {kind} link (to {info.linkname!r})",
                    )
                    continue
                if not info.isfile() or not select(name):
                    continue
                if info.size > limits.max_member_bytes:
                    yield _member_too_large(name, info.size, limits)
                    continue
                stream = archive.extractfile(info)
                if stream is None:
                    continue
                try:
                    data = _read_bounded(stream, info.size, name)
                except _StreamLimitError:
                    raise
                except _LimitExceededError as err:
                    yield Refusal(name, err.reason, str(err))
                    continue
                yield Member(name, data)
    except _LimitExceededError as err:
        yield Refusal(None, err.reason, str(err))
    except (tarfile.TarError, zlib.error, lzma.LZMAError, EOFError, OSError, ValueError) as err:
        yield Refusal(None, "corrupt_archive", f"cannot read the rest of the tar: {err}")
    finally:
        reader.close()


# ---------------------------------------------------------------------------- refusals


def _too_many(count: int, limits: ArchiveLimits, at_least: bool = False) -> Refusal:
    how_many = f"more than {limits.max_members}" if at_least else str(count)
    return Refusal(
        None,
        "too_many_members",
        f"the archive has {how_many} entries, over the limit of {limits.max_members} "
        "(limits.max_archive_members); nothing further is read",
    )


def _member_too_large(name: str, size: int, limits: ArchiveLimits) -> Refusal:
    return Refusal(
        name,
        "too_large",
        f"member is {size} bytes, over the limit of {limits.max_member_bytes} "
        "(limits.max_file_bytes)",
    )


def _ratio_refusal(name: str | None, out: int, into: int, limits: ArchiveLimits) -> Refusal:
    what = "member" if name else "archive"
    return Refusal(
        name,
        "compression_ratio",
        f"{what} expands {out} bytes from {into}: ratio {out / max(into, 1):.0f} is over "
        f"{limits.max_ratio:g} (limits.max_compression_ratio); a zip bomb?",
    )
