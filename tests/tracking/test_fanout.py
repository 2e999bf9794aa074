"""Trackers: one report reaches every backend that is on; ending one failure ends the rest."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from glyphflow.tracking.fanout import Trackers, image_title


class _Recorder:
    def __init__(self, fail_on_end: bool = False) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.fail_on_end = fail_on_end

    def log_metrics(self, values: Any, step: Any) -> None:
        self.calls.append(("metrics", dict(values), step))

    def log_image(self, image: Any, *args: Any) -> None:
        self.calls.append(("image", image.shape, *args))

    def end(self, status: str) -> None:
        self.calls.append(("end", status))
        if self.fail_on_end:
            raise RuntimeError("server gone")


def test_image_titles_come_from_the_epoch_image_names() -> None:
    assert image_title("images/epoch-0003-samples.png") == ("samples", 3)
    assert image_title("images/epoch-0012-reconstruction.png") == ("reconstruction", 12)
    assert image_title("report/grid.png") == ("grid", 0)


def test_each_backend_gets_every_report_in_its_own_terms() -> None:
    mlflow, clearml = _Recorder(), _Recorder()
    trackers = Trackers(mlflow, clearml)  # type: ignore[arg-type]
    assert trackers and not Trackers()
    trackers.metrics({"train_loss": 0.5}, 7)
    trackers.image(np.zeros((4, 6), np.uint8), "images/epoch-0002-samples.png")
    assert mlflow.calls == [
        ("metrics", {"train_loss": 0.5}, 7),
        ("image", (4, 6), "images/epoch-0002-samples.png"),
    ]
    assert clearml.calls == [
        ("metrics", {"train_loss": 0.5}, 7),
        ("image", (4, 6), "samples", "samples", 2),
    ]


def test_a_backend_failing_to_end_does_not_leave_the_other_open() -> None:
    mlflow, clearml = _Recorder(fail_on_end=True), _Recorder()
    with pytest.raises(RuntimeError, match="server gone"):
        Trackers(mlflow, clearml).end("FAILED")  # type: ignore[arg-type]
    assert clearml.calls == [("end", "FAILED")]
