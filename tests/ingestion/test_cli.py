"""``glyphflow ingest``: a config file in, a raw store out, and the right exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from glyphflow.cli import main
from glyphflow.io.outputs import is_complete
from glyphflow.pipeline import catalogue
from tests.support.fonts import make_font


def _config(tmp_path: Path, folder: Path, **extra: object) -> Path:
    document = {
        "version": 1,
        "ingestion": {
            "output": str(tmp_path / "raw"),
            "sources": [{"class": "files", "kwargs": {"urls": [str(folder)]}}],
            **extra,
        },
    }
    path = tmp_path / "ingest.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def _exit_code(*argv: str) -> int:
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    return int(done.value.code or 0)


def test_ingest_command(tmp_path: Path) -> None:
    folder = tmp_path / "fonts"
    folder.mkdir()
    (folder / "A.ttf").write_bytes(make_font(family="Cli Sans"))
    config = _config(tmp_path, folder)
    assert _exit_code("-q", "ingest", "-c", str(config), "--set", "ingestion.workers=1") == 0
    assert is_complete(str(tmp_path / "raw"))


def test_bad_config_exits_2_and_no_fonts_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    config = _config(tmp_path, folder, workers=0)
    assert _exit_code("-q", "ingest", "-c", str(config)) == 2
    assert "ingestion.workers: must be >= 1 (got 0)" in capsys.readouterr().err
    config = _config(tmp_path, folder)
    assert _exit_code("-q", "ingest", "-c", str(config)) == 1
    assert "min_fonts" in capsys.readouterr().err
    assert not is_complete(str(tmp_path / "raw"))


def test_stage_is_in_the_catalogue() -> None:
    entry = catalogue.stage_by_command("ingest")
    assert entry.section == "ingestion" and entry.inputs == () and entry.output == "output"
    assert catalogue.config_model(entry).__name__ == "IngestionConfig"
    assert catalogue.run_function(entry).__module__ == "glyphflow.ingestion.stage"
