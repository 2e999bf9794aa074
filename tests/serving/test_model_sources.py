"""Where the served model comes from: the registry alias (the default), a run, a path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mlflow", reason="glyphflow[train] is needed for registry models")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def registry(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A real SQLite MLflow store holding the bundle as glyphflow-style version 1,
    aliased champion, as training + evaluation leave it."""
    from glyphflow.tracking.registry import log_model, set_alias
    from glyphflow.tracking.runs import TrackingRun

    folder = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    run = TrackingRun.start(uri, "glyphflow-serving-test", run_name="style")
    logged = log_model(run, str(bundle), "glyphflow-style")
    run.end()
    assert logged.version is not None
    set_alias("glyphflow-style", logged.version, "champion", uri)
    return {"tracking_uri": uri, "run_uri": logged.model_uri}


def _model_id(config: Any) -> str:
    from fastapi.testclient import TestClient

    from glyphflow.serving.app import create_app

    with TestClient(create_app(config)) as client:
        return str(client.get("/health").json()["model"])


def test_default_serves_the_champion_alias(registry: dict[str, str], bundle: Path) -> None:
    from glyphflow.serving.config import ServingConfig

    from_path = _model_id(ServingConfig(model=str(bundle)))
    from_alias = _model_id(ServingConfig(tracking_uri=registry["tracking_uri"]))
    from_run = _model_id(
        ServingConfig(model=registry["run_uri"], tracking_uri=registry["tracking_uri"])
    )
    assert from_path == from_alias == from_run  # the same weights, however named


def test_a_missing_alias_says_how_to_get_one(registry: dict[str, str]) -> None:
    from glyphflow.core.errors import UsageError
    from glyphflow.serving.app import create_app
    from glyphflow.serving.config import ServingConfig

    config = ServingConfig(
        model="models:/glyphflow-style@nope", tracking_uri=registry["tracking_uri"]
    )
    with pytest.raises(UsageError, match="glyphflow evaluate"):
        create_app(config)
