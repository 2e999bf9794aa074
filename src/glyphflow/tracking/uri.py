"""Where runs are recorded: the tracking URI and the artifact root, decided in one place.

Order: the config's ``mlflow.tracking_uri``, else ``MLFLOW_TRACKING_URI``, else a SQLite
file ``mlflow.db`` in the workdir (the folder holding the stage's output) with artifacts
in ``mlartifacts/`` beside it, so ``mlflow ui --backend-store-uri sqlite:///WORKDIR/mlflow.db``
shows everything a local run made. Outputs on object storage have no local workdir; their
runs go to ``~/.local/share/glyphflow`` unless a tracking URI is given.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from glyphflow.io import storage

__all__ = ["ARTIFACTS_NAME", "DB_NAME", "artifact_root", "default_workdir", "resolve_tracking_uri"]

DB_NAME = "mlflow.db"
ARTIFACTS_NAME = "mlartifacts"


def default_workdir(output_url: str) -> str:
    """The folder holding ``output_url`` when local, else a per-user data folder."""
    if storage.is_local(output_url):
        return str(Path(storage.strip_protocol(output_url)).resolve().parent)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "glyphflow")


def resolve_tracking_uri(configured: str | None, workdir: str) -> str:
    """The tracking URI to use (config > environment > SQLite file in ``workdir``)."""
    if configured:
        return configured
    from_env = os.environ.get("MLFLOW_TRACKING_URI")
    if from_env:
        return from_env
    Path(workdir).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(workdir).resolve() / DB_NAME}"


def artifact_root(tracking_uri: str) -> str | None:
    """Artifact location for new experiments: beside a SQLite or file store, else the server's."""
    if tracking_uri.startswith("sqlite:///"):
        db_path = tracking_uri[len("sqlite:///") :]
        return posixpath.join(posixpath.dirname(db_path), ARTIFACTS_NAME)
    if tracking_uri.startswith("file:") or "://" not in tracking_uri:
        return None  # a file store keeps artifacts in its own folder
    return None
