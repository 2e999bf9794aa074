"""Experiment tracking: the one place glyphflow talks to MLflow.

- :mod:`glyphflow.tracking.uri`: which tracking URI and artifact root a run uses;
- :class:`~glyphflow.tracking.runs.TrackingRun`: params, metrics, images, status;
- :mod:`glyphflow.tracking.registry`: log + register a model bundle as a pyfunc model,
  registry aliases (``champion``), load a glyphflow model by any URI;
- :mod:`glyphflow.tracking.pyfunc`: the pyfunc wrapper ``mlflow models serve`` uses.

Importing this package imports no MLflow; the submodules do.
"""

from __future__ import annotations

from glyphflow.tracking.uri import default_workdir, resolve_tracking_uri

__all__ = ["default_workdir", "resolve_tracking_uri"]
