"""Reading archives member by member: friendly ones, and every hostile trick we refuse."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from glyphflow.ingestion.archives import (
    ArchiveLimits,
    Member,
    Refusal,
    archive_kind,
    read_members,
    unsafe_reason,
)
from tests.support.archives import (
    make_tar,
    make_zip,
    tar_bomb,
    tar_with_links,
    zip_bomb,
    zip_lying_about_size,
)
from tests.support.fonts import make_font

LIMITS = ArchiveLimits(
    max_members=100, max_member_bytes=8 << 20, max_total_bytes=1 << 30, max_ratio=100
)


def _read(path: Path, limits: ArchiveLimits = LIMITS) -> list[Member | Refusal]:
    head = path.read_bytes()[:4096]
    kind = archive_kind(head, path.name)
    assert kind is not None, f"{path.name} not recognised as an archive"
    return list(read_members(str(path), kind, limits, lambda n: n.endswith((".ttf", ".afm"))))


def _refusals(events: list[Member | Refusal]) -> dict[str | None, str]:
    return {e.path: e.reason for e in events if isinstance(e, Refusal)}


@pytest.fixture(scope="module")
def font() -> bytes:
    return make_font(family="Archive Sans")


@pytest.mark.parametrize("compression", ["", "gz", "xz", "bz2"])
def test_tar_members_are_read_in_order(tmp_path: Path, font: bytes, compression: str) -> None:
    path = make_tar(
        tmp_path / f"pack.tar{'.' + compression if compression else ''}",
        {"a/One.ttf": font, "README": b"hello", "b/Two.ttf": font[::-1]},
        compression,
    )
    events = _read(path)
    assert [(e.path, e.data) for e in events if isinstance(e, Member)] == [
        ("a/One.ttf", font),
        ("b/Two.ttf", font[::-1]),
    ]
    assert _refusals(events) == {}


def test_zip_members_and_unselected_ones_skipped(tmp_path: Path, font: bytes) -> None:
    path = make_zip(tmp_path / "pack.zip", {"One.ttf": font, "docs/OFL.txt": b"licence"})
    events = _read(path)
    assert events == [Member("One.ttf", font)]


def test_names_say_zip_and_compressed_tar(tmp_path: Path, font: bytes) -> None:
    gz = make_tar(tmp_path / "x.bin", {"a.ttf": font}, "gz").read_bytes()[:4096]
    assert archive_kind(gz, "download") == "tar"  # content, not name, decides
    assert archive_kind(b"PK\x03\x04" + bytes(100), "x") == "zip"
    assert archive_kind(font[:4096], "font.zip") is None
    assert archive_kind(b"\x1f\x8b" + bytes(100), "notes.txt.gz") is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../evil.ttf", "climbs out"),
        ("fonts/../../evil.ttf", "climbs out"),
        ("/etc/evil.ttf", "absolute"),
        ("C:/Windows/evil.ttf", "absolute"),
        ("..\\evil.ttf", "climbs out"),
        ("fonts/ok..name.ttf", None),
        ("fonts/good.ttf", None),
    ],
)
def test_unsafe_names(name: str, expected: str | None) -> None:
    reason = unsafe_reason(name)
    assert (reason is None) if expected is None else (expected in str(reason))


def test_escaping_members_are_refused_in_zip_and_tar(tmp_path: Path, font: bytes) -> None:
    members = {"../evil.ttf": font, "/abs.ttf": font, "fine.ttf": font}
    for path in (make_zip(tmp_path / "e.zip", members), make_tar(tmp_path / "e.tgz", members)):
        events = _read(path)
        assert _refusals(events) == {"../evil.ttf": "unsafe_path", "/abs.ttf": "unsafe_path"}
        assert [e.path for e in events if isinstance(e, Member)] == ["fine.ttf"]
    assert not (tmp_path.parent / "evil.ttf").exists()


def test_links_are_refused(tmp_path: Path) -> None:
    events = _read(tar_with_links(tmp_path / "links.tar.gz"))
    assert _refusals(events) == {"fonts/passwd.ttf": "link_member", "fonts/hard.ttf": "link_member"}
    assert not any(isinstance(e, Member) for e in events)


def test_zip_symlink_member_is_refused(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "symlink.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("fonts/passwd.ttf")
        info.create_system = 3
        info.external_attr = (0o120777) << 16
        archive.writestr(info, "/etc/passwd")
    assert _refusals(_read(path)) == {"fonts/passwd.ttf": "link_member"}


def test_zip_bomb_is_refused_before_it_is_read(tmp_path: Path) -> None:
    bomb = zip_bomb(tmp_path / "bomb.zip", 256 << 20)
    tracemalloc.start()
    try:
        events = _read(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert _refusals(events) == {None: "compression_ratio"}
    assert peak < 4 << 20, f"peak {peak} bytes while refusing a 256 MiB bomb"


def test_bomb_member_among_good_ones_is_refused_alone(tmp_path: Path, font: bytes) -> None:
    import os
    import zipfile

    path = zip_bomb(tmp_path / "mixed.zip", 64 << 20)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("good.ttf", font, zipfile.ZIP_DEFLATED)
        archive.writestr("noise.bin", os.urandom(1 << 20), zipfile.ZIP_STORED)
    # The whole zip expands less than 100 times; its bomb member alone, 1000 times.
    events = _read(path, ArchiveLimits(100, 128 << 20, 1 << 30, 100))
    assert _refusals(events) == {"bomb.ttf": "compression_ratio"}
    assert [e.path for e in events if isinstance(e, Member)] == ["good.ttf"]


def test_member_lying_about_its_size_is_stopped(tmp_path: Path, font: bytes) -> None:
    real = font * 50
    path = zip_lying_about_size(tmp_path / "liar.zip", real, claimed=len(font))
    events = _read(path)
    assert _refusals(events) == {"liar.ttf": "corrupt_archive"}


def test_tar_bomb_stops_at_the_limit_with_bounded_memory(tmp_path: Path) -> None:
    bomb = tar_bomb(tmp_path / "bomb.tar.gz", 512 << 20)
    tracemalloc.start()
    try:
        events = _read(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert _refusals(events) == {None: "compression_ratio"}
    assert peak < 4 << 20


def test_member_over_the_size_limit(tmp_path: Path, font: bytes) -> None:
    limits = ArchiveLimits(100, len(font) - 1, 1 << 30, 100)
    for path in (
        make_zip(tmp_path / "big.zip", {"big.ttf": font}),
        make_tar(tmp_path / "big.tgz", {"big.ttf": font}),
    ):
        assert _refusals(_read(path, limits)) == {"big.ttf": "too_large"}


def test_too_many_members_stops_the_archive(tmp_path: Path, font: bytes) -> None:
    members = {f"f{i:03d}.ttf": font for i in range(12)}
    limits = ArchiveLimits(10, 8 << 20, 1 << 30, 100)
    zip_events = _read(make_zip(tmp_path / "many.zip", members), limits)
    assert zip_events == [zip_events[0]] and _refusals(zip_events) == {None: "too_many_members"}
    tar_events = _read(make_tar(tmp_path / "many.tgz", members), limits)
    assert sum(isinstance(e, Member) for e in tar_events) == 10
    assert _refusals(tar_events) == {None: "too_many_members"}


def test_total_uncompressed_limit(tmp_path: Path, font: bytes) -> None:
    members = {f"f{i}.ttf": font for i in range(5)}
    limits = ArchiveLimits(100, 8 << 20, 3 * len(font), 100)
    assert _refusals(_read(make_zip(tmp_path / "t.zip", members), limits)) == {
        None: "archive_too_large"
    }
    tar_events = _read(make_tar(tmp_path / "t.tgz", members), limits)
    # Headers and read-ahead count too: it stops within a member of the limit.
    assert 2 <= sum(isinstance(e, Member) for e in tar_events) <= 3
    assert _refusals(tar_events) == {None: "archive_too_large"}


@pytest.mark.parametrize("name", ["cut.zip", "cut.tar.gz"])
def test_truncated_archives_are_corrupt(tmp_path: Path, font: bytes, name: str) -> None:
    whole = tmp_path / f"whole-{name}"
    if name.endswith(".zip"):
        make_zip(whole, {"a.ttf": font, "b.ttf": font[::-1]})
    else:
        make_tar(whole, {"a.ttf": font, "b.ttf": font[::-1]})
    cut = tmp_path / name
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    events = _read(cut)
    assert "corrupt_archive" in _refusals(events).values()
