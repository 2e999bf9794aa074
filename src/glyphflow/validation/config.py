"""The validation config: where the raw store is, which rules judge fonts, and when the
whole run counts as failed.

Example (``configs/examples/validate.yaml``)::

    version: 1
    validation:
      raw: data/raw
      output: data/validated
      charset: alphanumeric
      min_coverage: 0.9
      rules:
        licence: {enabled: true, allow: [OFL-1.1, Apache-2.0]}
        symbol: {near_identical: 0.004}
      max_reject_fraction: 0.9
      reference_statistics: data/validated-2024-05/statistics.json

``rules`` has one entry per registered rule (plugins included), each with ``enabled``
and the rule's own settings, so a typo in a rule setting is a config error with its
line. ``render`` holds the rendering settings of :class:`glyphflow.glyphs.RenderConfig`
used for the image checks, duplicate hashes, ink statistics and thumbnails; its
charset is ``validation.charset``, set once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, create_model, field_validator, model_validator

from glyphflow.core.config import ComponentSpec, ConfigModel
from glyphflow.engines import engines
from glyphflow.glyphs.config import RenderConfig, resolve_charset
from glyphflow.validation.rules import ordered_rules

__all__ = ["ReportConfig", "RulesConfig", "ValidationConfig"]


def _rules_model() -> type[ConfigModel]:
    fields: dict[str, Any] = {
        rule.name: (
            rule.Params,
            Field(default_factory=rule.Params, description=f"{rule.title}. {rule.explanation}"),
        )
        for rule in ordered_rules()
    }
    model: type[ConfigModel] = create_model("RulesConfig", __base__=ConfigModel, **fields)
    model.__doc__ = "One entry per validation rule: enabled, plus the rule's settings."
    return model


if TYPE_CHECKING:
    RulesConfig = ConfigModel
else:
    RulesConfig = _rules_model()


def _default_engine() -> ComponentSpec:
    return ComponentSpec.model_validate({"class": "local"})


class ReportConfig(ConfigModel):
    """What report.html shows."""

    title: str = Field("Font validation report", description="heading of the report")
    glyph_px: int = Field(20, ge=8, le=64, description="side of one glyph in thumbnails")
    columns: int = Field(16, ge=4, le=128, description="glyphs per row in a thumbnail")
    max_accepted: int = Field(48, ge=0, description="accepted fonts on the sample sheet")
    max_per_rule: int = Field(30, ge=0, description="rejected fonts shown per rule")
    max_families: int = Field(30, ge=1, description="families listed in the family table")


class ValidationConfig(ConfigModel):
    """Accept or reject every font of a raw store, with reasons, statistics and a report."""

    raw: str = Field(min_length=1, description="URL of the raw store (ingestion's output)")
    output: str = Field(min_length=1, description="URL of the validated output folder")
    charset: str = Field(
        "alphanumeric",
        description=(
            "characters every font must draw (named set: uppercase, lowercase, letters, "
            "digits, alphanumeric, joined with '+'; or the characters themselves)"
        ),
    )
    min_coverage: float = Field(
        0.9, ge=0, le=1, description="fraction of the charset a font must cover"
    )
    rules: RulesConfig = Field(
        default_factory=RulesConfig, description="each rule: enabled, and its settings"
    )
    render: RenderConfig = Field(
        default_factory=RenderConfig,
        description="rendering for image checks, duplicate hashes, ink and thumbnails",
    )
    expand_variable_instances: bool = Field(
        False,
        description="judge each named instance of a variable font as its own row "
        "(id '<font id>@<axis>=<value>,...') instead of the default instance; "
        "preprocessing then renders each instance at its coordinates",
    )
    reference_statistics: str | None = Field(
        None, description="statistics.json of an earlier run to compare with (drift)"
    )
    drift_tolerances: dict[str, float] = Field(
        default_factory=lambda: {
            "accepted_fraction": 0.1,
            "rule.*": 0.1,
            "format.*": 0.15,
            "italic_fraction": 0.1,
            "weight_mean": 50.0,
            "width_mean": 0.5,
            "coverage_mean": 0.05,
            "coverage.*": 0.1,
            "ink_mean.*": 0.02,
            "ink_std.*": 0.02,
        },
        description=(
            "figure name pattern (fnmatch) -> largest allowed absolute change; the first "
            "matching pattern applies; figures no pattern matches are not compared"
        ),
    )
    fail_on_drift: bool = Field(False, description="drift beyond tolerance fails the run")
    max_reject_fraction: float = Field(
        0.9, ge=0, le=1, description="fail the run when more than this fraction is rejected"
    )
    min_accepted: int = Field(1, ge=0, description="fail the run with fewer accepted fonts")
    engine: engines.spec_type() = Field(  # type: ignore[valid-type]
        default_factory=_default_engine,
        description="how fonts are inspected: {class: local, kwargs: {workers: N}} or beam",
    )
    report: ReportConfig = Field(default_factory=ReportConfig, description="report.html")

    @field_validator("charset")
    @classmethod
    def _charset_resolves(cls, value: str) -> str:
        resolve_charset(value)
        return value

    @field_validator("drift_tolerances")
    @classmethod
    def _tolerances_positive(cls, value: dict[str, float]) -> dict[str, float]:
        for pattern, tolerance in value.items():
            if tolerance < 0:
                raise ValueError(f"tolerance of {pattern!r} must be >= 0 (got {tolerance})")
        return value

    @model_validator(mode="after")
    def _one_charset(self) -> ValidationConfig:
        if "charset" in self.render.model_fields_set and self.render.charset != self.charset:
            raise ValueError(
                "render.charset differs from charset; set validation.charset only "
                f"(got render.charset {self.render.charset!r}, charset {self.charset!r})"
            )
        return self

    def render_config(self) -> RenderConfig:
        """The rendering validation uses: ``render`` with ``charset``, duplicates kept.

        Duplicate images are kept (not dropped) so thumbnails show what the font draws
        and the symbol rule can see letters that are copies of each other.
        """
        return self.render.model_copy(update={"charset": self.charset, "drop_duplicates": False})

    def rule_params(self, name: str) -> Any:
        """The settings of rule ``name``."""
        return getattr(self.rules, name)
