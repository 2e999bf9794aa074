"""The validation config: the example loads, rule settings are checked with locations."""

from __future__ import annotations

from pathlib import Path

import pytest

from glyphflow.core.config import load_config
from glyphflow.core.errors import ConfigError
from glyphflow.validation.config import ValidationConfig, _rules_model
from glyphflow.validation.facts import FontFacts
from glyphflow.validation.judge import judge
from glyphflow.validation.rules import FontRule, RuleContext, RuleParams, validation_rules
from glyphflow.validation.rules.parsing import ParsesRule

EXAMPLE = Path(__file__).resolve().parents[2] / "configs" / "examples" / "validate.yaml"


def _load(text: str, *overrides: str) -> ValidationConfig:
    return load_config("validation", ValidationConfig, "v.yaml", list(overrides), text=text)


def test_example_config_loads_and_overrides_apply() -> None:
    config = load_config(
        "validation", ValidationConfig, str(EXAMPLE), ["validation.rules.licence.enabled=true"]
    )
    assert config.raw == "data/raw"
    assert config.rules.licence.enabled is True  # type: ignore[attr-defined]
    assert config.rules.symbol.near_identical == 0.005  # type: ignore[attr-defined]
    assert config.render_config().charset == "alphanumeric"
    assert config.render_config().drop_duplicates is False


def test_rule_setting_typos_and_bad_values_are_located() -> None:
    text = (
        "validation:\n"
        "  raw: r\n"
        "  output: o\n"
        "  rules:\n"
        "    symbl: {enabled: false}\n"
        "    sanity: {min_units_per_em: 2000, max_units_per_em: 1000}\n"
        "    coverage: {enable: false}\n"
    )
    with pytest.raises(ConfigError) as caught:
        _load(text)
    message = str(caught.value)
    assert "v.yaml:5:5: validation.rules.symbl: unknown setting; did you mean 'symbol'?" in message
    assert "v.yaml:6:5: validation.rules.sanity" in message
    assert "min_units_per_em must be <= max_units_per_em" in message
    assert "validation.rules.coverage.enable: unknown setting; did you mean 'enabled'?" in message


def test_charset_is_set_once() -> None:
    with pytest.raises(ConfigError, match=r"set validation\.charset only"):
        _load("validation: {raw: r, output: o, charset: letters, render: {charset: digits}}")
    with pytest.raises(ConfigError, match="charset"):
        _load("validation: {raw: r, output: o, charset: 'AA'}")
    with pytest.raises(ConfigError, match=r"--set validation\.rules\.nope"):
        _load("validation: {raw: r, output: o}", "validation.rules.nope.enabled=false")


class _NoQRule(FontRule):
    """A plugin-style rule: rejects fonts that do not draw Q."""

    name = "needs_q"
    title = "Draws Q"
    explanation = "Test rule."
    requires = ("parses",)

    def check(self, facts: FontFacts) -> str | None:
        return None if "Q" in facts.letter_names else "no Q"


def test_plugin_rules_join_the_config_and_the_judgement() -> None:
    validation_rules.register("needs_q", _NoQRule)
    try:
        model = _rules_model()
        assert "needs_q" in model.model_fields
        rules = model.model_validate({"needs_q": {"enabled": True}})
        assert isinstance(rules.needs_q, RuleParams)  # type: ignore[attr-defined]
        context = RuleContext(charset="PQ", min_coverage=0.5)
        rule = _NoQRule(RuleParams(), context)
        fonts = [
            FontFacts(id="a", row={}, charset="PQ", letter_names={"P": "P", "Q": "Q"}),
            FontFacts(id="b", row={}, charset="PQ", letter_names={"P": "P"}),
            FontFacts(id="c", row={}, charset="PQ", parse_errors={"read": "gone"}),
        ]
        verdicts = judge(fonts, [ParsesRule(RuleParams(), context), rule])
        assert verdicts.failures == {
            "a": [],
            "b": [("needs_q", "no Q")],
            "c": [("parses", "read: gone")],
        }
        assert verdicts.skipped["needs_q"] == {"c"}
    finally:
        validation_rules._items.pop("needs_q", None)
