"""Three small real stages for the runner's tests: numbers -> double -> sum.

They follow the stage contract exactly (``run(config) -> Manifest``, inputs by URL, output
through ``StageOutput``), so the runner is tested against the same interface the real
stages use. ``CALLS`` records every run, in order, as a witness of what actually ran.
"""

from __future__ import annotations

import json
import os

from pydantic import Field

from glyphflow.core.config import ConfigModel
from glyphflow.core.errors import StageFailedError
from glyphflow.core.manifest import Manifest
from glyphflow.io import storage
from glyphflow.io.outputs import StageOutput
from glyphflow.pipeline import catalogue
from glyphflow.pipeline.catalogue import StageEntry

CALLS: list[str] = []
ENVIRONMENT: dict[str, str | None] = {}


class NumbersConfig(ConfigModel):
    """Write the numbers start .. start+count-1."""

    count: int = Field(4, ge=1, description="how many numbers")
    start: int = Field(0, description="the first number")
    output: str = Field(description="output folder")


class DoubleConfig(ConfigModel):
    """Multiply every number by a factor."""

    input: str = Field(description="a numbers output")
    factor: int = Field(2, description="the multiplier")
    fail: bool = Field(False, description="raise instead of writing (for failure tests)")
    output: str = Field(description="output folder")


class SumConfig(ConfigModel):
    """Sum the numbers into metrics.json; optionally log an MLflow run."""

    input: str = Field(description="a numbers output")
    offset: float = Field(0.0, description="added to the total")
    track: bool = Field(False, description="log an MLflow run (tracking URI from env)")
    output: str = Field(description="output folder")


def _numbers(url: str) -> list[int]:
    data: list[int] = json.loads(storage.read_text(storage.join(url, "numbers.json")))
    return data


def run_numbers(config: NumbersConfig) -> Manifest:
    CALLS.append("demo_numbers")
    out = StageOutput(config.output, "demo_numbers", config).begin()
    values = list(range(config.start, config.start + config.count))
    storage.write_text(out.path("numbers.json"), json.dumps(values))
    out.counts["numbers"] = len(values)
    return out.commit()


def run_double(config: DoubleConfig) -> Manifest:
    CALLS.append("demo_double")
    out = StageOutput(config.output, "demo_double", config, inputs={"input": config.input})
    out.begin()
    if config.fail:
        raise StageFailedError("demo_double was told to fail (fail: true)")
    values = [v * config.factor for v in _numbers(config.input)]
    storage.write_text(out.path("numbers.json"), json.dumps(values))
    out.counts["numbers"] = len(values)
    return out.commit()


def run_sum(config: SumConfig) -> Manifest:
    CALLS.append("demo_sum")
    out = StageOutput(config.output, "demo_sum", config, inputs={"input": config.input})
    out.begin()
    values = _numbers(config.input)
    total = sum(values) + config.offset
    metrics = {"total": total, "mean": total / len(values), "detail": {"max": max(values)}}
    storage.write_text(out.path("metrics.json"), json.dumps(metrics))
    out.counts["numbers"] = len(values)
    ENVIRONMENT["parent"] = os.environ.get("GLYPHFLOW_PARENT_RUN_ID")
    if config.track:
        from mlflow import MlflowClient

        client = MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
        experiment = client.get_experiment_by_name(os.environ["MLFLOW_EXPERIMENT_NAME"])
        assert experiment is not None
        run = client.create_run(experiment.experiment_id, run_name="demo_sum")
        client.log_metric(run.info.run_id, "total", total)
        client.set_terminated(run.info.run_id)
        out.mlflow_run_id = run.info.run_id
        out.extra["registered_model_name"] = "demo-model"
        out.extra["registered_model_version"] = 7
    return out.commit()


class SloppyConfig(ConfigModel):
    """Breaks two rules of the contract, for the runner's warnings."""

    input: str
    note: str = "as given"
    output: str


def run_sloppy(config: SloppyConfig) -> Manifest:
    CALLS.append("demo_sloppy")
    # Records a config other than the one it was given, and no input fingerprints.
    changed = config.model_copy(update={"note": "rewritten"})
    out = StageOutput(config.output, "demo_sloppy", changed).begin()
    storage.write_text(out.path("done.txt"), "ok")
    return out.commit()


ENTRIES = [
    StageEntry(
        "demo_numbers",
        "demo-numbers",
        f"{__name__}:NumbersConfig",
        f"{__name__}:run_numbers",
        "Write a few numbers (test stage).",
    ),
    StageEntry(
        "demo_double",
        "demo-double",
        f"{__name__}:DoubleConfig",
        f"{__name__}:run_double",
        "Double numbers (test stage).",
        inputs=("input",),
    ),
    StageEntry(
        "demo_sum",
        "demo-sum",
        f"{__name__}:SumConfig",
        f"{__name__}:run_sum",
        "Sum numbers into metrics (test stage).",
        inputs=("input",),
    ),
    StageEntry(
        "demo_sloppy",
        "demo-sloppy",
        f"{__name__}:SloppyConfig",
        f"{__name__}:run_sloppy",
        "Break the stage contract (test stage).",
        inputs=("input",),
    ),
]


def register() -> None:
    """Add the demo stages to the catalogue once per test session."""
    for entry in ENTRIES:
        if entry.section not in catalogue.STAGES:
            catalogue.STAGES.register(entry.section, entry)


PIPELINE = """\
version: 1
pipeline:
  workdir: {workdir}
  steps:
    - name: numbers
      stage: demo_numbers
      config:
        count: 4
    - name: double
      stage: demo-double
      config:
        factor: 2
    - name: total
      stage: demo_sum
"""
