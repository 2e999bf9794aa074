"""An MLflow run as an object: params, metrics, artifacts, status, without global state.

glyphflow never uses MLflow's fluent API (it keeps the active run and the tracking URI in
process-wide state); each :class:`TrackingRun` holds its own client and run id, so two
stages in one process (the pipeline runner) or a test suite never step on each other.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from mlflow import MlflowClient
from mlflow.entities import Metric, Param
from mlflow.exceptions import MlflowException

from glyphflow.tracking.uri import artifact_root

__all__ = ["TrackingRun", "flatten_params"]

_log = logging.getLogger(__name__)

_MAX_PARAM_VALUE = 6000
_BATCH = 100


def flatten_params(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested config -> ``{"model.latent_dim": "32", ...}``; lists of mappings by index."""
    out: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            out.update(flatten_params(value, name))
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            for index, item in enumerate(value):
                out.update(flatten_params(item, f"{name}.{index}"))
        else:
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            out[name] = text[:_MAX_PARAM_VALUE]
    return out


class TrackingRun:
    """One MLflow run, started or resumed, with logging helpers."""

    def __init__(self, client: MlflowClient, run_id: str, tracking_uri: str) -> None:
        self.client = client
        self.run_id = run_id
        self.tracking_uri = tracking_uri

    @classmethod
    def start(
        cls,
        tracking_uri: str,
        experiment: str,
        run_name: str | None = None,
        tags: Mapping[str, str] | None = None,
        run_id: str | None = None,
    ) -> TrackingRun:
        """A new run in ``experiment`` (created when missing), or the run ``run_id`` reopened."""
        client = MlflowClient(tracking_uri=tracking_uri)
        if run_id is not None:
            try:
                client.update_run(run_id, status="RUNNING")
                return cls(client, run_id, tracking_uri)
            except MlflowException as err:
                _log.warning("cannot reopen MLflow run %s (%s); starting a new one", run_id, err)
        found = client.get_experiment_by_name(experiment)
        if found is None:
            try:
                experiment_id = client.create_experiment(
                    experiment, artifact_location=artifact_root(tracking_uri)
                )
            except MlflowException:  # created meanwhile by another process
                again = client.get_experiment_by_name(experiment)
                if again is None:
                    raise
                experiment_id = again.experiment_id
        else:
            experiment_id = found.experiment_id
        run = client.create_run(experiment_id, run_name=run_name, tags=dict(tags or {}))
        return cls(client, run.info.run_id, tracking_uri)

    @property
    def artifact_uri(self) -> str:
        uri: str = self.client.get_run(self.run_id).info.artifact_uri
        return uri

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log params; values already logged (a resumed run) are left as they are."""
        existing = self.client.get_run(self.run_id).data.params
        items = [
            Param(k, str(v)[:_MAX_PARAM_VALUE]) for k, v in params.items() if k not in existing
        ]
        for start in range(0, len(items), _BATCH):
            self.client.log_batch(self.run_id, params=items[start : start + _BATCH])

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Log finite numeric metrics at ``step`` (NaN and inf are skipped with a warning)."""
        import time

        now = int(time.time() * 1000)
        items = []
        for key, value in metrics.items():
            number = float(value)
            if not np.isfinite(number):
                _log.warning("metric %s is not finite (%s); not logged", key, number)
                continue
            items.append(Metric(key, number, now, step or 0))
        for start in range(0, len(items), _BATCH):
            self.client.log_batch(self.run_id, metrics=items[start : start + _BATCH])

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        for key, value in tags.items():
            self.client.set_tag(self.run_id, key, str(value))

    def log_text(self, text: str, artifact_file: str) -> None:
        self.client.log_text(self.run_id, text, artifact_file)

    def log_dict(self, data: Mapping[str, Any], artifact_file: str) -> None:
        self.client.log_dict(self.run_id, dict(data), artifact_file)

    def log_image(self, image: np.ndarray, artifact_file: str) -> None:
        """Log a uint8 image array (H, W) or (H, W, 3) as a PNG artifact."""
        from PIL import Image

        with tempfile.TemporaryDirectory(prefix="glyphflow-mlflow-") as tmp:
            path = Path(tmp) / Path(artifact_file).name
            Image.fromarray(np.ascontiguousarray(image)).save(path)
            folder = str(Path(artifact_file).parent)
            self.client.log_artifact(self.run_id, str(path), None if folder == "." else folder)

    def log_file(self, local_path: str, artifact_path: str | None = None) -> None:
        self.client.log_artifact(self.run_id, local_path, artifact_path)

    def end(self, status: str = "FINISHED") -> None:
        """Mark the run FINISHED, FAILED or KILLED (interrupted, may be resumed)."""
        self.client.set_terminated(self.run_id, status=status)
