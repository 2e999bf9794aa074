"""Apply the rules to the facts: every failed rule of every font, and who was skipped.

Per-font rules run first, in rule order; a rule whose ``requires`` a font failed is
skipped for that font (and counted as skipped, so the report can say "not judged").
Corpus rules (duplicates) run last, over the fonts their requirements let through,
knowing which other rules each font failed. A rule that raises on a font is a bug in
the rule, not in the font: the font is rejected with a message naming the rule's error
and a warning is logged, so one odd font cannot stop a run of thousands.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from glyphflow.validation.facts import FontFacts
from glyphflow.validation.rules.base import CorpusRule, FontRule, Rule

__all__ = ["Verdicts", "judge"]

_log = logging.getLogger(__name__)


@dataclass
class Verdicts:
    """The outcome: failures per font (rule order), skipped fonts per rule."""

    rules: list[Rule]
    failures: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    skipped: dict[str, set[str]] = field(default_factory=dict)

    def accepted(self, font_id: str) -> bool:
        return not self.failures.get(font_id)

    def failed_rules(self, font_id: str) -> list[str]:
        return [rule for rule, _ in self.failures.get(font_id, [])]

    def failed_count(self, rule: str) -> int:
        return sum(1 for fails in self.failures.values() if any(r == rule for r, _ in fails))

    def only_reason_count(self, rule: str) -> int:
        """Fonts rejected by ``rule`` alone."""
        return sum(1 for fails in self.failures.values() if [r for r, _ in fails] == [rule])


def judge(facts: Sequence[FontFacts], rules: Sequence[Rule]) -> Verdicts:
    """Run every enabled rule; see the module docstring for the order."""
    verdicts = Verdicts(rules=list(rules))
    enabled = [rule for rule in rules if rule.params.enabled]
    for rule in enabled:
        verdicts.skipped[rule.name] = set()
    for font in facts:
        verdicts.failures[font.id] = []
    for rule in enabled:
        if not isinstance(rule, FontRule):
            continue
        for font in facts:
            failed = verdicts.failed_rules(font.id)
            if any(name in failed for name in rule.requires):
                verdicts.skipped[rule.name].add(font.id)
                continue
            message = _check(rule, font)
            if message:
                verdicts.failures[font.id].append((rule.name, message))
    for rule in enabled:
        if not isinstance(rule, CorpusRule):
            continue
        judged = []
        for font in facts:
            if any(name in verdicts.failed_rules(font.id) for name in rule.requires):
                verdicts.skipped[rule.name].add(font.id)
            else:
                judged.append(font)
        failed_so_far = {font.id: verdicts.failed_rules(font.id) for font in facts}
        for font_id, message in sorted(rule.check_corpus(judged, failed_so_far).items()):
            verdicts.failures[font_id].append((rule.name, message))
    return verdicts


def _check(rule: FontRule, font: FontFacts) -> str | None:
    try:
        return rule.check(font)
    except Exception as err:
        _log.warning("rule %r failed on font %s", rule.name, font.id, exc_info=True)
        return f"the rule itself failed on this font ({type(err).__name__}: {err})"
