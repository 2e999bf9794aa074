"""The per-font transform: font bytes to glyph arrays.

Preprocessing, stream mode and serving all render through :func:`render_font`, so there
is one code path and no skew between training data and production inputs.

The config half (:class:`RenderConfig`, :func:`charset`) imports nothing heavy, so stage
config modules can use it; the renderer (numpy, FreeType) loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from glyphflow.glyphs.config import NAMED_CHARSETS, RenderConfig, charset, resolve_charset

if TYPE_CHECKING:
    from glyphflow.glyphs.render import (
        METRICS,
        FontGlyphs,
        FontRenderError,
        Reason,
        render_font,
    )

__all__ = [
    "METRICS",
    "NAMED_CHARSETS",
    "FontGlyphs",
    "FontRenderError",
    "Reason",
    "RenderConfig",
    "charset",
    "render_font",
    "resolve_charset",
]

_LAZY = {"METRICS", "FontGlyphs", "FontRenderError", "Reason", "render_font"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from glyphflow.glyphs import render

        return getattr(render, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
