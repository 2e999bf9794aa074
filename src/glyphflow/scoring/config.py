"""The ``scoring:`` section: which glyphs, which classifier, which engine.

This module imports no torch, mlflow or beam: configs are checked without them.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from glyphflow.core.config import ComponentSpec, ConfigModel
from glyphflow.engines import engines

__all__ = ["EngineSpec", "ScoringConfig"]

EngineSpec = engines.spec_type()


def _local_engine() -> ComponentSpec:
    return ComponentSpec.model_validate({"class": "local"})


class ScoringConfig(ConfigModel):
    """Score glyph records with a trained classifier."""

    glyphs: str = Field(
        min_length=1, description="URL of a preprocessing output (train/ val/ test/)"
    )
    model: str = Field(
        min_length=1,
        description="the classifier: models:/NAME@ALIAS, models:/NAME/VERSION, runs:/RUN/model, "
        "a training output folder or a model.pt bundle",
    )
    output: str = Field(min_length=1, description="URL of this stage's output folder")
    engine: EngineSpec = Field(  # type: ignore[valid-type]
        default_factory=_local_engine, description="{class: local|beam, kwargs: {...}}"
    )
    batch_size: int = Field(
        256, ge=1, description="records per unit of work (glyphs, or fonts in the font layout)"
    )
    splits: list[str] = Field(
        default_factory=lambda: ["train", "val", "test"],
        min_length=1,
        description="splits to score",
    )
    device: str = Field("cpu", description="cpu, cuda, cuda:N or mps")
    threads: int | None = Field(
        1,
        ge=1,
        description="torch CPU threads while scoring a batch (fixed, so every engine and "
        "worker computes alike; None: torch's default)",
    )
    tracking_uri: str | None = Field(
        None, description="MLflow tracking URI for models:/ and runs:/ references"
    )

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        if not re.fullmatch(r"cpu|mps|cuda(:\d+)?", value):
            raise ValueError(f"must be cpu, mps, cuda or cuda:N (got {value!r})")
        return value

    @field_validator("splits")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError(f"splits must be distinct (got {value})")
        return value
