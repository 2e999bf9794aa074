"""Which registered model version a model reference is, and which run made it.

The evaluation logs its figures to the run that trained the model and moves the
``champion`` alias of its registered model, so from any reference (``models:/NAME@ALIAS``,
``models:/NAME/VERSION``, ``runs:/RUN/model``, or a bundle whose ``mlflow_run_id`` is
known) it needs the name, the version and the run id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

__all__ = ["ModelIdentity", "describe_model"]

_ALIAS = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[^/]+)/?$")
_VERSION = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>\d+)/?$")
_RUN = re.compile(r"^runs:/(?P<run>[^/]+)(/.*)?$")


@dataclass(frozen=True)
class ModelIdentity:
    """A model's registry name and version and its training run (None where unknown)."""

    name: str | None = None
    version: str | None = None
    run_id: str | None = None

    @property
    def label(self) -> str:
        if self.name and self.version:
            return f"{self.name} v{self.version}"
        if self.run_id:
            return f"run {self.run_id}"
        return "unregistered model"


def describe_model(
    uri: str,
    tracking_uri: str | None = None,
    run_id: str | None = None,
    registered_name: str | None = None,
) -> ModelIdentity:
    """Name, version and run of the model at ``uri``.

    ``run_id`` is the training run when known otherwise (a bundle records it); a run's
    registered version is looked up, preferring ``registered_name`` when the run has
    versions under several names. Lookups that fail leave the fields None.
    """
    client = MlflowClient(tracking_uri=tracking_uri)
    match = _ALIAS.match(uri)
    if match:
        try:
            found = client.get_model_version_by_alias(match["name"], match["alias"])
        except MlflowException:
            return ModelIdentity(match["name"], None, run_id)
        return ModelIdentity(match["name"], str(found.version), found.run_id or run_id)
    match = _VERSION.match(uri)
    if match:
        try:
            found = client.get_model_version(match["name"], match["version"])
        except MlflowException:
            return ModelIdentity(match["name"], match["version"], run_id)
        return ModelIdentity(match["name"], str(found.version), found.run_id or run_id)
    match = _RUN.match(uri)
    if match:
        run_id = match["run"]
    if run_id is None:
        return ModelIdentity()
    try:
        versions = list(client.search_model_versions(f"run_id='{run_id}'"))
    except MlflowException:
        versions = []
    if registered_name is not None:
        versions = [v for v in versions if v.name == registered_name]
    if not versions:
        return ModelIdentity(registered_name, None, run_id)
    latest = max(versions, key=lambda v: int(v.version))
    return ModelIdentity(latest.name, str(latest.version), run_id)
