"""Storage round trips on a local folder, memory:// and a real S3-compatible server."""

from __future__ import annotations

import gzip
import threading
from pathlib import Path

import pytest

from glyphflow.core.errors import MissingDependencyError
from glyphflow.io import storage


@pytest.fixture(params=["local", "memory", "s3"])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "local":
        return str(tmp_path / "store")
    if request.param == "memory":
        return str(request.getfixturevalue("memory_url"))
    return str(request.getfixturevalue("s3_bucket")) + "/store"


def test_binary_and_text_round_trip(root: str) -> None:
    storage.write_bytes(storage.join(root, "a", "blob.bin"), b"\x00\x01\xff")
    storage.write_text(storage.join(root, "a", "note.txt"), "héllo\n")
    assert storage.read_bytes(storage.join(root, "a", "blob.bin")) == b"\x00\x01\xff"
    assert storage.read_text(storage.join(root, "a", "note.txt")) == "héllo\n"
    assert storage.exists(storage.join(root, "a", "note.txt"))
    assert not storage.exists(storage.join(root, "a", "nothing.txt"))
    assert storage.size_of(storage.join(root, "a", "blob.bin")) == 3


def test_compression_follows_the_extension(root: str) -> None:
    url = storage.join(root, "data.txt.gz")
    storage.write_text(url, "compressed " * 100)
    with storage.open_url(url, "rb", compression=None) as handle:
        raw = handle.read()
    assert raw[:2] == b"\x1f\x8b"  # gzip magic: it really is compressed
    assert gzip.decompress(raw).decode() == "compressed " * 100
    assert storage.read_text(url) == "compressed " * 100


def test_glob_and_listdir_return_urls_in_order(root: str) -> None:
    for name in ["b.ttf", "a.ttf", "c.otf"]:
        storage.write_bytes(storage.join(root, "fonts", name), b"x")
    found = storage.glob(storage.join(root, "fonts", "*.ttf"))
    assert [u.rsplit("/", 1)[1] for u in found] == ["a.ttf", "b.ttf"]
    assert all(storage.exists(u) for u in found)
    listed = storage.listdir(storage.join(root, "fonts"))
    assert [u.rsplit("/", 1)[1] for u in listed] == ["a.ttf", "b.ttf", "c.otf"]


def test_copy_between_backends(root: str, tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(b"payload" * 1000)
    dst = storage.join(root, "copied.bin")
    storage.copy(str(src), dst)
    assert storage.read_bytes(dst) == b"payload" * 1000
    assert storage.sha256_of(dst) == storage.sha256_of(str(src))


def test_failed_atomic_write_leaves_nothing(root: str) -> None:
    url = storage.join(root, "partial.bin")
    with pytest.raises(RuntimeError), storage.atomic_write(url) as handle:
        handle.write(b"half")
        raise RuntimeError("killed mid-write")
    assert not storage.exists(url)
    parent = storage.listdir(root) if storage.exists(root) else []
    assert not any("partial" in u for u in parent)


def test_atomic_write_never_shows_a_partial_file(root: str) -> None:
    url = storage.join(root, "big.bin")
    storage.write_bytes(url, b"old")
    seen: list[bytes] = []
    writing = threading.Event()
    release = threading.Event()

    def writer() -> None:
        with storage.atomic_write(url) as handle:
            handle.write(b"new-" * 1000)
            writing.set()
            release.wait(5)
            handle.write(b"end")

    thread = threading.Thread(target=writer)
    thread.start()
    writing.wait(5)
    seen.append(storage.read_bytes(url))  # while the writer is half way
    release.set()
    thread.join()
    seen.append(storage.read_bytes(url))
    assert seen == [b"old", b"new-" * 1000 + b"end"]


def test_missing_backend_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import fsspec.core

    def fail(url: str, **kwargs: object) -> None:
        raise ImportError("no gcsfs", name="gcsfs")

    monkeypatch.setattr(fsspec.core, "url_to_fs", fail)
    with pytest.raises(MissingDependencyError, match=r"glyphflow\[gcs\]"):
        storage.filesystem("gs://bucket/key")
