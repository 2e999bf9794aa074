"""What is evaluated: the test fonts, which glyphs each observes for every k, which are novel.

Everything here is fixed by the config's seed and the font ids alone, never by the model,
so the candidate, the baseline and the champion are scored on exactly the same fonts
with exactly the same observed glyphs, and a rerun reproduces them. The observed sets are
nested (the glyph seen at k=1 is among those seen at k=4), so the curve over k reads as
"more of the same font", and they are written to ``metrics.json`` with the results.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from glyphflow.evaluation.baseline import nearest_fonts
from glyphflow.evaluation.fonts import FontTable

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["Plan", "make_plan", "observation_order"]


@dataclass
class Plan:
    """The evaluation's fonts and observations.

    ``test`` holds the selected test fonts with ``present`` limited to ``usable``
    characters; ``observed[k]`` is a [N, C] mask (an all-False row: the font has too few
    glyphs for k and is left out of that k); ``novel[i]``: no training font lies within
    ``novelty_l1`` of test font i (``nearest_distance`` over their shared glyphs).
    """

    test: FontTable
    usable: NDArray[np.bool_]
    k_shots: list[int]
    observed: dict[int, NDArray[np.bool_]]
    nearest_distance: NDArray[np.float64]
    nearest_font: list[str | None]
    novel: NDArray[np.bool_]
    novelty_l1: float
    seed: int
    skipped: dict[str, int] = field(default_factory=dict)

    def eligible(self, k: int) -> NDArray[np.bool_]:
        """Fonts evaluated at ``k``: more than ``k`` usable glyphs."""
        mask: NDArray[np.bool_] = np.asarray(self.observed[k].any(axis=1), dtype=bool)
        return mask

    def targets(self, k: int | None) -> NDArray[np.bool_]:
        """[N, C] glyphs scored: present and not observed (``k=None``: all, reconstruction)."""
        if k is None:
            return self.test.present.copy()
        mask: NDArray[np.bool_] = self.test.present & ~self.observed[k]
        mask[~self.eligible(k)] = False
        return mask

    def subsets(self) -> dict[str, NDArray[np.bool_]]:
        return {"all": np.ones(len(self.test), bool), "novel": self.novel.copy()}

    def observed_chars(self) -> dict[str, dict[str, str]]:
        """font id -> {k: observed characters} (what ``metrics.json`` records)."""
        out: dict[str, dict[str, str]] = {}
        charset = self.test.charset
        for i, font_id in enumerate(self.test.font_ids):
            out[font_id] = {
                str(k): "".join(charset[c] for c in np.flatnonzero(self.observed[k][i]))
                for k in self.k_shots
            }
        return out


def _font_seed(seed: int, font_id: str) -> list[int]:
    digest = hashlib.sha256(font_id.encode("utf-8")).digest()
    return [seed & 0xFFFFFFFF, int.from_bytes(digest[:8], "big")]


def observation_order(font_id: str, present: NDArray[np.bool_], seed: int) -> NDArray[np.int64]:
    """The font's usable characters in the order they are observed (fixed by seed and id)."""
    rng = np.random.default_rng(_font_seed(seed, font_id))
    order: NDArray[np.int64] = rng.permutation(np.flatnonzero(present)).astype(np.int64)
    return order


def _select(test: FontTable, limit: int | None, seed: int) -> FontTable:
    if limit is None or len(test) <= limit:
        return test
    rng = np.random.default_rng([seed & 0xFFFFFFFF, 7])
    chosen = np.sort(rng.choice(len(test), size=limit, replace=False))
    return test.subset(chosen)


def make_plan(
    test: FontTable,
    train: FontTable,
    usable_chars: Sequence[str] | str,
    k_shots: Sequence[int],
    seed: int,
    novelty_l1: float,
    max_test_fonts: int | None = None,
) -> Plan:
    """Select test fonts, fix their observed glyphs for every k, and find the novel ones."""
    charset = test.charset
    usable = np.array([c in set(usable_chars) for c in charset], dtype=bool)
    empty = ~(test.present & usable).any(axis=1)
    skipped = {"fonts_without_usable_glyphs": int(empty.sum())}
    test = test.subset(np.flatnonzero(~empty))
    test = _select(test, max_test_fonts, seed)
    test.present = test.present & usable
    ks = sorted(k_shots)
    observed = {k: np.zeros(test.present.shape, dtype=bool) for k in ks}
    for i, font_id in enumerate(test.font_ids):
        order = observation_order(font_id, test.present[i], seed)
        for k in ks:
            if len(order) > k:
                observed[k][i, order[:k]] = True
    distances, nearest = nearest_fonts(test, train)
    return Plan(
        test=test,
        usable=usable,
        k_shots=ks,
        observed=observed,
        nearest_distance=distances,
        nearest_font=[train.font_ids[j] if j >= 0 else None for j in nearest],
        novel=distances > novelty_l1,
        novelty_l1=novelty_l1,
        seed=seed,
        skipped=skipped,
    )
