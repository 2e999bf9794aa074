"""A run killed half way (SIGKILL, mid-download) resumes to the output of a clean run."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from glyphflow.core.config import load_config
from glyphflow.ingestion import IngestionConfig, run
from tests.support.fonts import make_font
from tests.support.ingestion import FAST_HTTP, read, tree
from tests.support.webserver import WebServer


def _write_config(path: Path, output: Path, folder: Path, page: str) -> Path:
    document = {
        "version": 1,
        "ingestion": {
            "output": str(output),
            "sources": [
                {"class": "files", "kwargs": {"urls": [str(folder)]}},
                {"class": "web", "kwargs": {"url": page}},
            ],
            "http": {**FAST_HTTP, "timeout_s": 30},
            "workers": 1,  # items in listing order: the kill lands at a known point
            "checkpoint_items": 1,
        },
    }
    path.write_text(yaml.safe_dump(document))
    return path


def _wait_for(condition: object, what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_output(tmp_path: Path, web: WebServer) -> None:
    folder = tmp_path / "local"
    folder.mkdir()
    for i in range(4):
        (folder / f"Local{i}.ttf").write_bytes(make_font(family=f"Local {i}", seed=f"l{i}"))
    gate = threading.Event()  # downloads from the fourth on hang until it is set
    for i in range(6):
        data = make_font(family=f"Remote {i}", seed=f"r{i}")
        web.add(f"/f/Remote{i}.ttf", data, gate=gate if i >= 3 else None)
    page = web.page("/", "".join(f'<a href="f/Remote{i}.ttf">{i}</a>' for i in range(6)))

    output = tmp_path / "raw"
    config_file = _write_config(tmp_path / "ingest.yaml", output, folder, page)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "glyphflow", "-q", "ingest", "-c", str(config_file)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        journal = output / "_journal"
        _wait_for(lambda: len(list(journal.glob("*.parquet"))) >= 7, "7 journaled items")
        _wait_for(lambda: web.requests_for("/f/Remote3.ttf"), "the hanging download")
    finally:
        process.kill()
        process.wait(30)
    assert not (output / "_SUCCESS").exists()
    assert not (output / "fonts.parquet").exists()

    for i in range(3):
        assert web.downloads(f"/f/Remote{i}.ttf") == 1
    web.clear_log()
    gate.set()
    config = load_config("ingestion", IngestionConfig, str(config_file))
    resumed = run(config)
    assert resumed.counts["items_reused"] == 7
    for i in range(6):  # what the killed run finished is not downloaded again
        assert web.downloads(f"/f/Remote{i}.ttf") == (0 if i < 3 else 1)
    assert not (output / "_journal").exists()
    assert not (output / ".tmp").exists()

    clean_output = tmp_path / "clean"
    run(config.model_copy(update={"output": str(clean_output)}))
    for name in ("fonts.parquet", "failures.parquet"):
        assert read(output, name).equals(read(clean_output, name)), name
    assert (output / "fonts.parquet").read_bytes() == (clean_output / "fonts.parquet").read_bytes()
    assert tree(output / "files") == tree(clean_output / "files")
    assert read(output, "fonts.parquet").num_rows == 10
