"""Every tracking backend that is on, behind one object: MLflow, ClearML, both or none.

The training loop reports metrics and images once; :class:`Trackers` sends them to each
backend, so the stages hold no ``if mlflow ... if clearml ...`` for the records every
backend takes. What only one backend has (MLflow's model registry, ClearML's output
model) the stages ask of that backend by name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from glyphflow.tracking.clearml import ClearmlRun
    from glyphflow.tracking.runs import TrackingRun

__all__ = ["Trackers", "image_title"]

_EPOCH_IMAGE = re.compile(r"(?:.*/)?epoch-(\d+)-(.+)\.png$")


def image_title(name: str) -> tuple[str, int]:
    """``images/epoch-0003-samples.png`` -> (``samples``, 3); other names -> (stem, 0)."""
    found = _EPOCH_IMAGE.match(name)
    if found:
        return found.group(2), int(found.group(1))
    stem = name.rsplit("/", 1)[-1]
    return stem.rsplit(".", 1)[0], 0


class Trackers:
    """The runs a stage records into; each ``None`` when its backend is off."""

    def __init__(self, mlflow: TrackingRun | None = None, clearml: ClearmlRun | None = None):
        self.mlflow = mlflow
        self.clearml = clearml

    def __bool__(self) -> bool:
        return self.mlflow is not None or self.clearml is not None

    def metrics(self, values: Mapping[str, float], step: int) -> None:
        """Metrics at ``step`` (the training loop's Reporter protocol)."""
        if self.mlflow is not None:
            self.mlflow.log_metrics(values, step)
        if self.clearml is not None:
            self.clearml.log_metrics(values, step)

    def image(self, image: np.ndarray, name: str) -> None:
        """An image named like an MLflow artifact; ClearML gets it as a debug sample."""
        if self.mlflow is not None:
            self.mlflow.log_image(image, name)
        if self.clearml is not None:
            title, step = image_title(name)
            self.clearml.log_image(image, title, title, step)

    def log_dict(self, data: Mapping[str, Any], name: str) -> None:
        if self.mlflow is not None:
            self.mlflow.log_dict(data, name)
        if self.clearml is not None:
            self.clearml.log_dict(data, name)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        if self.mlflow is not None:
            self.mlflow.set_tags(tags)
        if self.clearml is not None:
            self.clearml.set_tags(tags)

    def end(self, status: str = "FINISHED") -> None:
        """End every run with ``status``; one failing to end does not keep the others open."""
        error: BaseException | None = None
        for run in (self.mlflow, self.clearml):
            if run is None:
                continue
            try:
                run.end(status)
            except Exception as err:  # end the others, then raise the first error
                error = error or err
        if error is not None:
            raise error
