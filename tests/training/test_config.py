"""The training config: defaults, rules with located messages, the shipped examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from glyphflow.core.config import load_config
from glyphflow.core.errors import ConfigError
from glyphflow.training.config import TrainingConfig

EXAMPLES = Path(__file__).resolve().parents[2] / "configs" / "examples"


def _load(body: str, *overrides: str) -> TrainingConfig:
    text = "version: 1\ntraining:\n  glyphs: g\n  output: o\n" + body
    return load_config("training", TrainingConfig, "t.yaml", overrides, text=text)


def test_defaults_train_the_font_style_model() -> None:
    config = _load("")
    assert config.model.class_ == "font_style"
    assert config.optimizer.class_ == "AdamW" and config.scheduler.class_ == "constant"
    assert config.registered_model_name == "glyphflow-style"
    assert _load("  model: {class: classifier}\n").registered_model_name == "glyphflow-classifier"
    assert _load("  mlflow: {registered_model_name: ''}\n").registered_model_name is None


def test_overrides_reach_the_model_and_optimizer() -> None:
    config = _load(
        "",
        "training.model.latent_dim=8",
        "training.optimizer.kwargs.lr=0.0003",
        "training.epochs=3",
    )
    assert config.model.latent_dim == 8  # type: ignore[union-attr]
    assert config.optimizer.kwargs["lr"] == 0.0003 and config.epochs == 3
    decayed = _load("", "training.optimizer.kwargs.weight_decay=0.1")
    assert decayed.optimizer.class_ == "AdamW"
    assert decayed.optimizer.kwargs == {"lr": 0.001, "weight_decay": 0.1}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "  optimizer: {class: AdamW, kwargs: {lr: -1}}\n",
            "t.yaml:5:3: training.optimizer: kwargs.lr must be a number > 0",
        ),
        ("  optimizer: {class: Adamm}\n", "unknown optimizer 'Adamm' (did you mean 'Adam'?)"),
        ("  scheduler: {class: cosin}\n", "unknown scheduler 'cosin'"),
        ("  epochs: null\n", "set epochs or max_steps"),
        ("  device: gpu\n", "training.device: must be auto, cpu, mps, cuda or cuda:N"),
        (
            "  model: {class: font_style, observed_min: 5, observed_max: 2}\n",
            "observed_min must be <= observed_max",
        ),
        (
            "  model: {class: classifier, latent_dim: 4}\n",
            "t.yaml:5:30: training.model.latent_dim: unknown setting",
        ),
        (
            "  model: {class: gan}\n",
            "training.model.class: unknown class 'gan'; expected one of: classifier, char_style_aae, font_style",
        ),
        (
            "  data: {fonts: {include: ['(']}}\n",
            "training.data.fonts.include: not a valid regular expression",
        ),
    ],
)
def test_mistakes_are_reported_where_they_are(body: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load(body)
    assert expected in str(info.value)


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("train-*.yaml")))
def test_example_configs_are_valid(name: str) -> None:
    config = load_config("training", TrainingConfig, str(EXAMPLES / name))
    assert config.glyphs and config.output
