"""The catalogue of stages: name, CLI command, config model and run function.

Entries point at modules by import path, so listing the stages (for ``--help`` or
``config schema``) imports no stage code. The paths are fixed here by glyphflow, never
taken from a config. Plugins may add stages through the ``glyphflow.plugins`` entry
points like any other registry.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from glyphflow.core.errors import UnknownNameError
from glyphflow.core.registry import Registry

__all__ = ["STAGES", "StageEntry", "config_model", "run_function", "stage_by_section"]


@dataclass(frozen=True)
class StageEntry:
    """One stage: ``section`` is its key in config files, ``command`` its CLI verb."""

    section: str
    command: str
    config: str  # "module:Class" of its pydantic config
    run: str  # "module:function" taking the config, returning a Manifest
    help: str
    # Config fields holding URLs of upstream outputs, in order of importance: the pipeline
    # runner wires the first one to the previous step's output unless the step says else.
    inputs: tuple[str, ...] = ()
    # Config field holding this stage's own output folder URL.
    output: str = "output"
    # The stage reads sources outside the pipeline (folders, buckets, web pages) that can
    # change while its config does not: the runner always runs it. Such a stage must be
    # incremental, so that a run over unchanged sources is cheap and changes nothing.
    external: bool = False


STAGES: Registry[StageEntry] = Registry("stage")


def _add(entry: StageEntry) -> None:
    STAGES.register(entry.section, entry)


def _resolve(target: str) -> Any:
    module, attr = target.split(":", 1)
    return getattr(importlib.import_module(module), attr)


def stage_by_section(section: str) -> StageEntry:
    entry: StageEntry = STAGES.get(section)
    return entry


def stage_by_command(command: str) -> StageEntry:
    for name in STAGES.names():
        entry = stage_by_section(name)
        if command in (entry.command, entry.section):
            return entry
    raise UnknownNameError("stage", command, STAGES.names())


def config_model(entry: StageEntry) -> type[BaseModel]:
    model: type[BaseModel] = _resolve(entry.config)
    return model


def run_function(entry: StageEntry) -> Any:
    return _resolve(entry.run)


# Built-in stages, in pipeline order.
_add(
    StageEntry(
        "ingestion",
        "ingest",
        "glyphflow.ingestion.config:IngestionConfig",
        "glyphflow.ingestion.stage:run",
        "Gather font files into a content-addressed raw store.",
        inputs=(),
        output="output",
        external=True,
    )
)
_add(
    StageEntry(
        "validation",
        "validate",
        "glyphflow.validation.config:ValidationConfig",
        "glyphflow.validation.stage:run",
        "Accept or reject every font with a reason; statistics, drift, report.",
        inputs=("raw",),
        output="output",
    )
)
_add(
    StageEntry(
        "preprocessing",
        "preprocess",
        "glyphflow.preprocessing.config:PreprocessingConfig",
        "glyphflow.preprocessing.stage:run",
        "Render fonts into glyph datasets split by font.",
        inputs=("fonts",),
        output="output",
    )
)
_add(
    StageEntry(
        "training",
        "train",
        "glyphflow.training.config:TrainingConfig",
        "glyphflow.training.stage:run",
        "Train a classifier or a style model, tracked in MLflow.",
        inputs=("glyphs",),
        output="output",
    )
)
_add(
    StageEntry(
        "scoring",
        "score",
        "glyphflow.scoring.config:ScoringConfig",
        "glyphflow.scoring.stage:run",
        "Score glyphs with a trained classifier.",
        inputs=("glyphs", "model"),
        output="output",
    )
)
_add(
    StageEntry(
        "evaluation",
        "evaluate",
        "glyphflow.evaluation.config:EvaluationConfig",
        "glyphflow.evaluation.stage:run",
        "Evaluate a style model on held-out fonts and bless it or not.",
        inputs=("glyphs", "model", "classifier"),
        output="output",
    )
)
_add(
    StageEntry(
        "serving",
        "serve",
        "glyphflow.serving.config:ServingConfig",
        "glyphflow.serving.stage:run",
        "Serve a model: HTTP API and the style explorer page.",
        inputs=("model",),
        output="",
    )
)
