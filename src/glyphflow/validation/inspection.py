"""Inspect one font: parse it with fontTools and FreeType, render its charset, measure.

:func:`inspect_task` is the per-element function the engine maps over the raw index
(module level and pure, so it runs in worker processes or Beam workers alike): it reads
the font file from the raw store and returns :class:`FontFacts`. Nothing here decides
whether a font is accepted; rules do that from the facts.

Rendering goes through :func:`glyphflow.glyphs.render_font`, the code path training
data takes, so what the report shows is what a model would see. Two views are added:

- a font with only a Windows Symbol (3,0) cmap is given a Unicode cmap built the way
  Windows reads it (code c at U+F000+c) before rendering, so its thumbnails show the
  pictures it draws where letters should be;
- a named instance of a variable font (``row["instance"]``) is instantiated with
  fontTools' instancer and the static result inspected.
"""

from __future__ import annotations

import hashlib
import io
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from glyphflow.glyphs import FontRenderError, RenderConfig, render_font
from glyphflow.io import fontfiles, storage
from glyphflow.io.fontfiles import FontFileError
from glyphflow.validation.facts import FontFacts
from glyphflow.validation.rules.symbol import CLOSE_LIMIT
from glyphflow.validation.thumbnails import font_sheet

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["InspectJob", "inspect_font", "inspect_task", "unicode_view"]

_BITMAP_TABLES = ("EBDT", "CBDT", "sbix", "bdat")
_FT_LOAD_NO_SCALE = 1
_FT_LOAD_NO_BITMAP = 8
_COMPARE_SIDE = 32  # letters are compared on images of this side (block means)


@dataclass(frozen=True)
class InspectJob:
    """What every inspection needs, shipped once to each worker."""

    raw_url: str
    render: RenderConfig
    thumbnail_px: int = 20
    thumbnail_columns: int = 31


def inspect_task(row: dict[str, Any], job: InspectJob) -> FontFacts:
    """Read the font of index row ``row`` from the raw store and inspect it."""
    url = storage.join(job.raw_url, str(row["stored_path"]))
    try:
        data = storage.read_bytes(url)
    except Exception as err:  # a missing or unreadable file is a finding, not a crash
        facts = FontFacts(id=str(row["id"]), row=row, charset=job.render.chars)
        facts.format = row.get("format")
        facts.parse_errors["read"] = f"cannot read {row['stored_path']}: {err}"
        return facts
    return inspect_font(row, data, job)


def inspect_font(row: dict[str, Any], data: bytes, job: InspectJob) -> FontFacts:
    """The facts of face ``row["face_index"]`` (or instance ``row["instance"]``) of ``data``."""
    started = time.perf_counter()
    facts = FontFacts(id=str(row["id"]), row=row, charset=job.render.chars, file_bytes=len(data))
    # fontTools logs every flaw of a malformed font (thousands of lines for one bad
    # table); the facts say what matters, so it is muted while a font is inspected.
    fonttools_log = logging.getLogger("fontTools")
    saved = fonttools_log.level
    fonttools_log.setLevel(logging.CRITICAL)
    try:
        _inspect(facts, data, int(row.get("face_index") or 0), row.get("instance"), job)
    finally:
        fonttools_log.setLevel(saved)
        facts.seconds = time.perf_counter() - started
    return facts


def _inspect(facts: FontFacts, data: bytes, face: int, instance: Any, job: InspectJob) -> None:
    try:
        fmt = fontfiles.check_structure(data)
    except FontFileError as err:
        facts.format = facts.row.get("format")
        facts.parse_errors["read"] = str(err)
        return
    facts.format = fmt
    if instance:
        try:
            coordinates = {i["tag"]: float(i["value"]) for i in instance}
            data = fontfiles.instantiate(data, face, coordinates)
        except FontFileError as err:  # the same static font preprocessing renders
            facts.parse_errors["instancer"] = str(err)
            return
        face = 0
        fmt = fontfiles.check_structure(data)
    if fmt in fontfiles.TYPE1_FORMATS:
        render_data, render_face = _type1_facts(facts, data), face
    else:
        render_data, render_face = _sfnt_facts(facts, data, fmt, face)
    _freetype_facts(facts, data, fmt, face)
    if facts.parse_errors or render_data is None:
        return
    _render_facts(facts, render_data, render_face, job)


# ---------------------------------------------------------------------------- fontTools


def _sfnt_facts(facts: FontFacts, data: bytes, fmt: str, face: int) -> tuple[bytes | None, int]:
    """Tables, metrics, cmap and glyph names from fontTools; the bytes to render."""
    try:
        font = fontfiles.open_face(data, face, lazy=True)
    except FontFileError as err:
        facts.parse_errors["fontTools"] = str(err)
        return None, face
    tag = "head"
    try:
        tags = set(font.reader.keys()) if font.reader is not None else set(font.keys())
        facts.units_per_em = int(font[tag].unitsPerEm)
        tag = "maxp"
        facts.num_glyphs = int(font[tag].numGlyphs)
        facts.bitmap_tables = tuple(t for t in _BITMAP_TABLES if t in tags)
        for tag, label in (("glyf", "glyf"), ("CFF2", "CFF2"), ("CFF ", "CFF")):
            if tag in tags:
                font[tag]  # decompile: a damaged outline table is a parse failure
                facts.outline_format = label
                break
        for tag in ("hhea", "hmtx", "name", "OS/2", "post"):
            if tag in tags:
                font[tag]
        tag = "cmap"
        cmap = font[tag]
        unicode = cmap.getBestCmap()
        symbol = cmap.getcmap(3, 0)
        if unicode is not None:
            facts.encoding = "unicode"
            facts.letter_names = _names(facts.charset, unicode.get)
        elif symbol is not None and symbol.cmap:
            facts.encoding = "symbol"
            table = symbol.cmap
            facts.letter_names = _names(
                facts.charset, lambda code: table.get(0xF000 + code) or table.get(code)
            )
            return unicode_view(data, face), 0
    except Exception as err:  # fontTools raises many kinds for damaged tables
        facts.parse_errors["fontTools"] = (
            f"table {tag.strip()!r} is damaged: {type(err).__name__}: {err}"
        )
        return None, face
    finally:
        font.close()
    return data, face


def _names(charset: str, lookup: Any) -> dict[str, str]:
    names = {}
    for char in charset:
        name = lookup(ord(char))
        if name:
            names[char] = str(name)
    return names


def unicode_view(data: bytes, face: int = 0) -> bytes:
    """A single-face copy of a symbol-encoded font with a Unicode cmap added the way
    Windows reads symbol fonts (character code c at U+F000+c, or at c)."""
    from fontTools.ttLib.tables._c_m_a_p import CmapSubtable

    font = fontfiles.open_face(data, face, lazy=False)
    symbol = font["cmap"].getcmap(3, 0)
    mapping: dict[int, str] = {}
    for code, name in sorted(symbol.cmap.items()):
        if 0xF000 <= code <= 0xF0FF:
            mapping[code - 0xF000] = name
        elif code <= 0xFF:
            mapping.setdefault(code, name)
    table = CmapSubtable.newSubtable(4)
    table.platformID, table.platEncID, table.language = 3, 1, 0
    table.cmap = mapping
    font["cmap"].tables.append(table)
    font.flavor = None
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _type1_facts(facts: FontFacts, data: bytes) -> bytes | None:
    """Encoding, glyph names and metrics of a Type 1 font from its clear-text part.

    fontTools' PostScript interpreter reads the public font dictionary (FontMatrix,
    Encoding, FontInfo); the encrypted part (the outlines) is left to FreeType, which
    opens the whole font next. Decrypting it in pure Python as well would cost seconds
    per font and tell nothing FreeType does not.
    """
    from fontTools.encodings.StandardEncoding import StandardEncoding
    from fontTools.misc import psLib

    facts.outline_format = "Type 1"
    facts.encoding = "type1"
    try:
        clear = _type1_cleartext(data)
        # The clear text ends with the font dictionary on the stack ("currentdict end");
        # define it so the interpreter hands it back.
        info = psLib.suckfont(clear + b"\ndup /FontName get exch definefont pop\n")
        if "FontMatrix" not in info:
            raise ValueError("no FontMatrix in the clear-text font dictionary")
        matrix = info["FontMatrix"]
        facts.units_per_em = round(1 / matrix[0]) if matrix[0] else None
        encoding = info.get("Encoding")
        if isinstance(encoding, str) or encoding is None:
            encoding = StandardEncoding
        names = _names(
            facts.charset,
            lambda code: encoding[code] if code < len(encoding) and encoding[code] else None,
        )
        facts.letter_names = {c: n for c, n in names.items() if n != ".notdef"}
    except Exception as err:  # the interpreter raises many kinds for damaged fonts
        facts.parse_errors["fontTools"] = (
            f"cannot read the Type 1 font dictionary: {type(err).__name__}: {err}"
        )
        return None
    return data


def _type1_cleartext(data: bytes) -> bytes:
    """The clear-text part of a PFB (first segment) or PFA (up to ``currentfile eexec``)."""
    if data[:2] == b"\x80\x01":
        length = int.from_bytes(data[2:6], "little")
        data = data[6 : 6 + length]
    end = data.find(b"currentfile eexec")
    return data if end < 0 else data[:end]


# ---------------------------------------------------------------------------- FreeType


def _freetype_facts(facts: FontFacts, data: bytes, fmt: str, face: int) -> None:
    """FreeType opens the face; is there a contour in any glyph besides .notdef?"""
    import freetype

    try:
        if fmt in ("woff", "woff2"):
            data, face = fontfiles.to_sfnt(data, face), 0
        ft = freetype.Face(io.BytesIO(data), face)
    except FontFileError as err:
        facts.parse_errors["FreeType"] = str(err)
        return
    except freetype.FT_Exception as err:
        facts.parse_errors["FreeType"] = f"cannot open the font: {err}"
        return
    if facts.num_glyphs is None:
        facts.num_glyphs = int(ft.num_glyphs)
    if not ft.is_scalable:
        facts.has_outlines = False
        return
    facts.has_outlines = False
    for glyph in range(1, ft.num_glyphs):
        try:
            ft.load_glyph(glyph, _FT_LOAD_NO_SCALE | _FT_LOAD_NO_BITMAP)
        except freetype.FT_Exception:
            continue
        slot = ft.glyph
        if slot.format == freetype.FT_GLYPH_FORMAT_OUTLINE and slot.outline.n_contours > 0:
            facts.has_outlines = True
            return


# ---------------------------------------------------------------------------- rendering


def _render_facts(facts: FontFacts, data: bytes, face: int, job: InspectJob) -> None:
    """Render the charset; keep reasons, ink, near-identical pairs, a hash, a sheet."""
    try:
        glyphs = render_font(data, face, job.render)
    except FontRenderError as err:
        facts.render_error = err.message
        return
    facts.reasons = glyphs.reasons
    facts.ink = tuple(float(v) for v in glyphs.metric("ink"))
    present = glyphs.present
    facts.close_pairs = _close_pairs(glyphs.images, present, facts.charset)
    if present.any():
        digest = hashlib.sha256(facts.charset.encode())
        digest.update(present.tobytes())
        digest.update((glyphs.images >> 4).tobytes())  # 16 levels: rounding noise ignored
        facts.glyph_hash = digest.hexdigest()
    facts.preview = font_sheet(
        glyphs.images, glyphs.reasons, job.thumbnail_px, job.thumbnail_columns
    )


def _close_pairs(
    images: NDArray[np.uint8], present: NDArray[np.bool_], charset: str
) -> tuple[tuple[str, str, float], ...]:
    """Pairs of rendered letters whose images differ by less than CLOSE_LIMIT."""
    chars = [c for c, p in zip(charset, present, strict=True) if p]
    if len(chars) < 2:
        return ()
    kept = images[present]
    size = kept.shape[1]
    factor = size // _COMPARE_SIDE if size % _COMPARE_SIDE == 0 else 1
    side = size // factor
    # Block sums (integers: exact and fast); a block sums factor**2 pixels of 0..255.
    blocks = kept.reshape(len(chars), side, factor, side, factor).sum(axis=(2, 4), dtype=np.int16)
    flat = blocks.reshape(len(chars), -1)
    scale = 1.0 / (flat.shape[1] * factor * factor * 255.0)
    pairs = []
    for i in range(len(chars) - 1):
        distances = np.abs(flat[i + 1 :] - flat[i]).sum(axis=1, dtype=np.int64) * scale
        for j in np.flatnonzero(distances < CLOSE_LIMIT):
            pairs.append((chars[i], chars[i + 1 + int(j)], round(float(distances[j]), 5)))
    return tuple(pairs)
