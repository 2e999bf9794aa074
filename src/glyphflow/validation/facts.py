"""What validation knows about one font: measured once, judged by every rule.

Inspecting a font (parsing it with fontTools and FreeType, rendering its charset) is the
expensive part of validation; rules are cheap predicates over the :class:`FontFacts`
that inspection produced. Keeping the two apart means a rule's parameters can change
without re-reading a font, a plugin rule sees the same facts as the built-in ones, and
facts travel between worker processes as plain data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["MISSING_REASONS", "FontFacts"]

#: Render reasons that mean "the font does not draw this character" (coverage). The other
#: reasons (``notdef``, ``duplicate``, ``clipped``) still mean an outline is there.
MISSING_REASONS = frozenset({"not_in_cmap", "empty", "no_outline", "unreadable"})


@dataclass
class FontFacts:
    """Everything rules look at for one font face (or one named instance)."""

    id: str
    row: dict[str, Any]  # the raw index row, plus ``instance``
    charset: str  # characters checked, in label order
    format: str | None = None  # ttf otf ttc otc woff woff2 pfb pfa
    file_bytes: int = 0
    # Parser name ("read", "fontTools", "FreeType", "instancer") -> what it said.
    parse_errors: dict[str, str] = field(default_factory=dict)
    units_per_em: int | None = None
    num_glyphs: int | None = None
    outline_format: str | None = None  # glyf, CFF, CFF2 or Type 1; None: no outline table
    bitmap_tables: tuple[str, ...] = ()  # EBDT, CBDT, sbix... present in the font
    has_outlines: bool | None = None  # some glyph other than .notdef has a contour
    # How letters are looked up: "unicode" (a Unicode cmap), "symbol" (only a Windows
    # Symbol (3,0) cmap: code c at U+F000+c, as Windows does), "type1" (Type 1 built-in
    # encoding beside FreeType's Unicode map), or "none".
    encoding: str = "none"
    letter_names: dict[str, str] = field(default_factory=dict)  # char -> glyph name
    reasons: tuple[str | None, ...] = ()  # per charset character, from render_font
    render_error: str | None = None  # render_font refused the whole font
    # Pairs of rendered letters whose images differ by less than ``close_limit`` (mean
    # absolute difference, 0..1): (char, char, distance).
    close_pairs: tuple[tuple[str, str, float], ...] = ()
    ink: tuple[float, ...] = ()  # ink fraction per charset character (NaN: not drawn)
    glyph_hash: str | None = None  # hash of the rendered glyphs (None: nothing drawn)
    preview: bytes | None = None  # PNG sheet of the rendered charset, for the report
    seconds: float = 0.0  # time spent inspecting

    @property
    def parsed(self) -> bool:
        return not self.parse_errors

    @property
    def covered(self) -> list[bool]:
        """Per charset character: the font draws it (in the cmap, an outline, not .notdef)."""
        if not self.reasons:
            return [False] * len(self.charset)
        return [r is None or r not in MISSING_REASONS for r in self.reasons]

    @property
    def coverage(self) -> float:
        """Fraction of the charset the font draws."""
        if not self.charset:
            return 0.0
        return sum(self.covered) / len(self.charset)

    @property
    def rendered(self) -> int:
        """How many charset characters have an image."""
        return sum(r is None for r in self.reasons)

    def label(self) -> str:
        """A short human name: full name (or family) and file."""
        row = self.row
        name = row.get("full_name") or row.get("family") or "(no name)"
        return str(name)
