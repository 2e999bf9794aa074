"""The ``clearml:`` section of the training and evaluation configs (no ClearML imported).

ClearML is a second tracking backend beside MLflow: either, both or neither may be on.
This module is only the settings, so that validating a config or ``glyphflow --help``
never imports ClearML; :mod:`glyphflow.tracking.clearml` does the work.
"""

from __future__ import annotations

from pydantic import Field

from glyphflow.core.config import ConfigModel

__all__ = ["ClearmlConfig"]


class ClearmlConfig(ConfigModel):
    """Record the run as a ClearML task too (needs ``pip install 'glyphflow[clearml]'``)."""

    enabled: bool = Field(False, description="open a ClearML task for this run")
    project: str = Field("glyphflow", min_length=1, description="ClearML project of the task")
    task_name: str | None = Field(
        None, description="default: '<stage>: <output folder name>', e.g. 'training: style'"
    )
    tags: list[str] = Field(default_factory=list, description="tags added to the task")
    offline: bool = Field(
        False,
        description="record into a local offline session (no server); also on when "
        "CLEARML_OFFLINE_MODE=1. Upload it later with Task.import_offline_session",
    )
    output_uri: str | None = Field(
        None,
        description="where the model file is uploaded (e.g. s3://bucket/models); default: "
        "ClearML's files server (offline: the session folder)",
    )
    detect_repository: bool = Field(
        False,
        description="let ClearML record the git repository and the imported packages "
        "(it analyses the code's imports, which can take minutes when the task closes)",
    )
    log_model: bool = Field(
        True, description="training: record the model bundle as the task's output model"
    )
