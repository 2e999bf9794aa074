"""Validation: accept or reject every font of a raw store, with a reason per rule.

Real collections hold symbol fonts that put pictures on letters, bitmap-only and colour
fonts, fonts covering half the alphabet and the same font under five names. This stage
decides, before any training, which fonts are fit to learn from, and shows why in a
self-contained report. See :mod:`glyphflow.validation.stage` for what it writes and
:mod:`glyphflow.validation.rules` for the rules (and how plugins add their own).

``run`` is imported on first use, so importing the config stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glyphflow.validation.config import ValidationConfig
    from glyphflow.validation.stage import run

__all__ = ["ValidationConfig", "run"]


def __getattr__(name: str) -> Any:
    if name == "run":
        from glyphflow.validation.stage import run

        return run
    if name == "ValidationConfig":
        from glyphflow.validation.config import ValidationConfig

        return ValidationConfig
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
