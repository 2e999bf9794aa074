"""A ClearML task as a tracking run: config, metrics, images, files, the model, status.

The second tracking backend beside MLflow (:mod:`glyphflow.tracking.runs`), with the
same small surface the training and evaluation stages use, so a stage sends the same
records to every backend that is on. This is the only module that imports ClearML.

The task is opened with ClearML's automatic capture off (frameworks, argparse, console,
resource monitoring): glyphflow records what it means to record, explicitly, the same way
whether the stage runs alone, inside the pipeline runner or inside a user's script. When
the process already has a ClearML task (a script that called ``Task.init`` and then runs
a stage), the stage records into that task and leaves it open for its owner.

Offline (``clearml.offline`` or ``CLEARML_OFFLINE_MODE=1``) everything goes into a local
session folder, zipped when the task closes; ``Task.import_offline_session(zip)`` uploads
it to a server later.
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from glyphflow.core.errors import UsageError
from glyphflow.tracking.settings import ClearmlConfig

__all__ = ["INSTALL_HINT", "ClearmlRun"]

_log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'glyphflow[clearml]'"

# ClearML's automatic hooks into other libraries: all off (glyphflow records explicitly).
_FRAMEWORKS = [
    "catboost",
    "fastai",
    "gradio",
    "hydra",
    "joblib",
    "lightgbm",
    "matplotlib",
    "megengine",
    "pytorch",
    "scikit",
    "tensorboard",
    "tensorflow",
    "tfdefines",
    "xgboost",
]


def _import_task(section: str) -> Any:
    try:
        from clearml import Task
    except ImportError:
        raise UsageError(
            f"{section}.clearml.enabled is true but ClearML is not installed; "
            f"install it with: {INSTALL_HINT} (or set {section}.clearml.enabled: false)"
        ) from None
    return Task


class ClearmlRun:
    """One ClearML task, opened by a stage (or borrowed from the caller), with helpers."""

    def __init__(self, task: Any, owned: bool = True) -> None:
        self.task = task
        self.owned = owned  # closed by :meth:`end`; a borrowed task is left to its owner
        self.logger = task.get_logger()

    @classmethod
    def start(
        cls,
        settings: ClearmlConfig,
        section: str,
        default_name: str,
        tags: Sequence[str] = (),
    ) -> ClearmlRun:
        """Open a task for stage ``section`` (``training`` or ``evaluation``)."""
        task_class = _import_task(section)
        current = task_class.current_task()
        all_tags = list(dict.fromkeys([f"glyphflow:{section}", *tags, *settings.tags]))
        if current is not None:
            _log.info("ClearML: recording into the current task %s", current.id)
            current.add_tags(all_tags)
            return cls(current, owned=False)
        if settings.offline:
            # Process-wide in ClearML, and it stays on: going back online re-opens every
            # session against a server, which fails where none is configured.
            task_class.set_offline(offline_mode=True)
        task_type = (
            task_class.TaskTypes.training if section == "training" else task_class.TaskTypes.testing
        )
        task = task_class.init(
            project_name=settings.project,
            task_name=settings.task_name or default_name,
            task_type=task_type,
            tags=all_tags,
            reuse_last_task_id=False,
            continue_last_task=False,
            output_uri=settings.output_uri,
            auto_connect_arg_parser=False,
            auto_connect_frameworks={
                **dict.fromkeys(_FRAMEWORKS, False),
                "detect_repository": settings.detect_repository,
            },
            auto_resource_monitoring=False,
            auto_connect_streams=False,
        )
        run = cls(task)
        where = run.offline_folder
        _log.info(
            "ClearML task %s (%s)", task.id, f"offline session {where}" if where else "online"
        )
        return run

    @property
    def task_id(self) -> str:
        return str(self.task.id)

    @property
    def offline_folder(self) -> str | None:
        """The offline session folder (zipped to ``<folder>.zip`` on close); None online."""
        if not self.task.is_offline():
            return None
        return str(self.task.get_offline_mode_folder())

    def log_config(self, data: Mapping[str, Any], name: str) -> None:
        """The resolved config, whole (``Configuration > name``) and as flat hyperparameters."""
        from glyphflow.tracking.runs import flatten_params

        self.task.connect_configuration(json.loads(json.dumps(data, default=str)), name=name)
        self.task.set_parameters(
            {f"{name}/{key}": value for key, value in flatten_params(data).items()}
        )

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Each metric a scalar plot of its own (title and series: its name) at ``step``."""
        for key, value in metrics.items():
            number = float(value)
            if not math.isfinite(number):
                _log.warning("metric %s is not finite (%s); not logged", key, number)
                continue
            self.logger.report_scalar(key, key, number, iteration=step or 0)

    def log_summary(self, metrics: Mapping[str, float]) -> None:
        """Single values (the run's final or evaluated figures), in the task's summary table."""
        for key, value in metrics.items():
            number = float(value)
            if math.isfinite(number):
                self.logger.report_single_value(key, number)

    def log_image(self, image: Any, title: str, series: str, step: int = 0) -> None:
        """A uint8 image array (H, W) or (H, W, 3), or a PIL image, as a debug sample."""
        array = np.ascontiguousarray(np.asarray(image))
        self.logger.report_image(title, series, iteration=step, image=array)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Key/value tags become the task's user properties (ClearML tags have no value)."""
        self.task.set_user_properties(*[{"name": k, "value": str(v)} for k, v in tags.items()])

    def add_tags(self, tags: Sequence[str]) -> None:
        self.task.add_tags(list(tags))

    def log_dict(self, data: Mapping[str, Any], name: str) -> None:
        """A JSON-able mapping as an artifact called ``name``."""
        with tempfile.TemporaryDirectory(prefix="glyphflow-clearml-") as tmp:
            path = Path(tmp) / f"{Path(name).stem}.json"
            path.write_text(json.dumps(dict(data), indent=2, default=str) + "\n")
            self.log_file(str(path), name)

    def log_text(self, text: str, name: str) -> None:
        with tempfile.TemporaryDirectory(prefix="glyphflow-clearml-") as tmp:
            path = Path(tmp) / Path(name).name
            path.write_text(text)
            self.log_file(str(path), name)

    def log_file(self, local_path: str, name: str) -> None:
        """A local file as an artifact (uploaded now, so the temporary file may go)."""
        self.task.upload_artifact(
            name, artifact_object=Path(local_path), wait_on_upload=True, delete_after_upload=False
        )

    def log_model(
        self,
        local_path: str,
        name: str,
        metadata: Mapping[str, Any] | None = None,
        tags: Sequence[str] = (),
    ) -> str:
        """Register the model file as the task's output model (framework PyTorch); its id."""
        from clearml import OutputModel

        # The metadata goes in the model's design (its config): ClearML's model metadata
        # calls need a server, the design is kept offline too.
        model = OutputModel(
            task=self.task,
            name=name,
            framework="PyTorch",
            tags=list(tags) or None,
            config_dict=json.loads(json.dumps(dict(metadata or {}), default=str)),
        )
        offline_update = getattr(model, "_update_weights_offline", None)
        if self.task.is_offline() and offline_update is not None:
            # clearml 2.1's update_weights first asks whether the model is published, which
            # offline fails on (its stand-in model has no "locked"); the offline branch it
            # would take next copies the file into the session and queues the model for
            # import_offline_session, which is all there is to do without a server.
            offline_update(weights_filename=local_path)
        else:
            model.update_weights(weights_filename=local_path, auto_delete_file=False)
        return str(model.id)

    def end(self, status: str = "FINISHED") -> None:
        """FINISHED, FAILED or KILLED (interrupted); an owned task is closed (and zipped)."""
        if status == "FAILED":
            self.task.mark_failed(status_reason="glyphflow stage failed", force=True)
        elif status == "KILLED":
            self.task.mark_stopped(force=True, status_message="interrupted")
        if not self.owned:
            return
        if status == "FINISHED":
            self.task.mark_completed(force=True)
        self.task.close()
