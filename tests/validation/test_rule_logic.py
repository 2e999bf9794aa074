"""Rules judged on hand-made facts: the edge cases fonts are slow to build for."""

from __future__ import annotations

from typing import Any

from glyphflow.validation.facts import FontFacts
from glyphflow.validation.rules import RuleContext
from glyphflow.validation.rules.duplicates import DuplicatesParams, DuplicatesRule
from glyphflow.validation.rules.symbol import SymbolParams, SymbolRule, is_generic_name

CONTEXT = RuleContext(charset="ABCDEFGHabcdefgh", min_coverage=0.9)


def _facts(font_id: str = "f", **values: Any) -> FontFacts:
    values.setdefault("reasons", (None,) * len(CONTEXT.charset))
    values.setdefault("encoding", "unicode")
    return FontFacts(id=font_id, row=values.pop("row", {}), charset=CONTEXT.charset, **values)


def test_glyph_names_generic_ones_say_nothing() -> None:
    rule = SymbolRule(SymbolParams(), CONTEXT)
    generic = {c: f"glyph{i}" for i, c in enumerate(CONTEXT.charset)}
    assert rule.check(_facts(letter_names=generic)) is None
    assert is_generic_name("cid00042") and not is_generic_name("a10")
    right = {c: f"{c}.ss01" for c in CONTEXT.charset}  # suffixed names name the letter
    assert rule.check(_facts(letter_names=right)) is None
    greek = {c: ("Alpha" if c.isupper() else "alpha") for c in CONTEXT.charset}
    message = rule.check(_facts(letter_names=greek))
    assert message is not None and "A\u2192Alpha" in message and "16 of 16" in message


def test_look_alike_letters_case_pairs_and_notdef() -> None:
    pairs = tuple((c.upper(), c, 0.0) for c in "abcdefgh")  # an all-caps font
    assert SymbolRule(SymbolParams(), CONTEXT).check(_facts(close_pairs=pairs)) is None
    strict = SymbolRule(SymbolParams(ignore_case_pairs=False), CONTEXT)
    message = strict.check(_facts(close_pairs=pairs))
    assert message is not None and "16 of 16" in message
    # Half the letters drawn as .notdef is enough.
    reasons = tuple("notdef" if i % 2 else None for i in range(16))
    message = SymbolRule(SymbolParams(), CONTEXT).check(_facts(reasons=reasons))
    assert message is not None and ".notdef=" in message
    # Pairs above the threshold do not count; too few letters are not judged.
    far = tuple((a, b, 0.01) for a, b in zip("ABCD", "EFGH", strict=True))
    assert SymbolRule(SymbolParams(), CONTEXT).check(_facts(close_pairs=far)) is None
    few = _facts(reasons=(None,) * 4 + ("not_in_cmap",) * 12, close_pairs=(("A", "B", 0.0),))
    assert SymbolRule(SymbolParams(), CONTEXT).check(few) is None


def _twin(font_id: str, fmt: str, glyphs: int, **row: Any) -> FontFacts:
    return _facts(font_id, format=fmt, num_glyphs=glyphs, glyph_hash="same", row=row)


def _duplicates(fonts: list[FontFacts], failed: dict[str, list[str]] | None = None) -> dict:
    return DuplicatesRule(DuplicatesParams(), CONTEXT).check_corpus(fonts, failed or {})


def test_duplicate_keeper_prefers_clean_then_format_then_glyphs_then_id() -> None:
    fonts = [_twin("a", "otf", 90), _twin("b", "ttf", 100), _twin("c", "ttf", 100)]
    # The otf is preferred...
    assert set(_duplicates(fonts)) == {"b", "c"}
    # ...unless it fails another rule.
    out = _duplicates(fonts, {"a": ["coverage"]})
    assert set(out) == {"a", "c"}
    assert "kept that one because it passes the other rules" in out["a"]
    assert "a tie, so the smaller id is kept" in out["c"]
    out = _duplicates([_twin("x", "ttf", 50), _twin("y", "ttf", 60)])
    assert list(out) == ["x"] and "more glyphs (60 > 50)" in out["x"]


def test_same_postscript_name_and_version_are_twins() -> None:
    one = _facts("p", glyph_hash="h1", row={"postscript_name": "Foo-Bold", "version": "1.0"})
    two = _facts("q", glyph_hash="h2", row={"postscript_name": "Foo-Bold", "version": "1.0"})
    other = _facts("r", glyph_hash="h3", row={"postscript_name": "Foo-Bold", "version": "2.0"})
    out = _duplicates([one, two, other])
    assert list(out) == ["q"]
    assert "same PostScript name 'Foo-Bold' and version '1.0'" in out["q"]
    off = DuplicatesRule(DuplicatesParams(name_and_version=False), CONTEXT)
    assert off.check_corpus([one, two, other], {}) == {}
    # Fonts with nothing rendered have no hash and are never twins by image.
    blank = [_facts("s", glyph_hash=None), _facts("t", glyph_hash=None)]
    assert _duplicates(blank) == {}
