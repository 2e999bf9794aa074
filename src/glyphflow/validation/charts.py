"""Tiny inline SVG charts for report.html: no script, no network, readable when printed.

Each function returns an ``<svg>`` element as a string, sized by its ``viewBox`` so it
scales with the page. Labels are escaped; numbers are drawn as text where they fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["bar_cell", "column_chart", "range_chart"]

_INK = "#3b6ea5"
_SOFT = "#c9d9ec"
_TEXT = "#333"


def bar_cell(value: float, maximum: float, colour: str = _INK) -> str:
    """A small horizontal bar (for a table cell) of ``value`` out of ``maximum``."""
    width = 0.0 if maximum <= 0 else max(0.0, min(1.0, value / maximum)) * 100
    return (
        f'<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" '
        f'aria-label="{value:g} of {maximum:g}"><rect width="100" height="10" fill="#eee"/>'
        f'<rect width="{width:.2f}" height="10" fill="{colour}"/></svg>'
    )


def column_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    maximum: float | None = None,
    height: int = 120,
    title: str = "",
    value_format: str = "{:.0%}",
    show_values: bool = False,
    max_width: int | None = None,
) -> str:
    """Vertical columns, one per label; None values are drawn as a gap."""
    count = max(1, len(labels))
    step = 14 if count > 20 else 40
    width = count * step + 40
    top = max([v for v in values if v is not None] or [0.0])
    scale_max = maximum if maximum is not None else (top or 1.0)
    plot = height - 40
    base = plot + 15  # y of the axis; the 15 above the tallest column hold its value
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" style="max-width:{max_width or width * 2}px">',
        f'<line x1="30" y1="{base}" x2="{width}" y2="{base}" stroke="#999"/>',
        f'<text x="0" y="22" font-size="9" fill="{_TEXT}">{escape(value_format.format(scale_max))}</text>',
        f'<text x="0" y="{base}" font-size="9" fill="{_TEXT}">0</text>',
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = 34 + i * step
        if value is not None and scale_max > 0:
            h = max(0.0, min(1.0, value / scale_max)) * plot
            tip = f"{label}: {value_format.format(value)}"
            parts.append(
                f'<rect x="{x}" y="{base - h:.1f}" width="{step - 3}" height="{h:.1f}" '
                f'fill="{_INK}"><title>{escape(tip)}</title></rect>'
            )
            if show_values:
                parts.append(
                    f'<text x="{x + (step - 3) / 2}" y="{base - 3 - h:.1f}" font-size="9" '
                    f'text-anchor="middle" fill="{_TEXT}">{escape(value_format.format(value))}</text>'
                )
        parts.append(
            f'<text x="{x + (step - 3) / 2}" y="{height - 8}" font-size="{_label_size(label, step)}" '
            f'text-anchor="middle" fill="{_TEXT}">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _label_size(label: str, step: int) -> int:
    """A font size that keeps ``label`` within its column."""
    return max(5, min(9, int(step * 1.6 / max(1, len(label)))))


def range_chart(
    labels: Sequence[str],
    means: Sequence[float | None],
    spreads: Sequence[float | None],
    height: int = 140,
    title: str = "",
) -> str:
    """A dot per label at its mean with a bar of +/- one spread (standard deviation)."""
    count = max(1, len(labels))
    step = 14 if count > 20 else 40
    width = count * step + 40
    highs = [(m or 0.0) + (s or 0.0) for m, s in zip(means, spreads, strict=True)]
    scale_max = max(highs or [0.0]) or 1.0
    plot = height - 30
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" style="max-width:{width * 2}px">',
        f'<line x1="30" y1="{plot + 5}" x2="{width}" y2="{plot + 5}" stroke="#999"/>',
        f'<text x="0" y="12" font-size="9" fill="{_TEXT}">{scale_max:.2f}</text>',
        f'<text x="0" y="{plot + 5}" font-size="9" fill="{_TEXT}">0</text>',
    ]

    def y(value: float) -> float:
        return plot + 5 - max(0.0, min(1.0, value / scale_max)) * plot

    for i, (label, mean, spread) in enumerate(zip(labels, means, spreads, strict=True)):
        cx = 34 + i * step + (step - 3) / 2
        if mean is not None:
            low, high = mean - (spread or 0.0), mean + (spread or 0.0)
            tip = f"{label}: mean {mean:.3f}, spread {spread or 0.0:.3f}"
            parts.append(
                f'<line x1="{cx}" y1="{y(low):.1f}" x2="{cx}" y2="{y(high):.1f}" '
                f'stroke="{_SOFT}" stroke-width="{max(2, step - 8)}"/>'
                f'<circle cx="{cx}" cy="{y(mean):.1f}" r="2.5" fill="{_INK}">'
                f"<title>{escape(tip)}</title></circle>"
            )
        parts.append(
            f'<text x="{cx}" y="{height - 8}" font-size="9" text-anchor="middle" '
            f'fill="{_TEXT}">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
