"""The blessing rules on hand-made figures: fail closed, say why, list every check."""

from __future__ import annotations

from typing import Any

import pytest

from glyphflow.evaluation.blessing import ChampionResult, decide
from glyphflow.evaluation.config import EvaluationConfig


def _config(**changes: Any) -> EvaluationConfig:
    data: dict[str, Any] = {
        "glyphs": "g",
        "model": "m",
        "output": "o",
        "k_shots": [4],
        "thresholds": {
            "absolute": {"few_shot.k4.l1": {"max": 0.2}},
            "baseline": {"few_shot.k4.l1": 0.1, "few_shot.k4.ssim": 0.0},
        },
    }
    data.update(changes)
    return EvaluationConfig.model_validate(data)


MODEL = {"novel": {"few_shot.k4.l1": 0.1, "few_shot.k4.ssim": 0.8}}
BASELINE = {"novel": {"few_shot.k4.l1": 0.2, "few_shot.k4.ssim": 0.7}}
FONTS = {"all": 5, "novel": 3}


def test_all_checks_pass_and_are_listed() -> None:
    verdict = decide(_config(), MODEL, BASELINE, FONTS, None)
    assert verdict.blessed and verdict.name == "BLESSED" and verdict.reasons == []
    assert [c.kind for c in verdict.checks] == ["absolute", "baseline", "baseline"]
    assert all(c.passed for c in verdict.checks)
    assert verdict.text().startswith("BLESSED\n")


def test_baseline_margin_is_a_fraction_of_the_baseline() -> None:
    # 0.1 must be <= 0.2 * (1 - 0.1) = 0.18: passes; 0.19 does not
    close = {"novel": {"few_shot.k4.l1": 0.19, "few_shot.k4.ssim": 0.8}}
    verdict = decide(_config(), close, BASELINE, FONTS, None)
    assert not verdict.blessed
    assert verdict.reasons == [
        "few_shot.k4.l1 = 0.19 does not beat the baseline's 0.2 by 10% (lower is better) "
        "(novel test fonts)"
    ]
    failed = [c for c in verdict.checks if not c.passed]
    assert failed[0].bound == pytest.approx(0.18)


def test_thresholds_read_the_configured_subset() -> None:
    model = {"all": {"few_shot.k4.l1": 0.5, "few_shot.k4.ssim": 0.1}, **MODEL}
    assert decide(_config(), model, BASELINE, FONTS, None).blessed
    config = _config(thresholds={**_config().thresholds.model_dump(), "subset": "all"})
    verdict = decide(config, model, BASELINE, FONTS, None)
    assert not verdict.blessed and "(all test fonts)" in verdict.reasons[0]


def test_no_novel_fonts_or_no_thresholds_or_missing_figures_fail_closed() -> None:
    verdict = decide(_config(), MODEL, BASELINE, {"all": 5, "novel": 0}, None)
    assert not verdict.blessed and verdict.reasons[0].startswith("no novel test fonts")
    verdict = decide(_config(thresholds={}), MODEL, BASELINE, FONTS, None)
    assert not verdict.blessed and verdict.reasons[0].startswith("no thresholds configured")
    unmeasured = {"novel": {"few_shot.k4.l1": None, "few_shot.k4.ssim": 0.8}}
    verdict = decide(_config(), unmeasured, BASELINE, FONTS, None)
    assert not verdict.blessed
    assert "few_shot.k4.l1 could not be measured (novel test fonts)" in verdict.reasons


def test_champion_comparison() -> None:
    better = ChampionResult(
        "style", "champion", "3", figures={"few_shot.k4.l1": 0.05, "few_shot.k4.ssim": 0.8}
    )
    verdict = decide(_config(), MODEL, BASELINE, FONTS, better)
    assert not verdict.blessed
    assert verdict.reasons == [
        "few_shot.k4.l1 = 0.1 is worse than champion style v3's 0.05 (lower is better) "
        "(novel test fonts)"
    ]
    # metrics compared with the champion default to those with thresholds
    assert [c.metric for c in verdict.checks if c.kind == "champion"] == [
        "few_shot.k4.l1",
        "few_shot.k4.ssim",
    ]
    worse = ChampionResult("style", "champion", "3", figures={"few_shot.k4.l1": 0.12})
    tolerant = _config(champion={"metrics": ["few_shot.k4.l1"], "tolerance": 0.5})
    assert decide(tolerant, MODEL, BASELINE, FONTS, better).blessed is False  # 0.1 > 0.075
    assert decide(tolerant, MODEL, BASELINE, FONTS, worse).blessed
    broken = ChampionResult("style", "champion", "3", problem="it makes 64x64 glyphs")
    verdict = decide(_config(), MODEL, BASELINE, FONTS, broken)
    assert not verdict.blessed and "could not be compared: it makes 64x64" in verdict.reasons[0]
    itself = ChampionResult("style", "champion", "3", same_as_candidate=True)
    verdict = decide(_config(), MODEL, BASELINE, FONTS, itself)
    assert verdict.blessed and "re-evaluated" in verdict.notes[0]
    nobody = ChampionResult("style", "champion", None)
    verdict = decide(_config(), MODEL, BASELINE, FONTS, nobody)
    assert verdict.blessed and "nothing to compare with" in verdict.notes[0]
