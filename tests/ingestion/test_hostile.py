"""Hostile and broken inputs: each a failure row with its reason, nothing written outside
the output, memory bounded, and the good font beside them still ingested."""

from __future__ import annotations

import random
import tracemalloc
from pathlib import Path

from glyphflow.ingestion import run
from tests.support.archives import (
    make_zip,
    tar_with_links,
    zip_bomb,
    zip_lying_about_size,
)
from tests.support.fonts import make_font
from tests.support.ingestion import failures_by_reason, make_config, read, tree

BOMB_BYTES = 512 << 20


def test_hostile_inputs_are_failures_not_damage(tmp_path: Path) -> None:
    font = make_font(family="Survivor Sans")
    inputs = tmp_path / "inputs" / "deep"
    inputs.mkdir(parents=True)
    (inputs / "good.ttf").write_bytes(font)
    (inputs / "random.ttf").write_bytes(random.Random(7).randbytes(5000))
    (inputs / "zero.otf").write_bytes(b"")
    (inputs / "truncated.ttf").write_bytes(font[: len(font) // 2])
    (inputs / "page.woff2").write_bytes(b"<!doctype html><title>404</title>")
    make_zip(inputs / "escape.zip", {"../escaped.ttf": font, "/abs/escaped.ttf": font})
    zip_bomb(inputs / "bomb.zip", BOMB_BYTES)
    tar_with_links(inputs / "links.tar.gz", "/etc/passwd")
    zip_lying_about_size(inputs / "liar.zip", font * 40, claimed=len(font))
    make_zip(
        inputs / "nested.zip",
        {"inner.zip": make_zip(tmp_path / "inner.zip", {"x.ttf": font}).read_bytes()},
    )
    (tmp_path / "inner.zip").unlink()

    output = tmp_path / "out" / "raw"
    config = make_config(output, [{"class": "files", "kwargs": {"urls": [str(inputs)]}}])
    # Load every module first: tracemalloc should see the run, not first imports.
    warm = config.model_copy(update={"output": str(tmp_path / "out" / "warm")})
    run(warm.model_copy(update={"sources": [_only(inputs / "good.ttf")]}))
    before = tree(tmp_path)
    tracemalloc.start()
    try:
        manifest = run(config)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert failures_by_reason(output) == {
        "not_a_font": [("page.woff2", None), ("random.ttf", None)],
        "empty_file": [("zero.otf", None)],
        "corrupt_font": [("truncated.ttf", None)],
        "unsafe_path": [("escape.zip", "../escaped.ttf"), ("escape.zip", "/abs/escaped.ttf")],
        "compression_ratio": [("bomb.zip", None)],
        "link_member": [("links.tar.gz", "fonts/hard.ttf"), ("links.tar.gz", "fonts/passwd.ttf")],
        "corrupt_archive": [("liar.zip", "liar.ttf")],
        "nested_archive": [("nested.zip", "inner.zip")],
    }
    messages = read(output, "failures.parquet").column("message").to_pylist()
    assert all(m and len(m) > 15 for m in messages)  # a sentence, not a code
    index = read(output, "fonts.parquet")
    assert index.column("family").to_pylist() == ["Survivor Sans"]
    assert manifest.counts["failures"] == 11

    # Nothing outside the output appeared, nothing escaped, no link was followed.
    after = tree(tmp_path, skip=output)
    assert after == before
    assert not list(tmp_path.rglob("escaped.ttf"))
    passwd = Path("/etc/passwd").read_bytes()
    assert all(p.read_bytes() != passwd for p in (output / "files").rglob("*") if p.is_file())
    assert sorted(p.name for p in output.iterdir()) == [
        "_SUCCESS",
        "_manifest.json",
        "failures.parquet",
        "files",
        "fonts.parquet",
        "items.parquet",
    ]
    # Memory stayed far below the bomb's size.
    print(f"tracemalloc peak {peak / 2**20:.1f} MiB with a {BOMB_BYTES >> 20} MiB bomb")
    assert peak < 16 << 20, f"tracemalloc peak {peak / 2**20:.1f} MiB"


def _only(path: Path) -> object:
    from glyphflow.core.config import ComponentSpec

    return ComponentSpec.model_validate({"class": "files", "kwargs": {"urls": [str(path)]}})


def test_a_run_that_finds_no_font_fails_clearly(tmp_path: Path) -> None:
    import pytest

    from glyphflow.core.errors import StageFailedError
    from glyphflow.io.outputs import is_complete

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "junk.ttf").write_bytes(b"junk" * 100)
    output = tmp_path / "raw"
    config = make_config(output, [{"class": "files", "kwargs": {"urls": [str(tmp_path / "in")]}}])
    with pytest.raises(StageFailedError) as err:
        run(config)
    assert "min_fonts" in str(err.value) and "not_a_font: 1" in str(err.value)
    assert not is_complete(str(output))
    assert (output / "failures.parquet").exists()  # what went wrong is there to read
