"""Configuration: every problem reported at once with file:line:col, overrides, identity."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import Field

from glyphflow.core.config import (
    ComponentSpec,
    ConfigModel,
    config_hash,
    document_model,
    load_config,
    valid_paths,
)
from glyphflow.core.errors import ConfigError
from glyphflow.core.registry import Registry

LAYERS: Registry[object] = Registry("test_layer")
LAYERS.register("Conv2d", object)
LAYERS.register("Linear", object)


class Optimizer(ConfigModel):
    lr: float = Field(1e-3, gt=0)
    betas: list[float] = [0.9, 0.999]


class Model(ConfigModel):
    latent_dim: int = Field(16, ge=1)
    layers: list[LAYERS.spec_type()] = []  # type: ignore[valid-type]


class Training(ConfigModel):
    epochs: int = Field(3, ge=1)
    optimizer: Optimizer = Optimizer()
    model: Model = Model()
    extra: dict[str, float] = {}


THREE_MISTAKES = """\
version: 1
training:
  epochs: 0
  optimizer:
    lr: -1
  modell: {}
"""


def test_three_mistakes_on_three_lines_are_all_reported(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text(THREE_MISTAKES)
    with pytest.raises(ConfigError) as caught:
        load_config("training", Training, str(path))
    lines = [str(p) for p in caught.value.problems]
    assert lines == [
        f"{path}:3:3: training.epochs: must be >= 1 (got 0)",
        f"{path}:5:5: training.optimizer.lr: must be > 0.0 (got -1)",
        f"{path}:6:3: training.modell: unknown setting; did you mean 'model'?",
    ]
    assert caught.value.exit_code == 2


def test_unknown_registry_name_lists_valid_names(tmp_path: Path) -> None:
    text = "training:\n  model:\n    layers:\n      - class: Conv2\n"
    with pytest.raises(ConfigError) as caught:
        load_config("training", Training, "m.yaml", text=text)
    (problem,) = caught.value.problems
    assert (problem.line, problem.column, problem.path) == (4, 9, "training.model.layers.0")
    assert "did you mean 'Conv2d'" in problem.message
    assert "Conv2d, Linear" in problem.message


def test_set_changes_a_nested_value() -> None:
    config = load_config(
        "training",
        Training,
        "t.yaml",
        ["training.optimizer.lr=0.5", "training.model.latent_dim=32", "training.extra.k=2"],
        text="training:\n  optimizer:\n    lr: 0.1\n",
    )
    assert config.optimizer.lr == 0.5
    assert config.model.latent_dim == 32
    assert config.extra == {"k": 2.0}


def test_set_parses_yaml_scalars_and_lists() -> None:
    config = load_config(
        "training", Training, "t.yaml", ["training.optimizer.betas=[0.5, 0.6]"], text=""
    )
    assert config.optimizer.betas == [0.5, 0.6]


def test_misspelt_set_path_is_refused_with_a_suggestion() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config("training", Training, "t.yaml", ["training.optimiser.lr=1"], text="")
    (problem,) = caught.value.problems
    assert problem.source == "--set training.optimiser.lr=1"
    assert "did you mean 'training.optimizer'" in problem.message


def test_set_value_is_validated_by_the_schema() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config("training", Training, "t.yaml", ["training.epochs=-3"], text="")
    assert str(caught.value.problems[0]) == (
        "--set training.epochs=-3: training.epochs: must be >= 1 (got -3)"
    )


def test_invalid_yaml_is_located() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config("training", Training, "bad.yaml", text="training:\n  epochs: [1,\n")
    assert caught.value.problems[0].source == "bad.yaml"
    assert caught.value.problems[0].line >= 2


def test_duplicate_keys_are_an_error() -> None:
    with pytest.raises(ConfigError, match="duplicate key"):
        load_config("training", Training, "d.yaml", text="training:\n  epochs: 1\n  epochs: 2\n")


def test_wrong_schema_version_is_refused() -> None:
    with pytest.raises(ConfigError, match="version"):
        load_config("training", Training, "v.yaml", text="version: 2\n")


def test_missing_file_says_so() -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config("training", Training, "/nonexistent/train.yaml")


def test_component_spec_uses_class_key() -> None:
    spec = ComponentSpec.model_validate({"class": "Linear", "kwargs": {"in_features": 3}})
    assert spec.class_ == "Linear"
    assert spec.model_dump(by_alias=True) == {"class": "Linear", "kwargs": {"in_features": 3}}


def test_config_hash_ignores_key_order_but_not_values() -> None:
    a = Training.model_validate({"epochs": 2, "model": {"latent_dim": 4}})
    b = Training.model_validate({"model": {"latent_dim": 4}, "epochs": 2})
    c = Training.model_validate({"model": {"latent_dim": 5}, "epochs": 2})
    assert config_hash(a) == config_hash(b) != config_hash(c)


def test_document_model_has_version_and_section() -> None:
    schema = document_model("training", Training).model_json_schema(by_alias=True)
    assert set(schema["properties"]) == {"version", "training"}


def test_valid_paths_lists_leaves() -> None:
    paths = valid_paths(Training)
    assert "optimizer.lr" in paths
    assert "model.latent_dim" in paths


class _Small(ConfigModel):
    class_: Literal["small"] = Field("small", alias="class")
    width: int = 8


class _Large(ConfigModel):
    class_: Literal["large"] = Field(alias="class")
    depth: int = 4


class _Tagged(ConfigModel):
    net: Annotated[_Small | _Large, Field(discriminator="class_")] = Field(default_factory=_Small)


def test_discriminated_union_errors_point_at_the_member_and_its_keys() -> None:
    text = "version: 1\nt:\n  net:\n    class: large\n    width: 3\n"
    with pytest.raises(ConfigError) as info:
        load_config("t", _Tagged, "f.yaml", text=text)
    assert (
        str(info.value.problems[0])
        == "f.yaml:5:5: t.net.width: unknown setting; did you mean 'depth'?"
    )
    text = "version: 1\nt:\n  net:\n    class: huge\n"
    with pytest.raises(ConfigError) as info:
        load_config("t", _Tagged, "f.yaml", text=text)
    assert str(info.value.problems[0]) == (
        "f.yaml:4:5: t.net.class: unknown class 'huge'; expected one of: small, large"
    )
    loaded = load_config(
        "t", _Tagged, "f.yaml", ["t.net.depth=9"], text="t:\n  net:\n    class: large\n"
    )
    assert isinstance(loaded.net, _Large) and loaded.net.depth == 9
