"""Small PNG sheets of a font's rendered charset, for the report.

A sheet shows every character of the charset in label order, ``columns`` to a row:
ink dark on white where the font draws the character, a pale red cell where it does
not, pale orange where it draws the .notdef box, pale yellow where the glyph is too big
for the image, so a coverage hole or a row of identical boxes is visible at a glance. Sheets are
PNG bytes, embedded in report.html as data URIs.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["data_uri", "font_sheet"]

_MISSING = (250, 222, 222)  # pale red: the font does not draw this character
_NOTDEF = (250, 236, 206)  # pale orange: drawn, but as the .notdef box
_CLIPPED = (250, 246, 200)  # pale yellow: drawn, but its ink leaves the image
_PAPER = 255
# Cell colour per render reason; reasons not listed ("duplicate") stay white.
_TINTS = {
    "not_in_cmap": _MISSING,
    "empty": _MISSING,
    "no_outline": _MISSING,
    "unreadable": _MISSING,
    "notdef": _NOTDEF,
    "clipped": _CLIPPED,
}


def font_sheet(
    images: NDArray[np.uint8],
    reasons: Sequence[str | None],
    cell: int,
    columns: int,
) -> bytes:
    """A PNG of ``images`` ((C, H, W) uint8 ink) in a grid of ``cell``-pixel cells."""
    from PIL import Image

    count, size = len(images), images.shape[1]
    columns = max(1, min(columns, count))
    rows = max(1, -(-count // columns))
    # Lay the glyphs out at full size, shrink the whole sheet once, then tint the cells
    # of characters that have no image.
    full = np.zeros((rows * size, columns * size), dtype=np.uint8)
    for i in range(count):
        top, left = (i // columns) * size, (i % columns) * size
        full[top : top + size, left : left + size] = images[i]
    small = Image.fromarray(full).resize((columns * cell, rows * cell), Image.Resampling.BOX)
    ink = np.asarray(small, dtype=np.uint8)
    sheet = np.repeat((_PAPER - ink)[:, :, None], 3, axis=2)
    for i in range(count):
        tint = _TINTS.get(str(reasons[i])) if reasons[i] is not None else None
        if tint is not None:
            top, left = (i // columns) * cell, (i % columns) * cell
            sheet[top : top + cell, left : left + cell] = tint
    out = io.BytesIO()
    Image.fromarray(sheet, "RGB").save(out, format="PNG", compress_level=6)
    return out.getvalue()


def data_uri(png: bytes) -> str:
    """``data:image/png;base64,...`` for an <img src>."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
