"""Adapters that run glyphflow inside MLOps frameworks users already have.

Each module is a thin layer over glyphflow's public stage and serving API, imports its
framework only when used, and is installed with its extra:

- :mod:`glyphflow.integrations.zenml`: a ZenML pipeline built from ``pipeline.yaml``
  (``glyphflow[zenml]``);
- :mod:`glyphflow.integrations.mlserver`: a Seldon MLServer runtime answering the V2
  inference protocol (``glyphflow[mlserver]``);
- :mod:`glyphflow.integrations.bentoml`: a BentoML service packaging a registered model
  (``glyphflow[bentoml]``).

ClearML is a tracking backend, so it lives with MLflow in :mod:`glyphflow.tracking`.
"""

from __future__ import annotations

__all__: list[str] = []
