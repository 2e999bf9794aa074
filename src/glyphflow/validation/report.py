"""report.html: one self-contained page that explains every decision of a run.

Written for someone who has never seen glyphflow: what was read, what was kept, why
each font was rejected (with its thumbnail and the rule's own message), what the
accepted fonts look like, and how the corpus is made up. Everything is inline: CSS in
a <style>, thumbnails as PNG data URIs, charts as SVG, no script and no network, so the
file can be mailed, archived or opened offline.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any

from glyphflow import __version__
from glyphflow.validation.charts import bar_cell, column_chart, range_chart
from glyphflow.validation.facts import FontFacts
from glyphflow.validation.judge import Verdicts
from glyphflow.validation.rules.base import Rule
from glyphflow.validation.thumbnails import data_uri

__all__ = ["ReportInputs", "render_report"]


@dataclass
class ReportInputs:
    """What the report shows."""

    title: str
    raw_url: str
    output_url: str
    config_hash: str
    facts: Sequence[FontFacts]
    verdicts: Verdicts
    statistics: dict[str, Any]
    rules: Sequence[Rule]
    max_reject_fraction: float
    min_accepted: int
    problems: list[str] = field(default_factory=list)  # why the run failed, if it did
    drift: dict[str, Any] | None = None
    reference_url: str | None = None
    fail_on_drift: bool = False
    max_accepted: int = 48
    max_per_rule: int = 30
    max_families: int = 30


_CSS = """
:root { --ink:#1f2937; --soft:#6b7280; --line:#e5e7eb; --ok:#166534; --okbg:#dcfce7;
        --bad:#991b1b; --badbg:#fee2e2; --warnbg:#fef9c3; --accent:#3b6ea5; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); margin: 0 auto; max-width: 1180px; padding: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 8px; border-bottom: 2px solid var(--line);
     padding-bottom: 4px; }
h3 { font-size: 16px; margin: 22px 0 6px; }
p.lead, .meta { color: var(--soft); margin: 0 0 10px; }
code { background: #f3f4f6; padding: 1px 4px; border-radius: 3px; font-size: 13px; }
.banner { padding: 12px 16px; border-radius: 8px; margin: 16px 0; font-weight: 600; }
.banner.ok { background: var(--okbg); color: var(--ok); }
.banner.bad { background: var(--badbg); color: var(--bad); }
.banner.warn { background: var(--warnbg); color: #713f12; }
.banner ul { margin: 6px 0 0; font-weight: 400; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 12px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px;
        min-width: 150px; }
.card .num { font-size: 28px; font-weight: 700; display: block; }
.card .label { color: var(--soft); font-size: 13px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 4px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line);
         vertical-align: top; }
th { font-size: 13px; color: var(--soft); font-weight: 600; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.off td { color: #9ca3af; }
td.rule { min-width: 170px; }
svg.bar { width: 140px; height: 10px; display: block; margin-top: 6px; }
svg.chart { width: 100%; height: auto; display: block; margin: 6px 0 12px; }
.fonts { display: grid; grid-template-columns: repeat(auto-fill, minmax(350px, 1fr));
         gap: 12px; }
.font { border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; }
.font img { display: block; max-width: 100%; height: auto; border: 1px solid #f3f4f6;
            margin: 4px 0 6px; background: #fff; }
.font .name { font-weight: 600; }
.font .id, .font .file { color: var(--soft); font-size: 12px; word-break: break-all; }
.font .msg { font-size: 13px; margin-top: 4px; overflow-wrap: anywhere; }
.font .also { font-size: 12px; color: var(--bad); margin-top: 2px; }
.legend span { display: inline-block; width: 14px; height: 14px; vertical-align: -2px;
               border: 1px solid #ccc; margin: 0 4px 0 12px; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
@media (max-width: 800px) { .two { grid-template-columns: 1fr; } }
.more { color: var(--soft); font-size: 13px; margin-top: 6px; }
p.advice { font-size: 14px; margin: 0 0 10px; }
"""


def render_report(inputs: ReportInputs) -> str:
    """The whole page as a string."""
    s = inputs.statistics
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(inputs.title)}</title><style>{_CSS}</style></head><body>",
        _header(inputs),
        _verdict(inputs),
        _summary(inputs),
        _rules_table(inputs),
        _rejected(inputs),
        _accepted(inputs),
        _statistics(s, inputs.max_families),
        _drift(inputs),
        _legend(inputs),
        "</body></html>",
    ]
    return "\n".join(parts)


# ---------------------------------------------------------------------------- sections


def _header(inputs: ReportInputs) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"<header><h1>{escape(inputs.title)}</h1>"
        f'<p class="meta">Raw store <code>{escape(inputs.raw_url)}</code> &rarr; '
        f"<code>{escape(inputs.output_url)}</code> &middot; {when} &middot; glyphflow "
        f"{escape(__version__)} &middot; config {escape(inputs.config_hash[:12])}</p>"
        '<p class="lead">Every font of the raw store was parsed, rendered and judged by '
        "the rules below. A font is <b>accepted</b> when it passes every rule that is on; "
        "otherwise it is <b>rejected</b> and each rule it failed is listed with the "
        "rule's message. Accepted fonts go on to preprocessing; rejected ones are listed "
        "in <code>rejected.parquet</code>.</p></header>"
    )


def _verdict(inputs: ReportInputs) -> str:
    counts = inputs.statistics["counts"]
    if inputs.problems:
        items = "".join(f"<li>{escape(p)}</li>" for p in inputs.problems)
        return (
            '<div class="banner bad" id="verdict">This run FAILED: the corpus is not usable '
            f"as configured. Nothing was marked complete (no _SUCCESS).<ul>{items}</ul></div>"
        )
    text = (
        f"{counts['accepted']} of {counts['fonts']} fonts accepted; the output is complete "
        "and ready for preprocessing."
    )
    drifted = (inputs.drift or {}).get("drifted") or []
    if drifted:
        return (
            f'<div class="banner warn" id="verdict">{escape(text)} But {len(drifted)} '
            "figure(s) drifted from the reference run; see Drift below.</div>"
        )
    return f'<div class="banner ok" id="verdict">{escape(text)}</div>'


def _summary(inputs: ReportInputs) -> str:
    counts = inputs.statistics["counts"]
    total = counts["fonts"]
    fraction = counts["rejected"] / total if total else 0.0
    cards = [
        ("fonts", total, "fonts read"),
        ("accepted", counts["accepted"], f"accepted (at least {inputs.min_accepted} needed)"),
        ("rejected", counts["rejected"], "rejected"),
    ]
    html = ['<section id="summary"><div class="cards">']
    for key, value, label in cards:
        html.append(
            f'<div class="card" id="count-{key}" data-count="{value}">'
            f'<span class="num">{value}</span><span class="label">{escape(label)}</span></div>'
        )
    html.append(
        f'<div class="card" id="reject-fraction"><span class="num">{fraction:.0%}</span>'
        f'<span class="label">rejected (limit {inputs.max_reject_fraction:.0%})</span></div>'
    )
    html.append("</div></section>")
    return "".join(html)


def _rules_table(inputs: ReportInputs) -> str:
    stats = inputs.statistics
    total = stats["counts"]["fonts"] or 1
    rows = []
    for rule in inputs.rules:
        r = stats["rules"][rule.name]
        settings = _settings(rule)
        if not r["enabled"]:
            rows.append(
                f'<tr class="off" data-rule="{escape(rule.name)}"><td class="rule"><b>{escape(rule.name)}'
                f"</b><br>{escape(rule.title)}</td><td>{escape(rule.explanation)}{settings}</td>"
                '<td class="n" colspan="3">off</td><td></td></tr>'
            )
            continue
        link = f'<a href="#rule-{escape(rule.name)}">{r["failed"]}</a>' if r["failed"] else "0"
        rows.append(
            f'<tr data-rule="{escape(rule.name)}" data-failed="{r["failed"]}">'
            f'<td class="rule"><b>{escape(rule.name)}</b><br>{escape(rule.title)}</td>'
            f"<td>{escape(rule.explanation)}{settings}</td>"
            f'<td class="n">{link}</td><td class="n">{r["only_reason"]}</td>'
            f'<td class="n">{r["skipped"]}</td>'
            f"<td>{bar_cell(r['failed'], total, '#b91c1c')}</td></tr>"
        )
    return (
        '<section id="rules"><h2>Why fonts were rejected</h2>'
        '<p class="lead">Each rule with what it checks and its settings. <i>Rejected</i> '
        "counts fonts that failed the rule, <i>only reason</i> those it alone rejected, "
        "<i>not judged</i> fonts skipped because they failed a rule this one builds on "
        "(a font that does not parse is not also reported as uncovered).</p>"
        "<table><thead><tr><th>Rule</th><th>What it checks</th><th>Rejected</th>"
        "<th>Only reason</th><th>Not judged</th><th>Share of fonts</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _advice(rule: Rule) -> str:
    if not rule.advice:
        return ""
    return f'<p class="advice"><b>What you can do:</b> {escape(rule.advice)}</p>'


def _settings(rule: Rule) -> str:
    params = rule.describe_params()
    if not params:
        return ""
    text = ", ".join(f"{k}={_short(v)}" for k, v in params.items())
    return f'<br><span class="meta">settings: {escape(text)}</span>'


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 90 else text[:87] + "..."


def _font_card(f: FontFacts, message: str | None, also: list[str]) -> str:
    row = f.row
    image = (
        f'<img src="{data_uri(f.preview)}" alt="glyphs of {escape(f.label())}">'
        if f.preview
        else '<div class="meta">(nothing could be rendered)</div>'
    )
    where = row.get("source_url") or row.get("stored_path") or ""
    if row.get("archive_path"):
        where = f"{where} :: {row['archive_path']}"
    parts = [
        f'<div class="font" data-font-id="{escape(f.id)}">',
        f'<div class="name">{escape(f.label())}</div>',
        image,
        f'<div class="id">{escape(f.id)} &middot; {escape(str(f.format or "?"))}</div>',
        f'<div class="file">{escape(str(where))}</div>',
    ]
    if message:
        parts.append(f'<div class="msg">{escape(message)}</div>')
    if also:
        parts.append(f'<div class="also">also failed: {escape(", ".join(also))}</div>')
    parts.append("</div>")
    return "".join(parts)


def _rejected(inputs: ReportInputs) -> str:
    by_rule: dict[str, list[tuple[FontFacts, str]]] = {}
    for f in inputs.facts:
        for name, message in inputs.verdicts.failures.get(f.id, []):
            by_rule.setdefault(name, []).append((f, message))
    if not by_rule:
        return '<section id="rejected"><h2>Rejected fonts</h2><p>None.</p></section>'
    html = [
        '<section id="rejected"><h2>Rejected fonts, by rule</h2>'
        '<p class="lead">Each font shows its charset as rendered for training (see the '
        "legend at the bottom), the rule's message, and the other rules it failed.</p>"
    ]
    for rule in inputs.rules:
        fonts = by_rule.get(rule.name)
        if not fonts:
            continue
        fonts = sorted(fonts, key=lambda item: (item[0].label(), item[0].id))
        html.append(
            f'<h3 id="rule-{escape(rule.name)}">{escape(rule.name)}: {escape(rule.title)} '
            f"&mdash; {len(fonts)} font{'s' if len(fonts) != 1 else ''}</h3>"
            f'<p class="meta">{escape(rule.explanation)}</p>{_advice(rule)}<div class="fonts">'
        )
        for f, message in fonts[: inputs.max_per_rule]:
            also = [r for r in inputs.verdicts.failed_rules(f.id) if r != rule.name]
            html.append(_font_card(f, message, also))
        html.append("</div>")
        if len(fonts) > inputs.max_per_rule:
            html.append(
                f'<p class="more">and {len(fonts) - inputs.max_per_rule} more: every one is '
                "in rejected.parquet.</p>"
            )
    html.append("</section>")
    return "".join(html)


def _accepted(inputs: ReportInputs) -> str:
    accepted = sorted(
        (f for f in inputs.facts if inputs.verdicts.accepted(f.id)),
        key=lambda f: (f.label(), f.id),
    )
    if not accepted:
        return '<section id="accepted"><h2>Accepted fonts</h2><p>None.</p></section>'
    limit = inputs.max_accepted
    if len(accepted) > limit > 0:
        step = len(accepted) / limit
        shown = [accepted[int(i * step)] for i in range(limit)]
    else:
        shown = accepted[:limit]
    cards = "".join(_font_card(f, None, []) for f in shown)
    note = (
        f"A sample of {len(shown)} of the {len(accepted)} accepted fonts, spread evenly "
        "over them in name order."
        if len(shown) < len(accepted)
        else f"All {len(accepted)} accepted fonts."
    )
    return (
        f'<section id="accepted"><h2>Accepted fonts</h2><p class="lead">{note}</p>'
        f'<div class="fonts">{cards}</div></section>'
    )


def _group_table(title: str, groups: dict[str, dict[str, int]], limit: int | None = None) -> str:
    items = list(groups.items())
    shown = items[:limit] if limit else items
    top = max([g["fonts"] for _, g in items] or [1])
    rows = "".join(
        f"<tr><td>{escape(key)}</td><td class='n'>{g['fonts']}</td>"
        f"<td class='n'>{g['accepted']}</td><td>{bar_cell(g['fonts'], top)}</td></tr>"
        for key, g in shown
    )
    more = (
        f'<p class="more">{len(items) - len(shown)} more in statistics.json.</p>'
        if len(shown) < len(items)
        else ""
    )
    return (
        f"<div><h3>{escape(title)}</h3><table><thead><tr><th></th><th>Fonts</th>"
        f"<th>Accepted</th><th></th></tr></thead><tbody>{rows}</tbody></table>{more}</div>"
    )


def _statistics(s: dict[str, Any], max_families: int) -> str:
    coverage = s["coverage"]
    charset = s["charset"]
    hist = coverage["histogram"]
    edges = hist["edges"]
    bins = [f"{edges[i]:.0%}-{edges[i + 1]:.0%}" for i in range(len(edges) - 1)]
    per_char = [coverage["per_char"].get(c) for c in charset]
    ink = s["ink"]["per_char"]
    html = [
        '<section id="statistics"><h2>Corpus statistics</h2>',
        '<div class="two">',
        _group_table("Formats", s["by_format"]),
        _group_table("Italic", s["by_italic"]),
        _group_table("Weight class", s["by_weight"]),
        _group_table("Width class", s["by_width"]),
        "</div>",
        _group_table(f"Families (top {max_families})", s["by_family"], max_families),
        f"<h3>Coverage of the charset per font</h3><p class='meta'>How many of the "
        f"{coverage['fonts']} readable fonts cover a given fraction of the charset. "
        f"Mean coverage {(coverage['mean'] or 0):.0%}.</p>",
        column_chart(
            bins,
            [float(c) for c in hist["counts"]],
            title="fonts per coverage bin",
            value_format="{:.0f}",
            show_values=True,
            max_width=640,
        ),
        "<h3>Fonts drawing each character</h3><p class='meta'>Fraction of readable fonts "
        "that cover each character.</p>",
        column_chart(list(charset), per_char, maximum=1.0, title="coverage per character"),
    ]
    if ink:
        html.append(
            f"<h3>Ink per character (accepted fonts)</h3><p class='meta'>Fraction of the "
            f"glyph image inked, mean (dot) and spread (bar: &plusmn; one standard "
            f"deviation) over the {s['ink']['fonts']} accepted fonts.</p>"
        )
        html.append(
            range_chart(
                list(charset),
                [ink.get(c, {}).get("mean") for c in charset],
                [ink.get(c, {}).get("std") for c in charset],
                title="ink per character",
            )
        )
    html.append("</section>")
    return "".join(html)


def _drift(inputs: ReportInputs) -> str:
    if inputs.drift is None:
        return (
            '<section id="drift"><h2>Drift</h2><p class="meta">No reference run given '
            "(set <code>reference_statistics</code> to compare with an earlier run).</p>"
            "</section>"
        )
    drifted = inputs.drift["drifted"]
    ref = escape(inputs.reference_url or "")
    if not drifted:
        return (
            f'<section id="drift"><h2>Drift</h2><p id="drift-status">No drift: '
            f"{inputs.drift['compared']} figures compared with <code>{ref}</code>, all "
            "within tolerance.</p></section>"
        )
    rows = "".join(
        f"<tr><td><code>{escape(d['figure'])}</code></td>"
        f"<td class='n'>{_num(d['reference'])}</td><td class='n'>{_num(d['current'])}</td>"
        f"<td class='n'>{d['change']:+.4g}</td><td class='n'>{d['tolerance']:g}</td></tr>"
        for d in drifted
    )
    fatal = " With fail_on_drift on, this fails the run." if inputs.fail_on_drift else ""
    return (
        f'<section id="drift"><h2>Drift</h2><p id="drift-status">{len(drifted)} of '
        f"{inputs.drift['compared']} figures moved beyond tolerance against "
        f"<code>{ref}</code>.{fatal}</p><table><thead><tr><th>Figure</th><th>Reference</th>"
        "<th>Now</th><th>Change</th><th>Tolerance</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )


def _num(value: float | None) -> str:
    return "absent" if value is None else f"{value:.4g}"


def _legend(inputs: ReportInputs) -> str:
    return (
        '<section id="legend"><h2>How to read the thumbnails</h2><p class="legend">'
        "Each thumbnail shows the charset in order, rendered as training renders it. "
        '<span style="background:#fff"></span>drawn'
        '<span style="background:rgb(250,222,222)"></span>not drawn (not in the cmap, '
        'mapped to .notdef, or empty)<span style="background:rgb(250,236,206)"></span>'
        'drawn as the .notdef box<span style="background:rgb(250,246,200)"></span>'
        "too big for the image (clipped)</p><p class='meta'>Files: accepted.parquet (the "
        "accepted rows of the raw index), rejected.parquet (one row per font and failed "
        "rule), statistics.json (everything on this page as data), _manifest.json.</p>"
        "</section>"
    )
