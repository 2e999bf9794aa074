"""What a font file says about itself: one description per face, for the index.

For sfnt-based fonts (TTF, OTF, collections, WOFF, WOFF2) the names come from the
``name`` table (typographic family/subfamily first), weight, width and italic from
``OS/2`` (and ``head.macStyle``), axes from ``fvar``, the glyph count from ``maxp``.
For Type 1 fonts they come from the FontInfo dictionary and FreeType; a weight word
(``Bold``, ``Light``...) maps to its usual class.

Reading a table that is damaged raises :class:`~glyphflow.io.fontfiles.FontFileError`
(``corrupt_font``) naming the table, so a bad font becomes a failure row, not a crash.
"""

from __future__ import annotations

import re
from typing import Any

from glyphflow.ingestion.licenses import guess_license
from glyphflow.io import fontfiles
from glyphflow.io.fontfiles import FontFileError

__all__ = ["describe", "weight_class_of"]

_WEIGHTS = (
    (r"thin|hairline", 100),
    (r"extra ?light|ultra ?light", 200),
    (r"semi ?light|demi ?light", 350),
    (r"light", 300),
    (r"semi ?bold|demi ?bold|demi", 600),
    (r"extra ?bold|ultra ?bold", 800),
    (r"black|heavy", 900),
    (r"bold", 700),
    (r"medium", 500),
)
_WIDTHS = (
    (r"ultra ?condensed", 1),
    (r"extra ?condensed", 2),
    (r"semi ?condensed", 4),
    (r"condensed|narrow|compressed", 3),
    (r"ultra ?expanded", 9),
    (r"extra ?expanded", 8),
    (r"semi ?expanded", 6),
    (r"expanded|extended|wide", 7),
)


def weight_class_of(words: str) -> int:
    """The usWeightClass a weight word names (``Bold`` -> 700); 400 if none does."""
    lowered = words.lower()
    for pattern, value in _WEIGHTS:
        if re.search(pattern, lowered):
            return value
    return 400


def _width_class_of(words: str) -> int:
    lowered = words.lower()
    for pattern, value in _WIDTHS:
        if re.search(pattern, lowered):
            return value
    return 5


def describe(data: bytes) -> tuple[str, list[dict[str, Any]]]:
    """The format of a font file and one metadata dict per face (index columns)."""
    fmt = fontfiles.check_structure(data)
    if fmt in fontfiles.TYPE1_FORMATS:
        return fmt, [_describe_type1(data)]
    faces = fontfiles.count_faces(data)
    return fmt, [_describe_sfnt(data, index) for index in range(faces)]


def _table(font: Any, tag: str, required: bool = True) -> Any:
    if tag not in font:
        if required:
            raise FontFileError("corrupt_font", f"the font has no {tag!r} table")
        return None
    try:
        return font[tag]
    except Exception as err:  # fontTools raises many kinds for damaged tables
        raise FontFileError(
            "corrupt_font", f"table {tag!r} is damaged: {type(err).__name__}: {err}"
        ) from None


def _describe_sfnt(data: bytes, index: int) -> dict[str, Any]:
    font = fontfiles.open_face(data, index)
    try:
        names = _table(font, "name", required=False)
        maxp = _table(font, "maxp")
        head = _table(font, "head")
        os2 = _table(font, "OS/2", required=False)
        fvar = _table(font, "fvar", required=False)

        def name(*ids: int) -> str | None:
            if names is None:
                return None
            for name_id in ids:
                try:
                    value = names.getDebugName(name_id)
                except Exception:  # undecodable record: try the next
                    value = None
                if value and value.strip():
                    return str(value).strip()
            return None

        license_text = name(13)
        license_url = name(14)
        italic = bool(head.macStyle & 0x02)
        weight, width = 400, 5
        if os2 is not None:
            italic = italic or bool(os2.fsSelection & 0x01)
            weight = int(os2.usWeightClass)
            width = int(os2.usWidthClass)
        axes = [
            {
                "tag": axis.axisTag,
                "minimum": float(axis.minValue),
                "default": float(axis.defaultValue),
                "maximum": float(axis.maxValue),
            }
            for axis in (fvar.axes if fvar is not None else [])
        ]
        return {
            "face_index": index,
            "family": name(16, 1),
            "subfamily": name(17, 2),
            "full_name": name(4),
            "postscript_name": name(6),
            "weight_class": weight,
            "width_class": width,
            "italic": italic,
            "variable": fvar is not None,
            "axes": axes,
            "num_glyphs": int(maxp.numGlyphs),
            "license_text": license_text,
            "license_url": license_url,
            "license_id": guess_license(license_text, license_url, name(0)),
            "version": name(5),
        }
    finally:
        font.close()


def _describe_type1(data: bytes) -> dict[str, Any]:
    info = fontfiles.read_type1(data)
    words = " ".join([info.weight, info.style_name, info.full_name])
    return {
        "face_index": 0,
        "family": info.family_name or None,
        "subfamily": info.style_name or None,
        "full_name": info.full_name or None,
        "postscript_name": info.font_name or None,
        "weight_class": weight_class_of(info.weight or info.style_name),
        "width_class": _width_class_of(words),
        "italic": info.italic,
        "variable": False,
        "axes": [],
        "num_glyphs": info.num_glyphs,
        "license_text": None,
        "license_url": None,
        "license_id": guess_license(info.notice, info.copyright),
        "version": info.version or None,
    }
