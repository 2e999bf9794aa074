"""The content-addressed file store under the raw store's ``files/`` folder.

A font file lives at ``files/<sha[:2]>/<sha256>.<format>``; the metrics files of a
Type 1 font (``.afm``, ``.pfm``) live beside it under the font's sha256 with their own
extension. A path is written once, atomically (a reader, or a rerun after a kill, sees
the whole file or nothing); writing what is already there is a no-op. The store lists
``files/`` once when it opens, so "do we have it" costs no request, and removes the
temporary files a killed run may have left.
"""

from __future__ import annotations

import logging
import posixpath
import threading

from glyphflow.io import storage

__all__ = ["FILES_DIR", "RawStore", "stored_path"]

_log = logging.getLogger(__name__)

FILES_DIR = "files"


def stored_path(sha256: str, extension: str) -> str:
    """Where a file of this sha256 lives, relative to the raw store."""
    return f"{FILES_DIR}/{sha256[:2]}/{sha256}.{extension.lstrip('.').lower()}"


class RawStore:
    """The ``files/`` folder of a raw store at ``url``; thread-safe."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._present: set[str] = set()
        self._lock = threading.Lock()
        self.files_written = 0
        self.bytes_written = 0

    def open(self) -> RawStore:
        """List what is stored; remove temporary files left by a killed run."""
        fs, root = storage.filesystem(storage.join(self.url, FILES_DIR))
        root = root.rstrip("/")
        if not fs.exists(root):
            return self
        for path in fs.find(root):
            relative = f"{FILES_DIR}/{path[len(root) :].lstrip('/')}"
            name = posixpath.basename(path)
            if name.startswith(".") and name.endswith(".tmp"):
                _log.info("removing a temporary file left by an interrupted run: %s", relative)
                fs.rm(path)
                continue
            self._present.add(relative)
        return self

    def has(self, relative: str) -> bool:
        with self._lock:
            return relative in self._present

    def has_all(self, relatives: list[str]) -> bool:
        with self._lock:
            return all(r in self._present for r in relatives)

    def put(self, relative: str, data: bytes) -> bool:
        """Store ``data`` at ``relative`` unless it is there; True when it was written."""
        with self._lock:
            if relative in self._present:
                return False
            self._present.add(relative)
        try:
            storage.write_bytes(storage.join(self.url, relative), data)
        except BaseException:
            with self._lock:
                self._present.discard(relative)
            raise
        with self._lock:
            self.files_written += 1
            self.bytes_written += len(data)
        return True

    def companions_of(self, sha256: str) -> list[str]:
        """Stored metrics files (.afm, .pfm) of the Type 1 font with this sha256."""
        candidates = [stored_path(sha256, ext) for ext in ("afm", "pfm")]
        with self._lock:
            return [c for c in candidates if c in self._present]

    def present(self) -> set[str]:
        with self._lock:
            return set(self._present)
