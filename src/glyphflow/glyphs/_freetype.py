"""The few FreeType calls glyph rendering needs, on the library freetype-py ships.

freetype-py's object wrappers copy bitmaps into Python lists and build an object per
attribute access; rendering thousands of glyphs per second needs neither. This module
declares its own ctypes prototypes for a handful of functions of the same shared library
(so freetype-py's own function objects are left as they are) and: loads a glyph's outline
in font units (no scaling, so no hinting), measures its exact bounding box, scales and
moves it with an exact fixed-point transform, and rasterises it into a numpy array (an
``FT_Bitmap`` whose buffer is the array's memory), clipped to the array by FreeType.
"""

from __future__ import annotations

import ctypes
import threading
from typing import TYPE_CHECKING, Any

import freetype
import numpy as np
from freetype import raw
from freetype.ft_structs import FT_BBox, FT_Bitmap, FT_Face, FT_Matrix

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["FaceHandle", "FreeTypeError", "GlyphOutline"]

_FT_LOAD_NO_SCALE = 1 << 0  # font units; implies no hinting and no embedded bitmaps
_FT_LOAD_NO_HINTING = 1 << 1
_FT_LOAD_NO_BITMAP = 1 << 3
_LOAD_FLAGS = _FT_LOAD_NO_SCALE | _FT_LOAD_NO_HINTING | _FT_LOAD_NO_BITMAP
_FT_FACE_FLAG_SCALABLE = 1 << 0
_FT_GLYPH_FORMAT_OUTLINE = int.from_bytes(b"outl", "big")
_FT_PIXEL_MODE_GRAY = 2

_P = ctypes.c_void_p
_lib = ctypes.CDLL(raw._lib._name)  # the same library freetype-py loaded (dlopen refcount)


def _proto(name: str, restype: Any, *argtypes: Any) -> Any:
    function = getattr(_lib, name)
    function.restype = restype
    function.argtypes = list(argtypes)
    return function


_new_memory_face = _proto(
    "FT_New_Memory_Face", ctypes.c_int, _P, ctypes.c_char_p, ctypes.c_long, ctypes.c_long, _P
)
_done_face = _proto("FT_Done_Face", ctypes.c_int, _P)
_char_index = _proto("FT_Get_Char_Index", ctypes.c_uint, _P, ctypes.c_ulong)
_load_glyph = _proto("FT_Load_Glyph", ctypes.c_int, _P, ctypes.c_uint, ctypes.c_int32)
_get_bbox = _proto("FT_Outline_Get_BBox", ctypes.c_int, _P, _P)
_transform = _proto("FT_Outline_Transform", None, _P, _P)
_translate = _proto("FT_Outline_Translate", None, _P, ctypes.c_long, ctypes.c_long)
_get_bitmap = _proto("FT_Outline_Get_Bitmap", ctypes.c_int, _P, _P, _P)
_ps_name = _proto("FT_Get_Postscript_Name", ctypes.c_char_p, _P)


# FreeType allows one library handle to serve many threads, except that creating and
# destroying faces must not run concurrently; glyphs of distinct faces may be drawn at
# once (ctypes releases the GIL during each call).
_FACES_LOCK = threading.Lock()


class FreeTypeError(Exception):
    """FreeType refused a font or a glyph; ``code`` is FreeType's error number."""

    def __init__(self, what: str, code: int) -> None:
        errors: dict[int, str] = getattr(freetype.FT_Exception, "_errors", {})
        super().__init__(f"{what}: {errors.get(code, f'FreeType error {code:#x}')}")
        self.code = code


#: A glyph loaded in font units: (xmin, ymin, xmax, ymax, advance, empty), the exact
#: ink box, the advance, and whether it has no contour. A plain tuple: built per glyph.
GlyphOutline = tuple[int, int, int, int, int, bool]


class FaceHandle:
    """One open face. Close it (or use ``with``); the font bytes stay alive until then.

    Glyphs are drawn through one scratch canvas of ``canvas_side`` pixels, whose memory is
    the rasteriser's target bitmap for the life of the handle.
    """

    def __init__(self, data: bytes, face_index: int, canvas_side: int = 64) -> None:
        self._data = data  # FreeType reads from this memory for the face's lifetime
        self._library = freetype.get_handle()
        face = FT_Face()
        with _FACES_LOCK:
            error = _new_memory_face(
                ctypes.cast(self._library, _P), data, len(data), face_index, ctypes.byref(face)
            )
        if error:
            raise FreeTypeError("cannot open font", error)
        self._face: Any = face
        self._face_p: ctypes.c_void_p | None = ctypes.cast(face, _P)
        rec = face.contents
        self.num_faces = int(rec.num_faces)
        self.num_glyphs = int(rec.num_glyphs)
        self.units_per_em = int(rec.units_per_EM)
        self.scalable = bool(rec.face_flags & _FT_FACE_FLAG_SCALABLE)
        self.family = _decode(rec.family_name)
        self.style = _decode(rec.style_name)
        self.postscript_name = _decode(_ps_name(self._face_p))
        # Views into FreeType's glyph slot: their addresses never change for this face.
        self._slot = rec.glyph.contents
        self._metrics = self._slot.metrics
        self._outline = self._slot.outline
        self._outline_p = ctypes.addressof(self._outline)
        self._bbox = FT_BBox()
        self._bbox_p = ctypes.addressof(self._bbox)
        self._matrix = FT_Matrix()
        self._matrix_p = ctypes.addressof(self._matrix)
        self.canvas = np.zeros((canvas_side, canvas_side), dtype=np.uint8)
        self._bitmap = FT_Bitmap()
        self._bitmap.rows = self._bitmap.width = self._bitmap.pitch = canvas_side
        self._bitmap.pixel_mode = _FT_PIXEL_MODE_GRAY
        self._bitmap.num_grays = 256
        self._bitmap.buffer = self.canvas.ctypes.data_as(ctypes.POINTER(ctypes.c_ubyte))
        self._bitmap_p = ctypes.addressof(self._bitmap)
        self._library_p = ctypes.cast(self._library, _P)

    def close(self) -> None:
        if getattr(self, "_face_p", None) is not None:
            with _FACES_LOCK:
                _done_face(self._face_p)
            self._face_p = None

    def __enter__(self) -> FaceHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def glyph_index(self, char: str) -> int:
        """The glyph of ``char`` in the face's Unicode map; 0 when it has none."""
        index: int = _char_index(self._face_p, ord(char))
        return index

    def load(self, glyph: int) -> GlyphOutline | None:
        """Load glyph ``glyph`` in font units; None when it has no outline (bitmap only)."""
        error = _load_glyph(self._face_p, glyph, _LOAD_FLAGS)
        if error:
            raise FreeTypeError(f"cannot load glyph {glyph}", error)
        if self._slot.format != _FT_GLYPH_FORMAT_OUTLINE:
            return None
        outline = self._outline
        advance: int = self._metrics.horiAdvance
        if outline.n_points == 0 or outline.n_contours == 0:
            return (0, 0, 0, 0, advance, True)
        _get_bbox(self._outline_p, self._bbox_p)
        box = self._bbox
        return (box.xMin, box.yMin, box.xMax, box.yMax, advance, False)

    def rasterise(self, scale_26_6: float, dx: int, dy: int) -> NDArray[np.uint8]:
        """Scale the loaded outline by ``scale_26_6`` (26.6 pixels per font unit), move it
        by (dx, dy) 26.6 pixels, and draw it into :attr:`canvas` (cleared first; row 0 at
        the top), clipped to the canvas. Returns the canvas."""
        fixed = round(scale_26_6 * 65536)
        matrix = self._matrix
        matrix.xx = matrix.yy = fixed
        _transform(self._outline_p, self._matrix_p)
        _translate(self._outline_p, dx, dy)
        self.canvas.fill(0)
        error = _get_bitmap(self._library_p, self._outline_p, self._bitmap_p)
        if error:
            raise FreeTypeError("cannot rasterise glyph", error)
        return self.canvas


def _decode(value: Any) -> str:
    if not value:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1", "replace")
    return str(value)
