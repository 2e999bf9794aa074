"""The runner over real stages: ingestion reads outside sources, so it always runs, and
what it adds reaches the steps after it; with nothing new, they stay cached."""

from __future__ import annotations

from pathlib import Path

from glyphflow.pipeline.runner import Selection, run_pipeline
from glyphflow.pipeline.spec import load_pipeline
from tests.support.fonts import FontSpec, make_font

PIPELINE = """\
version: 1
pipeline:
  workdir: {workdir}
  steps:
    - name: ingest
      stage: ingestion
      config:
        sources:
          - class: files
            kwargs: {{urls: ["{fonts}"]}}
    - name: glyphs
      stage: preprocessing
      config:
        render: {{charset: uppercase, glyph_size: 16}}
        min_glyphs: 1
"""


def _statuses(path: Path) -> dict[str, str]:
    result = run_pipeline(load_pipeline(str(path)), Selection())
    return {r.name: r.status for r in result.steps}


def test_ingestion_always_runs_and_new_fonts_reach_preprocessing(tmp_path: Path) -> None:
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    (fonts / "a.ttf").write_bytes(make_font(FontSpec(family="Alpha", chars="ABCDEF")))
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(PIPELINE.format(workdir=tmp_path / "work", fonts=fonts))

    assert _statuses(pipeline) == {"ingest": "ran", "glyphs": "ran"}
    # Nothing new: ingestion runs (incrementally) and changes nothing downstream.
    assert _statuses(pipeline) == {"ingest": "ran", "glyphs": "skipped"}
    # A new font under an unchanged config: preprocessing sees its input change.
    (fonts / "b.ttf").write_bytes(make_font(FontSpec(family="Beta", chars="ABCDEF", stroke=40)))
    assert _statuses(pipeline) == {"ingest": "ran", "glyphs": "ran"}
