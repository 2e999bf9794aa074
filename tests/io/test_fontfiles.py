"""Font file helpers on real fonts: built ones, and the Type 1 fonts installed here."""

from __future__ import annotations

import glob
from pathlib import Path

import pytest

from glyphflow.io import fontfiles
from glyphflow.io.fontfiles import FontFileError
from tests.support.fonts import make_collection, make_font, to_woff

TYPE1_PFB = sorted(glob.glob("/usr/share/fonts/X11/Type1/*.pfb"))
TYPE1_PFA = sorted(glob.glob("/usr/share/fonts/type1/urw-base35/*.t1"))


@pytest.fixture(scope="module")
def ttf() -> bytes:
    return make_font(family="Sniff Sans")


@pytest.fixture(scope="module")
def otf() -> bytes:
    return make_font(family="Sniff Sans", fmt="otf")


def test_sniff_tells_every_format_from_its_bytes(ttf: bytes, otf: bytes) -> None:
    assert fontfiles.sniff_format(ttf) == "ttf"
    assert fontfiles.sniff_format(otf) == "otf"
    assert fontfiles.sniff_format(to_woff(ttf, "woff")) == "woff"
    assert fontfiles.sniff_format(to_woff(ttf, "woff2")) == "woff2"
    assert fontfiles.sniff_format(make_collection([ttf, ttf])) == "ttc"
    assert fontfiles.sniff_format(make_collection([otf, otf])) == "otc"
    assert fontfiles.sniff_format(b"<html><body>nope</body></html>") is None
    assert fontfiles.sniff_format(b"") is None


@pytest.mark.skipif(not TYPE1_PFB or not TYPE1_PFA, reason="URW Type 1 fonts not installed")
def test_type1_fonts_read_in_both_encodings() -> None:
    pfb = Path(TYPE1_PFB[0]).read_bytes()
    pfa = Path(TYPE1_PFA[1]).read_bytes()
    assert fontfiles.sniff_format(pfb) == "pfb"
    assert fontfiles.sniff_format(pfa) == "pfa"
    info = fontfiles.read_type1(pfb)
    assert info.font_name and info.family_name and info.num_glyphs > 100
    assert "URW" in info.notice  # nested parentheses in the PostScript string survive
    with pytest.raises(FontFileError) as err:
        fontfiles.read_type1(pfb[: len(pfb) // 2])
    assert err.value.reason == "corrupt_font"
    assert "truncated" in str(err.value)


def test_every_face_of_a_collection_opens(ttf: bytes) -> None:
    other = make_font(family="Other Face", weight=700)
    collection = make_collection([ttf, other])
    assert fontfiles.count_faces(collection) == 2
    assert fontfiles.open_face(collection, 1)["name"].getDebugName(1) == "Other Face"
    with pytest.raises(FontFileError) as err:
        fontfiles.open_face(collection, 2)
    assert err.value.reason == "bad_face_index"
    single = fontfiles.to_sfnt(collection, 1)
    assert fontfiles.sniff_format(single) == "ttf"
    assert fontfiles.open_face(single)["OS/2"].usWeightClass == 700


@pytest.mark.parametrize("flavor", ["woff", "woff2"])
def test_woff_decompresses_to_the_same_font(ttf: bytes, flavor: str) -> None:
    packed = to_woff(ttf, flavor)
    sfnt = fontfiles.to_sfnt(packed)
    assert fontfiles.sniff_format(sfnt) == "ttf"
    original = fontfiles.open_face(ttf, lazy=False)
    restored = fontfiles.open_face(sfnt, lazy=False)
    assert restored.getGlyphOrder() == original.getGlyphOrder()
    assert restored["glyf"]["uni0041"].coordinates == original["glyf"]["uni0041"].coordinates


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda f: b"", "empty_file"),
        (lambda f: b"\x89PNG\r\n\x1a\n" + bytes(200), "not_a_font"),
        (lambda f: f[: len(f) // 2], "corrupt_font"),
        (lambda f: f[:10], "corrupt_font"),
        (lambda f: to_woff(f, "woff2")[:-50], "corrupt_font"),
        (lambda f: make_collection([f, f])[:40], "corrupt_font"),
    ],
    ids=["empty", "png", "half", "header-only", "woff2-cut", "ttc-cut"],
)
def test_damaged_files_fail_with_a_reason(ttf: bytes, make, reason: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FontFileError) as err:
        fontfiles.open_face(make(ttf))
    assert err.value.reason == reason
    assert str(err.value)


def test_font_extensions() -> None:
    assert fontfiles.has_font_extension("a/B.TTF")
    assert fontfiles.has_font_extension("x.t1")
    assert not fontfiles.has_font_extension("x.afm")
    assert not fontfiles.has_font_extension("readme.txt")
