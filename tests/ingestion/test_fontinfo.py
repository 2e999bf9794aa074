"""Face descriptions and licence guesses, on built fonts and the Type 1 fonts installed here."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fontTools.fontBuilder import FontBuilder
from fontTools.ttLib import TTFont

from glyphflow.ingestion.fontinfo import describe, weight_class_of
from glyphflow.ingestion.licenses import guess_license
from glyphflow.io.fontfiles import FontFileError
from tests.support.fonts import make_collection, make_font, to_woff

PFB = Path("/usr/share/fonts/X11/Type1/NimbusSans-BoldItalic.pfb")


def _variable() -> bytes:
    font = TTFont(io.BytesIO(make_font(family="Flex Sans")))
    FontBuilder(font=font).setupFvar(
        [("wght", 100, 400, 900, "Weight"), ("wdth", 75, 100, 100, "Width")], []
    )
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def test_a_static_font() -> None:
    fmt, (face,) = describe(make_font(family="Plain Sans", style="Bold", weight=700))
    assert fmt == "ttf"
    assert face["family"] == "Plain Sans" and face["subfamily"] == "Bold"
    assert (face["weight_class"], face["width_class"], face["italic"]) == (700, 5, False)
    assert face["license_id"] == "OFL-1.1"
    assert face["license_text"].startswith("This Font Software is licensed under the SIL")


def test_variable_font_axes() -> None:
    _, (face,) = describe(_variable())
    assert face["variable"] is True
    assert face["axes"] == [
        {"tag": "wght", "minimum": 100.0, "default": 400.0, "maximum": 900.0},
        {"tag": "wdth", "minimum": 75.0, "default": 100.0, "maximum": 100.0},
    ]


def test_collection_and_woff2() -> None:
    fonts = [make_font(family="Duo", style=s) for s in ("Regular", "Italic")]
    fmt, faces = describe(make_collection(fonts))
    assert fmt == "ttc" and [f["face_index"] for f in faces] == [0, 1]
    assert [f["subfamily"] for f in faces] == ["Regular", "Italic"]
    fmt, (face,) = describe(to_woff(fonts[0], "woff2"))
    assert fmt == "woff2" and face["family"] == "Duo"


def test_font_without_names_or_os2_still_describes() -> None:
    font = TTFont(io.BytesIO(make_font()))
    del font["name"]
    del font["OS/2"]
    out = io.BytesIO()
    font.save(out)
    _, (face,) = describe(out.getvalue())
    assert face["family"] is None and face["weight_class"] == 400
    assert face["license_id"] == "unknown"


def test_damaged_table_is_a_corrupt_font() -> None:
    import struct

    data = bytearray(make_font())
    (count,) = struct.unpack(">H", data[4:6])
    for record in range(12, 12 + 16 * count, 16):
        if data[record : record + 4] == b"maxp":
            struct.pack_into(">I", data, record + 12, 2)  # maxp cut to 2 bytes
    with pytest.raises(FontFileError) as err:
        describe(bytes(data))
    assert err.value.reason == "corrupt_font"
    assert "'maxp'" in str(err.value)


@pytest.mark.skipif(not PFB.exists(), reason="URW Type 1 fonts not installed")
def test_type1_font() -> None:
    fmt, (face,) = describe(PFB.read_bytes())
    assert fmt == "pfb"
    assert face["postscript_name"] == "NimbusSans-BoldItalic"
    assert face["family"] == "Nimbus Sans"
    assert (face["weight_class"], face["italic"]) == (700, True)
    assert face["num_glyphs"] > 500


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("Bold", 700),
        ("Demi", 600),
        ("SemiBold", 600),
        ("Light", 300),
        ("ExtraLight", 200),
        ("Regular", 400),
        ("Roman", 400),
        ("Black", 900),
        ("Medium", 500),
        ("Thin", 100),
    ],
)
def test_weight_words(words: str, expected: int) -> None:
    assert weight_class_of(words) == expected


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (
            ("This Font Software is licensed under the SIL Open Font License, Version 1.1.",),
            "OFL-1.1",
        ),
        ((None, "https://openfontlicense.org"), "OFL-1.1"),
        (("Licensed under the Apache License, Version 2.0",), "Apache-2.0"),
        (("", "http://www.apache.org/licenses/LICENSE-2.0"), "Apache-2.0"),
        (("Licensed under the Ubuntu Font Licence 1.0",), "UFL-1.0"),
        (
            (
                "free software under the GNU General Public License ... As a special "
                "exception, if you create a document which uses this font ...",
            ),
            "GPL-with-font-exception",
        ),
        (("Licensed under the Liberation Fonts license",), "GPL-with-font-exception"),
        (
            ("Fonts are (c) Bitstream (see below). DejaVu changes are in public domain.",),
            "Bitstream-Vera",
        ),
        (("GNU General Public License, no exception",), "unknown"),
        (("All rights reserved.",), "unknown"),
        ((None, None), "unknown"),
    ],
)
def test_license_guesses(texts: tuple[str | None, ...], expected: str) -> None:
    assert guess_license(*texts) == expected
