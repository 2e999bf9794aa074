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


def font_sheet(
    images: NDArray[np.uint8],
    reasons: Sequence[str | None],
    cell: int,
    columns: int,
) -> bytes:
    """A PNG of ``images`` ((C, H, W) uint8 ink) in a grid of ``cell``-pixel cells."""
    from PIL import Image

    count = len(images)
    columns = max(1, min(columns, count))
    rows = max(1, -(-count // columns))
    sheet = np.full((rows * cell, columns * cell, 3), _PAPER, dtype=np.uint8)
    for i in range(count):
        top, left = (i // columns) * cell, (i % columns) * cell
        reason = reasons[i]
        if reason is None:
            glyph = Image.fromarray(images[i]).resize((cell, cell), Image.Resampling.BOX)
            ink = np.asarray(glyph, dtype=np.uint8)
            sheet[top : top + cell, left : left + cell] = (_PAPER - ink)[:, :, None]
        elif reason == "notdef":
            sheet[top : top + cell, left : left + cell] = _NOTDEF
        elif reason == "clipped":
            sheet[top : top + cell, left : left + cell] = _CLIPPED
        elif reason == "duplicate":
            continue  # drawn, its image dropped as a copy: leave the cell white
        else:
            sheet[top : top + cell, left : left + cell] = _MISSING
    out = io.BytesIO()
    Image.fromarray(sheet, "RGB").save(out, format="PNG", optimize=True)
    return out.getvalue()


def data_uri(png: bytes) -> str:
    """``data:image/png;base64,...`` for an <img src>."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
