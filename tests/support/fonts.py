"""Real fonts built on the fly with fontTools' FontBuilder, for tests.

Every test that needs a font makes one here rather than shipping binaries: a font with
chosen characters, names, licence, weight, width and style; a font whose letters are all
the same box; a symbol-encoded font; a TTC collection; WOFF and WOFF2 copies.

Glyph shapes: each character is drawn as segments of a 3x4 grid chosen by a hash of the
character, so different characters give different images, and the style parameters
(``stroke``, ``width``, ``slant``, ``height``) change every glyph of a font in the same way,
which is what a style model should pick up.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont
from fontTools.ttLib.ttCollection import TTCollection

__all__ = [
    "ALNUM",
    "SEGMENTS",
    "FontSpec",
    "glyph_name",
    "make_collection",
    "make_font",
    "to_woff",
]

UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LOWER = "abcdefghijklmnopqrstuvwxyz"
DIGITS = "0123456789"
ALNUM = UPPER + LOWER + DIGITS

OFL = "This Font Software is licensed under the SIL Open Font License, Version 1.1."
OFL_URL = "https://openfontlicense.org"

# Segments of a 3 (columns) x 4 (rows) grid of points, as pairs of (col, row).
SEGMENTS = [
    ((0, 0), (2, 0)),
    ((0, 3), (2, 3)),
    ((0, 0), (0, 3)),
    ((2, 0), (2, 3)),
    ((0, 1), (2, 1)),
    ((0, 2), (2, 2)),
    ((1, 0), (1, 3)),
    ((0, 0), (2, 3)),
    ((0, 3), (2, 0)),
    ((0, 1), (0, 2)),
    ((2, 1), (2, 2)),
    ((1, 1), (1, 2)),
]

Drawer = Callable[[Any], None]


@dataclass
class FontSpec:
    """What to build. Defaults give a valid, OFL-licensed TrueType font of ALNUM."""

    family: str = "Test Sans"
    style: str = "Regular"
    chars: str = ALNUM
    units_per_em: int = 1000
    weight: int = 400
    width_class: int = 5
    italic: bool = False
    version: str = "Version 1.000"
    license: str | None = OFL
    license_url: str | None = OFL_URL
    fmt: str = "ttf"  # ttf (glyf outlines) or otf (CFF outlines)
    stroke: float = 80.0  # stroke thickness in font units
    width: float = 500.0  # glyph box width
    height: float = 700.0  # cap height
    slant: float = 0.0  # horizontal shift per unit of height
    same_box: bool = False  # every letter drawn as the same box (a broken/.notdef-like font)
    as_notdef: bool = False  # every letter drawn exactly as the .notdef glyph (a broken font)
    empty: Iterable[str] = ()  # characters mapped in cmap but with no outline
    symbol: bool = False  # Windows symbol cmap encoding (3, 0) instead of Unicode
    drawers: dict[str, Drawer] = field(default_factory=dict)  # custom outlines per char
    seed: str = ""  # changes which segments each character uses


def glyph_name(char: str) -> str:
    return f"uni{ord(char):04X}"


def _segments(char: str, seed: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    digest = hashlib.sha256(f"{seed}:{char}".encode()).digest()
    bits = int.from_bytes(digest[:4], "big")
    chosen = [seg for i, seg in enumerate(SEGMENTS) if bits >> i & 1]
    if len(chosen) < 3:
        chosen = SEGMENTS[:2] + chosen + [SEGMENTS[2 + ord(char) % 10]]
    return chosen


def _bar(pen: Any, x0: float, y0: float, x1: float, y1: float, half: float) -> None:
    """A stroke of thickness 2*half from (x0, y0) to (x1, y1), clockwise for TrueType."""
    dx, dy = x1 - x0, y1 - y0
    length = max((dx * dx + dy * dy) ** 0.5, 1e-6)
    nx, ny = -dy / length * half, dx / length * half
    ex, ey = dx / length * half, dy / length * half
    points = [
        (x0 - ex + nx, y0 - ey + ny),
        (x1 + ex + nx, y1 + ey + ny),
        (x1 + ex - nx, y1 + ey - ny),
        (x0 - ex - nx, y0 - ey - ny),
    ]
    # Orientation: make the contour clockwise (TrueType's outer contours).
    area = sum(
        points[i][0] * points[(i + 1) % 4][1] - points[(i + 1) % 4][0] * points[i][1]
        for i in range(4)
    )
    if area > 0:
        points.reverse()
    pen.moveTo(_round(points[0]))
    for point in points[1:]:
        pen.lineTo(_round(point))
    pen.closePath()


def _round(point: tuple[float, float]) -> tuple[int, int]:
    return round(point[0]), round(point[1])


def _draw_char(spec: FontSpec, char: str, pen: Any) -> None:
    if char in spec.drawers:
        spec.drawers[char](pen)
        return
    margin = 60.0
    half = spec.stroke / 2
    if spec.same_box:
        for seg in SEGMENTS[:4]:
            _draw_segment(spec, pen, seg, margin, half)
        return
    for seg in _segments(char, spec.seed):
        _draw_segment(spec, pen, seg, margin, half)


def _draw_segment(spec: FontSpec, pen: Any, seg: Any, margin: float, half: float) -> None:
    (c0, r0), (c1, r1) = seg
    height = spec.height

    def point(col: int, row: int) -> tuple[float, float]:
        y = half + row * (height - 2 * half) / 3
        x = margin + half + col * (spec.width - 2 * half) / 2 + spec.slant * y
        return x, y

    (x0, y0), (x1, y1) = point(c0, r0), point(c1, r1)
    _bar(pen, x0, y0, x1, y1, half)


def make_font(spec: FontSpec | None = None, **changes: Any) -> bytes:
    """Build a font from ``spec`` (or FontSpec(**changes)) and return its file bytes."""
    if spec is None:
        spec = FontSpec(**changes)
    elif changes:
        spec = FontSpec(**{**spec.__dict__, **changes})
    cff = spec.fmt == "otf"
    chars = list(dict.fromkeys(spec.chars))
    names = [".notdef", "space", *(glyph_name(c) for c in chars)]
    builder = FontBuilder(spec.units_per_em, isTTF=not cff)
    builder.setupGlyphOrder(names)
    cmap = {0x20: "space", **{ord(c): glyph_name(c) for c in chars}}
    builder.setupCharacterMap(cmap)
    advance = round(spec.width + 2 * 60 + abs(spec.slant) * spec.height)
    empty = set(spec.empty)

    def outline(pen: Any, name: str) -> None:
        if name == ".notdef" or (spec.as_notdef and name != "space"):
            _bar(pen, 60, 0, 60, spec.height, 20)
            _bar(pen, 60 + spec.width, 0, 60 + spec.width, spec.height, 20)
            _bar(pen, 60, 0, 60 + spec.width, 0, 20)
            _bar(pen, 60, spec.height, 60 + spec.width, spec.height, 20)
            return
        if name == "space":
            return
        char = chr(int(name[3:], 16))
        if char in empty:
            return
        _draw_char(spec, char, pen)

    metrics: dict[str, tuple[int, int]] = {}
    if cff:
        charstrings = {}
        for name in names:
            pen = T2CharStringPen(advance, None)
            outline(pen, name)
            charstrings[name] = pen.getCharString()
            metrics[name] = (advance, 0)
        ps_name = _ps_name(spec)
        builder.setupCFF(ps_name, {"FullName": f"{spec.family} {spec.style}"}, charstrings, {})
    else:
        glyphs = {}
        for name in names:
            pen = TTGlyphPen(None)
            outline(pen, name)
            glyphs[name] = pen.glyph()
            metrics[name] = (advance, 0)
        builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics(metrics)
    ascent = round(spec.units_per_em * 0.8)
    descent = round(spec.units_per_em * 0.2)
    builder.setupHorizontalHeader(ascent=ascent, descent=-descent)
    name_strings: dict[str, str] = {
        "familyName": spec.family,
        "styleName": spec.style,
        "uniqueFontIdentifier": f"{spec.family}-{spec.style}-{spec.version}",
        "fullName": f"{spec.family} {spec.style}",
        "psName": _ps_name(spec),
        "version": spec.version,
    }
    if spec.license:
        name_strings["licenseDescription"] = spec.license
    if spec.license_url:
        name_strings["licenseInfoURL"] = spec.license_url
    builder.setupNameTable(name_strings)
    fs_selection = 0x01 if spec.italic else (0x40 if spec.style == "Regular" else 0)
    builder.setupOS2(
        sTypoAscender=ascent,
        sTypoDescender=-descent,
        usWinAscent=ascent,
        usWinDescent=descent,
        usWeightClass=spec.weight,
        usWidthClass=spec.width_class,
        fsSelection=fs_selection,
        sCapHeight=round(spec.height),
        sxHeight=round(spec.height * 0.7),
    )
    builder.setupPost(italicAngle=-12.0 if spec.italic else 0.0)
    if not cff:
        builder.setupDummyDSIG()
    font = builder.font
    if spec.symbol:
        _make_symbol_cmap(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _ps_name(spec: FontSpec) -> str:
    return f"{spec.family}-{spec.style}".replace(" ", "")


def _make_symbol_cmap(font: TTFont) -> None:
    """Replace the Unicode cmap with a Windows symbol (3, 0) subtable at U+F0xx."""
    from fontTools.ttLib.tables._c_m_a_p import cmap_format_4

    best = font.getBestCmap()
    table = cmap_format_4(4)
    table.platformID, table.platEncID, table.language = 3, 0, 0
    table.cmap = {0xF000 + (code & 0xFF): name for code, name in best.items()}
    font["cmap"].tables = [table]


def make_collection(fonts: list[bytes]) -> bytes:
    """A TrueType collection (.ttc) holding each of ``fonts`` as a face."""
    collection = TTCollection()
    collection.fonts = [TTFont(io.BytesIO(data)) for data in fonts]
    out = io.BytesIO()
    collection.save(out)
    return out.getvalue()


def to_woff(data: bytes, flavor: str = "woff2") -> bytes:
    """The same font compressed as WOFF (zlib) or WOFF2 (brotli)."""
    font = TTFont(io.BytesIO(data))
    font.flavor = flavor
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()
