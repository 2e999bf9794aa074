"""The ``training:`` section: input, output, model, optimisation, loop and tracking settings.

Every field has a default except ``glyphs`` (the preprocessing output to train on) and
``output`` (where checkpoints and the model bundle go). The model section picks the
model by ``class`` and holds its whole architecture (see :mod:`glyphflow.models.config`).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from glyphflow.core.config import ComponentSpec, ConfigModel
from glyphflow.models.config import FontStyleConfig, ModelConfig
from glyphflow.models.registries import optimizers, schedulers
from glyphflow.tracking.settings import ClearmlConfig

__all__ = [
    "DEFAULT_REGISTERED_NAMES",
    "DataConfig",
    "EarlyStoppingConfig",
    "FontFilter",
    "MlflowConfig",
    "TrainingConfig",
]

#: Registered model name per model class when ``mlflow.registered_model_name`` is unset.
DEFAULT_REGISTERED_NAMES = {
    "classifier": "glyphflow-classifier",
    "char_style_aae": "glyphflow-style",
    "font_style": "glyphflow-style",
}

OptimizerSpec = optimizers.spec_type()
SchedulerSpec = schedulers.spec_type()


class FontFilter(ConfigModel):
    """Fonts to train on, by regular expressions searched in the family name."""

    include: list[str] = Field(default_factory=list, description="keep only families matching one")
    exclude: list[str] = Field(default_factory=list, description="drop families matching any")

    @field_validator("include", "exclude")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as err:
                raise ValueError(
                    f"not a valid regular expression: {err} (got {pattern!r})"
                ) from None
        return patterns


class DataConfig(ConfigModel):
    """Which records to train on and how to read them."""

    characters: str | None = Field(
        None,
        min_length=1,
        description="train on these characters only (default: the dataset's charset)",
    )
    fonts: FontFilter = Field(default_factory=FontFilter)
    min_confidence: float | None = Field(
        None, ge=0, le=1, description="drop glyphs a classifier scored below this (scored records)"
    )
    mode: Literal["auto", "memory", "stream"] = Field(
        "auto", description="hold the data in memory, or stream shards; auto picks by size"
    )
    memory_limit_mb: int = Field(4096, ge=1, description="auto mode streams above this size")
    shuffle_buffer: int = Field(4096, ge=1, description="items shuffled together when streaming")
    train_split: str = "train"
    val_split: str | None = Field("val", description="None: no validation")
    val_limit: int = Field(1024, ge=1, description="most validation items (fonts or glyphs)")


class EarlyStoppingConfig(ConfigModel):
    """Stop when a validation metric stops improving; keep the best weights."""

    metric: str = Field("val_loss", description="a metric logged at validation, e.g. val_loss")
    mode: Literal["min", "max"] = "min"
    patience: int = Field(5, ge=1, description="validations without improvement before stopping")
    min_delta: float = Field(0.0, ge=0)
    restore_best: bool = Field(True, description="the final model is the best one, not the last")


class MlflowConfig(ConfigModel):
    """Experiment tracking."""

    enabled: bool = True
    tracking_uri: str | None = Field(
        None, description="default: MLFLOW_TRACKING_URI, else sqlite:///WORKDIR/mlflow.db"
    )
    experiment: str = Field("glyphflow", min_length=1)
    run_name: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    log_model: bool = Field(True, description="log the final model as an MLflow pyfunc model")
    registered_model_name: str | None = Field(
        None, description="default: glyphflow-classifier or glyphflow-style; '' to not register"
    )
    log_images_every_epoch: int = Field(1, ge=0, description="0: never")
    image_fonts: int = Field(6, ge=1, description="validation fonts in the reconstruction grid")
    image_samples: int = Field(6, ge=1, description="random styles in the samples grid")


def _default_optimizer() -> ComponentSpec:
    return ComponentSpec.model_validate({"class": "AdamW", "kwargs": {"lr": 1e-3}})


def _default_scheduler() -> ComponentSpec:
    return ComponentSpec.model_validate({"class": "constant"})


class TrainingConfig(ConfigModel):
    """Train a classifier or a style model on glyph records."""

    glyphs: str = Field(
        min_length=1, description="URL of a preprocessing output (train/ val/ test/)"
    )
    output: str = Field(min_length=1, description="URL of this stage's output folder")
    model: ModelConfig = Field(default_factory=FontStyleConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    optimizer: OptimizerSpec = Field(default_factory=_default_optimizer)  # type: ignore[valid-type]
    discriminator_optimizer: OptimizerSpec | None = Field(  # type: ignore[valid-type]
        None, description="optimizer of the prior's discriminator (default: like optimizer)"
    )
    scheduler: SchedulerSpec = Field(default_factory=_default_scheduler)  # type: ignore[valid-type]
    epochs: int | None = Field(10, ge=1, description="passes over the training data")
    max_steps: int | None = Field(None, ge=1, description="stop after this many steps")
    batch_size: int = Field(32, ge=1, description="glyphs (or fonts, for font_style) per step")
    grad_clip: float | None = Field(1.0, gt=0, description="clip the gradient norm (None: off)")
    early_stopping: EarlyStoppingConfig | None = None
    validate_every_epochs: int = Field(1, ge=1)
    log_every_steps: int = Field(10, ge=1)
    checkpoint_every_steps: int | None = Field(
        500, ge=1, description="None: only at the end and on signals"
    )
    keep_checkpoints: int = Field(2, ge=1)
    seed: int = 0
    deterministic: bool = Field(
        False, description="deterministic kernels; a resumed run ends with identical weights"
    )
    device: str = Field("auto", description="auto (cuda, mps, cpu), cpu, cuda, cuda:N or mps")
    amp: Literal["auto", "off", "bf16", "fp16"] = Field(
        "auto", description="mixed precision on CUDA (auto: bf16 where supported, else fp16)"
    )
    threads: int | None = Field(None, ge=1, description="torch CPU threads (default: torch's)")
    mlflow: MlflowConfig = Field(default_factory=MlflowConfig)
    clearml: ClearmlConfig = Field(default_factory=ClearmlConfig)

    @model_validator(mode="before")
    @classmethod
    def _complete_partial_sections(cls, data: Any) -> Any:
        """``--set training.optimizer.kwargs.lr=...`` on a file without that section
        creates it without ``class``: complete it with the default part (and its kwargs)."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        defaults = {
            "optimizer": _default_optimizer(),
            "scheduler": _default_scheduler(),
        }
        for key, spec in defaults.items():
            value = data.get(key)
            if isinstance(value, dict) and "class" not in value and "class_" not in value:
                kwargs = {**spec.kwargs, **dict(value.get("kwargs") or {})}
                data[key] = {**value, "class": spec.class_, "kwargs": kwargs}
        model = data.get("model")
        if isinstance(model, dict) and "class" not in model and "class_" not in model:
            data["model"] = {"class": "font_style", **model}
        return data

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", value):
            raise ValueError(f"must be auto, cpu, mps, cuda or cuda:N (got {value!r})")
        return value

    @field_validator("optimizer", "discriminator_optimizer")
    @classmethod
    def _learning_rate(cls, spec: ComponentSpec | None) -> ComponentSpec | None:
        if spec is not None and "lr" in spec.kwargs:
            lr = spec.kwargs["lr"]
            if not isinstance(lr, (int, float)) or isinstance(lr, bool) or lr <= 0:
                raise ValueError(f"kwargs.lr must be a number > 0 (got {lr!r})")
        return spec

    @model_validator(mode="after")
    def _length(self) -> TrainingConfig:
        if self.epochs is None and self.max_steps is None:
            raise ValueError("set epochs or max_steps (got neither)")
        return self

    @property
    def registered_model_name(self) -> str | None:
        """The name to register the model under (None: do not register)."""
        name = self.mlflow.registered_model_name
        if name is None:
            return DEFAULT_REGISTERED_NAMES.get(self.model.class_)
        return name or None
