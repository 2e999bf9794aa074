"""The pipeline's MLflow parent run and sweep runs, in a real SQLite tracking store."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from glyphflow.cli import main
from glyphflow.pipeline.lineage import lineage_rows
from glyphflow.pipeline.parent_run import PARENT_RUN_ENV
from glyphflow.pipeline.runner import run_pipeline
from glyphflow.pipeline.spec import load_pipeline
from glyphflow.pipeline.sweep import run_sweep
from tests.pipeline import demo_stages

pytestmark = [
    pytest.mark.slow,
    # MLflow's SQLAlchemy store uses a loader strategy SQLAlchemy 2 deprecates.
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy"),
]

mlflow = pytest.importorskip("mlflow", reason="glyphflow[train] brings mlflow")


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite store for the module (creating one takes seconds); experiments per test."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


def _pipeline(tmp_path: Path, tracking_uri: str | None, experiment: str) -> Path:
    uri = f"tracking_uri: {tracking_uri}, " if tracking_uri else ""
    path = tmp_path / "pipeline.yaml"
    path.write_text(
        demo_stages.PIPELINE.format(workdir=tmp_path / "work").replace(
            "  steps:",
            f"  mlflow: {{enabled: true, {uri}experiment: {experiment}}}\n  steps:",
        )
        + "      config: {track: true}\n"
    )
    return path


def _runs(client: Any, experiment: str, parent: str) -> list[Any]:
    exp = client.get_experiment_by_name(experiment)
    return list(client.search_runs([exp.experiment_id], f"tags.`mlflow.parentRunId` = '{parent}'"))


def test_the_parent_run_links_the_steps_runs(tmp_path: Path, tracking_uri: str) -> None:
    experiment = f"e-{uuid.uuid4().hex[:8]}"
    path = _pipeline(tmp_path, tracking_uri, experiment)
    result = run_pipeline(load_pipeline(str(path)))
    parent = result.mlflow_run_id
    assert parent is not None
    # The stage saw the parent run through the environment, and it is gone afterwards.
    assert demo_stages.ENVIRONMENT["parent"] == parent
    assert PARENT_RUN_ENV not in os.environ
    client = mlflow.MlflowClient(tracking_uri)
    run = client.get_run(parent)
    assert run.info.status == "FINISHED"
    assert run.data.tags["glyphflow.step.total.status"] == "ran"
    assert run.data.params["steps"] == "numbers,double,total"
    children = _runs(client, experiment, parent)
    step_run = result.step("total").manifest.mlflow_run_id  # type: ignore[union-attr]
    assert [c.info.run_id for c in children] == [step_run]  # linked by the runner
    artifacts = [a.path for a in client.list_artifacts(parent)]
    assert "_pipeline.json" in artifacts
    # Artifacts live beside the SQLite file, not in ./mlruns of the current folder.
    db = Path(tracking_uri[len("sqlite:///") :])
    location = client.get_experiment_by_name(experiment).artifact_location
    assert location == (db.parent / "mlartifacts").as_uri()

    rows = {row.step: row for row in lineage_rows(str(tmp_path / "work"))}
    assert rows["total"].mlflow_run_id == step_run
    assert rows["total"].model_version == "demo-model v7"

    again = run_pipeline(load_pipeline(str(path)))
    assert again.by_status("skipped") == ["numbers", "double", "total"]
    tags = client.get_run(again.mlflow_run_id).data.tags
    assert tags["glyphflow.step.total.status"] == "skipped"
    assert tags["glyphflow.step.total.run_id"] == step_run


def test_a_failed_pipeline_run_is_marked_failed(tmp_path: Path, tracking_uri: str) -> None:
    experiment = f"e-{uuid.uuid4().hex[:8]}"
    path = _pipeline(tmp_path, tracking_uri, experiment)
    with pytest.raises(Exception, match="told to fail"):
        run_pipeline(load_pipeline(str(path), ["double.fail=true"]))
    client = mlflow.MlflowClient(tracking_uri)
    exp = client.get_experiment_by_name(experiment)
    (run,) = client.search_runs([exp.experiment_id])
    assert run.info.status == "FAILED"
    assert run.data.tags["glyphflow.step.double.status"] == "failed"
    assert run.data.tags["glyphflow.step.total.status"] == "not run"


def test_a_sweep_of_two_points_makes_two_child_runs_and_a_table(
    tmp_path: Path,
    tracking_uri: str,
    capsys: pytest.CaptureFixture[str],
    demo_catalogue: list[str],
) -> None:
    experiment = f"e-{uuid.uuid4().hex[:8]}"
    path = _pipeline(tmp_path, tracking_uri, experiment)
    result = run_sweep(str(path), [], ["demo_double.factor=1,3"])
    assert [p.status for p in result.points] == ["done", "done"]
    # numbers is shared by both points; double and total run once per point.
    assert demo_catalogue.count("demo_numbers") == 1
    assert demo_catalogue.count("demo_double") == 2
    assert [p.metrics["total"] for p in result.points] == [6.0, 18.0]
    work = tmp_path / "work"
    for point in result.points:
        assert point.changed == ["double"]
        assert point.own == ["double", "total"]
        assert point.pipeline.step("numbers").output == str(work / "numbers")
        assert point.pipeline.step("total").output == str(work / f"total@{point.id}")
        assert (work / f"_pipeline@{point.id}.json").exists()

    client = mlflow.MlflowClient(tracking_uri)
    children = _runs(client, experiment, result.mlflow_run_id)  # type: ignore[arg-type]
    assert len(children) == 2
    by_factor = {c.data.params["grid.demo_double.factor"]: c for c in children}
    assert sorted(by_factor) == ["1", "3"]
    assert by_factor["3"].data.metrics["total"] == 18.0
    # Each point's own run is the parent of that point's step runs.
    for child in children:
        assert len(_runs(client, experiment, child.info.run_id)) == 1
    sweep_record = json.loads((work / "_sweep.json").read_text())
    assert [p["metrics"]["total"] for p in sweep_record["points"]] == [6.0, 18.0]

    # Run again through the CLI: everything is cached, and the table is printed.
    demo_catalogue.clear()
    with pytest.raises(SystemExit) as stopped:
        main(["sweep", str(path), "--grid", "demo_double.factor=1,3"])
    out = capsys.readouterr().out
    assert stopped.value.code == 0
    assert demo_catalogue == []
    header = next(line for line in out.splitlines() if "demo_double.factor" in line and "┃" in line)
    assert [c.strip() for c in header.split("┃")[1:-1]] == [
        "point",
        "demo_double.factor",
        "status",
        "detail.max",
        "mean",
        "total",
    ]
    assert "MLflow sweep run:" in out


def test_without_a_tracking_uri_the_store_is_sqlite_in_the_workdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    path = _pipeline(tmp_path, None, "local")
    result = run_pipeline(load_pipeline(str(path)), reporter=None)
    db = tmp_path / "work" / "mlflow.db"
    assert db.exists()
    client = mlflow.MlflowClient(f"sqlite:///{db}")
    assert client.get_run(result.mlflow_run_id).info.status == "FINISHED"
    exp = client.get_experiment_by_name("local")
    assert exp.artifact_location == (tmp_path / "work" / "mlartifacts").as_uri()
