"""The whole pipeline on a small synthetic corpus, inside the test suite: fonts built with
FontBuilder are ingested, validated, rendered, learned from, scored and evaluated, and
the run ends with a verdict; a second run skips everything but ingestion."""

from __future__ import annotations

from pathlib import Path

import pytest

from glyphflow.pipeline.runner import Selection, run_pipeline
from glyphflow.pipeline.spec import load_pipeline
from tests.support.synthetic import pipeline_yaml, write_corpus


@pytest.mark.slow
def test_synthetic_corpus_goes_from_ingestion_to_a_verdict(
    tmp_path: Path, mlflow_tracking_uri: str
) -> None:
    fonts = write_corpus(tmp_path / "fonts", 16)
    (fonts / "broken.ttf").write_bytes(b"not a font at all")
    path = tmp_path / "pipeline.yaml"
    path.write_text(pipeline_yaml(tmp_path / "work", fonts, mlflow_tracking_uri))

    first = run_pipeline(load_pipeline(str(path)), Selection())
    assert [r.status for r in first.steps] == ["ran"] * 7
    verdicts = {p.name for p in (tmp_path / "work" / "evaluate").iterdir()} & {
        "BLESSED",
        "NOT_BLESSED",
    }
    assert len(verdicts) == 1
    assert (tmp_path / "work" / "evaluate" / "metrics.json").exists()
    assert (tmp_path / "work" / "validate" / "report.html").exists()

    second = run_pipeline(load_pipeline(str(path)), Selection())
    assert {r.name: r.status for r in second.steps} == {
        "ingest": "ran",
        # ingestion reads outside sources, so it always runs (incrementally); nothing
        # new arrived, so every step after it is current, evaluation included (its
        # models are wired by path, so the runner can re-check them).
        **{
            name: "skipped"
            for name in ("validate", "glyphs", "classifier", "score", "style", "evaluate")
        },
    }
