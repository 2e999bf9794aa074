"""The verdict: BLESSED only when every threshold holds and the champion is not better.

Blessing is the gate to service, so it fails closed: no thresholds, a metric that could
not be measured, no test font in the subset the thresholds read, or a champion that
cannot be compared all give NOT_BLESSED, each with a reason a person can act on. Every
check, passed or not, is listed with its figures so the verdict can be audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from glyphflow.evaluation.config import EvaluationConfig, higher_is_better

__all__ = ["ChampionResult", "Check", "Verdict", "decide"]

Figures = Mapping[str, float | None]


@dataclass(frozen=True)
class Check:
    """One comparison: ``value`` of ``metric`` against ``bound`` (what, and whether it held)."""

    kind: str  # absolute | baseline | champion
    metric: str
    value: float | None
    bound: float | None
    passed: bool
    message: str


@dataclass
class ChampionResult:
    """The model in service: who it is and its figures on the same fonts (if evaluated)."""

    name: str | None
    alias: str
    version: str | None = None
    same_as_candidate: bool = False
    figures: dict[str, float | None] | None = None
    problem: str | None = None  # why it could not be evaluated


@dataclass
class Verdict:
    blessed: bool
    reasons: list[str] = field(default_factory=list)  # why not (empty when blessed)
    notes: list[str] = field(default_factory=list)  # what else a reader should know
    checks: list[Check] = field(default_factory=list)

    @property
    def name(self) -> str:
        return "BLESSED" if self.blessed else "NOT_BLESSED"

    def text(self) -> str:
        """The verdict file's content: the verdict, the reasons, every check."""
        lines = [self.name, ""]
        if self.reasons:
            lines.append("Reasons:")
            lines.extend(f"- {r}" for r in self.reasons)
            lines.append("")
        if self.notes:
            lines.append("Notes:")
            lines.extend(f"- {n}" for n in self.notes)
            lines.append("")
        if self.checks:
            lines.append("Checks:")
            lines.extend(f"- [{'pass' if c.passed else 'FAIL'}] {c.message}" for c in self.checks)
            lines.append("")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.name,
            "blessed": self.blessed,
            "reasons": list(self.reasons),
            "notes": list(self.notes),
            "checks": [asdict(c) for c in self.checks],
        }


def _fmt(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.4g}"


def _absolute(metric: str, value: float | None, low: float | None, high: float | None) -> Check:
    if value is None:
        return Check(
            "absolute",
            metric,
            None,
            low if high is None else high,
            False,
            f"{metric} could not be measured",
        )
    failures = []
    if low is not None and value < low:
        failures.append(f"below min {low:.4g}")
    if high is not None and value > high:
        failures.append(f"above max {high:.4g}")
    bounds = " and ".join(
        part
        for part in (
            f">= {low:.4g}" if low is not None else "",
            f"<= {high:.4g}" if high is not None else "",
        )
        if part
    )
    if failures:
        message = f"{metric} = {_fmt(value)}, {' and '.join(failures)}"
    else:
        message = f"{metric} = {_fmt(value)} {bounds}"
    return Check(
        "absolute", metric, value, high if high is not None else low, not failures, message
    )


def _relative(
    kind: str, metric: str, value: float | None, other: float | None, margin: float, who: str
) -> Check:
    """Baseline: the model must beat ``other`` by ``margin``; champion: lose by at most it."""
    if value is None or other is None:
        missing = "the model's" if value is None else f"the {who}'s"
        return Check(
            kind, metric, value, other, False, f"{metric}: {missing} figure could not be measured"
        )
    up = higher_is_better(metric)
    sign = 1.0 if (kind == "baseline") == up else -1.0
    bound = other * (1 + sign * margin)
    passed = value >= bound if up else value <= bound
    direction = "higher" if up else "lower"
    if kind == "baseline":
        goal = "beat" if margin else "match or beat"
        extra = f" by {margin:.0%}" if margin else ""
        verb = goal if passed else f"does not {goal}"
        if passed:
            verb = "beats" if margin else "matches or beats"
        message = f"{metric} = {_fmt(value)} {verb} the baseline's {_fmt(other)}{extra}"
    else:
        extra = f" (tolerance {margin:.0%})" if margin else ""
        verb = "is no worse than" if passed else "is worse than"
        message = f"{metric} = {_fmt(value)} {verb} {who}'s {_fmt(other)}{extra}"
    return Check(kind, metric, value, bound, passed, f"{message} ({direction} is better)")


def decide(
    config: EvaluationConfig,
    model: Mapping[str, Figures],
    baseline: Mapping[str, Figures],
    fonts: Mapping[str, int],
    champion: ChampionResult | None,
) -> Verdict:
    """Apply the thresholds (on ``config.thresholds.subset``) and the champion comparison.

    ``model`` and ``baseline`` map subset name -> metric -> value; ``fonts`` the number of
    test fonts in each subset.
    """
    thresholds = config.thresholds
    subset = thresholds.subset
    verdict = Verdict(blessed=False)
    if not thresholds.absolute and not thresholds.baseline:
        verdict.reasons.append(
            "no thresholds configured: set evaluation.thresholds.absolute and/or "
            "evaluation.thresholds.baseline; a model is never blessed without them"
        )
    if fonts.get(subset, 0) == 0:
        if subset == "novel":
            verdict.reasons.append(
                f"no novel test fonts: every test font has a training font within "
                f"novelty_l1={config.novelty_l1:g} (a twin the baseline copies); raise "
                "evaluation.novelty_l1 with care, or hold out other fonts"
            )
        else:
            verdict.reasons.append("no test fonts to judge the model on")
    figures = model.get(subset, {})
    base = baseline.get(subset, {})
    for metric, limit in thresholds.absolute.items():
        verdict.checks.append(_absolute(metric, figures.get(metric), limit.min, limit.max))
    for metric, margin in thresholds.baseline.items():
        verdict.checks.append(
            _relative("baseline", metric, figures.get(metric), base.get(metric), margin, "baseline")
        )
    if champion is not None:
        _champion_checks(config, verdict, figures, champion)
    failed = [c for c in verdict.checks if not c.passed]
    for check in failed:
        where = f" ({subset} test fonts)"
        verdict.reasons.append(check.message + where)
    verdict.blessed = not verdict.reasons
    return verdict


def _champion_checks(
    config: EvaluationConfig, verdict: Verdict, figures: Figures, champion: ChampionResult
) -> None:
    who = f"champion {champion.name} v{champion.version}"
    if champion.version is None and champion.problem is not None:
        verdict.notes.append(f"no comparison with a champion: {champion.problem}")
        return
    if champion.version is None:
        verdict.notes.append(
            f"no current {champion.alias!r} of {champion.name or 'the registered model'}: "
            "nothing to compare with"
        )
        return
    if champion.same_as_candidate:
        verdict.notes.append(f"the model is the current {who} (re-evaluated)")
        return
    if champion.problem is not None:
        verdict.reasons.append(f"the current {who} could not be compared: {champion.problem}")
        return
    if champion.figures is None:
        return
    for metric in config.compared_metrics():
        verdict.checks.append(
            _relative(
                "champion",
                metric,
                figures.get(metric),
                champion.figures.get(metric),
                config.champion.tolerance,
                who,
            )
        )
