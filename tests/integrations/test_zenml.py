"""ZenML: a synthetic corpus through the whole pipeline as a ZenML pipeline, run twice.

ZenML runs in subprocesses with its config, local SQLite store, artifact store and
repository all under tmp_path (its global state never leaks into this process or the
user's ~/.config/zenml); a third subprocess reads back what ZenML recorded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.fonts import FontSpec, make_font
from tests.support.integrations import require

zenml = require("zenml", "zenml")

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PIPELINE = """\
version: 1
pipeline:
  workdir: {workdir}
  mlflow: {{enabled: true, tracking_uri: "sqlite:///{tracking}", experiment: zenml-test}}
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
        model: {{class: classifier, channels: [4, 8], feature_dim: 8}}
        epochs: 1
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
        model: {{class: font_style, latent_dim: 4, channels: [4, 8], hidden_dim: 16}}
        epochs: 1
        batch_size: 4
        threads: 1
    - name: evaluate
      stage: evaluation
      inputs: {{glyphs: glyphs, model: style, classifier: classifier}}
      config:
        k_shots: [1]
        thresholds: {{subset: all, absolute: {{few_shot.k1.l1: {{max: 1.0}}}}}}
"""

STEPS = ["ingest", "validate", "glyphs", "classifier", "score", "style", "evaluate"]

# What ZenML recorded, read back in a fresh process with the same isolated config.
READ_BACK = """
import json, sys
from zenml.client import Client

client = Client()
runs = client.list_pipeline_runs(pipeline_name=sys.argv[1], sort_by="asc:created", size=50)
out = []
for run in runs.items:
    run = client.get_pipeline_run(run.id)
    steps = {}
    for name, step_run in run.steps.items():
        artifact = step_run.outputs["output"]
        artifact = artifact[0] if isinstance(artifact, list) else artifact
        steps[name] = {
            "status": str(step_run.status.value),
            "inputs": sorted(step_run.inputs),
            "output": artifact.load(),
            "metadata": {k: str(v) for k, v in step_run.run_metadata.items()},
            "artifact_metadata": {k: str(v) for k, v in artifact.run_metadata.items()},
        }
    out.append({"status": str(run.status.value), "order": list(run.steps), "steps": steps})
print("READ-BACK " + json.dumps(out))
"""


def _zenml_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENML_", "MLFLOW_"))}
    env.update(
        {
            "ZENML_CONFIG_PATH": str(root / "zenml-config"),
            "ZENML_LOCAL_STORES_PATH": str(root / "zenml-stores"),
            "ZENML_REPOSITORY_PATH": str(root),
            "ZENML_ANALYTICS_OPT_IN": "false",
            "ZENML_LOGGING_VERBOSITY": "WARN",
            "ZENML_ENABLE_RICH_TRACEBACK": "false",
            "AUTO_OPEN_DASHBOARD": "false",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "PYTHONPATH": os.pathsep.join([str(Path.cwd()), str(Path.cwd() / "src")]),
        }
    )
    return env


def _python(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-4000:]}\n{done.stderr[-8000:]}"
    return done.stdout


def _read_back(env: dict[str, str], cwd: Path, name: str) -> list[dict[str, Any]]:
    script = cwd / "read_back.py"  # a file: ZenML finds its source root from __main__
    script.write_text(READ_BACK)
    out = _python([str(script), name], env, cwd)
    line = next(x for x in out.splitlines() if x.startswith("READ-BACK "))
    runs: list[dict[str, Any]] = json.loads(line[len("READ-BACK ") :])
    return runs


def test_the_pipeline_runs_in_zenml_and_glyphflow_decides_the_cache(tmp_path: Path) -> None:
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    for i in range(10):
        spec = FontSpec(
            family=f"Synth {i:02d}",
            stroke=30.0 + 10 * i,
            slant=0.04 * (i % 4),
            width=380.0 + 15 * (i % 5),
        )
        (fonts / f"synth-{i:02d}.ttf").write_bytes(make_font(spec))
    work = tmp_path / "work"
    path = tmp_path / "pipeline.yaml"
    path.write_text(
        PIPELINE.format(workdir=work, fonts=fonts, tracking=tmp_path / "mlflow.db")
    )
    env = _zenml_env(tmp_path)

    first = _python(["-m", "glyphflow.integrations.zenml", str(path)], env, tmp_path)
    assert "ingest: ran" in first, first
    second = _python(["-m", "glyphflow.integrations.zenml", str(path)], env, tmp_path)
    assert "validate: skipped" in second, second

    runs = _read_back(env, tmp_path, "glyphflow-pipeline")
    assert len(runs) == 2
    one, two = runs
    for recorded in runs:
        assert recorded["status"] == "completed"
        assert recorded["order"] == STEPS
        assert all(s["status"] == "completed" for s in recorded["steps"].values())
    # The artifacts are the output URLs; the data is in glyphflow's layout there.
    for name in STEPS:
        output = one["steps"][name]["output"]
        assert output == str(work / name)
        assert (Path(output) / "_SUCCESS").exists()
        assert (Path(output) / "_manifest.json").exists()
        assert two["steps"][name]["output"] == output
        meta = one["steps"][name]["metadata"]
        assert meta["glyphflow_status"] == "ran", meta
        assert meta["glyphflow_why"] == "no output yet"
        manifest = json.loads((Path(output) / "_manifest.json").read_text())
        assert meta["glyphflow_fingerprint"] == manifest["fingerprint"]
        assert one["steps"][name]["artifact_metadata"]["glyphflow_fingerprint"] == (
            manifest["fingerprint"]
        )
    # The DAG's edges are glyphflow's wiring: evaluation reads three steps.
    assert one["steps"]["ingest"]["inputs"] == []
    assert one["steps"]["evaluate"]["inputs"] == ["input_1", "input_2", "input_3"]
    verdicts = {p.name for p in (work / "evaluate").iterdir()} & {"BLESSED", "NOT_BLESSED"}
    assert len(verdicts) == 1

    # Second run: ZenML ran every step (its cache is off), glyphflow skipped all but
    # ingestion (it reads outside sources, so it always runs, incrementally).
    status = {n: s["metadata"]["glyphflow_status"] for n, s in two["steps"].items()}
    assert status == {"ingest": "ran", **{n: "skipped" for n in STEPS[1:]}}
    for name in STEPS[1:]:
        meta = two["steps"][name]["metadata"]
        assert meta["glyphflow_why"].startswith("up to date (")
        assert meta["glyphflow_fingerprint"] == one["steps"][name]["metadata"][
            "glyphflow_fingerprint"
        ]
