"""Glyph images to what a client receives: a PNG sheet, or arrays as base64 in JSON.

A sheet lays each style's glyphs out in rows of ``columns`` cells of the glyph size
(times ``scale``), styles one below the other, without gaps, so a client that knows the
glyph size and the column count can cut any glyph out (the web page does). Sheets are
for people: dark ink on white paper. JSON arrays keep the model's convention (uint8
coverage, ink 255) so they feed straight back into a model.

PNGs are written with fast zlib settings: a 62-glyph sheet encodes in about a
millisecond, which matters for the page's live redraw.
"""

from __future__ import annotations

import base64
import io
import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["encode_arrays", "sheet_layout", "sheet_png"]


def sheet_layout(count: int, columns: int | None) -> tuple[int, int]:
    """(columns, rows) of one style's block for ``count`` glyphs."""
    cols = max(1, min(count, columns or min(count, 16)))
    return cols, max(1, math.ceil(count / cols))


def sheet_array(
    images: NDArray[np.uint8], columns: int | None = None, scale: int = 1
) -> NDArray[np.uint8]:
    """``images (B, N, H, W)`` ink-255 -> a (rows*H*scale, cols*W*scale) paper-white image."""
    batch, count, height, width = images.shape
    cols, rows = sheet_layout(count, columns)
    padded = np.zeros((batch, rows * cols, height, width), dtype=np.uint8)
    padded[:, :count] = images
    grid = (
        padded.reshape(batch, rows, cols, height, width)
        .transpose(0, 1, 3, 2, 4)
        .reshape(batch * rows * height, cols * width)
    )
    if scale > 1:
        grid = np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)
    out: NDArray[np.uint8] = 255 - grid
    return out


def sheet_png(images: NDArray[np.uint8], columns: int | None = None, scale: int = 1) -> bytes:
    """A PNG sheet (grey, dark ink on white) of ``images (B, N, H, W)``."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(sheet_array(images, columns, scale), mode="L").save(
        buffer, format="PNG", compress_level=1
    )
    return buffer.getvalue()


def encode_arrays(images: NDArray[np.uint8]) -> list[str]:
    """Each image ``(N, H, W)`` as base64 of its H*W uint8 bytes, row-major."""
    return [base64.b64encode(np.ascontiguousarray(image).tobytes()).decode() for image in images]
