"""The validation stage: judge every font of a raw store, write the verdicts and a report.

``run(config)`` reads the raw index (``fonts.parquet``), optionally expands variable
fonts into named instances, inspects each font through the configured engine, applies
the rules, and writes to ``config.output``:

- ``accepted.parquet``: the accepted index rows (``stored_path`` still relative to the
  raw store, whose URL the manifest keeps in ``input_urls["raw"]``);
- ``rejected.parquet``: one row per font and failed rule;
- ``statistics.json`` (with drift against a reference run, if one is configured);
- ``report.html``;
- ``_manifest.json`` with counts per rule, then ``_SUCCESS``.

Rejected fonts are data. The run fails (:class:`StageFailedError`, exit 1) only when
its thresholds say the corpus is unusable (too large a rejected fraction, too few
accepted fonts) or when drift is fatal; the report and statistics are written first
so the user can see why, but ``_SUCCESS`` is not.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pyarrow as pa

from glyphflow.core.config import config_hash
from glyphflow.core.errors import StageFailedError, UsageError
from glyphflow.core.logs import progress
from glyphflow.core.manifest import Manifest
from glyphflow.engines import engines
from glyphflow.io import records, shards, storage
from glyphflow.io.outputs import StageOutput
from glyphflow.validation.config import ValidationConfig
from glyphflow.validation.drift import STATISTICS_NAME, compare, read_reference
from glyphflow.validation.facts import FontFacts
from glyphflow.validation.inspection import InspectJob, inspect_task
from glyphflow.validation.instances import expand_instances
from glyphflow.validation.judge import Verdicts, judge
from glyphflow.validation.report import ReportInputs, render_report
from glyphflow.validation.rules import RuleContext, ordered_rules
from glyphflow.validation.rules.base import Rule
from glyphflow.validation.statistics import compute_statistics

__all__ = ["ACCEPTED_NAME", "INDEX_NAME", "REJECTED_NAME", "REPORT_NAME", "run"]

_log = logging.getLogger(__name__)

INDEX_NAME = "fonts.parquet"
ACCEPTED_NAME = "accepted.parquet"
REJECTED_NAME = "rejected.parquet"
REPORT_NAME = "report.html"


def run(config: ValidationConfig) -> Manifest:
    """Validate the raw store ``config.raw`` into ``config.output``; see the module doc."""
    reference = read_reference(config.reference_statistics) if config.reference_statistics else None
    output = StageOutput(config.output, "validation", config, inputs={"raw": config.raw})
    output.begin()
    rows = _read_index(config.raw)
    if config.expand_variable_instances:
        rows = list(expand_instances(rows, config.raw))
    render = config.render_config()
    context = RuleContext(charset=render.chars, min_coverage=config.min_coverage)
    rules: list[Rule] = [cls(config.rule_params(cls.name), context) for cls in ordered_rules()]
    job = InspectJob(
        raw_url=config.raw,
        render=render,
        thumbnail_px=config.report.glyph_px,
        thumbnail_columns=config.report.columns,
    )
    facts = _inspect(config, rows, job, output)
    verdicts = judge(facts, rules)
    statistics = compute_statistics(facts, verdicts, render.chars)
    drift = None
    if reference is not None:
        drift = compare(statistics["figures"], reference["figures"], config.drift_tolerances)
        statistics["drift"] = {"reference": config.reference_statistics, **drift}
        if reference.get("charset") != statistics["charset"]:
            _log.warning(
                "the reference run checked charset %r, this one %r: per-character figures "
                "do not compare",
                reference.get("charset"),
                statistics["charset"],
            )
        for entry in drift["drifted"]:
            _log.warning(
                "drift: %s %s -> %s (tolerance %s)",
                entry["figure"],
                entry["reference"],
                entry["current"],
                entry["tolerance"],
            )
    problems = _threshold_problems(config, statistics, drift)

    _write_accepted(output.path(ACCEPTED_NAME), facts, verdicts)
    _write_rejected(output.path(REJECTED_NAME), facts, verdicts)
    storage.write_text(
        output.path(STATISTICS_NAME), json.dumps(statistics, indent=2, ensure_ascii=False) + "\n"
    )
    report = ReportInputs(
        title=config.report.title,
        raw_url=config.raw,
        output_url=config.output,
        config_hash=config_hash(config),
        facts=facts,
        verdicts=verdicts,
        statistics=statistics,
        rules=rules,
        max_reject_fraction=config.max_reject_fraction,
        min_accepted=config.min_accepted,
        problems=problems,
        drift=drift,
        reference_url=config.reference_statistics,
        fail_on_drift=config.fail_on_drift,
        max_accepted=config.report.max_accepted,
        max_per_rule=config.report.max_per_rule,
        max_families=config.report.max_families,
    )
    storage.write_text(output.path(REPORT_NAME), render_report(report))

    counts = statistics["counts"]
    _log.info(
        "validation: %d fonts, %d accepted, %d rejected (%s)",
        counts["fonts"],
        counts["accepted"],
        counts["rejected"],
        ", ".join(f"{k}={v['failed']}" for k, v in statistics["rules"].items() if v["failed"]),
    )
    if problems:
        raise StageFailedError(
            "validation failed: "
            + "; ".join(problems)
            + f". See {output.path(REPORT_NAME)} for every rejected font and why."
        )
    output.counts = {
        "fonts": counts["fonts"],
        "accepted": counts["accepted"],
        "rejected": counts["rejected"],
        **{f"rule.{k}": v["failed"] for k, v in statistics["rules"].items() if v["enabled"]},
    }
    output.extra = {
        "charset": statistics["charset"],
        "drifted": [d["figure"] for d in (drift or {}).get("drifted", [])],
        "report": REPORT_NAME,
    }
    return output.commit()


def _read_index(raw: str) -> list[dict[str, Any]]:
    url = storage.join(raw, INDEX_NAME)
    if not storage.exists(url):
        raise UsageError(
            f"{raw} has no {INDEX_NAME}: point validation.raw at the output folder of "
            "glyphflow ingest"
        )
    rows: list[dict[str, Any]] = shards.read_table(url).to_pylist()
    return rows


def _inspect(
    config: ValidationConfig, rows: list[dict[str, Any]], job: InspectJob, output: StageOutput
) -> list[FontFacts]:
    engine = engines.build(config.engine)
    facts: list[FontFacts] = []
    with progress("validating fonts", total=len(rows), unit="fonts") as bar:
        for item in engine.map(inspect_task, rows, job, scratch_url=output.path(".scratch")):
            facts.append(item)
            bar.advance()
    return facts


def _threshold_problems(
    config: ValidationConfig, statistics: dict[str, Any], drift: dict[str, Any] | None
) -> list[str]:
    counts = statistics["counts"]
    problems = []
    total = counts["fonts"]
    fraction = counts["rejected"] / total if total else 0.0
    if total and fraction > config.max_reject_fraction:
        worst = sorted(
            ((v["failed"], k) for k, v in statistics["rules"].items() if v["failed"]),
            reverse=True,
        )[:3]
        detail = ", ".join(f"{name} {count}" for count, name in worst)
        problems.append(
            f"{counts['rejected']} of {total} fonts rejected ({fraction:.0%}), more than "
            f"max_reject_fraction {config.max_reject_fraction:.0%} (most failed: {detail})"
        )
    if counts["accepted"] < config.min_accepted:
        problems.append(
            f"{counts['accepted']} fonts accepted, fewer than min_accepted {config.min_accepted}"
        )
    if config.fail_on_drift and drift and drift["drifted"]:
        names = ", ".join(d["figure"] for d in drift["drifted"][:8])
        problems.append(
            f"{len(drift['drifted'])} figures drifted beyond tolerance from "
            f"{config.reference_statistics} ({names}) and fail_on_drift is on"
        )
    return problems


def _write_accepted(url: str, facts: list[FontFacts], verdicts: Verdicts) -> None:
    schema = records.ACCEPTED_FONT_SCHEMA
    rows = []
    for f in facts:
        if verdicts.accepted(f.id):
            row = {name: f.row.get(name) for name in schema.names}
            rows.append(row)
    shards.write_table(url, pa.Table.from_pylist(rows, schema=schema))


def _write_rejected(url: str, facts: list[FontFacts], verdicts: Verdicts) -> None:
    rows = []
    for f in facts:
        for rule, message in verdicts.failures.get(f.id, []):
            rows.append(
                {
                    "font_id": f.id,
                    "rule": rule,
                    "message": message,
                    "family": f.row.get("family"),
                    "full_name": f.row.get("full_name"),
                    "stored_path": f.row.get("stored_path"),
                    "source_url": f.row.get("source_url"),
                }
            )
    shards.write_table(url, pa.Table.from_pylist(rows, schema=records.REJECTION_SCHEMA))
