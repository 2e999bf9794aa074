"""Storage by URL: one small set of helpers over fsspec for every backend.

Every path glyphflow touches is a URL: a local path, ``file://``, ``memory://``,
``s3://``, ``gs://`` or ``http(s)://`` (reads). Compression follows the file extension.
A backend whose package is missing fails with the extra to install.

Atomic writes: on a local disk the data goes to a temporary name in the same folder and
is renamed into place; on object stores an object only becomes visible when its upload
completes, so data is written straight to its key and folders are committed by writing
their ``_SUCCESS`` marker last.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from glyphflow.core.errors import MissingDependencyError, UsageError

__all__ = [
    "atomic_write",
    "copy",
    "exists",
    "filesystem",
    "glob",
    "is_local",
    "join",
    "listdir",
    "makedirs",
    "open_url",
    "read_bytes",
    "read_text",
    "remove",
    "sha256_of",
    "size_of",
    "strip_protocol",
    "write_bytes",
    "write_text",
]

# Which extra brings the package behind each protocol.
_EXTRAS = {
    "s3": ("s3", "s3fs"),
    "s3a": ("s3", "s3fs"),
    "gs": ("gcs", "gcsfs"),
    "gcs": ("gcs", "gcsfs"),
    "http": ("http", "aiohttp"),
    "https": ("http", "aiohttp"),
}

_CHUNK = 1 << 20


def _protocol(url: str) -> str:
    return url.split("://", 1)[0] if "://" in url else "file"


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem for ``url`` and the path within it."""
    import fsspec.core

    try:
        fs, path = fsspec.core.url_to_fs(url)
    except ImportError as err:
        extra, module = _EXTRAS.get(_protocol(url), ("all", str(err.name or "?")))
        raise MissingDependencyError(f"storage URL {url!r}", extra, module) from None
    except ValueError as err:
        raise UsageError(f"cannot open storage URL {url!r}: {err}") from None
    return fs, path


def is_local(url: str) -> bool:
    return _protocol(url) in ("file", "local")


def strip_protocol(url: str) -> str:
    """The local filesystem path of a local URL."""
    return url[len("file://") :] if url.startswith("file://") else url


def join(url: str, *parts: str) -> str:
    """Join path parts onto a URL with forward slashes (any backend)."""
    out = url.rstrip("/") if len(url.rstrip("/")) > 0 else url
    for part in parts:
        out = posixpath.join(out, part.strip("/")) if out else part
    return out


@contextmanager
def open_url(url: str, mode: str = "rb", compression: str | None = "infer") -> Iterator[IO[Any]]:
    """Open ``url``; compression by extension (``.gz``, ``.zst``, ``.xz``, ``.bz2``)."""
    import fsspec

    if "w" in mode or "a" in mode:
        makedirs(posixpath.dirname(url.rstrip("/")))
    try:
        opener = fsspec.open(url, mode, compression=compression)
    except ImportError as err:
        extra, module = _EXTRAS.get(_protocol(url), ("all", str(err.name or "?")))
        raise MissingDependencyError(f"storage URL {url!r}", extra, module) from None
    with opener as handle:
        yield handle


def read_bytes(url: str) -> bytes:
    with open_url(url, "rb") as handle:
        data: bytes = handle.read()
    return data


def read_text(url: str, encoding: str = "utf-8") -> str:
    with open_url(url, "rt", compression="infer") as handle:
        text: str = handle.read()
    return text


def write_bytes(url: str, data: bytes) -> None:
    with atomic_write(url, "wb") as handle:
        handle.write(data)


def write_text(url: str, text: str) -> None:
    with atomic_write(url, "wt") as handle:
        handle.write(text)


def exists(url: str) -> bool:
    fs, path = filesystem(url)
    return bool(fs.exists(path))


def size_of(url: str) -> int:
    fs, path = filesystem(url)
    return int(fs.size(path))


def makedirs(url: str) -> None:
    """Create a folder (a no-op on object stores, where folders are implicit)."""
    if not url:
        return
    fs, path = filesystem(url)
    if is_local(url) or _protocol(url) == "memory":
        fs.makedirs(path, exist_ok=True)


def _with_protocol(url: str, fs: Any, path: str) -> str:
    if is_local(url):
        return str(path)
    unstrip: str = fs.unstrip_protocol(path)
    return unstrip


def glob(pattern: str) -> list[str]:
    """Sorted URLs matching ``pattern`` (``*``, ``**``, ``?``), in the pattern's protocol."""
    fs, path = filesystem(pattern)
    return sorted(_with_protocol(pattern, fs, p) for p in fs.glob(path))


def listdir(url: str) -> list[str]:
    """Sorted URLs of the entries directly inside a folder (empty if it does not exist)."""
    fs, path = filesystem(url)
    if not fs.exists(path):
        return []
    return sorted(_with_protocol(url, fs, p) for p in fs.ls(path, detail=False))


def remove(url: str, recursive: bool = False) -> None:
    fs, path = filesystem(url)
    if fs.exists(path):
        fs.rm(path, recursive=recursive)


@contextmanager
def atomic_write(
    url: str, mode: str = "wb", compression: str | None = "infer"
) -> Iterator[IO[Any]]:
    """Write ``url`` so that readers see the old content or the whole new one, never a part.

    Local files are written under a temporary name in the same folder and renamed into
    place. For other backends the data is spooled to a local temporary file and uploaded
    in one piece when the body succeeds (object stores publish an object only when its
    upload completes). If the body raises, nothing is left at ``url``.
    """
    codec = _compression(url, compression)
    if is_local(url):
        final = strip_protocol(url)
        folder = os.path.dirname(os.path.abspath(final))
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f".{os.path.basename(final)}.{uuid.uuid4().hex[:12]}.tmp")
    else:
        fd, tmp = tempfile.mkstemp(prefix="glyphflow-upload-", suffix=".tmp")
        os.close(fd)
    try:
        with open_url(tmp, mode, compression=codec) as handle:
            yield handle
        if is_local(url):
            os.replace(tmp, final)
        else:
            fs, path = filesystem(url)
            parent = posixpath.dirname(path)
            if parent and _protocol(url) == "memory":
                fs.makedirs(parent, exist_ok=True)
            fs.put_file(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _compression(url: str, compression: str | None) -> str | None:
    if compression != "infer":
        return compression
    from fsspec.utils import infer_compression

    inferred: str | None = infer_compression(url)
    return inferred


def copy(src: str, dst: str) -> None:
    """Stream ``src`` to ``dst`` (any backends), atomically at the destination."""
    with open_url(src, "rb", compression=None) as reader, atomic_write(dst, "wb", None) as writer:
        while chunk := reader.read(_CHUNK):
            writer.write(chunk)


def sha256_of(url: str) -> str:
    """Streaming sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open_url(url, "rb", compression=None) as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
