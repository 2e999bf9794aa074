"""Reruns do only what changed: edited, touched, removed and restored files; new limits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from glyphflow.ingestion import run
from glyphflow.io import shards, storage
from glyphflow.io.outputs import is_complete
from tests.support.fonts import make_font
from tests.support.ingestion import failures_by_reason, make_config, read
from tests.support.webserver import WebServer


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "fonts"
    folder.mkdir()
    for name in ("One", "Two", "Three"):
        (folder / f"{name}.ttf").write_bytes(make_font(family=name, seed=name))
    (folder / "Bad.ttf").write_bytes(b"not a font at all" * 10)
    return folder, tmp_path / "raw"


def _run(folder: Path, output: Path | str, **changes: object) -> dict[str, int]:
    config = make_config(output, [{"class": "files", "kwargs": {"urls": [str(folder)]}}], **changes)
    return run(config).counts


def test_only_changed_files_are_read(setup: tuple[Path, Path]) -> None:
    folder, output = setup
    first = _run(folder, output)
    assert (first["items_read"], first["files_written"], first["faces"]) == (4, 3, 3)
    assert first["failures.not_a_font"] == 1

    (folder / "One.ttf").write_bytes(make_font(family="One Revised", seed="x"))  # edited
    stat = (folder / "Two.ttf").stat()
    os.utime(folder / "Two.ttf", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # touched
    second = _run(folder, output)
    assert second["items_read"] == 1  # only the edited file is read and described again
    assert second["items_reused"] == 3  # the touched one is known by its content
    assert second["files_written"] == 1
    assert second["failures.not_a_font"] == 1  # a bad file stays a failure without a re-read
    families = sorted(read(output, "fonts.parquet").column("family").to_pylist())
    assert families == ["One Revised", "Three", "Two"]

    third = _run(folder, output)
    assert (third["items_read"], third["items_reused"], third["files_written"]) == (0, 4, 0)


def test_removed_stored_file_is_stored_again(setup: tuple[Path, Path]) -> None:
    folder, output = setup
    _run(folder, output)
    index = read(output, "fonts.parquet").to_pylist()
    victim = next(r for r in index if r["family"] == "Three")
    (output / victim["stored_path"]).unlink()
    counts = _run(folder, output)
    assert counts["files_written"] == 1 and counts["items_read"] == 1
    assert (output / victim["stored_path"]).exists()


def test_new_limits_reread_everything_but_store_nothing_twice(setup: tuple[Path, Path]) -> None:
    folder, output = setup
    _run(folder, output)
    counts = _run(folder, output, limits={"max_file_bytes": 1000}, min_fonts=0)
    assert counts["items_read"] == 4 and counts["files_written"] == 0
    assert counts["failures.too_large"] == 3  # the new limit applies to every item
    assert counts["faces"] == 0


def test_removed_source_file_leaves_the_index(setup: tuple[Path, Path]) -> None:
    folder, output = setup
    _run(folder, output)
    (folder / "Two.ttf").unlink()
    _run(folder, output)
    assert sorted(read(output, "fonts.parquet").column("family").to_pylist()) == ["One", "Three"]
    ledger = read(output, "items.parquet").column("source_url").to_pylist()
    assert str(folder / "Two.ttf") not in ledger


def test_output_inside_the_source_folder_is_not_ingested(setup: tuple[Path, Path]) -> None:
    folder, _ = setup
    output = folder / "raw"
    first = _run(folder, output)
    second = _run(folder, output)
    assert first["items"] == second["items"] == 4
    assert second["files_written"] == 0 and second["duplicates"] == 0


def test_raw_store_in_a_bucket(setup: tuple[Path, Path], s3_bucket: str) -> None:
    folder, _ = setup
    output = f"{s3_bucket}/raw"
    first = _run(folder, output)
    assert is_complete(output)
    index = shards.read_table(f"{output}/fonts.parquet")
    assert sorted(index.column("family").to_pylist()) == ["One", "Three", "Two"]
    for row in index.to_pylist():
        assert storage.sha256_of(f"{output}/{row['stored_path']}") == row["sha256"]
    second = _run(folder, output)
    assert first["files_written"] == 3
    assert (second["files_written"], second["items_reused"]) == (0, 4)
    assert not storage.exists(f"{output}/_journal")


def test_unreachable_download_keeps_its_rows_until_it_is_gone(
    tmp_path: Path, web: WebServer
) -> None:
    url = web.add("/A.ttf", make_font(family="Flaky"))
    output = tmp_path / "raw"
    sources = [{"class": "files", "kwargs": {"urls": [url]}}]

    def families(**changes: object) -> list[str]:
        run(make_config(output, sources, **changes))
        return read(output, "fonts.parquet").column("family").to_pylist()

    assert families() == ["Flaky"]
    web.routes["/A.ttf"].status = 503  # the server has a bad day: the font stays indexed
    assert families() == ["Flaky"]
    assert failures_by_reason(output) == {"http_error": [("A.ttf", None)]}
    web.routes["/A.ttf"].status = 404  # now it is gone: so is its row
    assert families(min_fonts=0) == []
    assert "404" in read(output, "failures.parquet").column("message")[0].as_py()
