"""Rule ``sanity``: units per em, glyph count and file size within bounds.

Values far outside the usual ranges mark broken or degenerate fonts: a units-per-em of
8 gives outlines too coarse to learn from, a font of three glyphs is a placeholder, a
200 MB file is not a text face. The OpenType limits for units per em are 16..16384;
the default lower bound here is stricter (64), since fonts that coarse draw poorly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import Field, model_validator

from glyphflow.validation.rules.base import FontRule, RuleParams

if TYPE_CHECKING:
    from glyphflow.validation.facts import FontFacts

__all__ = ["SanityParams", "SanityRule"]


class SanityParams(RuleParams):
    min_units_per_em: int = Field(64, ge=1, description="smallest units per em accepted")
    max_units_per_em: int = Field(16384, ge=1, description="largest units per em accepted")
    min_glyphs: int = Field(2, ge=0, description="fewest glyphs (.notdef included)")
    max_glyphs: int = Field(65535, ge=1, description="most glyphs")
    min_bytes: int = Field(256, ge=0, description="smallest font file, in bytes")
    max_bytes: int = Field(64 << 20, ge=1, description="largest font file, in bytes")

    @model_validator(mode="after")
    def _ordered(self) -> SanityParams:
        for low, high in (
            ("min_units_per_em", "max_units_per_em"),
            ("min_glyphs", "max_glyphs"),
            ("min_bytes", "max_bytes"),
        ):
            if getattr(self, low) > getattr(self, high):
                raise ValueError(
                    f"{low} must be <= {high} (got {getattr(self, low)} > {getattr(self, high)})"
                )
        return self


class SanityRule(FontRule):
    name: ClassVar[str] = "sanity"
    title: ClassVar[str] = "Sane units per em, glyph count, size"
    explanation: ClassVar[str] = (
        "Units per em, number of glyphs and file size lie within the configured bounds; "
        "values outside them mark broken or degenerate fonts."
    )
    advice: ClassVar[str] = (
        "Widen the bounds in validation.rules.sanity if these fonts are fine for you."
    )
    order: ClassVar[int] = 30
    Params: ClassVar[type[RuleParams]] = SanityParams

    def check(self, facts: FontFacts) -> str | None:
        p = self.params
        assert isinstance(p, SanityParams)
        problems = []
        checks = (
            ("units per em", facts.units_per_em, p.min_units_per_em, p.max_units_per_em),
            ("glyph count", facts.num_glyphs, p.min_glyphs, p.max_glyphs),
            ("file size (bytes)", facts.file_bytes or None, p.min_bytes, p.max_bytes),
        )
        for what, value, low, high in checks:
            if value is not None and not low <= value <= high:
                problems.append(f"{what} {value} is outside {low}..{high}")
        return "; ".join(problems) or None
