"""Add to a run that already exists: metrics, tags and files (what evaluation records).

The evaluation's figures belong on the run that trained the model, beside its training
curves, so a reader of that run sees whether it was blessed and why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mlflow import MlflowClient

from glyphflow.tracking.runs import TrackingRun

__all__ = ["attach_to_run"]


def attach_to_run(
    run_id: str,
    tracking_uri: str,
    metrics: Mapping[str, float] | None = None,
    tags: Mapping[str, str] | None = None,
    files: Sequence[str] = (),
    artifact_path: str | None = None,
    step: int | None = None,
) -> None:
    """Log ``metrics`` (at ``step``), set ``tags`` and upload local ``files`` to run ``run_id``."""
    run = TrackingRun(MlflowClient(tracking_uri=tracking_uri), run_id, tracking_uri)
    if metrics:
        run.log_metrics(metrics, step)
    if tags:
        run.set_tags(tags)
    for path in files:
        run.log_file(path, artifact_path)
