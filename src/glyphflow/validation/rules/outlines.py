"""Rule ``outlines``: the font has vector outlines (glyf, CFF, CFF2 or Type 1).

Bitmap-only fonts (EBDT/EBLC) and colour bitmap fonts (CBDT, sbix) scale badly and
give nothing for an outline-based style model to learn; neither does a font whose
outline table holds only empty glyphs (colour emoji fonts often carry an empty glyf).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from glyphflow.validation.rules.base import FontRule

if TYPE_CHECKING:
    from glyphflow.validation.facts import FontFacts

__all__ = ["OutlinesRule"]


class OutlinesRule(FontRule):
    name: ClassVar[str] = "outlines"
    title: ClassVar[str] = "Has vector outlines"
    explanation: ClassVar[str] = (
        "Glyphs are drawn as outlines (glyf, CFF, CFF2 or Type 1), not only as bitmaps "
        "or colour bitmaps (EBDT, CBDT, sbix), and at least one glyph besides .notdef has "
        "a contour."
    )
    advice: ClassVar[str] = (
        "Bitmap and colour-emoji fonts cannot be learned from as outlines; remove them from "
        "the sources to silence this."
    )
    requires: ClassVar[tuple[str, ...]] = ("parses",)
    order: ClassVar[int] = 20

    def check(self, facts: FontFacts) -> str | None:
        bitmaps = ", ".join(facts.bitmap_tables)
        if facts.outline_format is None:
            if bitmaps:
                return f"bitmap-only font: it has {bitmaps} but no glyf, CFF or CFF2 outlines"
            return "the font has no outline table (glyf, CFF or CFF2)"
        if facts.has_outlines is False:
            extra = f" (its pictures are in {bitmaps})" if bitmaps else ""
            return (
                f"the {facts.outline_format} table holds no contour in any glyph besides "
                f".notdef{extra}"
            )
        return None
