"""docs/config.md: generated from the schemas, and checked in current."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from glyphflow.core.config import ComponentSpec, ConfigModel
from glyphflow.pipeline.catalogue import StageEntry
from glyphflow.pipeline.reference import builtin_stages, render_reference, schema_rows

REPO = Path(__file__).resolve().parents[2]


def test_the_checked_in_reference_matches_the_schemas() -> None:
    path = REPO / "docs" / "config.md"
    assert path.read_text(encoding="utf-8") == render_reference(), (
        "docs/config.md is out of date; regenerate it: "
        "glyphflow config docs --output docs/config.md"
    )


def test_only_glyphflow_stages_are_documented() -> None:
    assert all(entry.config.startswith("glyphflow.") for entry in builtin_stages())
    assert "demo_numbers" not in render_reference()  # registered by these tests


class Optimizer(ConfigModel):
    """How the weights move."""

    name: Literal["adam", "sgd"] = "adam"
    lr: float = Field(1e-3, gt=0, description="learning rate")


class Layer(ConfigModel):
    width: int = Field(8, ge=1, le=512)


class Training(ConfigModel):
    """Train a model."""

    input: str = Field(description="glyph records")
    output: str = Field(description="model folder")
    optimizer: Optimizer = Field(default_factory=Optimizer)
    layers: list[Layer] = Field(default_factory=list, description="the stack, in order")
    heads: dict[str, Layer] = Field(default_factory=dict)
    scheduler: ComponentSpec | None = None
    note: str = Field("a | b", description="pipes and <tags> are escaped")


ENTRY = StageEntry(
    "training",
    "train",
    f"{__name__}:Training",
    f"{__name__}:nothing",
    "Train a model.",
    inputs=("input",),
)


def test_nested_settings_become_dotted_rows() -> None:
    rows = {row.path: row for row in schema_rows(Training, "training")}
    assert list(rows) == [
        "training.input",
        "training.output",
        "training.optimizer",
        "training.optimizer.name",
        "training.optimizer.lr",
        "training.layers",
        "training.layers[].width",
        "training.heads",
        "training.heads.<name>.width",
        "training.scheduler",
        "training.scheduler.class",
        "training.scheduler.kwargs",
        "training.note",
    ]
    assert rows["training.input"].default == "required"
    assert rows["training.optimizer"].description == "How the weights move."
    assert rows["training.optimizer.name"].type == '"adam" or "sgd"'
    assert rows["training.optimizer.lr"].description == "learning rate (> 0)"
    assert rows["training.layers"].type == "list of object"
    assert rows["training.layers[].width"].description == ">= 1, <= 512"
    assert rows["training.heads"].type == "mapping of object"
    assert rows["training.scheduler"].type == "object or null"
    assert rows["training.scheduler.class"].default == "required"


def test_a_stage_section_in_markdown() -> None:
    text = render_reference([ENTRY])
    assert "### training\n\nTrain a model.\n\ncommand: `glyphflow train`" in text
    assert (
        "| `training.input` | str | required | glyph records. In a pipeline: the previous "
        "step's output unless set or named in `inputs`. |"
    ) in text
    assert "| `training.output` | str | required | model folder. In a pipeline: " in text
    assert '| `training.note` | str | `"a \\| b"` | pipes and &lt;tags> are escaped |' in text
