"""What a validation rule is, and the registry that holds them.

A rule judges fonts from their :class:`~glyphflow.validation.facts.FontFacts`:

- a :class:`FontRule` looks at one font and returns ``None`` (pass) or a message;
- a :class:`CorpusRule` looks at all fonts at once (duplicates) and returns a message per
  font that fails.

Each rule has a ``Params`` model (a :class:`RuleParams`, so ``enabled`` plus its own
settings), which becomes ``validation.rules.<name>`` in the config file: a typo in a
rule's settings is a config error with a line number. ``requires`` names rules that
must pass first: a font that fails one of them is not judged by this rule (it is
counted as skipped), so a font without outlines is reported as "no outlines", not also
as "covers 0% of the charset".

Plugins add rules through the ``glyphflow.plugins`` entry point::

    def register(registries):
        registries["validation_rule"].register("my_rule", MyRule)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from glyphflow.core.config import ConfigModel
from glyphflow.core.registry import Registry

if TYPE_CHECKING:
    from glyphflow.validation.facts import FontFacts

__all__ = [
    "CorpusRule",
    "FontRule",
    "Rule",
    "RuleContext",
    "RuleParams",
    "ordered_rules",
    "validation_rules",
]


class RuleParams(ConfigModel):
    """Settings every rule has; a rule's own ``Params`` adds to them."""

    enabled: bool = Field(True, description="judge fonts by this rule")


@dataclass(frozen=True)
class RuleContext:
    """Stage-wide settings some rules read (the charset and its required coverage)."""

    charset: str
    min_coverage: float


class Rule:
    """Base of every rule. Subclass :class:`FontRule` or :class:`CorpusRule`."""

    #: Registered name, also the ``rule`` column of rejected.parquet.
    name: ClassVar[str] = ""
    #: A few words for the report's headings.
    title: ClassVar[str] = ""
    #: What the rule checks and why a font that fails it is unfit, for the report.
    explanation: ClassVar[str] = ""
    #: What a user can do about fonts this rule rejects (settings to change), for the report.
    advice: ClassVar[str] = ""
    #: Rules a font must pass before this one judges it.
    requires: ClassVar[tuple[str, ...]] = ()
    #: Position in the report and in evaluation (lower first); plugins default after
    #: the built-in per-font rules.
    order: ClassVar[int] = 80
    Params: ClassVar[type[RuleParams]] = RuleParams

    def __init__(self, params: RuleParams, context: RuleContext) -> None:
        self.params = params
        self.context = context

    def describe_params(self) -> dict[str, Any]:
        """The settings in force, for the report."""
        return {k: v for k, v in self.params.model_dump(mode="json").items() if k != "enabled"}


class FontRule(Rule):
    """A rule that judges one font at a time."""

    def check(self, facts: FontFacts) -> str | None:
        """None when ``facts`` pass, else a message saying what is wrong."""
        raise NotImplementedError


class CorpusRule(Rule):
    """A rule that judges fonts against each other (for example duplicates)."""

    order: ClassVar[int] = 100

    def check_corpus(
        self, fonts: Sequence[FontFacts], failed: Mapping[str, Sequence[str]]
    ) -> dict[str, str]:
        """Font id -> message for each font that fails.

        ``fonts`` are the fonts this rule judges (its ``requires`` passed); ``failed``
        maps every font id to the names of the other rules it failed so far, so a rule
        can prefer to keep a font that is otherwise fine.
        """
        raise NotImplementedError


validation_rules: Registry[type[Rule]] = Registry("validation_rule")


def ordered_rules() -> list[type[Rule]]:
    """Every registered rule class, in evaluation order (order, then name)."""
    classes = [validation_rules.get(name) for name in validation_rules.names()]
    return sorted(classes, key=lambda cls: (cls.order, cls.name))
