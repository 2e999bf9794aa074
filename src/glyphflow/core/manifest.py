"""Manifests and fingerprints: what a stage output is, and whether it is still current.

Each stage output folder holds ``_manifest.json`` (this model) and a ``_SUCCESS`` marker
written last. The fingerprint is a hash of what determines the output: stage name,
package version, resolved config and the fingerprints of the inputs. Two runs with the
same fingerprint must produce the same output, which is what lets the pipeline skip a
step whose output is complete and current.

Reading and writing manifests at URLs lives in ``glyphflow.io.outputs``; this module is
the pure part, so core stays below io.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

__all__ = ["MANIFEST_NAME", "SUCCESS_NAME", "Manifest", "OutputFile", "fingerprint"]

MANIFEST_NAME = "_manifest.json"
SUCCESS_NAME = "_SUCCESS"


class OutputFile(BaseModel):
    """One file of an output folder, relative to the folder."""

    path: str
    bytes: int
    sha256: str


class Manifest(BaseModel):
    """Everything needed to trust, explain and repeat a stage output."""

    stage: str
    package_version: str
    config: dict[str, Any]
    config_hash: str
    inputs: dict[str, str] = Field(
        default_factory=dict, description="input name -> fingerprint of that input"
    )
    input_urls: dict[str, str] = Field(default_factory=dict)
    fingerprint: str
    outputs: list[OutputFile] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)
    timings: dict[str, float] = Field(default_factory=dict)
    mlflow_run_id: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"


def fingerprint(
    stage: str,
    package_version: str,
    config: Mapping[str, Any],
    inputs: Mapping[str, str] | None = None,
) -> str:
    """sha256 over stage, version, resolved config and input fingerprints (order-free)."""
    payload = {
        "stage": stage,
        "version": package_version,
        "config": config,
        "inputs": dict(sorted((inputs or {}).items())),
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
