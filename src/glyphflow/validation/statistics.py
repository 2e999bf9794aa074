"""Corpus statistics: what was read, what was kept, and flat figures to compare runs.

``statistics.json`` holds counts per rule, per format, family, weight, width and italic;
per-character coverage (the fraction of readable fonts drawing each character) and a
histogram of per-font coverage; and, over accepted fonts, each character's ink coverage
(fraction of the image inked) mean and spread from the rendered glyphs, the same images
training sees.

``figures`` flattens the comparable numbers into ``name -> value`` (fractions and
means, never raw counts, so corpora of different sizes compare); drift checks read
only that part.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from glyphflow.validation.facts import FontFacts
from glyphflow.validation.judge import Verdicts

__all__ = ["STATISTICS_VERSION", "compute_statistics"]

STATISTICS_VERSION = 1
_BINS = 10


def compute_statistics(
    facts: Sequence[FontFacts], verdicts: Verdicts, charset: str
) -> dict[str, Any]:
    """Everything statistics.json holds except drift (added by the stage)."""
    total = len(facts)
    accepted = [f for f in facts if verdicts.accepted(f.id)]
    rules = {}
    for rule in verdicts.rules:
        enabled = bool(rule.params.enabled)
        rules[rule.name] = {
            "title": rule.title,
            "enabled": enabled,
            "failed": verdicts.failed_count(rule.name) if enabled else 0,
            "only_reason": verdicts.only_reason_count(rule.name) if enabled else 0,
            "skipped": len(verdicts.skipped.get(rule.name, ())),
        }
    stats: dict[str, Any] = {
        "version": STATISTICS_VERSION,
        "charset": charset,
        "counts": {"fonts": total, "accepted": len(accepted), "rejected": total - len(accepted)},
        "rules": rules,
        "by_format": _groups(facts, verdicts, lambda f: f.format or "unknown"),
        "by_weight": _groups(facts, verdicts, lambda f: _int_key(f.row.get("weight_class"))),
        "by_width": _groups(facts, verdicts, lambda f: _int_key(f.row.get("width_class"))),
        "by_italic": _groups(facts, verdicts, lambda f: _bool_key(f.row.get("italic"))),
        "by_family": _groups(facts, verdicts, lambda f: f.row.get("family") or "(no family)"),
        "coverage": _coverage(facts, charset),
        "ink": _ink(accepted, charset),
        "seconds_per_font": _round(float(np.mean([f.seconds for f in facts])) if facts else 0.0),
    }
    stats["figures"] = _figures(stats, facts)
    return stats


def _int_key(value: Any) -> str:
    return "unknown" if value is None else str(int(value))


def _bool_key(value: Any) -> str:
    return "unknown" if value is None else ("italic" if value else "upright")


def _groups(
    facts: Sequence[FontFacts], verdicts: Verdicts, key: Callable[[FontFacts], str]
) -> dict[str, dict[str, int]]:
    fonts: Counter[str] = Counter()
    kept: Counter[str] = Counter()
    for f in facts:
        k = key(f)
        fonts[k] += 1
        kept[k] += verdicts.accepted(f.id)
    ordered = sorted(fonts, key=lambda k: (-fonts[k], k))
    return {k: {"fonts": fonts[k], "accepted": kept[k]} for k in ordered}


def _coverage(facts: Sequence[FontFacts], charset: str) -> dict[str, Any]:
    """Over fonts that rendered: who draws each character; per-font coverage histogram."""
    readable = [f for f in facts if f.reasons]
    per_char = {c: 0 for c in charset}
    values = []
    for f in readable:
        for char, covered in zip(charset, f.covered, strict=False):
            per_char[char] += covered
        values.append(f.coverage)
    n = len(readable)
    counts, edges = np.histogram(values, bins=_BINS, range=(0.0, 1.0))
    return {
        "fonts": n,
        "mean": _round(float(np.mean(values))) if values else None,
        "per_char": {c: _round(v / n) if n else None for c, v in per_char.items()},
        "histogram": {
            "edges": [_round(float(e)) for e in edges],
            "counts": [int(c) for c in counts],
        },
    }


def _ink(accepted: Sequence[FontFacts], charset: str) -> dict[str, Any]:
    """Per character, over accepted fonts that draw it: ink fraction mean and spread."""
    rows = [f.ink for f in accepted if len(f.ink) == len(charset)]
    per_char: dict[str, dict[str, Any]] = {}
    if rows:
        ink = np.array(rows, dtype=np.float64)
        for i, char in enumerate(charset):
            column = ink[:, i][~np.isnan(ink[:, i])]
            per_char[char] = {
                "mean": _round(float(column.mean())) if column.size else None,
                "std": _round(float(column.std())) if column.size else None,
                "fonts": int(column.size),
            }
    return {"fonts": len(rows), "per_char": per_char}


def _figures(stats: dict[str, Any], facts: Sequence[FontFacts]) -> dict[str, float]:
    """Flat comparable figures (fractions and means) for drift checks."""
    total = stats["counts"]["fonts"] or 1
    figures: dict[str, float] = {"accepted_fraction": stats["counts"]["accepted"] / total}
    for name, rule in stats["rules"].items():
        if rule["enabled"]:
            figures[f"rule.{name}"] = rule["failed"] / total
    for fmt, group in stats["by_format"].items():
        figures[f"format.{fmt}"] = group["fonts"] / total
    italic = [f.row.get("italic") for f in facts if f.row.get("italic") is not None]
    if italic:
        figures["italic_fraction"] = sum(map(bool, italic)) / len(italic)
    for key, column in (("weight_mean", "weight_class"), ("width_mean", "width_class")):
        values = [float(f.row[column]) for f in facts if f.row.get(column) is not None]
        if values:
            figures[key] = float(np.mean(values))
    coverage = stats["coverage"]
    if coverage["mean"] is not None:
        figures["coverage_mean"] = coverage["mean"]
    for char, value in coverage["per_char"].items():
        if value is not None:
            figures[f"coverage.{char}"] = value
    for char, ink in stats["ink"]["per_char"].items():
        if ink["mean"] is not None:
            figures[f"ink_mean.{char}"] = ink["mean"]
            figures[f"ink_std.{char}"] = ink["std"]
    return {k: _round(v) for k, v in figures.items()}


def _round(value: float) -> float:
    return value if math.isnan(value) else round(value, 6)
