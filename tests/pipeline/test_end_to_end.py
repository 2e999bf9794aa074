"""The whole pipeline on a small synthetic corpus, inside the test suite: fonts built with
FontBuilder are ingested, validated, rendered, learned from, scored and evaluated, and
the run ends with a verdict; a second run skips everything but ingestion."""

from __future__ import annotations

from pathlib import Path

import pytest

from glyphflow.pipeline.runner import Selection, run_pipeline
from glyphflow.pipeline.spec import load_pipeline
from tests.support.fonts import FontSpec, make_font

PIPELINE = """\
version: 1
pipeline:
  workdir: {workdir}
  mlflow: {{enabled: true, tracking_uri: "{tracking}", experiment: e2e}}
  steps:
    - name: ingest
      stage: ingestion
      config:
        sources: [{{class: files, kwargs: {{urls: ["{fonts}"]}}}}]
    - name: validate
      stage: validation
      config:
        charset: uppercase
        render: {{glyph_size: 16}}
    - name: glyphs
      stage: preprocessing
      config:
        render: {{charset: uppercase, glyph_size: 16}}
        layout: font
        splits: {{train: 0.6, val: 0.2, test: 0.2}}
    - name: classifier
      stage: training
      config:
        model: {{class: classifier, channels: [8, 16], feature_dim: 16}}
        epochs: 2
        batch_size: 64
    - name: score
      stage: scoring
      inputs: {{glyphs: glyphs, model: classifier}}
    - name: style
      stage: training
      inputs: {{glyphs: score}}
      config:
        model: {{class: font_style, latent_dim: 4, channels: [8, 16], hidden_dim: 32}}
        epochs: 2
        batch_size: 4
    - name: evaluate
      stage: evaluation
      inputs: {{glyphs: glyphs, model: style, classifier: classifier}}
      config:
        k_shots: [1, 4]
        thresholds: {{subset: all, absolute: {{few_shot.k4.l1: {{max: 0.5}}}}}}
"""


@pytest.mark.slow
def test_synthetic_corpus_goes_from_ingestion_to_a_verdict(
    tmp_path: Path, mlflow_tracking_uri: str
) -> None:
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    for i in range(16):
        spec = FontSpec(
            family=f"Synth {i:02d}",
            stroke=30.0 + 8 * i,
            slant=0.04 * (i % 4),
            width=380.0 + 15 * (i % 5),
        )
        (fonts / f"synth-{i:02d}.ttf").write_bytes(make_font(spec))
    (fonts / "broken.ttf").write_bytes(b"not a font at all")
    path = tmp_path / "pipeline.yaml"
    path.write_text(
        PIPELINE.format(workdir=tmp_path / "work", fonts=fonts, tracking=mlflow_tracking_uri)
    )

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
