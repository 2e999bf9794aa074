"""A variable TrueType font built from two FontSpec masters, for tests.

The masters differ in stroke (the ``wght`` axis goes from thin to heavy strokes);
``instances`` become named instances in ``fvar``. Built with fontTools' varLib from a
designspace whose sources are in-memory fonts, so no file is written.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from fontTools.designspaceLib import (
    AxisDescriptor,
    DesignSpaceDocument,
    InstanceDescriptor,
    SourceDescriptor,
)
from fontTools.ttLib import TTFont
from fontTools.varLib import build

from tests.support.fonts import FontSpec, make_font

__all__ = ["make_variable_font"]


def make_variable_font(
    spec: FontSpec | None = None,
    instances: Sequence[tuple[str, float]] = (("Light", 300), ("Regular", 400), ("Bold", 700)),
    thin: float = 40.0,
    heavy: float = 160.0,
) -> bytes:
    """A variable font with a ``wght`` axis 300..700 and the given named instances."""
    spec = spec or FontSpec()
    doc = DesignSpaceDocument()
    axis = AxisDescriptor()
    axis.tag, axis.name, axis.minimum, axis.default, axis.maximum = "wght", "Weight", 300, 400, 700
    doc.addAxis(axis)
    regular = 400.0
    strokes = ((300.0, thin), (regular, thin + (heavy - thin) * 0.25), (700.0, heavy))
    for weight, stroke in strokes:
        source = SourceDescriptor()
        source.font = TTFont(io.BytesIO(make_font(spec, stroke=stroke, weight=int(weight))))
        source.location = {"Weight": weight}
        source.styleName = f"w{int(weight)}"
        doc.addSource(source)
    for name, weight in instances:
        instance = InstanceDescriptor()
        instance.familyName = spec.family
        instance.styleName = name
        instance.location = {"Weight": weight}
        doc.addInstance(instance)
    font, _, _ = build(doc)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()
