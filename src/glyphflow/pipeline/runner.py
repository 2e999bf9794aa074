"""The pipeline runner: run each selected step in order, or skip it when its output is current.

Every step ends in one status, each with the reason a person can act on:

``ran``           the step ran (why: no output, incomplete output, config values or
                  inputs that changed, or forced);
``skipped``       its output is complete and current;
``not selected``  outside ``--from``/``--to``/``--only`` (its output is still read by
                  the selected steps that need it, and must then be complete);
``failed``        the stage raised; the steps after it are ``not run``.

``plan_pipeline`` (``glyphflow run --dry-run``) settles the same decisions without running
or writing anything: ``would run``, ``would skip``, ``not selected``, and ``may run`` for a
step that is current now but reads a step that would run: whether its input then changes
(and so whether it reruns) is known only once that step has written its new output.

Stages run in this process through their ``run(config)`` function, exactly as from
Python. After every step ``<workdir>/_pipeline.json`` is rewritten (see lineage), so an
interrupted pipeline still says how far it got. With ``pipeline.mlflow.enabled`` the run
is an MLflow parent run and the steps' own runs become its children.
"""

from __future__ import annotations

import difflib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

from glyphflow.core.errors import GlyphflowError, UsageError
from glyphflow.core.manifest import Manifest
from glyphflow.pipeline import catalogue
from glyphflow.pipeline.cache import Decision, config_changes, decide, inspect_output
from glyphflow.pipeline.lineage import RECORD_NAME, PipelineRecord, StepRecord, write_record
from glyphflow.pipeline.lock import workdir_lock
from glyphflow.pipeline.parent_run import (
    PARENT_RUN_ENV,
    RunTracker,
    make_tracker,
    open_parent_run,
    scoped_environment,
)
from glyphflow.pipeline.spec import Pipeline, ResolvedStep

__all__ = [
    "LogReporter",
    "PipelineResult",
    "Reporter",
    "Selection",
    "StepResult",
    "format_result",
    "plan_pipeline",
    "run_pipeline",
    "run_step",
]

_log = logging.getLogger(__name__)


@dataclass
class StepResult:
    """How one step ended in this run."""

    name: str
    stage: str
    status: str  # ran, skipped, failed, not selected, not run
    reasons: list[str]
    output: str
    fingerprint: str | None = None
    seconds: float = 0.0
    manifest: Manifest | None = None
    error: str | None = None

    @property
    def why(self) -> str:
        return "; ".join(self.reasons)


@dataclass
class PipelineResult:
    """Every step's result, and the pipeline's MLflow run if there was one."""

    pipeline: Pipeline
    steps: list[StepResult] = field(default_factory=list)
    mlflow_run_id: str | None = None
    record_url: str | None = None

    def step(self, name: str) -> StepResult:
        for result in self.steps:
            if result.name == name:
                return result
        raise KeyError(name)

    def by_status(self, status: str) -> list[str]:
        return [r.name for r in self.steps if r.status == status]


class Reporter(Protocol):
    """Told when a step starts running and when any step is settled."""

    def step_started(self, step: ResolvedStep, decision: Decision, total: int) -> None: ...

    def step_finished(self, result: StepResult, index: int, total: int) -> None: ...


class LogReporter:
    """The default reporter: one log line per event."""

    def step_started(self, step: ResolvedStep, decision: Decision, total: int) -> None:
        _log.info("[%d/%d] %s: running: %s", step.index + 1, total, step.name, decision.why)

    def step_finished(self, result: StepResult, index: int, total: int) -> None:
        _log.info("%s", format_result(result, index, total))


def format_result(result: StepResult, index: int, total: int) -> str:
    """``[2/3] double: skipped: up to date (3fa2c1d9e0b1)`` and the like."""
    head = f"[{index + 1}/{total}] {result.name}: "
    if result.status == "ran":
        return head + f"ran in {result.seconds:.2f} s: {result.why}"
    if result.status == "failed":
        return head + f"failed after {result.seconds:.2f} s: {result.error}"
    return head + f"{result.status}: {result.why}"


@dataclass(frozen=True)
class Selection:
    """Which steps to consider (``--from``/``--to``/``--only``) and force (``--force``)."""

    force: tuple[str, ...] = ()
    from_: str | None = None
    to: str | None = None
    only: tuple[str, ...] = ()

    def unselected(self, pipeline: Pipeline) -> dict[str, str]:
        """Steps left out, each with why; raises on names the pipeline does not have."""
        names = pipeline.names
        for flag, values in (
            ("--force", self.force),
            ("--from", [self.from_] if self.from_ else []),
            ("--to", [self.to] if self.to else []),
            ("--only", self.only),
        ):
            for value in values:
                if value not in names:
                    close = difflib.get_close_matches(value, names, n=1, cutoff=0.5)
                    hint = f"did you mean {close[0]!r}? " if close else ""
                    raise UsageError(
                        f"{flag} {value}: no step of that name; {hint}steps: {', '.join(names)}"
                    )
        if self.only and (self.from_ or self.to):
            raise UsageError("--only cannot be combined with --from or --to")
        out: dict[str, str] = {}
        if self.only:
            for name in names:
                if name not in self.only:
                    out[name] = f"not in --only {', '.join(self.only)}"
        else:
            start = names.index(self.from_) if self.from_ else 0
            end = names.index(self.to) if self.to else len(names) - 1
            if start > end:
                raise UsageError(f"--from {self.from_} comes after --to {self.to}; nothing to run")
            for i, name in enumerate(names):
                if i < start:
                    out[name] = f"before --from {self.from_}"
                elif i > end:
                    out[name] = f"after --to {self.to}"
        for name in self.force:
            if name in out:
                raise UsageError(f"--force {name}: that step is not selected ({out[name]})")
        return out


def run_pipeline(
    pipeline: Pipeline,
    selection: Selection | None = None,
    *,
    reporter: Reporter | None = None,
    tracker: RunTracker | None = None,
    parent_run_id: str | None = None,
    run_name: str | None = None,
    run_tags: dict[str, str] | None = None,
    run_params: dict[str, str] | None = None,
    record_name: str = RECORD_NAME,
) -> PipelineResult:
    """Run ``pipeline``; raise the failing stage's error after recording it."""
    selection = selection or Selection()
    reporter = reporter or LogReporter()
    unselected = selection.unselected(pipeline)
    _check_unselected_inputs(pipeline, unselected)
    with workdir_lock(pipeline.workdir, pipeline.source):
        return _run_locked(
            pipeline,
            selection,
            unselected,
            reporter,
            tracker,
            parent_run_id,
            run_name,
            run_tags,
            run_params,
            record_name,
        )


def plan_pipeline(pipeline: Pipeline, selection: Selection | None = None) -> list[StepResult]:
    """Every step's decision as ``run_pipeline`` would take it now; runs and writes nothing.

    Uses the runner's own checks (``Selection``, unselected inputs, ``decide``). A step
    whose own output is current but which reads a step that would run is ``may run``:
    its input's new fingerprint exists only after that step has run (a rerun that writes
    the same content leaves it current). No lock is taken: nothing is written.
    """
    selection = selection or Selection()
    unselected = selection.unselected(pipeline)
    _check_unselected_inputs(pipeline, unselected)
    pending: set[str] = set()  # steps that would or may run
    out: list[StepResult] = []
    for step in pipeline.steps:
        if step.name in unselected:
            out.append(_not_selected(step, unselected[step.name]))
            continue
        decision = decide(step, step.name in selection.force)
        manifest = decision.manifest
        upstream = sorted({u for u in step.upstream.values() if u in pending})
        if decision.run:
            status, reasons = "would run", list(decision.reasons)
        elif upstream:
            names = ", ".join(repr(u) for u in upstream)
            plural = len(upstream) > 1
            status = "may run"
            reasons = [
                f"current now, but reads {'steps' if plural else 'step'} {names}, which "
                f"{'run' if plural else 'runs'} (or may run) first; it reruns if that "
                "changes what it reads (known only after it has run)"
            ]
        else:
            status, reasons = "would skip", list(decision.reasons)
        if status != "would skip":
            pending.add(step.name)
        out.append(
            StepResult(
                step.name,
                step.stage,
                status,
                reasons,
                step.output,
                fingerprint=manifest.fingerprint if manifest else None,
                manifest=manifest,
            )
        )
    return out


def _run_locked(
    pipeline: Pipeline,
    selection: Selection,
    unselected: dict[str, str],
    reporter: Reporter,
    tracker: RunTracker | None,
    parent_run_id: str | None,
    run_name: str | None,
    run_tags: dict[str, str] | None,
    run_params: dict[str, str] | None,
    record_name: str,
) -> PipelineResult:
    tracker = tracker or make_tracker(pipeline.mlflow, pipeline.workdir)
    total = len(pipeline.steps)
    record = PipelineRecord(
        pipeline=pipeline.source,
        workdir=pipeline.workdir,
        overrides=list(pipeline.overrides),
        steps=[
            StepRecord(
                name=s.name, stage=s.stage, output=s.output, upstream=s.upstream, status="pending"
            )
            for s in pipeline.steps
        ],
    )
    result = PipelineResult(pipeline)
    name = run_name or pipeline.mlflow.run_name or f"pipeline:{_stem(pipeline.source)}"
    tags = {"glyphflow.pipeline": pipeline.source, "glyphflow.workdir": pipeline.workdir}
    tags.update(run_tags or {})
    params = {"steps": ",".join(pipeline.names), "overrides": " ".join(pipeline.overrides)}
    params.update(run_params or {})
    with open_parent_run(tracker, name, parent_run_id, tags, params) as run_id:
        result.mlflow_run_id = run_id
        record.mlflow_run_id = run_id
        for step in pipeline.steps:
            if step.name in unselected:
                settled = _not_selected(step, unselected[step.name])
            else:
                settled = _settle(
                    step, step.name in selection.force, reporter, total, tracker, run_id
                )
            result.steps.append(settled)
            _update(record, settled)
            if isinstance(settled, _Settled) and settled.exception is not None:
                rest = _not_run(pipeline, step)
                for item in rest:
                    _update(record, item)
                result.steps.extend(rest)
                interrupted = isinstance(settled.exception, KeyboardInterrupt)
                record.status = "interrupted" if interrupted else "failed"
                result.record_url = write_record(record, record_name)
                for item, later in [
                    (settled, step),
                    *zip(rest, pipeline.steps[step.index + 1 :], strict=True),
                ]:
                    reporter.step_finished(item, later.index, total)
                _close_out(tracker, run_id, record)
                raise settled.exception
            result.record_url = write_record(record, record_name)
            reporter.step_finished(settled, step.index, total)
        record.status = "done"
        result.record_url = write_record(record, record_name)
        _close_out(tracker, run_id, record)
    return result


def run_step(
    pipeline: Pipeline,
    name: str,
    *,
    force: bool = False,
    reporter: Reporter | None = None,
    tracker: RunTracker | None = None,
    parent_run_id: str | None = None,
) -> StepResult:
    """Settle one step alone (ran or skipped, with why), for an orchestrator that owns the order.

    The same decision and execution as ``glyphflow run --only NAME``, but without a
    parent run or ``_pipeline.json``: the orchestrator calling this (ZenML) runs each
    step as its own task and keeps its own record of the run. Its inputs must be
    complete (the orchestrator ran their steps first). Stages see the pipeline's MLflow
    store through the environment, and ``parent_run_id`` as their parent if given.
    Raises the stage's error if it fails.
    """
    unselected = Selection(only=(name,)).unselected(pipeline)  # checks the name
    _check_unselected_inputs(pipeline, unselected)
    step = pipeline.step(name)
    tracker = tracker or make_tracker(pipeline.mlflow, pipeline.workdir)
    env = dict(tracker.environment())
    if parent_run_id:
        env[PARENT_RUN_ENV] = parent_run_id
    with scoped_environment(env):
        settled = _settle(
            step, force, reporter or LogReporter(), len(pipeline.steps), tracker, parent_run_id
        )
    if settled.exception is not None:
        raise settled.exception
    return StepResult(
        settled.name,
        settled.stage,
        settled.status,
        settled.reasons,
        settled.output,
        fingerprint=settled.fingerprint,
        seconds=settled.seconds,
        manifest=settled.manifest,
    )


def _stem(source: str) -> str:
    base = source.rstrip("/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0] if "." in base else base


def _check_unselected_inputs(pipeline: Pipeline, unselected: dict[str, str]) -> None:
    """A selected step reading a left-out step needs that step's output complete."""
    for step in pipeline.steps:
        if step.name in unselected:
            continue
        for field_name, upstream in step.upstream.items():
            if upstream not in unselected:
                continue
            state = inspect_output(pipeline.step(upstream).output)
            if not state.complete:
                raise UsageError(
                    f"step {step.name!r} reads {field_name} from step {upstream!r}, which is "
                    f"not selected ({unselected[upstream]}) and has {state.problem} at "
                    f"{pipeline.step(upstream).output}; select it too or run it first"
                )


@dataclass
class _Settled(StepResult):
    exception: BaseException | None = None


def _not_selected(step: ResolvedStep, why: str) -> StepResult:
    """A left-out step; say so if its output is out of date, since later steps may read it."""
    decision = decide(step)
    reasons = [why]
    if decision.run:
        reasons.append(f"out of date: {decision.why}")
    manifest = decision.manifest
    return StepResult(
        step.name,
        step.stage,
        "not selected",
        reasons,
        step.output,
        fingerprint=manifest.fingerprint if manifest else None,
        manifest=manifest,
    )


def _settle(
    step: ResolvedStep,
    forced: bool,
    reporter: Reporter,
    total: int,
    tracker: RunTracker,
    run_id: str | None,
) -> _Settled:
    decision = decide(step, forced)
    if not decision.run:
        manifest = decision.manifest
        return _Settled(
            step.name,
            step.stage,
            "skipped",
            decision.reasons,
            step.output,
            fingerprint=manifest.fingerprint if manifest else None,
            seconds=0.0,
            manifest=manifest,
        )
    reporter.step_started(step, decision, total)
    started = time.perf_counter()
    try:
        manifest = _execute(step)
    except BaseException as err:
        status = "interrupted" if isinstance(err, KeyboardInterrupt) else "failed"
        message = str(err) or type(err).__name__
        if not isinstance(err, GlyphflowError):
            message = f"{type(err).__name__}: {message}"
        return _Settled(
            step.name,
            step.stage,
            "failed",
            decision.reasons,
            step.output,
            seconds=time.perf_counter() - started,
            error=message if status == "failed" else "interrupted",
            exception=err,
        )
    seconds = time.perf_counter() - started
    if manifest.mlflow_run_id:
        tracker.link(manifest.mlflow_run_id, run_id)
    return _Settled(
        step.name,
        step.stage,
        "ran",
        decision.reasons,
        step.output,
        fingerprint=manifest.fingerprint,
        seconds=seconds,
        manifest=manifest,
    )


def _execute(step: ResolvedStep) -> Manifest:
    """Call the stage's ``run(config)`` and check that it committed its output."""
    run = catalogue.run_function(step.entry)
    run(step.config)
    state = inspect_output(step.output)
    if not state.complete or state.manifest is None:
        raise GlyphflowError(
            f"step {step.name!r}: stage {step.stage!r} returned, but its output "
            f"{step.output} is not complete ({state.problem}); a stage must commit its "
            "output (StageOutput.commit) before it returns"
        )
    manifest = state.manifest
    drift = config_changes(step.resolved(), manifest.config)  # given -> recorded
    if drift:
        _log.warning(
            "step %r: stage %r recorded a config different from the one it was given "
            "(%s); the step will rerun every time until the stage records its config as given",
            step.name,
            step.stage,
            ", ".join(drift[:3]),
        )
    recorded = set(manifest.input_urls.values())
    unrecorded = [f for f, url in step.inputs.items() if url not in recorded]
    if unrecorded:
        _log.warning(
            "step %r: stage %r did not record the fingerprint of input %s in its manifest; "
            "a change upstream will not rerun it (pass inputs={...} to StageOutput)",
            step.name,
            step.stage,
            ", ".join(unrecorded),
        )
    return manifest


def _update(record: PipelineRecord, result: StepResult) -> None:
    for item in record.steps:
        if item.name == result.name:
            item.status = result.status
            item.reasons = list(result.reasons)
            item.fingerprint = result.fingerprint
            item.seconds = round(result.seconds, 3) if result.status == "ran" else None
            item.mlflow_run_id = result.manifest.mlflow_run_id if result.manifest else None
            item.error = result.error


def _not_run(pipeline: Pipeline, failed: ResolvedStep) -> list[StepResult]:
    return [
        StepResult(step.name, step.stage, "not run", [f"step {failed.name!r} failed"], step.output)
        for step in pipeline.steps[failed.index + 1 :]
    ]


def _close_out(tracker: RunTracker, run_id: str | None, record: PipelineRecord) -> None:
    """Tag the parent run with each step's status and attach the record."""
    if not run_id:
        return
    tags: dict[str, str] = {}
    for item in record.steps:
        tags[f"glyphflow.step.{item.name}.status"] = item.status
        if item.mlflow_run_id:
            tags[f"glyphflow.step.{item.name}.run_id"] = item.mlflow_run_id
        if item.fingerprint:
            tags[f"glyphflow.step.{item.name}.fingerprint"] = item.fingerprint[:12]
    tracker.set_tags(run_id, tags)
    tracker.log_text(run_id, json.dumps(record.model_dump(mode="json"), indent=2), RECORD_NAME)
