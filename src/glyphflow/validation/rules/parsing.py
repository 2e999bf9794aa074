"""Rule ``parses``: fontTools and FreeType both read the font.

Training renders with FreeType and the serving stage builds fonts with fontTools, so a
font either of them refuses cannot be used, whatever else it looks like. The messages
are the parsers' own, prefixed with which parser said it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from glyphflow.validation.rules.base import FontRule

if TYPE_CHECKING:
    from glyphflow.validation.facts import FontFacts

__all__ = ["ParsesRule"]


class ParsesRule(FontRule):
    name: ClassVar[str] = "parses"
    title: ClassVar[str] = "Parses with fontTools and FreeType"
    explanation: ClassVar[str] = (
        "The file is read by fontTools (tables, cmap, names) and opened by FreeType "
        "(the renderer training uses). A font either refuses is damaged or not a font; "
        "the other rules are not run on it."
    )
    advice: ClassVar[str] = (
        "Nothing to tune: re-download or drop the file; the message names the parser and "
        "what it refused."
    )
    order: ClassVar[int] = 10

    def check(self, facts: FontFacts) -> str | None:
        if not facts.parse_errors:
            return None
        return "; ".join(f"{parser}: {message}" for parser, message in facts.parse_errors.items())
