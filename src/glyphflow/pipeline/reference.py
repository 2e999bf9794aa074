"""The configuration reference (``docs/config.md``), generated from the schemas.

Hand-written reference pages drift from the code; this one is rendered from the JSON
Schema of the pipeline file and of every built-in stage in the catalogue, and a test
checks that the checked-in file equals what the code renders now. Regenerate it with::

    glyphflow config docs --output docs/config.md

Only stages whose config lives in the ``glyphflow`` package are documented: stages a
plugin or a test registers are not part of glyphflow's reference.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from glyphflow.pipeline import catalogue
from glyphflow.pipeline.catalogue import StageEntry
from glyphflow.pipeline.spec import PipelineConfig

__all__ = ["builtin_stages", "render_reference", "schema_rows"]

_HEADER = """\
# Configuration reference

<!-- Generated from the schemas by `glyphflow config docs --output docs/config.md`.
     Do not edit by hand: a test fails when this file differs from the code. -->

Every config file is `version: 1` plus one section: a stage's section (`training:`,
...) for a stage file, or `pipeline:` for a pipeline file. Unknown keys are errors, and
every problem is reported at once with its file, line and column.

Override any value from the command line with `--set PATH=VALUE` (the value is read as
YAML). For a stage command the path starts with the stage's section
(`glyphflow train -c train.yaml --set training.epochs=3`). For `glyphflow run` and
`glyphflow sweep` the path starts with a step name (`train_style.epochs=3`: that step
only), a stage section (`training.epochs=3`: every step of that stage; a step name wins
over a section of the same name), or `pipeline` (`pipeline.workdir=/tmp/w`). Sweep grids
(`--grid KEY=V1,V2`) use the same keys.

Paths below use `.` between levels, `[]` for the items of a list and `<name>` for the
keys of a mapping.
"""


@dataclass(frozen=True)
class SchemaRow:
    """One documented setting."""

    path: str
    type: str
    default: str
    description: str


def builtin_stages() -> list[StageEntry]:
    """The catalogue's stages that belong to glyphflow itself, in catalogue order."""
    entries = [catalogue.stage_by_section(name) for name in catalogue.STAGES.names()]
    return [e for e in entries if e.config.startswith("glyphflow.")]


def render_reference(entries: Sequence[StageEntry] | None = None) -> str:
    """The whole Markdown reference: the pipeline file, then each stage."""
    entries = builtin_stages() if entries is None else list(entries)
    parts = [_HEADER]
    parts.append("## Pipeline file: `pipeline`\n")
    parts.append(
        "Run with `glyphflow run PIPELINE.yaml`; see `glyphflow lineage WORKDIR` and "
        "`glyphflow sweep`. Each step's output defaults to `<workdir>/<name>`, and its "
        "first input field to the previous step's output. A step's `config` is the stage "
        "section documented below, without the section name.\n"
    )
    parts.append(_table(schema_rows(PipelineConfig, "pipeline")))
    parts.append("## Stages\n")
    if not entries:
        parts.append("No stages are registered yet.\n")
    for entry in entries:
        parts.append(f"### {entry.section}\n")
        parts.append(f"{entry.help}\n")
        facts = [f"command: `glyphflow {entry.command}`", f"output field: `{entry.output}`"]
        if entry.inputs:
            facts.append("input fields: " + ", ".join(f"`{name}`" for name in entry.inputs))
        parts.append("; ".join(facts) + ".\n")
        rows = schema_rows(catalogue.config_model(entry), entry.section)
        parts.append(_table([_wiring_note(entry, row) for row in rows]))
    return "\n".join(parts).rstrip() + "\n"


def schema_rows(model: type[BaseModel], prefix: str = "") -> list[SchemaRow]:
    """A row for every setting of ``model``, nested models flattened to dotted paths."""
    schema = model.model_json_schema(by_alias=True)
    rows: list[SchemaRow] = []
    _walk(schema, schema, prefix, rows, ())
    return rows


def _walk(
    root: dict[str, Any],
    node: dict[str, Any],
    prefix: str,
    rows: list[SchemaRow],
    seen: tuple[str, ...],
) -> None:
    node = _deref(root, node)
    required = set(node.get("required", []))
    for key, prop in node.get("properties", {}).items():
        path = f"{prefix}.{key}" if prefix else key
        target, ref = _object_of(root, prop)
        description = prop.get("description") or (target or {}).get("description", "")
        rows.append(
            SchemaRow(
                path=path,
                type=_type(root, prop),
                default=_default(prop, key in required),
                description=_describe(description, _deref(root, prop)),
            )
        )
        if ref in seen:
            continue
        next_seen = (*seen, ref) if ref else seen
        if target is not None and target.get("properties"):
            _walk(root, target, path, rows, next_seen)
            continue
        resolved = _deref(root, _non_null(prop))
        items = resolved.get("items")
        if isinstance(items, dict):
            inner, inner_ref = _object_of(root, items)
            if inner is not None and inner.get("properties") and inner_ref not in seen:
                _walk(root, inner, f"{path}[]", rows, (*seen, inner_ref) if inner_ref else seen)
        extra = resolved.get("additionalProperties")
        if isinstance(extra, dict):
            inner, inner_ref = _object_of(root, extra)
            if inner is not None and inner.get("properties") and inner_ref not in seen:
                _walk(
                    root, inner, f"{path}.<name>", rows, (*seen, inner_ref) if inner_ref else seen
                )


def _deref(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        merged = dict(root["$defs"][name])
        merged.update({k: v for k, v in node.items() if k != "$ref"})
        node = merged
    if "allOf" in node and len(node["allOf"]) == 1:
        merged = dict(_deref(root, node["allOf"][0]))
        merged.update({k: v for k, v in node.items() if k != "allOf"})
        node = merged
    return node


def _non_null(node: dict[str, Any]) -> dict[str, Any]:
    options = [o for o in node.get("anyOf", []) if o.get("type") != "null"]
    return options[0] if len(options) == 1 else node


def _object_of(root: dict[str, Any], node: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The model a property holds (through Optional), and its definition name."""
    inner = _non_null(node)
    ref = inner.get("$ref", "")
    if not ref and "allOf" in inner and len(inner["allOf"]) == 1:
        ref = inner["allOf"][0].get("$ref", "")
    resolved = _deref(root, inner)
    if resolved.get("type") == "object" and "properties" in resolved:
        return resolved, ref.rsplit("/", 1)[-1]
    return None, ""


def _type(root: dict[str, Any], node: dict[str, Any]) -> str:
    node = _deref(root, node)
    if "const" in node:
        return json.dumps(node["const"])
    if "enum" in node:
        return " or ".join(json.dumps(v) for v in node["enum"])
    if "anyOf" in node or "oneOf" in node:
        options = node.get("anyOf") or node.get("oneOf") or []
        return " or ".join(dict.fromkeys(_type(root, o) for o in options))
    kind = node.get("type")
    if kind == "array":
        items = node.get("items")
        return f"list of {_type(root, items)}" if isinstance(items, dict) else "list"
    if kind == "object":
        if node.get("properties"):
            return "object"
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            return f"mapping of {_type(root, extra)}"
        return "mapping"
    if isinstance(kind, list):
        return " or ".join(str(k) for k in kind)
    return {"integer": "int", "number": "float", "boolean": "bool", "string": "str"}.get(
        str(kind), str(kind) if kind else "any"
    )


def _default(node: dict[str, Any], required: bool) -> str:
    if required:
        return "required"
    if "default" not in node:
        return ""
    text = json.dumps(node["default"], sort_keys=True)
    return text if len(text) <= 40 else text[:37] + "..."


_CONSTRAINTS = (
    ("minimum", ">="),
    ("exclusiveMinimum", ">"),
    ("maximum", "<="),
    ("exclusiveMaximum", "<"),
    ("minLength", "min length"),
    ("maxLength", "max length"),
    ("minItems", "min items"),
    ("maxItems", "max items"),
    ("pattern", "pattern"),
)


def _describe(description: str, node: dict[str, Any]) -> str:
    limits = []
    sources = [node, *(o for o in node.get("anyOf", []) if isinstance(o, dict))]
    for source in sources:
        for key, label in _CONSTRAINTS:
            if key in source:
                value = source[key]
                limits.append(f"{label} `{value}`" if key == "pattern" else f"{label} {value}")
    text = " ".join(description.split())
    if limits:
        text = f"{text} ({', '.join(limits)})" if text else ", ".join(limits)
    return text


def _wiring_note(entry: StageEntry, row: SchemaRow) -> SchemaRow:
    """Say which fields the pipeline runner fills in."""
    field = row.path[len(entry.section) + 1 :]
    note = ""
    if field == entry.output:
        note = "In a pipeline: `<workdir>/<step name>` unless set."
    elif entry.inputs and field == entry.inputs[0]:
        note = "In a pipeline: the previous step's output unless set or named in `inputs`."
    elif field in entry.inputs:
        note = "In a pipeline: name an earlier step in the step's `inputs`."
    if not note:
        return row
    text = f"{row.description}. {note}" if row.description else note
    return SchemaRow(row.path, row.type, row.default, text)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _prose(text: str) -> str:
    """Escape ``<`` before a name outside code spans, so ``<workdir>`` is not read as HTML."""
    parts = text.split("`")
    for i in range(0, len(parts), 2):
        parts[i] = re.sub(r"<(?=[A-Za-z/!?])", "&lt;", parts[i])
    return "`".join(parts)


def _table(rows: Sequence[SchemaRow]) -> str:
    lines = ["| setting | type | default | description |", "|---|---|---|---|"]
    for row in rows:
        default = f"`{row.default}`" if row.default and row.default != "required" else row.default
        lines.append(
            f"| `{_cell(row.path)}` | {_cell(row.type)} | {_cell(default)} | "
            f"{_cell(_prose(row.description))} |"
        )
    return "\n".join(lines) + "\n"
