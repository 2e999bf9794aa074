"""Font export: traced outlines -> OTF that fontTools and FreeType read, glyphs that read right.

Recognisability is checked on glyphs rendered from real fonts, not on an untrained
model's output: the images go through exactly the export path (upsample, smooth, trace,
CFF, metrics), the OTF is rendered back through FreeType with the same render settings,
and a nearest-template classifier (each re-rendered glyph against the 62 originals) must
name every character correctly, with the shapes overlapping closely (IoU). A trained
model's glyphs only differ in being blurrier, which the smoothing exists for; a glyph
classifier trained here would cost minutes and test the model rather than the export.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from glyphflow.glyphs import RenderConfig, render_font
from glyphflow.serving.config import ExportConfig
from glyphflow.serving.export import FontNames, build_otf, geometry_of

FONTS = Path("/usr/share/fonts/truetype")
NAMES = FontNames(family="Glyphflow test", style_id="0123456789", model_id="abcdefabcdef")


def _real_font(relative: str) -> bytes:
    path = FONTS / relative
    if not path.exists():
        pytest.skip(f"{path} is not installed (make system-deps)")
    return path.read_bytes()


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a.astype(np.float64) / 255
    b = b.astype(np.float64) / 255
    union: np.ndarray = np.maximum(a, b).sum(axis=(-1, -2))
    return np.minimum(a, b).sum(axis=(-1, -2)) / np.maximum(union, 1e-9)  # type: ignore[no-any-return]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("font", "render"),
    [
        ("dejavu/DejaVuSans.ttf", RenderConfig(glyph_size=48)),
        ("liberation/LiberationSerif-Italic.ttf", RenderConfig(glyph_size=48)),
        ("dejavu/DejaVuSerif-Bold.ttf", RenderConfig(glyph_size=40, normalisation="cap_height")),
    ],
    ids=["sans", "serif-italic", "serif-bold-cap-height"],
)
def test_exported_glyphs_render_back_recognisably(font: str, render: RenderConfig) -> None:
    original = render_font(_real_font(font), 0, render)
    assert original.count == 62
    otf = build_otf(original.images / 255.0, original.charset, render, NAMES, ExportConfig())
    again = render_font(otf, 0, render)  # FreeType, the same render settings
    assert again.count == 62, again.missing()
    # nearest template: each exported glyph is closest to its own character
    distance = ((again.images[:, None].astype(float) - original.images[None]) ** 2).sum((2, 3))
    predicted = distance.argmin(axis=1)
    wrong = [original.charset[i] for i in np.nonzero(predicted != np.arange(62))[0]]
    assert not wrong, f"exported glyphs read as other characters: {wrong}"
    iou = _iou(again.images, original.images)
    assert iou.mean() > 0.85, iou.mean()
    assert iou.min() > 0.7, (original.charset[iou.argmin()], iou.min())


def test_otf_round_trips_through_fonttools_with_the_expected_tables() -> None:
    from fontTools.pens.areaPen import AreaPen
    from fontTools.ttLib import TTFont

    render = RenderConfig(glyph_size=32)
    source = render_font(_real_font("dejavu/DejaVuSans.ttf"), 0, render)
    chars = "HOio"
    picks = [render.chars.index(c) for c in chars]
    config = ExportConfig(upsample=2)
    otf = build_otf(source.images[picks] / 255.0, chars, render, NAMES, config)
    font = TTFont(io.BytesIO(otf))
    saved = io.BytesIO()
    font.save(saved)  # fontTools can rewrite it: every table compiles
    font = TTFont(io.BytesIO(saved.getvalue()))
    for table in ("CFF ", "cmap", "hmtx", "hhea", "OS/2", "name", "post", "maxp", "head"):
        assert table in font, table
    assert font.getBestCmap() == {32: "space", 72: "H", 79: "O", 105: "i", 111: "o"}
    names = font["name"]
    assert names.getDebugName(1) == "Glyphflow test"
    assert names.getDebugName(6) == "Glyphflowtest-Regular"
    assert "abcdefabcdef" in names.getDebugName(3) and "0123456789" in names.getDebugName(3)
    assert font["OS/2"].fsType == 0  # installable

    upm = config.units_per_em
    side = round(config.sidebearing * upm)
    glyphs = font.getGlyphSet()
    for name in ("H", "O", "i", "o"):
        charstring = font["CFF "].cff.topDictIndex[0].CharStrings[name]
        xmin, _, xmax, _ = charstring.calcBounds(font["CFF "].cff.topDictIndex[0].CharStrings)
        advance, lsb = font["hmtx"][name]
        assert lsb == side == round(xmin), name  # hmtx from the ink bounds
        assert abs(advance - (xmax - xmin + 2 * side)) <= 1, name
        area = AreaPen(glyphs)
        glyphs[name].draw(area)
        assert area.value > 0, f"{name}: outer contours must run counter-clockwise"
    # 'O' has a counter: two contours of opposite direction
    o_area = AreaPen(glyphs)
    glyphs["O"].draw(o_area)
    h_area = AreaPen(glyphs)
    glyphs["H"].draw(h_area)
    assert o_area.value > 0

    geometry = geometry_of(render, upm)
    assert font["hhea"].ascent == geometry.ascender and font["hhea"].descent == geometry.descender
    assert font["OS/2"].sTypoAscender == geometry.ascender


def test_exported_font_renders_through_freetype() -> None:
    import freetype

    render = RenderConfig(glyph_size=32)
    source = render_font(_real_font("dejavu/DejaVuSans.ttf"), 0, render)
    otf = build_otf(source.images[:3] / 255.0, "ABC", render, NAMES, ExportConfig(upsample=1))
    face = freetype.Face(io.BytesIO(otf))
    face.set_char_size(48 * 64)
    for char in "ABC":
        face.load_char(char)
        bitmap = face.glyph.bitmap
        assert bitmap.width > 10 and bitmap.rows > 20, char
        assert max(bitmap.buffer) == 255, char
    assert face.family_name == b"Glyphflow test"


def test_blank_glyph_exports_as_an_empty_glyph_with_an_advance() -> None:
    from fontTools.ttLib import TTFont

    render = RenderConfig(glyph_size=32)
    images = np.zeros((2, 32, 32))
    images[1, 8:24, 10:20] = 1.0
    font = TTFont(io.BytesIO(build_otf(images, "AB", render, NAMES, ExportConfig())))
    assert font["hmtx"]["A"][0] == font["hmtx"]["space"][0] > 0
    assert font["hmtx"]["B"][0] > 0


@pytest.mark.parametrize("normalisation", ["em", "cap_height", "fit"])
def test_geometry_puts_the_baseline_where_the_renderer_does(normalisation: Any) -> None:
    render = RenderConfig(glyph_size=64, padding=2, normalisation=normalisation)
    geometry = geometry_of(render, 1000)
    assert geometry.ascender > 0 > geometry.descender
    box = 64 - 4
    if normalisation == "em":
        assert geometry.scale == pytest.approx(1000 / box)
        assert geometry.baseline_px == pytest.approx(2 + 0.8 * box)
    assert geometry.ascender == round(geometry.baseline_px * geometry.scale)


def test_build_otf_refuses_mismatched_input() -> None:
    render = RenderConfig(glyph_size=32)
    with pytest.raises(ValueError, match="one image per character"):
        build_otf(np.zeros((2, 32, 32)), "A", render, NAMES)
    with pytest.raises(ValueError, match="distinct"):
        build_otf(np.zeros((2, 32, 32)), "AA", render, NAMES)
