"""ClearML as a tracking backend: a real training and evaluation run, read back offline.

ClearML runs in offline mode (no server, no network): each task writes a session folder
(``task.json``, ``metrics.jsonl``, the files under ``data/`` and ``models/``) and zips it
when the task closes, which ``Task.import_offline_session`` would upload later. The test
reads those files, as a server would, and checks what the stages recorded: the resolved
config, the loss curves by step, the image grids as files, the model file with its
framework, the evaluation's figures and verdict, and the link from evaluation to the
training task. MLflow is on in training too: both backends get the same curves.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.integrations import require

clearml = require("clearml", "clearml")
torch = pytest.importorskip("torch")

from glyphflow.core.errors import UsageError  # noqa: E402
from glyphflow.evaluation.config import EvaluationConfig  # noqa: E402
from glyphflow.evaluation.stage import run as evaluate  # noqa: E402
from glyphflow.io.outputs import read_manifest  # noqa: E402
from glyphflow.training import run as train  # noqa: E402
from glyphflow.training.config import TrainingConfig  # noqa: E402
from tests.support.glyphsets import make_glyph_dataset  # noqa: E402

pytestmark = [
    pytest.mark.timeout(600),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # ClearML's bundled pyhocon
]

STYLE = {
    "class": "font_style",
    "channels": [8, 16],
    "hidden_dim": 32,
    "latent_dim": 6,
    "char_embedding_dim": 8,
    "observed_max": 3,
}


@dataclass
class Session:
    """An offline session folder, parsed."""

    folder: Path
    task: dict[str, Any]
    events: list[dict[str, Any]]

    @classmethod
    def read(cls, folder: str) -> Session:
        path = Path(folder)
        events: list[dict[str, Any]] = []
        for line in (path / "metrics.jsonl").read_text().splitlines():
            if line.strip():
                events.extend(json.loads(line))
        return cls(path, json.loads((path / "task.json").read_text()), events)

    def scalars(self, metric: str) -> dict[int, float]:
        return {
            e["iter"]: e["value"]
            for e in self.events
            if e["type"] == "training_stats_scalar" and e["metric"] == metric
        }

    def summary(self) -> dict[str, float]:
        return {
            e["variant"]: e["value"]
            for e in self.events
            if e["type"] == "training_stats_scalar" and e["metric"] == "Summary"
        }

    def images(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] == "training_debug_image"]

    def artifact(self, key: str) -> Path:
        found = [a for a in self.task["execution"]["artifacts"] if a["key"] == key]
        assert found, [a["key"] for a in self.task["execution"]["artifacts"]]
        return Path(found[0]["uri"])

    def property(self, name: str) -> str:
        value: str = self.task["hyperparams"]["properties"][name]["value"]
        return value


@pytest.fixture(scope="module")
def clearml_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """ClearML's cache (where offline sessions go) and config in a temporary folder."""
    home = tmp_path_factory.mktemp("clearml")
    conf = home / "clearml.conf"
    conf.write_text("sdk { development { suppress_update_message: true } }\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CLEARML_CACHE_DIR", str(home / "cache"))
        patch.setenv("CLEARML_CONFIG_FILE", str(conf))
        patch.setenv("CLEARML_NO_DEFAULT_SERVER", "1")
        patch.delenv("CLEARML_API_HOST", raising=False)
        patch.delenv("CLEARML_OFFLINE_MODE", raising=False)
        yield home


@dataclass
class Runs:
    root: Path
    training: str
    evaluation: str
    mlflow_uri: str


@pytest.fixture(scope="module")
def runs(clearml_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("runs")
    glyphs = make_glyph_dataset(
        str(root / "glyphs"), n_fonts=10, charset="ABCDEF", size=16, layout="font"
    ).url
    uri = f"sqlite:///{root}/mlflow.db"
    training = str(root / "style")
    train(
        TrainingConfig.model_validate(
            {
                "glyphs": glyphs,
                "output": training,
                "model": STYLE,
                "epochs": 2,
                "batch_size": 2,
                "threads": 1,
                "log_every_steps": 1,
                "checkpoint_every_steps": None,
                "mlflow": {"tracking_uri": uri, "experiment": "clearml-test"},
                "clearml": {
                    "enabled": True,
                    "offline": True,
                    "project": "glyphflow-tests",
                    "tags": ["ci"],
                },
            }
        )
    )
    evaluation = str(root / "eval")
    evaluate(
        EvaluationConfig.model_validate(
            {
                "glyphs": glyphs,
                "model": training,
                "output": evaluation,
                "k_shots": [1],
                "samples": 4,
                "thresholds": {"absolute": {"reconstruction.l1": {"max": 1.0}}},
                "mlflow": {"tracking_uri": uri},
                "clearml": {"enabled": True, "offline": True, "project": "glyphflow-tests"},
            }
        )
    )
    return Runs(root, training, evaluation, uri)


def _session(output: str) -> Session:
    manifest = read_manifest(output)
    assert manifest is not None
    folder = manifest.extra["clearml_offline_session"]
    assert Path(f"{folder}.zip").is_file()  # what import_offline_session uploads
    session = Session.read(folder)
    assert session.task["id"] == manifest.extra["clearml_task_id"]
    return session


def test_training_records_config_curves_images_and_model(runs: Runs) -> None:
    session = _session(runs.training)
    task = session.task
    assert task["project_name"] == "glyphflow-tests" and task["type"] == "training"
    assert task["name"] == "training: style"
    assert {"glyphflow:training", "font_style", "ci"} <= set(task["tags"])

    # the resolved config: whole, and as flat hyperparameters
    config = task["configuration"]["training"]
    assert config["type"] == "dictionary" and "latent_dim" in config["value"]
    params = task["hyperparams"]["training"]
    assert params["model.latent_dim"]["value"] == "6"
    assert params["clearml.enabled"]["value"] == "true"
    assert session.property("glyphflow.charset") == "ABCDEF"

    # the loss curve at every step, the same numbers MLflow got
    history = json.loads((Path(runs.training) / "metrics.json").read_text())
    steps = history["steps"]
    train_loss = session.scalars("train_loss")
    assert sorted(train_loss) == list(range(1, steps + 1))
    assert all(value == value for value in train_loss.values())  # finite, not NaN
    from mlflow import MlflowClient

    run_id = json.loads((Path(runs.training) / "_manifest.json").read_text())["mlflow_run_id"]
    mlflow_loss = {
        m.step: m.value
        for m in MlflowClient(runs.mlflow_uri).get_metric_history(run_id, "train_loss")
    }
    assert mlflow_loss == pytest.approx(train_loss)
    assert session.scalars("val_loss") and "final_val_loss" in session.summary()

    # the image grids of each epoch, as files in the session
    images = session.images()
    titles = {(e["metric"], e["iter"]) for e in images}
    assert {("samples", 1), ("samples", 2), ("reconstruction", 2)} <= titles
    for event in images:
        assert Path(event["url"]).is_file() and Path(event["url"]).stat().st_size > 100

    # metrics.json and the model bundle, with what it is
    recorded = json.loads(session.artifact("metrics.json").read_text())
    assert recorded["steps"] == steps
    (model,) = task["offline_output_models"]
    assert model["init"]["framework"] == "PyTorch" and model["init"]["name"] == "glyphflow-style"
    assert model["init"]["config_dict"]["charset"] == "ABCDEF"
    weights = Path(model["weights"]["weights_filename"])
    assert weights.is_relative_to(session.folder)
    assert weights.read_bytes() == (Path(runs.training) / "model.pt").read_bytes()
    manifest = read_manifest(runs.training)
    assert manifest is not None and manifest.extra["clearml_model_id"] == model["id"]


def test_evaluation_records_figures_verdict_report_and_the_model_judged(runs: Runs) -> None:
    session = _session(runs.evaluation)
    task = session.task
    assert task["type"] == "testing" and "glyphflow:evaluation" in task["tags"]
    assert "evaluation" in task["configuration"]
    assert task["hyperparams"]["evaluation"]["k_shots"]["value"] == "[1]"

    document = json.loads((Path(runs.evaluation) / "metrics.json").read_text())
    manifest = read_manifest(runs.evaluation)
    assert manifest is not None
    verdict = manifest.extra["verdict"]
    assert verdict in task["tags"]
    assert session.property("glyphflow.evaluation.verdict") == verdict
    summary = session.summary()
    for subset in ("all", "novel"):
        expected = document["metrics"]["model"][subset]["reconstruction.l1"]
        if expected is not None:
            assert summary[f"eval.{subset}.reconstruction.l1"] == pytest.approx(expected)
    assert summary["eval.blessed"] == (1.0 if verdict == "BLESSED" else 0.0)
    assert any(key.startswith("eval.all.baseline.") for key in summary)

    # the report's figures as images, and its files
    titles = {e["metric"] for e in session.images()}
    assert "samples" in titles and any(t.startswith("few_shot k=1") for t in titles)
    assert all(Path(e["url"]).is_file() for e in session.images())
    for name in ("metrics.json", "report.html", verdict):
        local = Path(runs.evaluation) / name
        assert session.artifact(f"evaluation/{name}").read_bytes() == local.read_bytes()

    # the model judged: its URI and the training task that made it
    training = _session(runs.training)
    assert session.property("glyphflow.model.uri") == runs.training
    assert session.property("glyphflow.model.clearml_task_id") == training.task["id"]


def test_enabled_without_clearml_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import sys

    from glyphflow.tracking.clearml import ClearmlRun
    from glyphflow.tracking.settings import ClearmlConfig

    monkeypatch.setitem(sys.modules, "clearml", None)  # import clearml -> ImportError
    with pytest.raises(UsageError, match=r"pip install 'glyphflow\[clearml\]'"):
        ClearmlRun.start(ClearmlConfig(enabled=True), "training", "training: x")
