"""Font files as bytes: what format a file is, how to open any face of it, safely.

Every stage that touches a font file goes through here, so that ingestion, validation,
preprocessing and serving agree on what a font file is:

- :func:`sniff_format` tells the format from the first bytes (never from the name: a
  ``.ttf`` that holds HTML is not a font, and a ``.t1`` may be PFA or PFB);
- :func:`check_structure` refuses truncated files cheaply, before a parser reads past
  the end of the data and reports something confusing;
- :func:`open_face` opens face *i* of a TrueType/OpenType font, collection, WOFF or
  WOFF2 with fontTools; :func:`to_sfnt` gives plain, standalone sfnt bytes of one face
  (WOFF/WOFF2 decompressed, a collection face extracted) for tools that want a file;
- :func:`instantiate` pins a variable font at a named instance's coordinates and gives
  the static font's sfnt bytes, so validation and preprocessing render the same instance;
- :func:`read_type1` reads a PostScript Type 1 font (``.pfb`` or ``.pfa``) with FreeType.

Every problem is a :class:`FontFileError` with a short machine-readable ``reason``
(``not_a_font``, ``empty_file``, ``corrupt_font``, ``bad_face_index``) and a message a
person can act on.
"""

from __future__ import annotations

import io
import re
import struct
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from fontTools.ttLib import TTFont

__all__ = [
    "COLLECTION_FORMATS",
    "COMPANION_EXTENSIONS",
    "FONT_EXTENSIONS",
    "FORMATS",
    "SFNT_FORMATS",
    "SNIFF_BYTES",
    "TYPE1_FORMATS",
    "FontFileError",
    "Type1Info",
    "check_structure",
    "count_faces",
    "has_font_extension",
    "instantiate",
    "open_face",
    "read_type1",
    "sniff_format",
    "to_sfnt",
]

#: Every format glyphflow reads, as stored in ``fonts.parquet``'s ``format`` column.
FORMATS: Final = ("ttf", "otf", "ttc", "otc", "woff", "woff2", "pfb", "pfa")
SFNT_FORMATS: Final = frozenset({"ttf", "otf", "woff", "woff2"})
COLLECTION_FORMATS: Final = frozenset({"ttc", "otc"})
TYPE1_FORMATS: Final = frozenset({"pfb", "pfa"})

#: File name extensions that announce a font (``.t1`` is Debian's name for PFA files).
FONT_EXTENSIONS: Final = (
    ".ttf",
    ".otf",
    ".ttc",
    ".otc",
    ".woff",
    ".woff2",
    ".pfb",
    ".pfa",
    ".t1",
)
#: Metrics files that belong beside a Type 1 font of the same stem.
COMPANION_EXTENSIONS: Final = (".afm", ".pfm")

#: How many leading bytes :func:`sniff_format` needs.
SNIFF_BYTES: Final = 64

_SFNT_TAGS: Final = {
    b"\x00\x01\x00\x00": "ttf",
    b"true": "ttf",
    b"OTTO": "otf",
    b"wOFF": "woff",
    b"wOF2": "woff2",
}
_PFA_HEADS: Final = (b"%!PS-AdobeFont", b"%!FontType1")

# freetype-py shares one FT_Library between threads; FreeType wants face creation and
# disposal on one library serialised.
_FREETYPE_LOCK = threading.Lock()


class FontFileError(ValueError):
    """A file that is not a usable font; ``reason`` is a short code, ``str()`` the message."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def has_font_extension(name: str) -> bool:
    """True when ``name`` ends with one of :data:`FONT_EXTENSIONS` (any case)."""
    return name.lower().endswith(FONT_EXTENSIONS)


def sniff_format(head: bytes) -> str | None:
    """The format of a font file from its first bytes, or None if it is not a font.

    Collections are ``otc`` when their first face has CFF outlines, else ``ttc``; that
    needs the face offset table, so pass at least :data:`SNIFF_BYTES` bytes (or the whole
    file) for collections of many faces.
    """
    tag = head[:4]
    if tag in _SFNT_TAGS:
        return _SFNT_TAGS[tag]
    if tag == b"ttcf":
        if len(head) >= 16:
            (first,) = struct.unpack(">I", head[12:16])
            if len(head) >= first + 4 and head[first : first + 4] == b"OTTO":
                return "otc"
        return "ttc"
    if head[:2] == b"\x80\x01":
        return "pfb"
    if head.startswith(_PFA_HEADS):
        return "pfa"
    return None


def _format_of(data: bytes) -> str:
    if not data:
        raise FontFileError("empty_file", "the file is empty (0 bytes)")
    fmt = sniff_format(data)
    if fmt is None:
        raise FontFileError(
            "not_a_font",
            f"not a font file: starts with {data[:8]!r}, which matches no TrueType, "
            "OpenType, collection, WOFF, WOFF2 or Type 1 signature",
        )
    return fmt


def _collection_offsets(data: bytes) -> list[int]:
    if len(data) < 12:
        raise FontFileError("corrupt_font", "collection header is cut short (truncated file?)")
    (count,) = struct.unpack(">I", data[8:12])
    if count == 0 or count > 10_000:
        raise FontFileError("corrupt_font", f"collection claims {count} faces")
    end = 12 + 4 * count
    if len(data) < end:
        raise FontFileError("corrupt_font", "collection face table is cut short (truncated?)")
    return list(struct.unpack(f">{count}I", data[12:end]))


def count_faces(data: bytes) -> int:
    """How many faces the file holds: 1, or the number of faces of a collection."""
    fmt = _format_of(data)
    if fmt in COLLECTION_FORMATS:
        return len(_collection_offsets(data))
    return 1


def _check_sfnt_tables(data: bytes, start: int, label: str) -> None:
    if len(data) < start + 12:
        raise FontFileError("corrupt_font", f"{label}table directory is cut short (truncated?)")
    (num_tables,) = struct.unpack(">H", data[start + 4 : start + 6])
    end_of_directory = start + 12 + 16 * num_tables
    if num_tables == 0 or len(data) < end_of_directory:
        raise FontFileError(
            "corrupt_font", f"{label}table directory of {num_tables} tables is cut short"
        )
    for i in range(num_tables):
        record = start + 12 + 16 * i
        tag = data[record : record + 4].decode("latin-1")
        offset, length = struct.unpack(">II", data[record + 8 : record + 16])
        if offset + length > len(data):
            raise FontFileError(
                "corrupt_font",
                f"{label}table {tag!r} ends at byte {offset + length} but the file has "
                f"{len(data)} bytes (truncated?)",
            )


def check_structure(data: bytes) -> str:
    """Check the container of a font file without parsing its tables; return its format.

    Catches the usual damage (an empty file, a file that is not a font, a download cut
    short) with a clear reason, before any parser runs.
    """
    fmt = _format_of(data)
    if fmt in ("ttf", "otf"):
        _check_sfnt_tables(data, 0, "")
    elif fmt in COLLECTION_FORMATS:
        for index, offset in enumerate(_collection_offsets(data)):
            _check_sfnt_tables(data, offset, f"face {index}: ")
    elif fmt in ("woff", "woff2"):
        if len(data) < 12:
            raise FontFileError("corrupt_font", f"{fmt.upper()} header is cut short")
        (declared,) = struct.unpack(">I", data[8:12])
        if declared != len(data):
            raise FontFileError(
                "corrupt_font",
                f"{fmt.upper()} header declares {declared} bytes but the file has "
                f"{len(data)} (truncated?)",
            )
    elif fmt == "pfb":
        _pfb_segments(data)
    return fmt


def open_face(data: bytes, face_index: int = 0, *, lazy: bool | None = True) -> TTFont:
    """Open face ``face_index`` of an sfnt-based font (TTF, OTF, TTC, OTC, WOFF, WOFF2).

    WOFF and WOFF2 are decompressed transparently; Type 1 fonts are refused (use
    :func:`read_type1`). Damage raises :class:`FontFileError`, never a fontTools error.
    """
    from fontTools.ttLib import TTFont, TTLibError

    fmt = check_structure(data)
    if fmt in TYPE1_FORMATS:
        raise FontFileError("unsupported_format", f"{fmt} is a Type 1 font: use read_type1")
    faces = count_faces(data)
    if not 0 <= face_index < faces:
        raise FontFileError(
            "bad_face_index", f"face {face_index} requested but the file has {faces} face(s)"
        )
    try:
        if fmt in COLLECTION_FORMATS:
            return TTFont(io.BytesIO(data), fontNumber=face_index, lazy=lazy)
        return TTFont(io.BytesIO(data), lazy=lazy)
    except (TTLibError, struct.error, EOFError, ValueError, AssertionError) as err:
        raise FontFileError("corrupt_font", f"cannot parse the font: {err}") from None
    except Exception as err:  # brotli/zlib errors have no common base class
        raise FontFileError(
            "corrupt_font", f"cannot parse the font: {type(err).__name__}: {err}"
        ) from None


def to_sfnt(data: bytes, face_index: int = 0) -> bytes:
    """Plain sfnt bytes of one face: WOFF/WOFF2 decompressed, collection faces extracted.

    A plain single-face TTF or OTF comes back unchanged.
    """
    fmt = check_structure(data)
    if fmt in ("ttf", "otf") and face_index == 0:
        return data
    font = open_face(data, face_index, lazy=False)
    font.flavor = None
    out = io.BytesIO()
    try:
        font.save(out, reorderTables=False)
    except Exception as err:  # a table that decodes lazily may fail only now
        raise FontFileError("corrupt_font", f"cannot rebuild the font: {err}") from None
    return out.getvalue()


def instantiate(data: bytes, face_index: int, coordinates: Mapping[str, float]) -> bytes:
    """Static sfnt bytes of variable face ``face_index`` pinned at ``coordinates``.

    fontTools' instancer (axes not named keep their default) builds the font FreeType
    then renders: its outlines and metrics are exactly those of the instance. FreeType's
    own variation support is ten times cheaper but, loading unscaled outlines, leaves
    them where the default instance's side bearing puts them, so glyphs land a fraction
    of a pixel off. The font is parsed afresh each call: instancing a parsed copy
    (``inplace=False`` deep-copies it) costs more than parsing again.
    """
    from fontTools.varLib import instancer

    font = open_face(data, face_index, lazy=False)
    label = ",".join(f"{tag}={value:g}" for tag, value in coordinates.items())
    if "fvar" not in font:
        raise FontFileError("instance_error", f"instance {label} asked of a font with no fvar")
    try:
        static = instancer.instantiateVariableFont(font, dict(coordinates), inplace=True)
        static.flavor = None
        out = io.BytesIO()
        static.save(out)
    except Exception as err:  # the instancer raises many kinds
        raise FontFileError(
            "instance_error", f"cannot instantiate {label}: {type(err).__name__}: {err}"
        ) from None
    return out.getvalue()


# ---------------------------------------------------------------------------- Type 1


@dataclass(frozen=True)
class Type1Info:
    """What a Type 1 font says about itself (FontInfo dictionary and FreeType's view)."""

    font_name: str
    family_name: str
    style_name: str
    full_name: str
    weight: str
    italic: bool
    version: str
    notice: str
    copyright: str
    num_glyphs: int


def _pfb_segments(data: bytes) -> list[tuple[int, bytes]]:
    """The (type, payload) segments of a PFB file; types 1 (ASCII) and 2 (binary)."""
    segments: list[tuple[int, bytes]] = []
    position = 0
    while True:
        if position + 2 > len(data) or data[position] != 0x80:
            raise FontFileError(
                "corrupt_font", f"PFB segment marker missing at byte {position} (truncated?)"
            )
        kind = data[position + 1]
        if kind == 3:
            return segments
        if kind not in (1, 2) or position + 6 > len(data):
            raise FontFileError("corrupt_font", f"bad PFB segment at byte {position}")
        (length,) = struct.unpack("<I", data[position + 2 : position + 6])
        start = position + 6
        if start + length > len(data):
            raise FontFileError(
                "corrupt_font",
                f"PFB segment at byte {position} needs {length} bytes, file ends first "
                "(truncated?)",
            )
        segments.append((kind, data[start : start + length]))
        position = start + length


def _type1_cleartext(data: bytes, fmt: str) -> bytes:
    if fmt == "pfb":
        segments = _pfb_segments(data)
        return segments[0][1] if segments else b""
    end = data.find(b"currentfile eexec")
    return data if end < 0 else data[:end]


_PS_STRING_START = re.compile(rb"/(\w+)\s*\(")
_PS_NAME = re.compile(rb"/FontName\s*/([^\s/\[\]{}()<>%]+)")
_PS_NUMBER = re.compile(rb"/ItalicAngle\s+(-?[0-9.]+)")


def read_type1(data: bytes) -> Type1Info:
    """Read a Type 1 font (PFB or PFA) with FreeType; its FontInfo from the clear text."""
    import freetype

    fmt = check_structure(data)
    if fmt not in TYPE1_FORMATS:
        raise FontFileError("unsupported_format", f"{fmt} is not a Type 1 font")
    clear = _type1_cleartext(data, fmt)
    if not re.search(rb"/FontType\s+1\b", clear):
        raise FontFileError("corrupt_font", "no '/FontType 1' in the clear-text part")
    if fmt == "pfa" and b"currentfile eexec" not in data:
        raise FontFileError("corrupt_font", "PFA without an encrypted part (truncated?)")
    with _FREETYPE_LOCK:
        try:
            face = freetype.Face(io.BytesIO(data))
        except freetype.FT_Exception as err:
            raise FontFileError("corrupt_font", f"FreeType cannot load the font: {err}") from None
        ft_family = (face.family_name or b"").decode("latin-1")
        ft_style = (face.style_name or b"").decode("latin-1")
        ps_name = (face.postscript_name or b"").decode("latin-1")
        ft_italic = bool(face.style_flags & freetype.FT_STYLE_FLAG_ITALIC)
        num_glyphs = int(face.num_glyphs)
        del face
    strings = _ps_strings(clear)
    name_match = _PS_NAME.search(clear)
    angle_match = _PS_NUMBER.search(clear)
    try:
        angle = float(angle_match.group(1)) if angle_match else 0.0
    except ValueError:
        angle = 0.0
    italic = ft_italic or angle != 0.0
    return Type1Info(
        font_name=name_match.group(1).decode("latin-1") if name_match else ps_name,
        family_name=strings.get("FamilyName") or ft_family,
        style_name=ft_style,
        full_name=strings.get("FullName", ""),
        weight=strings.get("Weight", ""),
        italic=italic,
        version=strings.get("version", ""),
        notice=strings.get("Notice", ""),
        copyright=strings.get("Copyright", ""),
        num_glyphs=num_glyphs,
    )


def _ps_strings(clear: bytes) -> dict[str, str]:
    """``/Key (string)`` pairs of PostScript clear text; strings may nest parentheses."""
    found: dict[str, str] = {}
    for match in _PS_STRING_START.finditer(clear):
        depth, position, out = 1, match.end(), bytearray()
        while position < len(clear) and depth:
            byte = clear[position]
            if byte == 0x5C and position + 1 < len(clear):  # backslash escape
                out.append(clear[position + 1])
                position += 2
                continue
            depth += {0x28: 1, 0x29: -1}.get(byte, 0)
            if depth:
                out.append(byte)
            position += 1
        found.setdefault(match.group(1).decode("latin-1"), out.decode("latin-1").strip())
    return found
