"""Parity: local (1 and 2 workers), Beam, follow mode and a direct call of render_font
give byte-identical glyph arrays and labels for the same fonts and config."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from glyphflow.io.outputs import is_complete, read_manifest
from glyphflow.preprocessing.stage import run
from tests.preprocessing.helpers import (
    corpus,
    corrupt,
    direct_records,
    glyph_records,
    make_config,
    part_digests,
)
from tests.support.fonts import make_font
from tests.support.rawstore import StoredFont, make_raw_store

REAL_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf")

ENGINES: dict[str, dict[str, Any]] = {
    "local-1": {"class": "local"},
    "local-2": {"class": "local", "kwargs": {"workers": 2, "chunksize": 1}},
    "beam": {
        "class": "beam",
        "kwargs": {"beam_options": {"runner": "DirectRunner"}, "chunk_size": 2},
    },
}


def fonts() -> list[Any]:
    # Built once as bytes: fontTools stamps build times, so two builds differ.
    items: list[Any] = [make_font(spec) for spec in corpus(5)]
    items.append(corrupt())
    if REAL_FONT.exists():
        items.append(StoredFont(REAL_FONT.read_bytes()))
    return items


def wait_for(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


@pytest.mark.slow
def test_engines_follow_mode_and_direct_calls_agree_byte_for_byte(tmp_path: Path) -> None:
    items = fonts()
    raw = make_raw_store(str(tmp_path / "raw"), items)
    expected = direct_records(raw)  # the direct call of glyphflow.glyphs.render_font
    assert len(expected) > 5 * 50

    digests = {}
    for name, engine in ENGINES.items():
        output = str(tmp_path / name)
        manifest = run(make_config(raw, output, engine=engine, commit_every=3))
        assert manifest.counts["fonts_failed"] == 1
        assert glyph_records(output) == expected, name
        digests[name] = part_digests(output)
    # Same input, same order: the very same files, whatever the engine.
    assert digests["local-2"] == digests["local-1"]
    assert digests["beam"] == digests["local-1"]

    # Follow mode: fonts arrive in two batches while it watches.
    followed_raw = make_raw_store(str(tmp_path / "raw-followed"), items[:3])
    output = str(tmp_path / "followed")
    config = make_config(followed_raw, output, follow={"poll_seconds": 0.1})
    stop = threading.Event()
    follower = threading.Thread(target=run, args=(config, True), kwargs={"stop": stop})
    follower.start()
    try:
        wait_for(lambda: is_complete(output))
        make_raw_store(followed_raw, items[3:], append=True)
        total = len(items) - 1
        wait_for(
            lambda: (
                is_complete(output) and (read_manifest(output) or _no).counts.get("fonts") == total
            )
        )
    finally:
        stop.set()
        follower.join(timeout=60)
    assert not follower.is_alive()
    assert glyph_records(output) == expected


class _NoManifest:
    counts: dict[str, int] = {}


_no = _NoManifest()
