"""Image grids of glyphs (dark ink on white) for MLflow and the output folder."""

from __future__ import annotations

import numpy as np

__all__ = ["glyph_grid"]


def glyph_grid(rows: list[np.ndarray], pad: int = 2, gap_every: int = 0) -> np.ndarray:
    """uint8 image of ``rows`` (each [C, H, W] ink in [0, 1]); NaN cells are left blank.

    ``gap_every``: a wider gap after every that many rows (groups of real/reconstruction).
    """
    if not rows:
        return np.full((1, 1), 255, np.uint8)
    count, height, width = rows[0].shape
    extra = [pad * 3 if gap_every and i and i % gap_every == 0 else 0 for i in range(len(rows))]
    total_h = len(rows) * (height + pad) + pad + sum(extra)
    total_w = count * (width + pad) + pad
    canvas = np.full((total_h, total_w), 255, np.uint8)
    top = pad
    for index, row in enumerate(rows):
        top += extra[index]
        for col in range(count):
            cell = row[col]
            if np.isnan(cell).any():
                continue
            left = pad + col * (width + pad)
            ink = np.clip(cell, 0.0, 1.0)
            canvas[top : top + height, left : left + width] = (
                (255 - ink * 255).round().astype(np.uint8)
            )
        top += height + pad
    return canvas
