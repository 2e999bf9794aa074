"""Registered models: log and register a bundle, aliases (``champion``), load by URI.

What the evaluation and serving stages need: log metrics to an existing run, set or read
a registry alias, and turn any model reference (``models:/name@champion``,
``models:/name/3``, ``runs:/RUN/model``, a bundle file or a training output folder on any
fsspec URL) into a glyphflow model.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from glyphflow.core.errors import UsageError
from glyphflow.tracking.runs import TrackingRun

if TYPE_CHECKING:
    from glyphflow.models.base import GlyphModel

__all__ = [
    "CHAMPION",
    "MODEL_ARTIFACT",
    "RegisteredModel",
    "get_alias_version",
    "load_model",
    "log_metrics_to_run",
    "log_model",
    "set_alias",
]

_log = logging.getLogger(__name__)

CHAMPION = "champion"
MODEL_ARTIFACT = "model"


@dataclass(frozen=True)
class RegisteredModel:
    """Where a logged model is: its run URI, and its registry name and version if any."""

    model_uri: str
    name: str | None = None
    version: str | None = None


def log_model(run: TrackingRun, bundle_path: str, registered_name: str | None) -> RegisteredModel:
    """Log the bundle at local ``bundle_path`` as a pyfunc model; register it if named."""
    from glyphflow.tracking.pyfunc import save_pyfunc

    with tempfile.TemporaryDirectory(prefix="glyphflow-model-") as tmp:
        folder = str(Path(tmp) / MODEL_ARTIFACT)
        save_pyfunc(bundle_path, folder)
        run.client.log_artifacts(run.run_id, folder, MODEL_ARTIFACT)
    model_uri = f"runs:/{run.run_id}/{MODEL_ARTIFACT}"
    if not registered_name:
        return RegisteredModel(model_uri)
    client = run.client
    try:
        client.get_registered_model(registered_name)
    except MlflowException:
        with contextlib.suppress(MlflowException):  # created meanwhile is fine
            client.create_registered_model(registered_name)
    source = f"{run.artifact_uri.rstrip('/')}/{MODEL_ARTIFACT}"
    version = client.create_model_version(registered_name, source=source, run_id=run.run_id)
    return RegisteredModel(model_uri, registered_name, str(version.version))


def log_metrics_to_run(
    run_id: str,
    metrics: Mapping[str, float],
    step: int | None = None,
    tracking_uri: str | None = None,
) -> None:
    """Add metrics to an existing run (e.g. evaluation figures on the training run)."""
    client = MlflowClient(tracking_uri=tracking_uri)
    TrackingRun(client, run_id, tracking_uri or "").log_metrics(metrics, step)


def set_alias(
    name: str, version: str | int, alias: str = CHAMPION, tracking_uri: str | None = None
) -> None:
    """Point ``alias`` of registered model ``name`` at ``version`` (the old holder keeps its version)."""
    client = MlflowClient(tracking_uri=tracking_uri)
    client.set_registered_model_alias(name, alias, str(version))


def get_alias_version(
    name: str, alias: str = CHAMPION, tracking_uri: str | None = None
) -> str | None:
    """The version ``alias`` points at, or None (no such model or alias)."""
    try:
        client = MlflowClient(tracking_uri=tracking_uri)
        found = client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None
    return str(found.version)


def _is_mlflow_uri(uri: str) -> bool:
    return uri.startswith(("models:/", "runs:/", "mlflow-artifacts:/"))


def _artifact_source(uri: str, tracking_uri: str | None) -> str:
    """Resolve ``models:/NAME@ALIAS`` and ``models:/NAME/VERSION`` against this registry.

    (MLflow's own download resolves them against its process-wide registry URI.)
    """
    if not uri.startswith("models:/"):
        return uri
    reference = uri[len("models:/") :].strip("/")
    client = MlflowClient(tracking_uri=tracking_uri)
    if "@" in reference:
        name, alias = reference.split("@", 1)
        version = str(client.get_model_version_by_alias(name, alias).version)
    elif "/" in reference:
        name, version = reference.rsplit("/", 1)
    else:
        raise UsageError(f"model URI {uri!r}: expected models:/NAME/VERSION or models:/NAME@ALIAS")
    source: str = client.get_model_version_download_uri(name, version)
    return source


def load_model(uri: str, tracking_uri: str | None = None, map_location: Any = "cpu") -> GlyphModel:
    """A glyphflow model from a registry/run URI, a bundle file or a training output folder."""
    from glyphflow.models import load

    if not _is_mlflow_uri(uri):
        return load(uri, map_location)
    import mlflow.artifacts

    with tempfile.TemporaryDirectory(prefix="glyphflow-load-") as tmp:
        try:
            source = _artifact_source(uri, tracking_uri)
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=source, dst_path=tmp, tracking_uri=tracking_uri
            )
        except MlflowException as err:
            raise UsageError(f"cannot load model {uri}: {err.message}") from None
        bundles = sorted(Path(local).rglob("model.pt"))
        if not bundles:
            raise UsageError(f"{uri} holds no glyphflow bundle (artifacts/model.pt)")
        return load(str(bundles[0]), map_location)
