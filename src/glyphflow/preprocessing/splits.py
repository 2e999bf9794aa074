"""Which split a font belongs to: a hash of its key, so it never changes.

A font's split depends only on its key (font id, or family name), the seed and the
fractions, never on which other fonts exist, so adding fonts to a corpus moves none.
"""

from __future__ import annotations

import hashlib

from glyphflow.preprocessing.config import SplitFractions

__all__ = ["split_of", "unit_hash"]


def unit_hash(key: str, seed: int = 0) -> float:
    """A number in [0, 1) from sha256 of ``seed:key``: uniform, stable everywhere."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def split_of(key: str, fractions: SplitFractions, seed: int = 0) -> str:
    """``train``, ``val`` or ``test`` for ``key``."""
    u = unit_hash(key, seed)
    if u < fractions.train or fractions.val == fractions.test == 0:
        return "train"
    if u < fractions.train + fractions.val or fractions.test == 0:
        return "val"
    return "test"
