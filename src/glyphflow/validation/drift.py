"""Drift: how this run's figures moved against an earlier run's statistics.json.

A corpus changes as sources change: a new archive full of icon fonts, a mirror that
now serves WOFF2 only. Comparing the flat ``figures`` of two runs with per-figure
tolerances (fnmatch patterns, first match wins) shows such a change before a model is
trained on it. A figure present on one side only counts as 0 on the other (a format
that disappeared is a change). ``fail_on_drift`` makes any drift fatal.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping
from typing import Any

from glyphflow.core.errors import UsageError
from glyphflow.io import storage

__all__ = ["STATISTICS_NAME", "compare", "read_reference", "tolerance_for"]

STATISTICS_NAME = "statistics.json"


def read_reference(url: str) -> dict[str, Any]:
    """A reference statistics.json, given as the file or the output folder holding it."""
    if not url.endswith(".json"):
        url = storage.join(url, STATISTICS_NAME)
    if not storage.exists(url):
        raise UsageError(
            f"reference statistics {url} does not exist; point reference_statistics at the "
            "statistics.json (or output folder) of an earlier validation run"
        )
    try:
        data = json.loads(storage.read_text(url))
    except (ValueError, OSError) as err:
        raise UsageError(f"reference statistics {url} is not readable JSON: {err}") from None
    if not isinstance(data, dict) or not isinstance(data.get("figures"), dict):
        raise UsageError(
            f"reference statistics {url} has no 'figures' mapping: not a statistics.json "
            "written by glyphflow validate"
        )
    return data


def tolerance_for(figure: str, tolerances: Mapping[str, float]) -> float | None:
    """The tolerance of the first pattern matching ``figure``; None: not compared."""
    for pattern, tolerance in tolerances.items():
        if fnmatch.fnmatchcase(figure, pattern):
            return float(tolerance)
    return None


def compare(
    current: Mapping[str, float],
    reference: Mapping[str, float],
    tolerances: Mapping[str, float],
) -> dict[str, Any]:
    """Every compared figure with its change; ``drifted`` lists those beyond tolerance."""
    compared = []
    for figure in sorted(set(current) | set(reference)):
        tolerance = tolerance_for(figure, tolerances)
        if tolerance is None:
            continue
        now = current.get(figure)
        then = reference.get(figure)
        change = (now or 0.0) - (then or 0.0)
        compared.append(
            {
                "figure": figure,
                "reference": then,
                "current": now,
                "change": round(change, 6),
                "tolerance": tolerance,
                "drifted": abs(change) > tolerance + 1e-12,
            }
        )
    return {
        "compared": len(compared),
        "drifted": [entry for entry in compared if entry["drifted"]],
    }
