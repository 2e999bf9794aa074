"""WOFF and WOFF2 to plain sfnt (TrueType/OpenType) bytes, through fontTools.

FreeType may or may not be built with WOFF2 (brotli) support depending on the wheel, so
web fonts are unpacked with fontTools first and FreeType only ever sees sfnt data. Other
formats (TTF, OTF, TTC, Type 1) pass through untouched.
"""

from __future__ import annotations

import io

__all__ = ["WEB_SIGNATURES", "to_sfnt"]

WEB_SIGNATURES = {b"wOFF": "woff", b"wOF2": "woff2"}


def to_sfnt(data: bytes) -> bytes:
    """``data`` unchanged, or the sfnt inside a WOFF/WOFF2 file. Raises ValueError."""
    flavor = WEB_SIGNATURES.get(bytes(data[:4]))
    if flavor is None:
        return data
    from fontTools.ttLib import TTFont

    try:
        font = TTFont(io.BytesIO(data), recalcBBoxes=False, recalcTimestamp=False)
        font.flavor = None
        out = io.BytesIO()
        font.save(out, reorderTables=False)
    except Exception as err:  # fontTools raises many types for damaged files
        raise ValueError(f"cannot unpack {flavor.upper()}: {type(err).__name__}: {err}") from err
    return out.getvalue()
