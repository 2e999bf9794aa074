"""The ``evaluation:`` section: what to evaluate, on what, and what a model must reach.

A model is judged on the ``novel`` test fonts by default (no training font within
``novelty_l1``), because a nearest-neighbour copy wins on twins without learning anything.
Thresholds name metrics as they appear in ``metrics.json``:

- ``reconstruction.l1``, ``reconstruction.ssim`` (all glyphs of a font observed);
- ``few_shot.k{K}.l1``, ``.ssim``, ``.fid``, ``.legibility.exact``,
  ``.legibility.casefold`` (K observed glyphs, scores on the others);
- ``fid``, ``legibility.exact``, ``legibility.casefold`` (glyphs of random styles).

``l1`` and ``fid`` are better lower; ``ssim`` and ``legibility`` better higher. The
baseline only completes fonts, so relative thresholds take ``few_shot.*`` metrics.

This module imports no torch or mlflow.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from glyphflow.core.config import ConfigModel
from glyphflow.tracking.settings import ClearmlConfig

__all__ = [
    "ChampionConfig",
    "EvaluationConfig",
    "Limit",
    "MlflowSettings",
    "ReportConfig",
    "ThresholdsConfig",
    "higher_is_better",
    "metric_names",
]

_FEW_SHOT = ("l1", "ssim", "fid", "legibility.exact", "legibility.casefold")
_NEEDS_CLASSIFIER = re.compile(r"(^|\.)(fid|legibility\.(exact|casefold))$")


def metric_names(k_shots: list[int]) -> list[str]:
    """Every metric an evaluation with these ``k_shots`` can report, in report order."""
    names = ["reconstruction.l1", "reconstruction.ssim"]
    for k in k_shots:
        names.extend(f"few_shot.k{k}.{m}" for m in _FEW_SHOT)
    names.extend(["fid", "legibility.exact", "legibility.casefold"])
    return names


def higher_is_better(metric: str) -> bool:
    """Direction of a metric: SSIM and legibility up, L1 and Frechet distance down."""
    return metric.endswith(("ssim", "exact", "casefold"))


def needs_classifier(metric: str) -> bool:
    """Legibility and Frechet distances use the classifier."""
    return bool(_NEEDS_CLASSIFIER.search(metric))


class Limit(ConfigModel):
    """An absolute bound on a metric: ``{min: X}``, ``{max: X}`` or both."""

    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _some_bound(self) -> Limit:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both (got neither)")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min must be <= max (got {self.min} > {self.max})")
        return self


class ThresholdsConfig(ConfigModel):
    """What a model must reach to be blessed."""

    subset: Literal["novel", "all"] = Field(
        "novel", description="test fonts the thresholds read: novel ones, or all"
    )
    absolute: dict[str, Limit] = Field(
        default_factory=dict, description="metric -> {min, max}, e.g. few_shot.k4.l1: {max: 0.1}"
    )
    baseline: dict[str, float] = Field(
        default_factory=dict,
        description="few_shot metric -> margin: the model must beat the nearest-neighbour "
        "baseline by at least this fraction (0: at least as good)",
    )

    @field_validator("baseline")
    @classmethod
    def _margins(cls, value: dict[str, float]) -> dict[str, float]:
        for name, margin in value.items():
            if not name.startswith("few_shot."):
                raise ValueError(
                    f"the baseline only completes fonts: use a few_shot.* metric (got {name!r})"
                )
            if not 0 <= margin < 1:
                raise ValueError(f"margin of {name} must be in [0, 1) (got {margin})")
        return value

    def metrics(self) -> list[str]:
        """Every metric named by a threshold, in order of first mention."""
        return list(dict.fromkeys([*self.absolute, *self.baseline]))


class ChampionConfig(ConfigModel):
    """The comparison with the model in service (the registry alias)."""

    compare: bool = Field(True, description="evaluate the current champion on the same fonts")
    alias: str = Field(
        "champion", min_length=1, description="registry alias of the model in service"
    )
    metrics: list[str] = Field(
        default_factory=list,
        description="metrics the model must not be worse on (default: those with thresholds)",
    )
    tolerance: float = Field(
        0.0, ge=0, lt=1, description="allowed relative shortfall against the champion"
    )


class ReportConfig(ConfigModel):
    """What report.html shows."""

    fonts: int = Field(4, ge=0, description="test fonts in the few-shot grids")
    chars: str | None = Field(
        None,
        min_length=1,
        description="characters shown in grids (default: up to 12 of the charset)",
    )
    interpolation_steps: int = Field(7, ge=2)
    samples: int = Field(6, ge=0, description="random styles shown")


class MlflowSettings(ConfigModel):
    """Where the model's run and registry are."""

    enabled: bool = Field(True, description="log metrics to the model's run; set the alias")
    tracking_uri: str | None = Field(
        None, description="default: MLFLOW_TRACKING_URI, else sqlite:///WORKDIR/mlflow.db"
    )


class EvaluationConfig(ConfigModel):
    """Evaluate a style model on held-out fonts and bless it or not."""

    glyphs: str = Field(min_length=1, description="URL of a preprocessing output (train/ test/)")
    model: str = Field(
        min_length=1,
        description="the style model: models:/NAME@ALIAS, models:/NAME/VERSION, runs:/RUN/model, "
        "a training output folder or a model.pt bundle",
    )
    classifier: str | None = Field(
        None, description="glyph classifier for legibility and FID (same forms as model)"
    )
    output: str = Field(min_length=1, description="URL of this stage's output folder")
    test_split: str = "test"
    train_split: str = "train"
    k_shots: list[int] = Field(
        default_factory=lambda: [1, 4, 8], min_length=1, description="observed glyphs per font"
    )
    seed: int = Field(0, description="fixes the observed glyphs and the random styles")
    novelty_l1: float = Field(
        0.02,
        ge=0,
        description="a test font is novel when no training font is within this mean L1 over "
        "all their shared glyphs",
    )
    max_test_fonts: int | None = Field(None, ge=1, description="evaluate a seeded sample of fonts")
    samples: int = Field(
        64, ge=2, description="random styles decoded (whole charset each) for fid and legibility"
    )
    batch_size: int = Field(32, ge=1, description="fonts per model call")
    device: str = Field("cpu", description="cpu, cuda, cuda:N or mps")
    registered_model_name: str | None = Field(
        None,
        description="registered model whose champion alias is compared and set "
        "(default: the name the model is registered under)",
    )
    fail_if_not_blessed: bool = Field(
        False, description="exit non-zero (stage failed) when the verdict is NOT_BLESSED"
    )
    thresholds: ThresholdsConfig = Field(default_factory=ThresholdsConfig)
    champion: ChampionConfig = Field(default_factory=ChampionConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    mlflow: MlflowSettings = Field(default_factory=MlflowSettings)
    clearml: ClearmlConfig = Field(default_factory=ClearmlConfig)

    @field_validator("k_shots")
    @classmethod
    def _shots(cls, value: list[int]) -> list[int]:
        if any(k < 1 for k in value):
            raise ValueError(f"every k must be >= 1 (got {value})")
        if len(set(value)) != len(value):
            raise ValueError(f"k values must be distinct (got {value})")
        return sorted(value)

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        if not re.fullmatch(r"cpu|mps|cuda(:\d+)?", value):
            raise ValueError(f"must be cpu, mps, cuda or cuda:N (got {value!r})")
        return value

    @model_validator(mode="after")
    def _known_metrics(self) -> EvaluationConfig:
        known = metric_names(self.k_shots)
        named = [*self.thresholds.metrics(), *self.champion.metrics]
        for name in named:
            if name not in known:
                raise ValueError(
                    f"unknown metric {name!r} with k_shots {self.k_shots}; "
                    f"expected one of: {', '.join(known)}"
                )
            if needs_classifier(name) and self.classifier is None:
                raise ValueError(f"metric {name!r} needs a classifier; set evaluation.classifier")
        return self

    def compared_metrics(self) -> list[str]:
        """Metrics compared with the champion."""
        return list(self.champion.metrics) or self.thresholds.metrics()
