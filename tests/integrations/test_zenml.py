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

from tests.support.integrations import require
from tests.support.synthetic import STEPS, pipeline_yaml, write_corpus

zenml = require("zenml", "zenml")

pytestmark = [pytest.mark.integration, pytest.mark.slow]


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
        artifact = (step_run.outputs.get("output") or [None])[0]
        steps[name] = {
            "status": str(step_run.status.value),
            "inputs": sorted(step_run.inputs),
            "output": artifact.load() if artifact else None,
            "metadata": {k: str(v) for k, v in step_run.run_metadata.items()},
            "artifact_metadata": (
                {k: str(v) for k, v in artifact.run_metadata.items()} if artifact else {}
            ),
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


def _python(args: list[str], env: dict[str, str], cwd: Path, expect: int = 0) -> str:
    done = subprocess.run(
        [sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == expect, (
        f"{args} exited {done.returncode}:\n{done.stdout[-4000:]}\n{done.stderr[-8000:]}"
    )
    return done.stdout + done.stderr


def _read_back(env: dict[str, str], cwd: Path, name: str) -> list[dict[str, Any]]:
    script = cwd / "read_back.py"  # a file: ZenML finds its source root from __main__
    script.write_text(READ_BACK)
    out = _python([str(script), name], env, cwd)
    line = next(x for x in out.splitlines() if x.startswith("READ-BACK "))
    runs: list[dict[str, Any]] = json.loads(line[len("READ-BACK ") :])
    return runs


def test_the_pipeline_runs_in_zenml_and_glyphflow_decides_the_cache(tmp_path: Path) -> None:
    fonts = write_corpus(tmp_path / "fonts", 10, stroke_step=10.0)
    work = tmp_path / "work"
    path = tmp_path / "pipeline.yaml"
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    path.write_text(
        pipeline_yaml(
            work, fonts, tracking, "zenml-test", width=4, epochs=1, k_shots=[1], max_l1=1.0
        )
    )
    env = _zenml_env(tmp_path)

    first = _python(["-m", "glyphflow.integrations.zenml", str(path)], env, tmp_path)
    assert "ingest: ran" in first, first
    # The second run through the README's example script, which reads the run back.
    example = Path(__file__).resolve().parents[2] / "integrations" / "zenml" / "example.py"
    second = _python([str(example), str(path)], env, tmp_path)
    assert "ingest: zenml completed, glyphflow ran (reads sources outside" in second, second
    assert "evaluate: zenml completed, glyphflow skipped (up to date (" in second, second
    # The data is in glyphflow's layout, complete (read before the failing run below).
    fingerprints = {}
    for name in STEPS:
        assert (work / name / "_SUCCESS").exists()
        manifest = json.loads((work / name / "_manifest.json").read_text())
        fingerprints[name] = manifest["fingerprint"]
    verdicts = {p.name for p in (work / "evaluate").iterdir()} & {"BLESSED", "NOT_BLESSED"}
    assert len(verdicts) == 1

    # A stage that fails stops the ZenML run with glyphflow's own message, as `glyphflow
    # run` does; the steps after it are not run.
    failed = _python(
        ["-m", "glyphflow.integrations.zenml", str(path), "--set", "ingest.min_fonts=50"],
        env,
        tmp_path,
        expect=1,
    )
    assert "error: ingestion indexed 10 faces, fewer than min_fonts=50" in failed, failed

    runs = _read_back(env, tmp_path, "glyphflow-pipeline")
    assert len(runs) == 3
    one, two, three = runs
    assert three["status"] == "failed"
    assert {n: s["status"] for n, s in three["steps"].items()} == {"ingest": "failed"}
    for recorded in (one, two):
        assert recorded["status"] == "completed"
        assert recorded["order"] == STEPS
        assert all(s["status"] == "completed" for s in recorded["steps"].values())
    # The artifacts are the output URLs; the metadata is glyphflow's decision and facts.
    for name in STEPS:
        assert one["steps"][name]["output"] == str(work / name)
        assert two["steps"][name]["output"] == str(work / name)
        meta = one["steps"][name]["metadata"]
        assert meta["glyphflow_status"] == "ran", meta
        assert meta["glyphflow_why"] == "no output yet"
        assert meta["glyphflow_output"] == str(work / name)
        assert meta["glyphflow_fingerprint"] == fingerprints[name]
        artifact = one["steps"][name]["artifact_metadata"]
        assert artifact["glyphflow_fingerprint"] == fingerprints[name]
    # The DAG's edges are glyphflow's wiring: evaluation reads three steps.
    assert one["steps"]["ingest"]["inputs"] == []
    assert one["steps"]["evaluate"]["inputs"] == ["input_1", "input_2", "input_3"]
    # The stages' own MLflow runs went to the pipeline file's tracking store.
    mlflow = pytest.importorskip("mlflow")
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    for name in ("classifier", "style", "evaluate"):
        run_id = one["steps"][name]["metadata"]["glyphflow_mlflow_run_id"]
        assert client.get_run(run_id).info.status == "FINISHED"

    # Second run: ZenML ran every step (its cache is off), glyphflow skipped all but
    # ingestion (it reads outside sources, so it always runs, incrementally).
    status = {n: s["metadata"]["glyphflow_status"] for n, s in two["steps"].items()}
    assert status == {"ingest": "ran", **{n: "skipped" for n in STEPS[1:]}}
    for name in STEPS[1:]:
        meta = two["steps"][name]["metadata"]
        assert meta["glyphflow_why"].startswith("up to date (")
        assert (
            meta["glyphflow_fingerprint"] == one["steps"][name]["metadata"]["glyphflow_fingerprint"]
        )


def test_a_mistake_in_the_pipeline_file_is_reported_before_zenml_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from glyphflow.integrations.zenml import main

    path = tmp_path / "pipeline.yaml"
    path.write_text(
        "version: 1\npipeline:\n  workdir: w\n  steps:\n"
        "    - {name: ingest, stage: ingestion, config: {sources: []}}\n"
        "    - {name: train, stage: trainin}\n"
    )
    assert main([str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:6:" in err
    assert "did you mean 'training'?" in err
