"""report.html: the evidence for a verdict, in one self-contained file.

Metric tables put the model beside the baseline (and the champion) over all test fonts
and over the novel ones; few-shot grids show for sample fonts what was observed, what the
model and the baseline made, and the truth; then interpolations between two test fonts,
random styles, the verdict and its reasons. Images are PNGs inlined as data URIs, so the
file can be mailed, archived as an MLflow artifact or opened offline.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from glyphflow.evaluation.config import higher_is_better

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from glyphflow.evaluation.blessing import Verdict

__all__ = ["FontGrid", "ReportData", "png_strip", "render_report", "report_images"]

_CELL = 40
_GAP = 2
_EMPTY = 236  # grey of a cell with no glyph
_FRAME = (40, 110, 220)


def png_strip(
    images: Sequence[NDArray[Any] | None],
    cell: int = _CELL,
    framed: Sequence[bool] | None = None,
) -> str:
    """A row of glyph cells (ink dark on white) as a ``data:image/png`` URI.

    ``images`` are [H, W] arrays in [0, 1] (float) or 0..255 (uint8) with ink high; None
    draws an empty grey cell; ``framed`` marks cells with a blue frame (observed glyphs).
    """
    buffer = io.BytesIO()
    _strip(images, cell, framed).save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _strip(
    images: Sequence[NDArray[Any] | None],
    cell: int = _CELL,
    framed: Sequence[bool] | None = None,
) -> Any:
    """The PIL image behind :func:`png_strip`."""
    from PIL import Image

    count = max(1, len(images))
    canvas = Image.new("RGB", (count * (cell + _GAP) + _GAP, cell + 2 * _GAP), (255, 255, 255))
    for i, image in enumerate(images):
        left = _GAP + i * (cell + _GAP)
        if image is None:
            tile = Image.new("RGB", (cell, cell), (_EMPTY, _EMPTY, _EMPTY))
        else:
            array = np.asarray(image, dtype=np.float64)
            if array.dtype != np.float64 or array.max(initial=0) > 1.0:
                array = array / 255.0
            gray = (255 * (1.0 - np.clip(array, 0.0, 1.0))).round().astype(np.uint8)
            tile = Image.fromarray(gray, mode="L").resize((cell, cell), Image.Resampling.NEAREST)
            tile = tile.convert("RGB")
        canvas.paste(tile, (left, _GAP))
        if framed is not None and framed[i]:
            from PIL import ImageDraw

            draw = ImageDraw.Draw(canvas)
            draw.rectangle([left - 1, _GAP - 1, left + cell, _GAP + cell], outline=_FRAME, width=2)
    return canvas


def _stack(strips: Sequence[Any]) -> NDArray[np.uint8]:
    """Strips one above the other as an RGB uint8 array (for trackers' image panels)."""
    from PIL import Image

    width = max(strip.width for strip in strips)
    canvas = Image.new("RGB", (width, sum(strip.height for strip in strips)), (255, 255, 255))
    top = 0
    for strip in strips:
        canvas.paste(strip, (0, top))
        top += strip.height
    return np.asarray(canvas, dtype=np.uint8)


def report_images(data: ReportData) -> dict[str, NDArray[np.uint8]]:
    """The report's figures as images: per shown font its few-shot rows at the largest k
    (model, baseline, truth), the interpolation and the random styles."""
    shown = [data.charset.index(c) for c in data.chars if c in data.charset]
    out: dict[str, NDArray[np.uint8]] = {}
    for grid in data.grids:
        if not grid.rows:
            continue
        k = max(grid.rows)
        row = grid.rows[k]
        framed = [bool(row["observed"][c]) for c in shown]
        strips = [
            _strip([made[c] for c in shown], framed=framed)
            for made in (row.get(m) for m in ("model", "baseline", "champion"))
            if made is not None
        ]
        truth = [grid.truth[c] if grid.present[c] else None for c in shown]
        strips.append(_strip(truth, framed=framed))
        out[f"few_shot k={k} {_short(grid.font_id)}"] = _stack(strips)
    if data.interpolation is not None:
        out["interpolation"] = _stack(
            [_strip([r[c] for c in shown]) for r in data.interpolation[2]]
        )
    if data.samples:
        out["samples"] = _stack([_strip([s[c] for c in shown]) for s in data.samples])
    return out


@dataclass
class FontGrid:
    """One test font's few-shot block: per k, the observed mask and what each method made."""

    font_id: str
    family: str
    novel: bool
    nearest_distance: float
    truth: NDArray[np.uint8]  # [C, H, W]
    present: NDArray[np.bool_]  # [C]
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)  # k -> {observed, model, ...}


@dataclass
class ReportData:
    """What the report shows; built by the stage, rendered here."""

    title: str
    model_ref: str
    model_label: str
    glyphs_url: str
    verdict: Verdict
    metrics: Mapping[str, Mapping[str, Mapping[str, float | None]]]  # method -> subset -> m
    fonts: Mapping[str, int]
    novelty_l1: float
    k_shots: list[int]
    charset: str
    chars: str  # characters shown in grids
    reference: Mapping[str, Mapping[str, float | None]] = field(default_factory=dict)
    grids: list[FontGrid] = field(default_factory=list)
    interpolation: tuple[str, str, list[NDArray[np.float32]]] | None = None  # a, b, rows
    samples: list[NDArray[np.float32]] = field(default_factory=list)  # [C, H, W] each
    champion_label: str | None = None
    notes: list[str] = field(default_factory=list)


_CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:1.5em}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right;font-variant-numeric:tabular-nums}
th{background:#f4f4f4}td.name,th.name{text-align:left}
.verdict{display:inline-block;padding:6px 14px;border-radius:4px;font-weight:bold;color:#fff}
.BLESSED{background:#2a8a3e}.NOT_BLESSED{background:#b3261e}
.better{background:#e6f4ea}.worse{background:#fce8e6}
.grid td{border:none;padding:1px 4px;text-align:left}.grid img{display:block}
.muted{color:#777}code{background:#f4f4f4;padding:1px 4px}
"""


def _short(font_id: str) -> str:
    """Font ids are content hashes; 12 characters tell them apart in a report."""
    return font_id if len(font_id) <= 16 else font_id[:12] + "\u2026"


def _fmt(value: float | None) -> str:
    return "&ndash;" if value is None else f"{value:.4f}"


def _compare_class(metric: str, model: float | None, other: float | None) -> str:
    if model is None or other is None or model == other:
        return ""
    better = model > other if higher_is_better(metric) else model < other
    return "better" if better else "worse"


def _metric_table(data: ReportData) -> str:
    methods = [m for m in ("model", "baseline", "champion") if m in data.metrics]
    labels = {
        "model": "model",
        "baseline": "baseline",
        "champion": data.champion_label or "champion",
    }
    subsets = ["all", "novel"]
    names: list[str] = []
    for method in methods:
        for subset in subsets:
            for name in data.metrics[method].get(subset, {}):
                if name not in names:
                    names.append(name)
    head = "".join(
        f"<th>{html.escape(labels[m])}<br><span class='muted'>{s} ({data.fonts.get(s, 0)})</span></th>"
        for s in subsets
        for m in methods
    )
    rows = []
    for name in names:
        cells = []
        for subset in subsets:
            model_value = data.metrics["model"].get(subset, {}).get(name)
            for method in methods:
                value = data.metrics[method].get(subset, {}).get(name)
                css = ""
                if method == "model" and "baseline" in data.metrics:
                    css = _compare_class(
                        name, value, data.metrics["baseline"].get(subset, {}).get(name)
                    )
                elif method != "model":
                    css = _compare_class(name, value, model_value)
                cells.append(f"<td class='{css}'>{_fmt(value)}</td>")
        arrow = "&uarr;" if higher_is_better(name) else "&darr;"
        rows.append(f"<tr><td class='name'>{html.escape(name)} {arrow}</td>{''.join(cells)}</tr>")
    return (
        f"<table><tr><th class='name'>metric</th>{head}</tr>{''.join(rows)}</table>"
        "<p class='muted'>&uarr; higher is better, &darr; lower is better. A model cell is "
        "green when it beats the baseline, red when the baseline wins; a baseline or champion "
        "cell is green when it beats the model.</p>"
    )


def _checks(verdict: Verdict) -> str:
    if not verdict.checks:
        return "<p class='muted'>No checks ran.</p>"
    rows = "".join(
        f"<tr><td class='name'>{'pass' if c.passed else '<b>FAIL</b>'}</td>"
        f"<td class='name'>{html.escape(c.kind)}</td>"
        f"<td class='name'>{html.escape(c.message)}</td></tr>"
        for c in verdict.checks
    )
    return f"<table><tr><th class='name'>result</th><th class='name'>kind</th><th class='name'>check</th></tr>{rows}</table>"


def _grid_rows(rows: list[tuple[str, str]]) -> str:
    body = "".join(
        f"<tr><td class='name'>{html.escape(label)}</td><td><img alt='{html.escape(label)}' "
        f"src='{uri}'></td></tr>"
        for label, uri in rows
    )
    return f"<table class='grid'>{body}</table>"


def _few_shot(data: ReportData) -> str:
    if not data.grids:
        return "<p class='muted'>No test fonts to show.</p>"
    shown = [data.charset.index(c) for c in data.chars if c in data.charset]
    parts = [
        f"<p>Characters shown: <code>{html.escape(data.chars)}</code>. Framed cells were "
        "observed; the model and the baseline made the others from them.</p>"
    ]
    for grid in data.grids:
        novelty = "novel" if grid.novel else "has a training twin"
        parts.append(
            f"<h3>{html.escape(grid.family)} <span class='muted' "
            f"title='{html.escape(grid.font_id)}'>{html.escape(_short(grid.font_id))} "
            f"&middot; {novelty} (nearest training font at L1 {grid.nearest_distance:.3f})"
            "</span></h3>"
        )
        truth = [grid.truth[c] if grid.present[c] else None for c in shown]
        for k, row in grid.rows.items():
            observed = row["observed"]
            all_observed = [int(c) for c in np.flatnonzero(observed)]
            lines = [
                (
                    f"observed (k={k})",
                    png_strip([grid.truth[c] for c in all_observed]),
                )
            ]
            framed = [bool(observed[c]) for c in shown]
            for method in ("model", "baseline", "champion"):
                made = row.get(method)
                if made is not None:
                    lines.append((method, png_strip([made[c] for c in shown], framed=framed)))
            lines.append(("truth", png_strip(truth, framed=framed)))
            parts.append(_grid_rows(lines))
    return "".join(parts)


def _interpolation(data: ReportData) -> str:
    if data.interpolation is None:
        return "<p class='muted'>Needs two test fonts.</p>"
    first, second, rows = data.interpolation
    shown = [data.charset.index(c) for c in data.chars if c in data.charset]
    count = len(rows)
    lines = [
        (f"t={i / max(1, count - 1):.2f}", png_strip([row[c] for c in shown]))
        for i, row in enumerate(rows)
    ]
    return (
        f"<p>From <code>{html.escape(_short(first))}</code> (t=0) to "
        f"<code>{html.escape(_short(second))}</code> (t=1), linear in the style space.</p>"
        + _grid_rows(lines)
    )


def _samples(data: ReportData) -> str:
    if not data.samples:
        return "<p class='muted'>No samples.</p>"
    shown = [data.charset.index(c) for c in data.chars if c in data.charset]
    lines = [
        (f"style {i + 1}", png_strip([s[c] for c in shown])) for i, s in enumerate(data.samples)
    ]
    return "<p>Styles drawn from the prior N(0, I).</p>" + _grid_rows(lines)


def _reference(data: ReportData) -> str:
    if not data.reference:
        return ""
    rows = "".join(
        f"<tr><td class='name'>{html.escape(name)}</td>"
        + "".join(f"<td>{_fmt(data.reference.get(s, {}).get(name))}</td>" for s in ("all", "novel"))
        + "</tr>"
        for name in ("legibility.exact", "legibility.casefold")
    )
    return (
        "<h3>The classifier on real test glyphs</h3><p class='muted'>The legibility a perfect "
        "model would reach.</p><table><tr><th class='name'>metric</th><th>all</th><th>novel</th>"
        f"</tr>{rows}</table>"
    )


def render_report(data: ReportData) -> str:
    """The whole report as one HTML string."""
    verdict = data.verdict
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in verdict.reasons)
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in [*verdict.notes, *data.notes])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(data.title)}</title><style>{_CSS}</style></head>
<body>
<h1>{html.escape(data.title)}</h1>
<p><span class="verdict {verdict.name}" id="verdict">{verdict.name}</span></p>
{"<h3>Reasons</h3><ul id='reasons'>" + reasons + "</ul>" if reasons else ""}
{"<h3>Notes</h3><ul>" + notes + "</ul>" if notes else ""}
<p>Model <code>{html.escape(data.model_ref)}</code> ({html.escape(data.model_label)}) on the test
fonts of <code>{html.escape(data.glyphs_url)}</code>: {data.fonts.get("all", 0)} fonts, of which
{data.fonts.get("novel", 0)} novel (no training font within mean L1 {data.novelty_l1:g}).
k = {", ".join(str(k) for k in data.k_shots)}.</p>
<h2>Metrics</h2>
{_metric_table(data)}
{_reference(data)}
<h2>Checks</h2>
{_checks(verdict)}
<h2>Few-shot completion</h2>
{_few_shot(data)}
<h2>Interpolation</h2>
{_interpolation(data)}
<h2>Random samples</h2>
{_samples(data)}
</body></html>
"""
