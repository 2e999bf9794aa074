"""The ``preprocessing:`` section of a stage file.

Example::

    version: 1
    preprocessing:
      fonts: data/validated        # a validation output (accepted.parquet) or a raw store
      output: data/glyphs
      render: {charset: alphanumeric, glyph_size: 64, normalisation: em}
      layout: glyph                # one row per glyph; `font`: one row per font
      splits: {train: 0.8, val: 0.1, test: 0.1}
      split_key: family
      engine: {class: local, kwargs: {workers: 2}}
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from glyphflow.core.config import ComponentSpec, ConfigModel
from glyphflow.engines import engines
from glyphflow.glyphs.config import RenderConfig

__all__ = [
    "ContactSheetConfig",
    "FollowConfig",
    "PreprocessingConfig",
    "SplitFractions",
]

SPLITS = ("train", "val", "test")


class SplitFractions(ConfigModel):
    """Fractions of fonts (or families) per split; they must add up to 1."""

    train: float = Field(0.8, ge=0, le=1)
    val: float = Field(0.1, ge=0, le=1)
    test: float = Field(0.1, ge=0, le=1)

    @model_validator(mode="after")
    def _adds_up(self) -> SplitFractions:
        total = self.train + self.val + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(
                f"split fractions must add up to 1 (got train {self.train} + val {self.val} "
                f"+ test {self.test} = {total:g})"
            )
        return self


class ContactSheetConfig(ConfigModel):
    """The PNG of sample fonts written with the dataset."""

    enabled: bool = True
    fonts: int = Field(16, ge=1, le=256, description="how many fonts (rows) it shows")


class FollowConfig(ConfigModel):
    """``--follow``: how often the input index is checked for new fonts."""

    poll_seconds: float = Field(5.0, gt=0, description="seconds between checks")


def _default_engine() -> ComponentSpec:
    return ComponentSpec.model_validate({"class": "local"})


class PreprocessingConfig(ConfigModel):
    """Render fonts into glyph datasets split by font."""

    fonts: str = Field(
        ...,
        min_length=1,
        description=(
            "URL of the upstream output: a validation output (accepted.parquet) or a raw "
            "store (fonts.parquet)"
        ),
    )
    raw: str | None = Field(
        None,
        description=(
            "URL of the raw store holding the font files; by default the raw store itself, "
            "or the one the validation output was made from"
        ),
    )
    output: str = Field(..., min_length=1, description="URL of the output folder")
    render: RenderConfig = Field(default_factory=RenderConfig)
    layout: Literal["glyph", "font"] = Field(
        "glyph", description="glyph: one row per glyph; font: one row per font with a mask"
    )
    splits: SplitFractions = Field(default_factory=SplitFractions)
    split_key: Literal["font", "family"] = Field(
        "font",
        description="hash the font id, or the family name so a family never straddles splits",
    )
    seed: int = Field(0, description="changes which split each font hashes to")
    min_glyphs: int = Field(
        5,
        ge=1,
        description=(
            "a font producing fewer glyphs (capped at the charset size) is a failure, not "
            "records: it catches fonts whose letters are all one box"
        ),
    )
    max_failed_fraction: float = Field(
        0.5,
        ge=0,
        le=1,
        description="the run fails when more than this fraction of its fonts failed",
    )
    engine: engines.spec_type() = Field(  # type: ignore[valid-type]
        default_factory=_default_engine, description="{class: local|beam, kwargs: {...}}"
    )
    shard_max_bytes: int = Field(
        64 << 20, ge=1 << 10, description="approximate uncompressed size of a part"
    )
    commit_every: int = Field(
        1000, ge=1, description="fonts between checkpoints (parts and state written)"
    )
    contact_sheet: ContactSheetConfig = Field(default_factory=ContactSheetConfig)
    follow: FollowConfig = Field(default_factory=FollowConfig)

    @model_validator(mode="after")
    def _output_is_not_input(self) -> PreprocessingConfig:
        if self.output.rstrip("/") in {self.fonts.rstrip("/"), (self.raw or "").rstrip("/")}:
            raise ValueError(
                f"output must be a folder of its own, not an input (got {self.output!r})"
            )
        return self

    @property
    def chars(self) -> str:
        """The resolved charset (label order)."""
        return self.render.chars

    @property
    def effective_min_glyphs(self) -> int:
        """``min_glyphs`` capped at the charset size."""
        return min(self.min_glyphs, len(self.chars))
