"""The nearest-neighbour baseline and the novelty check: how far is a font from training?

The baseline learns nothing: given the observed glyphs of a test font it finds the
training font whose glyphs of those characters are closest (mean L1) and copies its
other glyphs. A style model that cannot beat it has not learned style, only memory.

Real corpora hold the same typeface under several names and formats; the baseline wins on
such twins without learning anything. :func:`nearest_fonts` gives each test font its
closest training font over all the glyphs both have, so the evaluation can report every
figure over the "novel" fonts too (no training font within a set distance).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from glyphflow.evaluation.fonts import FontTable

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["NearestNeighbourBaseline", "glyph_distances", "nearest_fonts"]

_CHUNK = 64  # training fonts compared at once (bounds memory to chunk * C * H * W * 2 bytes)


def glyph_distances(
    glyphs: NDArray[np.uint8], labels: NDArray[np.int64], table: FontTable
) -> NDArray[np.float64]:
    """Mean L1 in [0, 1] of ``glyphs[K, H, W]`` (characters ``labels``) to each font's same
    characters: shape [N, K], NaN where a font lacks the character."""
    labels = np.asarray(labels, dtype=np.int64)
    query = glyphs.astype(np.int16)
    out = np.empty((len(table), len(labels)), dtype=np.float64)
    for start in range(0, len(table), _CHUNK):
        chunk = table.images[start : start + _CHUNK, labels].astype(np.int16)
        diff = np.abs(chunk - query[None]).mean(axis=(-2, -1)) / 255.0
        out[start : start + _CHUNK] = diff
    out[~table.present[:, labels]] = np.nan
    return out


def _mean_ignoring_missing(distances: NDArray[np.float64]) -> NDArray[np.float64]:
    """Row means over the available columns; +inf for a row with none."""
    counts = np.sum(~np.isnan(distances), axis=1)
    sums = np.nansum(distances, axis=1)
    means = np.full(len(distances), np.inf)
    np.divide(sums, counts, out=means, where=counts > 0)
    return means


class NearestNeighbourBaseline:
    """Complete a font by copying the training font closest on the observed glyphs."""

    def __init__(self, train: FontTable) -> None:
        if len(train) == 0:
            raise ValueError("the nearest-neighbour baseline needs at least one training font")
        self.train = train

    def distances(
        self, glyphs: NDArray[np.uint8], labels: NDArray[np.int64]
    ) -> NDArray[np.float64]:
        """Mean L1 of the observed glyphs to each training font's (inf: none in common)."""
        return _mean_ignoring_missing(glyph_distances(glyphs, labels, self.train))

    def complete(
        self,
        glyphs: NDArray[np.uint8],
        labels: NDArray[np.int64],
        targets: NDArray[np.int64],
    ) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
        """Images [T, H, W] for characters ``targets`` given observed ``glyphs``/``labels``,
        and the index of the training font each was copied from (-1: no font has it).

        Each target comes from the closest training font that has that character; ties go
        to the first font in id order, so the result is deterministic.
        """
        distance = self.distances(glyphs, labels)
        order = np.argsort(distance, kind="stable")
        targets = np.asarray(targets, dtype=np.int64)
        height, width = self.train.image_shape
        out = np.zeros((len(targets), height, width), dtype=np.uint8)
        source = np.full(len(targets), -1, dtype=np.int64)
        for slot, target in enumerate(targets):
            has = self.train.present[order, target]
            if not has.any():
                continue
            font = int(order[int(np.argmax(has))])
            out[slot] = self.train.images[font, target]
            source[slot] = font
        return out, source


def nearest_fonts(
    test: FontTable, train: FontTable
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """For each test font: the mean L1 over shared glyphs to its closest training font,
    and that font's index (inf and -1 when no training font shares a glyph)."""
    distances = np.full(len(test), np.inf)
    nearest = np.full(len(test), -1, dtype=np.int64)
    if len(train) == 0:
        return distances, nearest
    for i in range(len(test)):
        labels = np.flatnonzero(test.present[i])
        if len(labels) == 0:
            continue
        per_font = _mean_ignoring_missing(glyph_distances(test.images[i, labels], labels, train))
        best = int(np.argmin(per_font))
        if np.isfinite(per_font[best]):
            distances[i] = per_font[best]
            nearest[i] = best
    return distances, nearest
