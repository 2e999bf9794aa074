"""Font bytes to glyph images: the one rendering path of glyphflow.

:func:`render_font` is what preprocessing, stream mode and the serving stage's uploads all
call, so a model sees in production exactly what it saw in training. It is pure: the same
bytes, face and config give the same arrays, on any machine with the same FreeType.

How a glyph is placed (``config.normalisation``), in a square canvas of ``glyph_size``
pixels (times ``supersample`` while drawing) with ``padding`` pixels kept clear:

- ``em``: one scale per font, the font's units-per-em filling the padded box; the
  baseline sits on a fixed row (``baseline`` from the top); ink centred horizontally.
  Relative sizes (x-height against cap height, one font against another) survive.
- ``cap_height``: one scale per font, chosen so capital H is ``cap_height`` of the box;
  baseline and centring as in ``em``.
- ``fit``: each glyph scaled on its own so its ink box fills the padded box (aspect kept)
  and centred both ways, as textfont-ai did.

Outlines are loaded unhinted in font units and scaled by an exact fixed-point transform;
FreeType draws 256-level coverage straight into the numpy array (ink 255, paper 0).

A character is not produced, and gets a reason instead, when it is not in the cmap
(or maps to .notdef), its glyph has no outline or is empty, its image equals the
.notdef glyph's, it duplicates an earlier character's image, or (em/cap_height) its ink
leaves the image by more than ``clip_tolerance``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from glyphflow.core.errors import GlyphflowError
from glyphflow.glyphs._freetype import FaceHandle, FreeTypeError
from glyphflow.glyphs.config import RenderConfig, resolve_charset
from glyphflow.io import fontfiles

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["METRICS", "FontGlyphs", "FontRenderError", "Reason", "render_font"]

#: Columns of :attr:`FontGlyphs.metrics`: advance and exact ink box in em units, the
#: scale used (image pixels per em) and the ink fraction of the final image.
METRICS = ("advance", "xmin", "ymin", "xmax", "ymax", "scale", "ink")

# Glyphs tried, in order, to measure the cap height for ``cap_height`` normalisation.
_CAP_PROBES = "HIEFTLZX"


class Reason(StrEnum):
    """Why a character of the charset has no image."""

    NOT_IN_CMAP = "not_in_cmap"  # no mapping (or an explicit mapping to .notdef)
    NOTDEF = "notdef"  # its image is the .notdef glyph's image
    EMPTY = "empty"  # the glyph has no contour, or draws no pixel
    DUPLICATE = "duplicate"  # same image as an earlier character of the charset
    CLIPPED = "clipped"  # ink leaves the image (em, cap_height)
    NO_OUTLINE = "no_outline"  # a bitmap-only glyph
    UNREADABLE = "unreadable"  # FreeType could not load or draw it


class FontRenderError(GlyphflowError):
    """The font as a whole cannot be rendered; ``reason`` is a short code for records."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, eq=False)
class FontGlyphs:
    """The glyphs of one face for one charset, aligned with ``charset`` (label order)."""

    charset: str
    images: NDArray[np.uint8]  # (C, H, W); zeros where not present
    present: NDArray[np.bool_]  # (C,)
    reasons: tuple[str | None, ...]  # per character: None when present, else a Reason
    metrics: NDArray[np.float32]  # (C, len(METRICS)); NaN where the glyph was not loaded
    family: str = ""
    style: str = ""
    postscript_name: str = ""
    units_per_em: int = 0
    num_glyphs: int = 0
    duplicate_of: dict[str, str] = field(default_factory=dict)  # char -> earlier char

    @property
    def count(self) -> int:
        """How many characters were produced."""
        return int(self.present.sum())

    def missing(self) -> dict[str, str]:
        """Character -> reason, for every character not produced."""
        return {c: r for c, r in zip(self.charset, self.reasons, strict=True) if r is not None}

    def metric(self, name: str) -> NDArray[np.float32]:
        """One column of :attr:`metrics` by name (see :data:`METRICS`)."""
        return self.metrics[:, METRICS.index(name)]


def render_font(
    data: bytes,
    face_index: int = 0,
    config: RenderConfig | None = None,
    instance: Mapping[str, float] | None = None,
) -> FontGlyphs:
    """Render every character of ``config``'s charset from face ``face_index`` of ``data``.

    ``instance`` (axis tag -> design value, e.g. ``{"wght": 700}``) renders that instance
    of a variable font: :func:`glyphflow.io.fontfiles.instantiate` pins the font there
    first (axes it does not name keep their default). None or empty: the default instance.

    Raises :class:`FontRenderError` when the font as a whole cannot be used (not a font,
    no such face, a WOFF that will not unpack, no scalable outlines, an ``instance`` the
    font has no axes for). Characters that cannot be produced get a reason instead of an
    image.
    """
    config = config or RenderConfig()
    chars = resolve_charset(config.charset)
    if not isinstance(data, bytes):
        data = bytes(data)  # FreeType reads from one immutable buffer
    # FreeType may lack WOFF2 (brotli) support: web fonts are unpacked by fontTools, so
    # FreeType only ever sees sfnt, collection or Type 1 data.
    sfnt = data
    if instance:
        try:
            sfnt = fontfiles.instantiate(data, face_index, instance)
        except fontfiles.FontFileError as err:
            raise FontRenderError(err.reason, str(err)) from None
        face_index = 0
    elif fontfiles.sniff_format(data[:4]) in ("woff", "woff2"):
        try:
            sfnt = fontfiles.to_sfnt(data)
        except fontfiles.FontFileError as err:
            raise FontRenderError("decompress_error", str(err)) from None
    canvas_side = config.glyph_size * config.supersample
    try:
        face = FaceHandle(sfnt, face_index, canvas_side)
    except FreeTypeError as err:
        raise _open_error(sfnt, face_index, err) from None
    with face:
        if not face.scalable or face.units_per_em <= 0:
            raise FontRenderError(
                "no_outlines", "the font has no scalable outlines (bitmap-only font)"
            )
        return _render(face, chars, config)


def _open_error(data: bytes, face_index: int, err: FreeTypeError) -> FontRenderError:
    if face_index > 0:
        try:
            with FaceHandle(data, 0) as first:
                if face_index >= first.num_faces:
                    return FontRenderError(
                        "bad_face_index",
                        f"face {face_index} requested, the file has {first.num_faces}",
                    )
        except FreeTypeError:
            pass
    return FontRenderError("unreadable_font", f"not a font FreeType can read ({err})")


def _render(face: FaceHandle, chars: str, config: RenderConfig) -> FontGlyphs:
    size = config.glyph_size
    draw = _Drawer(face, config)
    count = len(chars)
    images = np.zeros((count, size, size), dtype=np.uint8)
    keys: list[bytes | None] = [None] * count  # image bytes, to find equal images
    rows: list[tuple[float, ...]] = [_NO_METRICS] * count
    reasons: list[str | None] = [None] * count

    for i, char in enumerate(chars):
        glyph = face.glyph_index(char)
        if glyph == 0:
            reasons[i] = Reason.NOT_IN_CMAP
            continue
        reasons[i], keys[i], rows[i] = draw(glyph, images[i])
    notdef_reason, notdef_key, _ = draw(0, np.zeros((size, size), dtype=np.uint8))

    first_with: dict[bytes, int] = {}
    duplicate_of: dict[str, str] = {}
    for i in range(count):
        key = keys[i]
        if reasons[i] is not None or key is None:
            continue
        if notdef_reason is None and key == notdef_key:
            reasons[i] = Reason.NOTDEF
        elif config.drop_duplicates and key in first_with:
            reasons[i] = Reason.DUPLICATE
            duplicate_of[chars[i]] = chars[first_with[key]]
        else:
            first_with.setdefault(key, i)

    present = np.array([r is None for r in reasons], dtype=np.bool_)
    images[~present] = 0
    metrics = np.array(rows, dtype=np.float32).reshape(count, len(METRICS))
    ink = images.reshape(count, -1).sum(axis=1, dtype=np.uint32) / float(255 * size * size)
    metrics[:, _INK] = np.where(present, ink, np.nan)
    return FontGlyphs(
        charset=chars,
        images=images,
        present=present,
        reasons=tuple(None if r is None else str(r) for r in reasons),
        metrics=metrics,
        family=face.family,
        style=face.style,
        postscript_name=face.postscript_name,
        units_per_em=face.units_per_em,
        num_glyphs=face.num_glyphs,
        duplicate_of=duplicate_of,
    )


_NAN = float("nan")
_NO_METRICS = (_NAN,) * len(METRICS)
_INK = METRICS.index("ink")


class _Drawer:
    """Draws glyphs of one face under one config: placement worked out once per font.

    Coordinates are 26.6 pixels (1/64) in a canvas of ``glyph_size * supersample``
    pixels, y up from the bottom edge, as FreeType's rasteriser sees it.
    """

    def __init__(self, face: FaceHandle, config: RenderConfig) -> None:
        k = config.supersample
        side = config.glyph_size * k
        self.face = face
        self.k = k
        self.size = config.glyph_size
        self.upem = face.units_per_em
        self.inner = side - 2 * config.padding * k
        self.side64 = side * 64
        self.half64 = side * 32
        self.tolerance = config.clip_tolerance * side * 64
        self.baseline_y = round((side - (config.padding * k + config.baseline * self.inner)) * 64)
        self.font_scale = _font_scale(face, config, self.inner)  # None: per glyph (fit)
        self.blank = bytes(side * side)

    def __call__(
        self, glyph: int, out: NDArray[np.uint8]
    ) -> tuple[str | None, bytes | None, tuple[float, ...]]:
        """Draw ``glyph`` into ``out``: (reason or None, image bytes, metrics row)."""
        try:
            outline = self.face.load(glyph)
        except FreeTypeError:
            return Reason.UNREADABLE, None, _NO_METRICS
        if outline is None:
            return Reason.NO_OUTLINE, None, _NO_METRICS
        upem = self.upem
        xmin, ymin, xmax, ymax, advance, empty = outline
        if empty:
            return Reason.EMPTY, None, (advance / upem, *_NO_METRICS[1:])
        font_scale = self.font_scale
        if font_scale is None:  # fit: this glyph's ink box fills the padded box
            scale = self.inner / max(xmax - xmin, ymax - ymin, 1)
            dy = round(self.half64 - (ymin + ymax) * scale * 32)
        else:
            scale = font_scale
            dy = self.baseline_y
        s64 = scale * 64
        dx = round(self.half64 - (xmin + xmax) * scale * 32)
        row = (
            advance / upem,
            xmin / upem,
            ymin / upem,
            xmax / upem,
            ymax / upem,
            scale * upem / self.k,
            _NAN,
        )
        if font_scale is not None:
            tol = self.tolerance
            high = self.side64 + tol
            if (
                xmin * s64 + dx < -tol
                or ymin * s64 + dy < -tol
                or xmax * s64 + dx > high
                or ymax * s64 + dy > high
            ):
                return Reason.CLIPPED, None, row
        try:
            canvas = self.face.rasterise(s64, dx, dy)
        except FreeTypeError:
            return Reason.UNREADABLE, None, row
        image = canvas.tobytes()
        if image == self.blank:
            return Reason.EMPTY, None, row
        k = self.k
        if k == 1:
            out[...] = canvas
        else:  # average k x k blocks, rounding half up: exact integer arithmetic
            size = self.size
            blocks = canvas.reshape(size, k, size, k).sum(axis=(1, 3), dtype=np.uint32)
            out[...] = (blocks + (k * k) // 2) // (k * k)
            image = out.tobytes()
        return None, image, row


def _font_scale(face: FaceHandle, config: RenderConfig, inner: int) -> float | None:
    """Canvas pixels per font unit for the whole font (None: per glyph, in fit mode)."""
    if config.normalisation == "fit":
        return None
    if config.normalisation == "em":
        return inner / face.units_per_em
    cap_units = 0.7 * face.units_per_em
    for char in _CAP_PROBES:
        glyph = face.glyph_index(char)
        if not glyph:
            continue
        try:
            outline = face.load(glyph)
        except FreeTypeError:
            continue
        if outline is not None and not outline[5] and outline[3] > 0:
            cap_units = float(outline[3])
            break
    return config.cap_height * inner / cap_units
