"""Follow mode from the command line: commits as fonts arrive, stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from glyphflow.io.outputs import is_complete, read_manifest
from tests.preprocessing.helpers import corpus, direct_records, glyph_records
from tests.support.rawstore import make_raw_store

SRC = Path(__file__).resolve().parents[2] / "src"


def _wait(condition: object, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if process.poll() is not None:
            raise AssertionError(f"follower exited early: {process.stderr.read().decode()}")  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


@pytest.mark.slow
def test_preprocess_follow_renders_arrivals_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    raw = make_raw_store(str(tmp_path / "raw"), corpus(2))
    output = tmp_path / "glyphs"
    config = tmp_path / "preprocess.yaml"
    config.write_text(
        "version: 1\n"
        "preprocessing:\n"
        f"  fonts: {raw}\n"
        f"  output: {output}\n"
        "  follow: {poll_seconds: 0.2}\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "glyphflow", "preprocess", "-c", str(config), "--follow"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait(lambda: is_complete(str(output)), process)
        make_raw_store(raw, corpus(2, start=2), append=True)

        def has_four() -> bool:
            manifest = read_manifest(str(output))
            return (
                is_complete(str(output)) and manifest is not None and manifest.counts["fonts"] == 4
            )

        _wait(has_four, process)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr.decode()
    assert is_complete(str(output))
    assert glyph_records(str(output)) == direct_records(raw)
