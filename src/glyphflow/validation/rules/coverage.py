"""Rule ``coverage``: the font draws enough of the configured charset.

A character counts as covered when the font's character map has it, it does not map to
.notdef, and its glyph has an outline with ink. ``validation.min_coverage`` is the
fraction of ``validation.charset`` required; a font that covers half the alphabet
teaches a model half a style and leaves gaps it cannot complete.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, ClassVar

from glyphflow.validation.facts import MISSING_REASONS
from glyphflow.validation.rules.base import FontRule

if TYPE_CHECKING:
    from glyphflow.validation.facts import FontFacts

__all__ = ["CoverageRule", "describe_missing"]

_REASON_WORDS = {
    "not_in_cmap": "not in the cmap (or mapped to .notdef)",
    "empty": "empty outline",
    "no_outline": "bitmap only",
    "unreadable": "glyph unreadable",
}


def describe_missing(facts: FontFacts, limit: int = 40) -> str:
    """``not in the cmap: a b c; empty outline: x`` for the characters not covered."""
    groups: dict[str, list[str]] = defaultdict(list)
    for char, reason in zip(facts.charset, facts.reasons, strict=False):
        if reason in MISSING_REASONS:
            groups[_REASON_WORDS.get(str(reason), str(reason))].append(char)
    parts = []
    for words, chars in groups.items():
        if len(chars) == len(facts.charset):
            parts.append(f"all of them, {words}")
            continue
        shown = " ".join(chars[:limit]) + (" ..." if len(chars) > limit else "")
        parts.append(f"{words}: {shown}")
    return "; ".join(parts)


class CoverageRule(FontRule):
    name: ClassVar[str] = "coverage"
    title: ClassVar[str] = "Covers the charset"
    explanation: ClassVar[str] = (
        "Each character of the charset is in the cmap, does not map to .notdef and has a "
        "non-empty outline; the covered fraction must reach min_coverage."
    )
    advice: ClassVar[str] = (
        "Fonts for other scripts land here. To keep partial fonts, lower "
        "validation.min_coverage or narrow validation.charset."
    )
    requires: ClassVar[tuple[str, ...]] = ("parses", "outlines")
    order: ClassVar[int] = 40

    def check(self, facts: FontFacts) -> str | None:
        if facts.render_error is not None:
            return f"cannot render the charset: {facts.render_error}"
        coverage = facts.coverage
        need = self.context.min_coverage
        if coverage >= need:
            return None
        covered = sum(facts.covered)
        return (
            f"covers {covered} of {len(facts.charset)} characters ({coverage:.0%}, "
            f"needs {need:.0%}); missing {describe_missing(facts)}"
        )

    def describe_params(self) -> dict[str, object]:
        return {"charset": self.context.charset, "min_coverage": self.context.min_coverage}
