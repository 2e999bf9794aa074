"""Lineage: what each step of a pipeline produced, from what, and where it was logged.

After every step the runner rewrites ``<workdir>/_pipeline.json`` (a
:class:`PipelineRecord`: step order, stages, output URLs, which step fed which, the
status and reason of the last run, fingerprints, MLflow run ids). ``glyphflow lineage
WORKDIR`` joins that record with each output's own ``_manifest.json`` (counts, timings,
the model version a training step registered) into one table. Without a record it
falls back to the manifests of the folders directly under the workdir.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from glyphflow.core.errors import UsageError
from glyphflow.core.manifest import MANIFEST_NAME
from glyphflow.io import storage
from glyphflow.io.outputs import read_manifest
from glyphflow.pipeline.cache import inspect_output

__all__ = [
    "RECORD_NAME",
    "LineageRow",
    "PipelineRecord",
    "StepRecord",
    "lineage_rows",
    "lineage_table",
    "model_version",
    "read_record",
    "write_record",
]

RECORD_NAME = "_pipeline.json"


class StepRecord(BaseModel):
    """One step as the last run left it."""

    name: str
    stage: str
    output: str
    upstream: dict[str, str] = Field(default_factory=dict)
    status: str  # ran, skipped, failed, not selected, not run, pending
    reasons: list[str] = Field(default_factory=list)
    fingerprint: str | None = None
    seconds: float | None = None
    mlflow_run_id: str | None = None
    error: str | None = None


class PipelineRecord(BaseModel):
    """``<workdir>/_pipeline.json``: the steps of the last run, in order."""

    version: int = 1
    pipeline: str
    workdir: str
    overrides: list[str] = Field(default_factory=list)
    mlflow_run_id: str | None = None
    started_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())
    updated_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())
    status: str = "running"  # running, done, failed, interrupted
    steps: list[StepRecord] = Field(default_factory=list)


def write_record(record: PipelineRecord, name: str = RECORD_NAME) -> str:
    """Atomically (re)write the record in its workdir; returns its URL."""
    record.updated_at = datetime.now(UTC).isoformat()
    url = storage.join(record.workdir, name)
    storage.write_text(url, json.dumps(record.model_dump(mode="json"), indent=2) + "\n")
    return url


def read_record(url: str) -> PipelineRecord | None:
    """The record at ``url`` (a workdir, or the JSON file itself), or None if absent."""
    path = url if url.endswith(".json") else storage.join(url, RECORD_NAME)
    if not storage.exists(path):
        return None
    try:
        return PipelineRecord.model_validate_json(storage.read_text(path))
    except (ValidationError, ValueError) as err:
        raise UsageError(f"{path} is not a pipeline record: {err}") from None


def model_version(extra: dict[str, Any]) -> str | None:
    """The registered model version a step's manifest names, if any."""
    for key in ("registered_model_version", "model_version"):
        if extra.get(key) is not None:
            name = extra.get("registered_model_name") or extra.get("model_name")
            return f"{name} v{extra[key]}" if name else str(extra[key])
    return None


@dataclass(frozen=True)
class LineageRow:
    """One line of the lineage table."""

    step: str
    stage: str
    status: str
    inputs: str
    fingerprint: str
    counts: str
    seconds: str
    mlflow_run_id: str
    model_version: str
    output: str


def lineage_rows(workdir: str) -> list[LineageRow]:
    """The steps of the pipeline in ``workdir`` (or a record file) with their outputs' facts."""
    record = read_record(workdir)
    if record is not None:
        steps = [
            (s.name, s.stage, s.status, s.output, s.upstream, s.mlflow_run_id) for s in record.steps
        ]
    else:
        steps = _scan(workdir)
        if not steps:
            raise UsageError(
                f"{workdir}: no {RECORD_NAME} and no stage outputs here; "
                "give the workdir of a pipeline (see its pipeline.workdir)"
            )
    rows: list[LineageRow] = []
    for name, stage, status, output, upstream, run_id in steps:
        state = inspect_output(output)
        manifest = state.manifest if state.complete else None
        shown_status = status
        if not state.complete and status in ("ran", "skipped", "-"):
            gone = state.problem in (None, "no output yet")
            shown_status = f"{status}; output {'missing' if gone else 'incomplete'} now"
        inputs = ", ".join(f"{f}<-{s}" for f, s in upstream.items())
        if manifest is None:
            rows.append(
                LineageRow(
                    name, stage, shown_status, inputs, "-", "-", "-", run_id or "-", "-", output
                )
            )
            continue
        counts = ", ".join(f"{k}={v}" for k, v in sorted(manifest.counts.items()))
        seconds = manifest.timings.get("total_s")
        rows.append(
            LineageRow(
                step=name,
                stage=stage,
                status=shown_status,
                inputs=inputs,
                fingerprint=manifest.fingerprint[:12],
                counts=counts or "-",
                seconds=f"{seconds:.2f}" if seconds is not None else "-",
                mlflow_run_id=manifest.mlflow_run_id or run_id or "-",
                model_version=model_version(manifest.extra) or "-",
                output=output,
            )
        )
    return rows


def _scan(
    workdir: str,
) -> list[tuple[str, str, str, str, dict[str, str], str | None]]:
    found = []
    for url in storage.listdir(workdir):
        if not storage.exists(storage.join(url, MANIFEST_NAME)):
            continue
        manifest = read_manifest(url)
        if manifest is None:
            continue
        found.append((manifest.created_at, url, manifest))
    found.sort(key=lambda item: item[0])
    return [
        (url.rstrip("/").rsplit("/", 1)[-1], m.stage, "-", url, {}, m.mlflow_run_id)
        for _, url, m in found
    ]


def lineage_table(rows: list[LineageRow], title: str | None = None) -> Any:
    """A rich table of the rows (rich is imported here only)."""
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for column in (
        "step",
        "stage",
        "status",
        "inputs",
        "fingerprint",
        "counts",
        "seconds",
        "mlflow run",
        "model version",
    ):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            row.step,
            row.stage,
            row.status,
            row.inputs or "-",
            row.fingerprint,
            row.counts,
            row.seconds,
            row.mlflow_run_id,
            row.model_version,
        )
    return table
