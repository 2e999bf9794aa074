"""Experiment tracking: the one place glyphflow talks to MLflow (and ClearML).

- :mod:`glyphflow.tracking.uri`: which tracking URI and artifact root a run uses;
- :class:`~glyphflow.tracking.runs.TrackingRun`: params, metrics, images, status;
- :mod:`glyphflow.tracking.registry`: log + register a model bundle as a pyfunc model,
  registry aliases (``champion``), load a glyphflow model by any URI;
- :mod:`glyphflow.tracking.pyfunc`: the pyfunc wrapper ``mlflow models serve`` uses;
- :class:`~glyphflow.tracking.clearml.ClearmlRun`: a ClearML task with the same surface
  (settings in :mod:`glyphflow.tracking.settings`, which imports no ClearML);
- :class:`~glyphflow.tracking.fanout.Trackers`: every backend that is on, behind one object.

Importing this package imports no MLflow or ClearML; the submodules do.
"""

from __future__ import annotations

from glyphflow.tracking.uri import default_workdir, resolve_tracking_uri

__all__ = ["default_workdir", "resolve_tracking_uri"]
