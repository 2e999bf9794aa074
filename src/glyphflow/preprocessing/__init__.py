"""The preprocessing stage: fonts from the raw store (or validation) to glyph datasets.

``config`` holds the schema, ``sources`` finds and streams the font index, ``tasks``
is the per-font work the engines run, ``records`` turns rendered fonts into Arrow rows,
``state`` remembers what was rendered (reruns and follow mode only do what is new),
``contact_sheet`` draws the sample PNG, and ``stage`` ties them together.
"""

from __future__ import annotations

__all__: list[str] = []
