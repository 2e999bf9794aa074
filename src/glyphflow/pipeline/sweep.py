"""Sweeps: run a pipeline over the cartesian grid of some config values.

``glyphflow sweep pipeline.yaml --grid training.model.latent_dim=8,16 --grid
train_style.optimizer.kwargs.lr=1e-3,3e-4`` runs 4 points. A grid key is addressed like
``--set``: a stage section (every step of that stage) or a step name, then the path.

Each point is the pipeline with that point's values set. The steps a point changes, and
every step downstream of them, write to their own folders (``<output>@<point id>``,
the id a short hash of the point's values); the steps it leaves unchanged keep their
usual folders, so upstream work is done once and shared by every point (and by plain
``glyphflow run``). With MLflow on, the sweep is a parent run and each point's pipeline
run is its child. The metrics of each point are read from its last step (or
``metrics_step``): ``metrics.json`` in its output if there is one, else the manifest's
``extra.metrics``, else its counts.
"""

from __future__ import annotations

import fnmatch
import hashlib
import itertools
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from glyphflow.core.errors import ConfigError, ConfigProblem, GlyphflowError, UsageError
from glyphflow.core.manifest import Manifest
from glyphflow.io import storage
from glyphflow.pipeline.lock import workdir_lock
from glyphflow.pipeline.parent_run import RunTracker, make_tracker, open_parent_run
from glyphflow.pipeline.runner import PipelineResult, Reporter, run_pipeline
from glyphflow.pipeline.spec import Pipeline, load_pipeline

__all__ = [
    "SWEEP_RECORD",
    "GridAxis",
    "SweepPoint",
    "SweepResult",
    "collect_metrics",
    "grid_points",
    "parse_grid",
    "plan_sweep",
    "run_sweep",
    "sweep_table",
]

SWEEP_RECORD = "_sweep.json"
METRICS_FILE = "metrics.json"

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GridAxis:
    """One ``--grid KEY=V1,V2`` argument: the key and each value's text."""

    key: str
    values: tuple[str, ...]


def parse_grid(args: Sequence[str]) -> list[GridAxis]:
    """Parse ``KEY=V1,V2,...`` arguments; commas inside ``[]``, ``{}`` or quotes are kept."""
    axes: list[GridAxis] = []
    problems: list[ConfigProblem] = []
    seen: set[str] = set()
    for arg in args:
        source = f"--grid {arg}"
        if "=" not in arg:
            problems.append(ConfigProblem(source, 0, 0, arg, "expected KEY=V1,V2,..."))
            continue
        key, text = (part.strip() for part in arg.split("=", 1))
        values = tuple(v.strip() for v in _split_values(text))
        if not key or not values or any(not v for v in values):
            problems.append(
                ConfigProblem(source, 0, 0, key, "expected KEY=V1,V2,... with no empty value")
            )
            continue
        if key in seen:
            problems.append(ConfigProblem(source, 0, 0, key, "the same key is given twice"))
            continue
        seen.add(key)
        axes.append(GridAxis(key, values))
    if problems:
        raise ConfigError(problems)
    if not axes:
        raise UsageError("a sweep needs at least one --grid KEY=V1,V2,...")
    return axes


def _split_values(text: str) -> list[str]:
    values: list[str] = []
    depth = 0
    quote = ""
    current: list[str] = []
    for ch in text:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            values.append("".join(current))
            current = []
            continue
        current.append(ch)
    values.append("".join(current))
    return values


def grid_points(axes: Sequence[GridAxis]) -> list[dict[str, str]]:
    """Every combination, the first axis varying slowest."""
    keys = [axis.key for axis in axes]
    return [
        dict(zip(keys, combo, strict=True))
        for combo in itertools.product(*(axis.values for axis in axes))
    ]


def point_id(values: dict[str, str]) -> str:
    canonical = json.dumps(sorted(values.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:8]


@dataclass
class SweepPoint:
    """One grid point: its values, its pipeline and, once run, its result and metrics."""

    index: int
    values: dict[str, str]
    id: str
    pipeline: Pipeline
    changed: list[str]  # steps whose config this point changes
    own: list[str]  # steps writing to this point's own folders
    status: str = "pending"  # done, failed
    error: str | None = None
    result: PipelineResult | None = None
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.values.items())


@dataclass
class SweepResult:
    """The points of a sweep and the sweep's MLflow run."""

    base: Pipeline
    axes: list[GridAxis]
    points: list[SweepPoint]
    metrics_step: str
    mlflow_run_id: str | None = None
    record_url: str | None = None

    @property
    def failed(self) -> list[SweepPoint]:
        return [p for p in self.points if p.status == "failed"]


def plan_sweep(
    url: str, overrides: Sequence[str], axes: Sequence[GridAxis], text: str | None = None
) -> tuple[Pipeline, list[SweepPoint]]:
    """Resolve every point before anything runs, so a bad value fails the sweep up front."""
    base = load_pipeline(url, overrides, text=text)
    points: list[SweepPoint] = []
    problems: list[ConfigProblem] = []
    for index, values in enumerate(grid_points(axes)):
        point_overrides = [*overrides, *(f"{k}={v}" for k, v in values.items())]
        try:
            plain = load_pipeline(url, point_overrides, text=text)
        except ConfigError as err:
            grid_args = {f"--set {k}={v}" for k, v in values.items()}
            for p in err.problems:
                if p.source in grid_args:  # name the flag the value came from
                    p = replace(p, source="--grid" + p.source[len("--set") :])
                if p not in problems:
                    problems.append(p)
            continue
        changed = [
            step.name
            for step, before in zip(plain.steps, base.steps, strict=True)
            if step.resolved() != before.resolved()
        ]
        own = [name for name in plain.names if name in plain.downstream(set(changed))]
        pid = point_id(values)
        pipeline = (
            load_pipeline(
                url, point_overrides, text=text, output_suffix={n: f"@{pid}" for n in own}
            )
            if own
            else plain
        )
        points.append(SweepPoint(index, values, pid, pipeline, changed, own))
    if problems:
        raise ConfigError(problems)
    return base, points


def run_sweep(
    url: str,
    overrides: Sequence[str],
    grid: Sequence[str],
    *,
    reporter: Reporter | None = None,
    tracker: RunTracker | None = None,
    metrics_step: str | None = None,
    on_point: Any = None,
) -> SweepResult:
    """Run every point of the grid (failed points are recorded; the others still run)."""
    axes = parse_grid(grid)
    base, points = plan_sweep(url, overrides, axes)
    step_name = metrics_step or base.names[-1]
    if step_name not in base.names:
        raise UsageError(
            f"--metrics-step {step_name}: no such step; steps: {', '.join(base.names)}"
        )
    with workdir_lock(base.workdir, base.source):  # the points re-enter it
        tracker = tracker or make_tracker(base.mlflow, base.workdir)
        result = SweepResult(base, list(axes), points, step_name)
        stem = base.source.rstrip("/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
        params = {f"grid.{axis.key}": ",".join(axis.values) for axis in axes}
        with open_parent_run(
            tracker, f"sweep:{stem}", None, {"glyphflow.sweep": "true"}, params
        ) as sweep_run:
            result.mlflow_run_id = sweep_run
            for point in points:
                if on_point is not None:
                    on_point(point, len(points))
                try:
                    point.result = run_pipeline(
                        point.pipeline,
                        reporter=reporter,
                        tracker=tracker,
                        parent_run_id=sweep_run,
                        run_name=f"{stem} point {point.index + 1}: {point.label}",
                        run_tags={"glyphflow.sweep_point": point.id},
                        run_params={f"grid.{k}": v for k, v in point.values.items()},
                        record_name=f"_pipeline@{point.id}.json",
                    )
                except GlyphflowError as err:
                    point.status, point.error = "failed", str(err)
                except Exception as err:  # one point's crash must not lose the others
                    point.status, point.error = "failed", f"{type(err).__name__}: {err}"
                else:
                    point.status = "done"
                    step = point.result.step(step_name)
                    point.metrics = collect_metrics(step.output, step.manifest)
                    tracker.log_metrics(point.result.mlflow_run_id, point.metrics)
            record = _record(result)
            result.record_url = storage.join(base.workdir, SWEEP_RECORD)
            storage.write_text(result.record_url, json.dumps(record, indent=2) + "\n")
            tracker.set_tags(sweep_run, {"glyphflow.failed_points": str(len(result.failed))})
            tracker.log_text(sweep_run, json.dumps(record, indent=2), SWEEP_RECORD)
    return result


def _record(result: SweepResult) -> dict[str, Any]:
    return {
        "version": 1,
        "pipeline": result.base.source,
        "workdir": result.base.workdir,
        "grid": {axis.key: list(axis.values) for axis in result.axes},
        "metrics_step": result.metrics_step,
        "mlflow_run_id": result.mlflow_run_id,
        "points": [
            {
                "index": p.index,
                "id": p.id,
                "values": p.values,
                "status": p.status,
                "error": p.error,
                "changed_steps": p.changed,
                "own_outputs": {n: p.pipeline.step(n).output for n in p.own},
                "mlflow_run_id": p.result.mlflow_run_id if p.result else None,
                "metrics": p.metrics,
            }
            for p in result.points
        ],
    }


def collect_metrics(output: str, manifest: Manifest | None) -> dict[str, float]:
    """A step's metrics: its ``metrics.json``, else ``extra.metrics``, else its counts."""
    path = storage.join(output, METRICS_FILE)
    if storage.exists(path):
        try:
            return _flatten(json.loads(storage.read_text(path)))
        except ValueError as err:
            _log.warning("%s is not JSON (%s); falling back to the manifest", path, err)
    if manifest is None:
        return {}
    if isinstance(manifest.extra.get("metrics"), dict):
        return _flatten(manifest.extra["metrics"])
    return {k: float(v) for k, v in manifest.counts.items()}


def _flatten(data: Any, prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, (int, float)) and not isinstance(data, bool) and prefix:
        out[prefix] = float(data)
    return out


def sweep_table(result: SweepResult, patterns: Sequence[str] = ()) -> Any:
    """A rich table: one row per point, its grid values, status and metrics."""
    from rich.table import Table

    names = sorted({k for p in result.points for k in p.metrics})
    if patterns:
        names = [n for n in names if any(fnmatch.fnmatch(n, pat) for pat in patterns)]
    table = Table(title=f"sweep: metrics of step {result.metrics_step!r}")
    table.add_column("point")
    for axis in result.axes:
        table.add_column(axis.key, overflow="fold")
    table.add_column("status")
    for name in names:
        table.add_column(name, justify="right", overflow="fold")
    for p in result.points:
        cells = [f"{p.index + 1} ({p.id})", *p.values.values(), p.status]
        cells += [f"{p.metrics[n]:.4g}" if n in p.metrics else "-" for n in names]
        table.add_row(*cells)
    return table
