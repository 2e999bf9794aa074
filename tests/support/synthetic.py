"""A synthetic corpus and the whole pipeline over it: what end-to-end tests run.

Fonts built with FontBuilder that differ in stroke, slant and width go through every
stage (ingestion to evaluation) at 16 px with models small enough for two CPU cores;
``glyphflow run`` (tests/pipeline) and the ZenML adapter (tests/integrations) both run
this file, so a change to the stages' configs is made once.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tests.support.fonts import FontSpec, make_font

__all__ = ["STEPS", "pipeline_yaml", "write_corpus"]

#: The steps of :func:`pipeline_yaml`, in order.
STEPS = ["ingest", "validate", "glyphs", "classifier", "score", "style", "evaluate"]

_PIPELINE = """\
version: 1
pipeline:
  workdir: {workdir}
  mlflow: {{enabled: true, tracking_uri: "{tracking}", experiment: {experiment}}}
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
        model: {{class: classifier, channels: [{width}, {width2}], feature_dim: {width2}}}
        epochs: {epochs}
        batch_size: 64
        threads: 1
    - name: score
      stage: scoring
      inputs: {{glyphs: glyphs, model: classifier}}
      config: {{threads: 1}}
    - name: style
      stage: training
      inputs: {{glyphs: score}}
      config:
        model: {{class: font_style, latent_dim: 4, channels: [{width}, {width2}], hidden_dim: {width4}}}
        epochs: {epochs}
        batch_size: 4
        threads: 1
    - name: evaluate
      stage: evaluation
      inputs: {{glyphs: glyphs, model: style, classifier: classifier}}
      config:
        k_shots: [{k_shots}]
        thresholds: {{subset: all, absolute: {{few_shot.k{k_max}.l1: {{max: {max_l1}}}}}}}
"""


def write_corpus(folder: Path, count: int, stroke_step: float = 8.0) -> Path:
    """``count`` fonts ``synth-NN.ttf`` in ``folder`` (created), each a style of its own."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        spec = FontSpec(
            family=f"Synth {i:02d}",
            stroke=30.0 + stroke_step * i,
            slant=0.04 * (i % 4),
            width=380.0 + 15 * (i % 5),
        )
        (folder / f"synth-{i:02d}.ttf").write_bytes(make_font(spec))
    return folder


def pipeline_yaml(
    workdir: Path,
    fonts: Path,
    tracking_uri: str,
    experiment: str = "e2e",
    *,
    width: int = 8,
    epochs: int = 2,
    k_shots: Sequence[int] = (1, 4),
    max_l1: float = 0.5,
) -> str:
    """The pipeline file over ``fonts``: models ``width`` channels wide (doubling once),
    trained ``epochs`` epochs; evaluation blesses when the largest k-shot L1 <= ``max_l1``."""
    return _PIPELINE.format(
        workdir=workdir,
        fonts=fonts,
        tracking=tracking_uri,
        experiment=experiment,
        width=width,
        width2=2 * width,
        width4=4 * width,
        epochs=epochs,
        k_shots=", ".join(str(k) for k in k_shots),
        k_max=max(k_shots),
        max_l1=max_l1,
    )
