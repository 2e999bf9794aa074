"""Rule ``symbol``: not a symbol, icon or dingbat font that puts pictures on letters.

Three independent signs, each can be switched off:

- the cmap: only a Windows Symbol (3,0) subtable and no Unicode one. Such fonts are
  read the way Windows shows them (code c at U+F000+c), so the report's thumbnails show
  the pictures they draw where letters should be;
- glyph names: the glyphs the font's encoding puts at letters carry names of other
  characters (``A`` -> ``Alpha``, ``a10``...). Generic names (``glyph12``, ``cid42``) say
  nothing and are not counted;
- images: most rendered letters are near-identical to another letter or to .notdef
  (a font of boxes, or of one picture repeated). Upper/lower case pairs that look alike
  (an all-caps font) are not counted unless ``ignore_case_pairs`` is off.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from glyphflow.validation.rules.base import FontRule, RuleParams

if TYPE_CHECKING:
    from glyphflow.validation.facts import FontFacts

__all__ = ["CLOSE_LIMIT", "SymbolParams", "SymbolRule", "is_generic_name", "name_matches"]

#: Largest ``near_identical`` allowed; inspection records letter pairs closer than this.
CLOSE_LIMIT = 0.05

_GENERIC = re.compile(r"^(\.notdef|glyph\d+|gid\d+|cid\d+|g\d+|index\d+|#\d+|_\d+)$", re.I)


class SymbolParams(RuleParams):
    symbol_cmap: bool = Field(True, description="fail fonts with only a Symbol (3,0) cmap")
    glyph_names: bool = Field(True, description="fail fonts whose letters are named otherwise")
    max_misnamed_fraction: float = Field(
        0.5, gt=0, le=1, description="fail when at least this fraction of letters is misnamed"
    )
    min_named: int = Field(
        8, ge=1, description="judge names only when at least this many letters have names"
    )
    images: bool = Field(True, description="fail fonts whose letters look alike")
    near_identical: float = Field(
        0.005,
        gt=0,
        le=CLOSE_LIMIT,
        description="two images closer than this (mean absolute difference, 0..1) are alike",
    )
    max_identical_fraction: float = Field(
        0.5, gt=0, le=1, description="fail when at least this fraction of letters look alike"
    )
    min_rendered: int = Field(
        8, ge=2, description="judge images only when at least this many letters rendered"
    )
    ignore_case_pairs: bool = Field(
        True, description="do not count x and X looking alike (all-caps fonts)"
    )


def is_generic_name(name: str) -> bool:
    """A name that says nothing about the character (``glyph12``, ``cid42``...)."""
    return bool(_GENERIC.match(name))


def name_matches(name: str, char: str) -> bool:
    """The glyph name ``name`` names ``char`` (``A``, ``A.ss01``, ``uni0041``...)."""
    from fontTools import agl

    try:
        text = agl.toUnicode(name)
    except Exception:  # a name agl cannot decode names nothing
        return False
    return bool(text[:1] == char)


class SymbolRule(FontRule):
    name: ClassVar[str] = "symbol"
    title: ClassVar[str] = "Not a symbol, icon or dingbat font"
    explanation: ClassVar[str] = (
        "Letters are letters: the font has a Unicode cmap (not only a Windows Symbol "
        "one), the glyphs at letters are not named after other characters, and the "
        "rendered letters are not mostly copies of each other or of the .notdef box."
    )
    advice: ClassVar[str] = (
        "If a text font is caught, look at its thumbnail: raise max_misnamed_fraction or "
        "max_identical_fraction, lower near_identical, or switch a sign off in "
        "validation.rules.symbol."
    )
    requires: ClassVar[tuple[str, ...]] = ("parses", "outlines")
    order: ClassVar[int] = 50
    Params: ClassVar[type[RuleParams]] = SymbolParams

    def check(self, facts: FontFacts) -> str | None:
        p = self.params
        assert isinstance(p, SymbolParams)
        problems = []
        if p.symbol_cmap and facts.encoding == "symbol":
            problems.append(
                "symbol-encoded: the cmap has only a Windows Symbol (3,0) subtable, no "
                "Unicode one (letters were looked up at U+F000+code, as Windows does)"
            )
        if p.glyph_names:
            problem = self._names(facts, p)
            if problem:
                problems.append(problem)
        if p.images:
            problem = self._images(facts, p)
            if problem:
                problems.append(problem)
        return "; ".join(problems) or None

    @staticmethod
    def _names(facts: FontFacts, p: SymbolParams) -> str | None:
        named = {c: n for c, n in facts.letter_names.items() if n and not is_generic_name(n)}
        if len(named) < p.min_named:
            return None
        wrong = {c: n for c, n in named.items() if not name_matches(n, c)}
        fraction = len(wrong) / len(named)
        if fraction < p.max_misnamed_fraction:
            return None
        examples = ", ".join(f"{c}\u2192{n}" for c, n in list(wrong.items())[:8])
        return (
            f"glyph names say the letters are other characters: {examples} "
            f"({len(wrong)} of {len(named)} named letters, limit {p.max_misnamed_fraction:.0%})"
        )

    @staticmethod
    def _images(facts: FontFacts, p: SymbolParams) -> str | None:
        notdef = [c for c, r in zip(facts.charset, facts.reasons, strict=False) if r == "notdef"]
        judged = facts.rendered + len(notdef)
        if judged < p.min_rendered:
            return None
        parent: dict[str, str] = {}

        def find(c: str) -> str:
            while parent.get(c, c) != c:
                c = parent[c]
            return c

        for a, b, distance in facts.close_pairs:
            if distance >= p.near_identical:
                continue
            if p.ignore_case_pairs and a.lower() == b.lower():
                continue
            parent.setdefault(a, a)
            parent.setdefault(b, b)
            parent[find(a)] = find(b)
        alike = set(parent) | set(notdef)
        fraction = len(alike) / judged
        if fraction < p.max_identical_fraction:
            return None
        groups: dict[str, list[str]] = {}
        for char in facts.charset:
            if char in parent:
                groups.setdefault(find(char), []).append(char)
        shown = []
        if notdef:
            shown.append(".notdef=" + "=".join(notdef[:12]) + ("=..." if len(notdef) > 12 else ""))
        for members in sorted(groups.values(), key=len, reverse=True)[:4]:
            shown.append("=".join(members[:12]) + ("=..." if len(members) > 12 else ""))
        return (
            f"rendered letters look alike: {len(alike)} of {judged} are near-identical to "
            f"another letter or to .notdef ({', '.join(shown)}; limit "
            f"{p.max_identical_fraction:.0%})"
        )
