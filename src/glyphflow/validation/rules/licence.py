"""Rule ``licence``: the font's licence is on an allow-list (off by default).

Ingestion guesses a licence id from the name table (``OFL-1.1``, ``Apache-2.0``,
``unknown``...). A team that may only train on some licences turns this rule on and
lists them; the guess is a guess, so ``unknown`` is refused unless listed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from glyphflow.validation.rules.base import FontRule, RuleParams

if TYPE_CHECKING:
    from glyphflow.validation.facts import FontFacts

__all__ = ["LicenceParams", "LicenceRule"]


class LicenceParams(RuleParams):
    enabled: bool = Field(False, description="judge fonts by this rule (off by default)")
    allow: list[str] = Field(
        default_factory=lambda: ["OFL-1.1", "Apache-2.0", "UFL-1.0", "MIT", "Bitstream-Vera"],
        description="licence ids accepted, as ingestion writes them in license_id",
    )


class LicenceRule(FontRule):
    name: ClassVar[str] = "licence"
    title: ClassVar[str] = "Licence on the allow-list"
    explanation: ClassVar[str] = (
        "The licence id ingestion found in the font (license_id) is one of the allowed "
        "ones. Off unless enabled."
    )
    advice: ClassVar[str] = (
        "Add licence ids to validation.rules.licence.allow, or fix the licence text "
        "upstream; ingestion guesses the id from the name table."
    )
    order: ClassVar[int] = 60
    Params: ClassVar[type[RuleParams]] = LicenceParams

    def check(self, facts: FontFacts) -> str | None:
        p = self.params
        assert isinstance(p, LicenceParams)
        licence = facts.row.get("license_id") or "unknown"
        if licence in p.allow:
            return None
        allowed = ", ".join(p.allow) or "(none)"
        return f"licence {licence!r} is not on the allow-list ({allowed})"
