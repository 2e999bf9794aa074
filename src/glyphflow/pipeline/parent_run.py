"""The pipeline's own MLflow run, which the runs of its steps hang under.

The runner talks to MLflow only through the small :class:`RunTracker` interface here;
:class:`MlflowTracker` imports mlflow lazily, and :class:`NullTracker` stands in when the
pipeline's ``mlflow.enabled`` is false (the default) so nothing needs mlflow installed.

The contract with the stages is a set of environment variables, set while a parent run
is open (stages may not import the pipeline package, and an environment variable also
reaches a stage started by ``torchrun`` or a Beam worker):

``GLYPHFLOW_PARENT_RUN_ID``
    the run a stage's own MLflow run should name as its parent
    (tag ``mlflow.parentRunId``, or ``mlflow.start_run(parent_run_id=...)``);
``MLFLOW_TRACKING_URI`` / ``MLFLOW_EXPERIMENT_NAME``
    the store and experiment of the parent run, so the children land beside it.

A stage that ignores the variable still gets linked: after a step runs, the runner sets
the parent tag on the run its manifest names (``mlflow_run_id``) when it has none.
The runner uses ``MlflowClient`` only, never the fluent ``mlflow.start_run`` stack, so a
stage can use the fluent API freely inside.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from glyphflow.core.errors import MissingDependencyError, UsageError
from glyphflow.io import storage
from glyphflow.pipeline.spec import MlflowSettings

__all__ = [
    "PARENT_RUN_ENV",
    "MlflowTracker",
    "NullTracker",
    "RunTracker",
    "make_tracker",
    "open_parent_run",
    "scoped_environment",
]

PARENT_RUN_ENV = "GLYPHFLOW_PARENT_RUN_ID"
PARENT_TAG = "mlflow.parentRunId"

_log = logging.getLogger(__name__)


class RunTracker(Protocol):
    """What the runner needs from an experiment tracker."""

    def open_run(
        self,
        name: str,
        parent_run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> str | None: ...

    def close_run(self, run_id: str | None, status: str) -> None: ...

    def link(self, child_run_id: str | None, parent_run_id: str | None) -> bool: ...

    def set_tags(self, run_id: str | None, tags: Mapping[str, str]) -> None: ...

    def log_metrics(self, run_id: str | None, metrics: Mapping[str, float]) -> None: ...

    def log_text(self, run_id: str | None, text: str, artifact_file: str) -> None: ...

    def environment(self) -> dict[str, str]: ...


class NullTracker:
    """Tracking switched off: every call does nothing, runs have no id."""

    def open_run(
        self,
        name: str,
        parent_run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> str | None:
        return None

    def close_run(self, run_id: str | None, status: str) -> None:
        return None

    def link(self, child_run_id: str | None, parent_run_id: str | None) -> bool:
        return False

    def set_tags(self, run_id: str | None, tags: Mapping[str, str]) -> None:
        return None

    def log_metrics(self, run_id: str | None, metrics: Mapping[str, float]) -> None:
        return None

    def log_text(self, run_id: str | None, text: str, artifact_file: str) -> None:
        return None

    def environment(self) -> dict[str, str]:
        return {}


class MlflowTracker:
    """Parent and point runs in an MLflow tracking store, through ``MlflowClient``."""

    def __init__(
        self, tracking_uri: str, experiment: str, artifact_location: str | None = None
    ) -> None:
        try:
            from mlflow import MlflowClient
        except ImportError:
            raise MissingDependencyError(
                "the pipeline's MLflow parent run (pipeline.mlflow.enabled)", "train", "mlflow"
            ) from None
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self._client = MlflowClient(tracking_uri=tracking_uri)
        found = self._client.get_experiment_by_name(experiment)
        if found is None:
            self.experiment_id = self._client.create_experiment(
                experiment, artifact_location=artifact_location
            )
        else:
            self.experiment_id = found.experiment_id

    @property
    def client(self) -> Any:
        return self._client

    def open_run(
        self,
        name: str,
        parent_run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> str | None:
        all_tags = dict(tags or {})
        if parent_run_id:
            all_tags[PARENT_TAG] = parent_run_id
        run = self._client.create_run(self.experiment_id, run_name=name, tags=all_tags)
        run_id: str = run.info.run_id
        for key, value in (params or {}).items():
            if str(value):
                self._client.log_param(run_id, key, _param(value))
        return run_id

    def close_run(self, run_id: str | None, status: str) -> None:
        if run_id:
            self._client.set_terminated(run_id, status)

    def link(self, child_run_id: str | None, parent_run_id: str | None) -> bool:
        """Make ``child_run_id`` a child of ``parent_run_id`` unless it has a parent already."""
        if not child_run_id or not parent_run_id or child_run_id == parent_run_id:
            return False
        try:
            run = self._client.get_run(child_run_id)
        except Exception as err:  # a run in another store: say so, do not fail the step
            _log.warning(
                "cannot link MLflow run %s to the pipeline run (%s); was it logged to "
                "another tracking URI than %s?",
                child_run_id,
                err,
                self.tracking_uri,
            )
            return False
        if run.data.tags.get(PARENT_TAG):
            return run.data.tags[PARENT_TAG] == parent_run_id
        self._client.set_tag(child_run_id, PARENT_TAG, parent_run_id)
        return True

    def set_tags(self, run_id: str | None, tags: Mapping[str, str]) -> None:
        if run_id:
            for key, value in tags.items():
                self._client.set_tag(run_id, key, _param(value))

    def log_metrics(self, run_id: str | None, metrics: Mapping[str, float]) -> None:
        if run_id:
            for key, value in metrics.items():
                self._client.log_metric(run_id, _metric_key(key), float(value))

    def log_text(self, run_id: str | None, text: str, artifact_file: str) -> None:
        if run_id:
            self._client.log_text(run_id, text, artifact_file)

    def environment(self) -> dict[str, str]:
        return {"MLFLOW_TRACKING_URI": self.tracking_uri, "MLFLOW_EXPERIMENT_NAME": self.experiment}


def _param(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 500 else text[:497] + "..."


def _metric_key(key: str) -> str:
    """MLflow metric names allow letters, digits, ``_ - . / `` and spaces."""
    return "".join(ch if ch.isalnum() or ch in "_-./ " else "_" for ch in key)


def make_tracker(settings: MlflowSettings, workdir: str) -> RunTracker:
    """The tracker a pipeline's settings ask for; a local SQLite store by default."""
    if not settings.enabled:
        return NullTracker()
    uri = settings.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
    artifacts = None
    if not uri:
        if not storage.is_local(workdir):
            raise UsageError(
                f"pipeline.mlflow.tracking_uri is needed when workdir is not local "
                f"({workdir}); set it, or MLFLOW_TRACKING_URI"
            )
        root = Path(storage.strip_protocol(workdir)).resolve()
        root.mkdir(parents=True, exist_ok=True)
        uri = f"sqlite:///{root / 'mlflow.db'}"
        artifacts = (root / "mlartifacts").as_uri()
    elif uri.startswith("sqlite:///"):
        # MLflow would put a new experiment's artifacts in ./mlruns of whatever folder the
        # command ran in; keep them beside the database instead.
        artifacts = (Path(uri[len("sqlite:///") :]).resolve().parent / "mlartifacts").as_uri()
    return MlflowTracker(uri, settings.experiment, artifacts)


@contextmanager
def scoped_environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the block; restore the previous values after."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


@contextmanager
def open_parent_run(
    tracker: RunTracker,
    name: str,
    parent_run_id: str | None = None,
    tags: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
) -> Iterator[str | None]:
    """Open a run, expose it to stages through the environment, close it with a status."""
    run_id = tracker.open_run(name, parent_run_id, tags, params)
    env = dict(tracker.environment())
    if run_id:
        env[PARENT_RUN_ENV] = run_id
    status = "FAILED"
    try:
        with scoped_environment(env):
            yield run_id
        status = "FINISHED"
    except KeyboardInterrupt:
        status = "KILLED"
        raise
    finally:
        tracker.close_run(run_id, status)
