"""The ``glyphflow`` command: a sub-command per stage, ``config`` tools, and the runner.

Start-up stays fast (``glyphflow --help`` well under half a second): this module imports
typer and the stage catalogue only; each command imports its stage when it runs.

Exit codes: 0 done, 1 the run failed, 2 bad usage or configuration. A user's mistake
prints one readable message; the traceback appears only with ``--verbose``.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from glyphflow import __version__
from glyphflow.core.errors import EXIT_FAILED, EXIT_USAGE, GlyphflowError, UsageError

__all__ = ["app", "main"]

_log = logging.getLogger("glyphflow")
_state: dict[str, Any] = {"verbose": 0, "quiet": False}

app = typer.Typer(
    name="glyphflow",
    help="Learn generative models of typeface style from font files.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
config_app = typer.Typer(help="Show, check and describe configuration files.", no_args_is_help=True)
app.add_typer(config_app, name="config")

# A str, not a Path: Path would turn "s3://bucket/x.yaml" into "s3:/bucket/x.yaml".
ConfigOption = Annotated[
    str, typer.Option("--config", "-c", metavar="FILE", help="Stage config YAML (path or URL).")
]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a value: --set training.epochs=3 (repeatable)."),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"glyphflow {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More output; -vv for debug.")
    ] = 0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only warnings and errors; no progress bars.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Learn generative models of typeface style from font files."""
    from glyphflow.core.logs import configure_logging

    _state["verbose"] = verbose
    _state["quiet"] = quiet
    configure_logging(verbose=verbose, quiet=quiet)


# ---------------------------------------------------------------------------- config


def _sections(url: str) -> list[str]:
    from glyphflow.core.config import read_text
    from glyphflow.core.yamlsource import load_yaml_text

    data = load_yaml_text(read_text(url), url).data
    return [k for k in data if k != "version"] if isinstance(data, dict) else []


def _load_any(url: str, overrides: list[str]) -> tuple[str, Any]:
    """Load a stage file, detecting the stage from its section name."""
    from glyphflow.core.config import load_config
    from glyphflow.pipeline import catalogue

    sections = _sections(url)
    if sections == ["pipeline"]:
        from glyphflow.pipeline.spec import load_pipeline

        return "pipeline", load_pipeline(url, overrides)
    known = [s for s in sections if s in catalogue.STAGES]
    if len(known) != 1:
        raise UsageError(
            f"{url}: expected exactly one stage section, one of "
            f"{', '.join(catalogue.STAGES.names())} (found: {', '.join(sections) or 'none'})"
        )
    entry = catalogue.stage_by_section(known[0])
    model = catalogue.config_model(entry)
    return entry.section, load_config(entry.section, model, url, overrides)


@config_app.command("show")
def config_show(
    file: Annotated[str, typer.Argument(help="Config YAML (path or URL).")],
    set_: SetOption = None,
) -> None:
    """Print the resolved config (defaults filled in, overrides applied) as YAML."""
    import yaml

    from glyphflow.core.config import SCHEMA_VERSION, dump_config

    section, config = _load_any(file, set_ or [])
    if section == "pipeline":  # every step's config resolved, its inputs and output wired
        text = yaml.safe_dump(config.document(), sort_keys=False)
    else:
        text = yaml.safe_dump(
            {"version": SCHEMA_VERSION, section: dump_config(config)}, sort_keys=False
        )
    typer.echo(text, nl=False)


@config_app.command("check")
def config_check(
    file: Annotated[str, typer.Argument(help="Config YAML (path or URL).")],
    set_: SetOption = None,
) -> None:
    """Validate a config file; report every problem with file:line:col."""
    section, config = _load_any(file, set_ or [])
    if section == "pipeline":
        section = f"pipeline of {len(config.steps)} steps: {', '.join(config.names)}"
    typer.echo(f"{file}: ok ({section})")


@config_app.command("schema")
def config_schema(
    stage: Annotated[str, typer.Argument(help="Stage name, e.g. training or train; or pipeline.")],
) -> None:
    """Print the JSON Schema of a stage's config file, or of a pipeline file (for editors)."""
    from glyphflow.core.config import document_model
    from glyphflow.pipeline import catalogue

    if stage == "pipeline":
        from glyphflow.pipeline.spec import pipeline_file_model

        model = pipeline_file_model()
    else:
        entry = catalogue.stage_by_command(stage)
        model = document_model(entry.section, catalogue.config_model(entry))
    typer.echo(json.dumps(model.model_json_schema(by_alias=True), indent=2))


@config_app.command("stages")
def config_stages() -> None:
    """List the stages, their config section and command."""
    from glyphflow.pipeline import catalogue

    for name in catalogue.STAGES.names():
        entry = catalogue.stage_by_section(name)
        typer.echo(f"{entry.section:15} glyphflow {entry.command:12} {entry.help}")


@config_app.command("docs")
def config_docs(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    check: Annotated[
        bool,
        typer.Option("--check", help="Exit 1 if --output differs from the schemas; write nothing."),
    ] = False,
) -> None:
    """Render the configuration reference (docs/config.md) from the stage schemas."""
    from glyphflow.pipeline.reference import render_reference

    text = render_reference()
    if output is None:
        if check:
            raise UsageError("--check needs --output FILE to compare with")
        typer.echo(text, nl=False)
        return
    if check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            typer.echo(
                f"{output} is out of date; regenerate it: glyphflow config docs --output {output}",
                err=True,
            )
            raise typer.Exit(EXIT_FAILED)
        typer.echo(f"{output}: current")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output}")


# ---------------------------------------------------------------------------- stages


def run_stage(section: str, config_file: str, overrides: list[str], **options: Any) -> Any:
    """Load a stage's config and run it; used by every stage command."""
    from glyphflow.core.config import load_config
    from glyphflow.pipeline import catalogue

    entry = catalogue.stage_by_section(section)
    config = load_config(section, catalogue.config_model(entry), config_file, overrides)
    manifest = catalogue.run_function(entry)(config, **options)
    if manifest is not None and not _state["quiet"]:
        counts = ", ".join(f"{k}={v}" for k, v in sorted(manifest.counts.items()))
        _log.info("%s done: %s", section, counts or "ok")
    return manifest


# ---------------------------------------------------------------------------- pipeline

PipelineArgument = Annotated[str, typer.Argument(help="Pipeline YAML (path or URL).")]
PipelineSetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a value: STEP.path=V (one step), STAGE.path=V (every step of that "
        "stage) or pipeline.path=V (repeatable).",
    ),
]


class _EchoReporter:
    """Prints why each step runs when it starts, and how every step ended."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.announced: set[str] = set()

    def step_started(self, step: Any, decision: Any, total: int) -> None:
        if not _state["quiet"]:
            self.announced.add(step.name)
            typer.echo(
                f"{self.prefix}[{step.index + 1}/{total}] {step.name}: running: {decision.why}"
            )

    def step_finished(self, result: Any, index: int, total: int) -> None:
        from glyphflow.pipeline.runner import format_result

        if result.status == "ran" and result.name in self.announced:
            line = f"[{index + 1}/{total}] {result.name}: ran in {result.seconds:.2f} s"
        else:
            line = format_result(result, index, total)
        typer.echo(self.prefix + line)


def _print_rich(renderable: Any) -> None:
    from rich.console import Console

    Console(width=None if sys.stdout.isatty() else 200, soft_wrap=False).print(renderable)


@app.command("run")
def run_pipeline_command(
    pipeline: PipelineArgument,
    set_: PipelineSetOption = None,
    force: Annotated[
        list[str] | None,
        typer.Option("--force", help="Run this step even if its output is current (repeatable)."),
    ] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="Start at this step (earlier steps are not run).")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Stop after this step (later steps are not run).")
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Consider only this step (repeatable)."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Say which steps would run or skip, and why; run and write nothing.",
        ),
    ] = False,
) -> None:
    """Run a pipeline's steps in order, skipping each step whose output is current.

    One run per workdir at a time: a local workdir is locked (WORKDIR/.glyphflow.lock)
    while the run lasts; s3:// and other remote workdirs are not locked.
    """
    from glyphflow.pipeline.runner import Selection, run_pipeline
    from glyphflow.pipeline.spec import load_pipeline

    resolved = load_pipeline(pipeline, set_ or [])
    selection = Selection(force=tuple(force or ()), from_=from_, to=to, only=tuple(only or ()))
    if dry_run:
        _dry_run(resolved, selection)
        return
    result = run_pipeline(resolved, selection, reporter=_EchoReporter())
    if not _state["quiet"]:
        counts = {s: len(result.by_status(s)) for s in ("ran", "skipped", "not selected")}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        typer.echo(f"done: {summary}; lineage: glyphflow lineage {resolved.workdir}")
        if result.mlflow_run_id:
            typer.echo(f"MLflow parent run: {result.mlflow_run_id}")


def _dry_run(resolved: Any, selection: Any) -> None:
    """``run --dry-run``: the runner's decisions as lines, then a summary."""
    from glyphflow.pipeline.runner import format_result, plan_pipeline

    steps = plan_pipeline(resolved, selection)
    for index, step in enumerate(steps):
        typer.echo(format_result(step, index, len(steps)))
    if not _state["quiet"]:
        statuses = ("would run", "may run", "would skip", "not selected")
        counts = {s: sum(1 for r in steps if r.status == s) for s in statuses}
        summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        typer.echo(f"dry run: {summary}; nothing was run or written")


@app.command("lineage")
def lineage_command(
    workdir: Annotated[
        str, typer.Argument(help="A pipeline's workdir (or a _pipeline*.json record).")
    ],
) -> None:
    """Show each step's output: fingerprint, counts, time, MLflow run and model version."""
    from glyphflow.pipeline.lineage import lineage_rows, lineage_table

    rows = lineage_rows(workdir)
    _print_rich(lineage_table(rows, title=f"lineage of {workdir}"))


@app.command("sweep")
def sweep_command(
    pipeline: PipelineArgument,
    grid: Annotated[
        list[str],
        typer.Option(
            "--grid",
            help="KEY=V1,V2,...: run every combination (repeatable); keys as for --set, "
            "e.g. training.model.latent_dim=8,16.",
        ),
    ],
    set_: PipelineSetOption = None,
    metrics_step: Annotated[
        str | None,
        typer.Option("--metrics-step", help="Read metrics from this step (default: the last)."),
    ] = None,
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", help="Show only metrics matching this glob (repeatable)."),
    ] = None,
) -> None:
    """Run a pipeline over a grid of config values and compare the points' metrics."""
    from glyphflow.pipeline.sweep import run_sweep, sweep_table

    def announce(point: Any, total: int) -> None:
        if not _state["quiet"]:
            own = ", ".join(point.own) or "none (all shared)"
            typer.echo(
                f"point {point.index + 1}/{total} ({point.id}): {point.label}; own outputs: {own}"
            )

    result = run_sweep(
        pipeline,
        set_ or [],
        grid,
        reporter=_EchoReporter("  "),
        metrics_step=metrics_step,
        on_point=announce,
    )
    _print_rich(sweep_table(result, metric or ()))
    if result.mlflow_run_id:
        typer.echo(f"MLflow sweep run: {result.mlflow_run_id}")
    if result.failed:
        for point in result.failed:
            typer.echo(f"point {point.index + 1} ({point.label}) failed: {point.error}", err=True)
        raise typer.Exit(EXIT_FAILED)


@app.command("validate")
def validate(config: ConfigOption, set_: SetOption = None) -> None:
    """Accept or reject every font of a raw store; write statistics and report.html."""
    run_stage("validation", config, set_ or [])


@app.command("preprocess")
def preprocess(
    config: ConfigOption,
    set_: SetOption = None,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            help="Keep watching the input index and render new fonts as they arrive "
            "(stop with Ctrl-C or SIGTERM).",
        ),
    ] = False,
) -> None:
    """Render fonts into glyph datasets split by font."""
    run_stage("preprocessing", config, set_ or [], follow=follow)


@app.command("ingest")
def ingest(
    config: ConfigOption,
    set_: SetOption = None,
) -> None:
    """Gather font files from folders, archives, buckets, web pages and this machine.

    Writes a content-addressed raw store (files/, fonts.parquet, failures.parquet) at
    ingestion.output. Reruns are incremental: nothing held is read or downloaded again.
    """
    run_stage("ingestion", config, set_ or [])


@app.command("train")
def train(
    config: ConfigOption,
    set_: SetOption = None,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Continue from the latest checkpoint in the output folder."),
    ] = False,
) -> None:
    """Train a classifier or a style model, tracked in MLflow (torchrun for several processes)."""
    run_stage("training", config, set_ or [], resume=resume)


@app.command("score")
def score(
    config: ConfigOption,
    set_: SetOption = None,
) -> None:
    """Score glyph records with a trained classifier (confidence, predicted character).

    Writes the same splits and layout at scoring.output with the classifier's outputs added;
    the training filter data.min_confidence reads them.
    """
    run_stage("scoring", config, set_ or [])


@app.command("evaluate")
def evaluate(
    config: ConfigOption,
    set_: SetOption = None,
) -> None:
    """Evaluate a style model on held-out fonts and bless it or not.

    Writes metrics.json, report.html and one verdict file (BLESSED or NOT_BLESSED, with the
    reasons) at evaluation.output; a blessed model becomes the registry's champion.
    """
    run_stage("evaluation", config, set_ or [])


@app.command("serve")
def serve(
    config: ConfigOption,
    set_: SetOption = None,
    host: Annotated[
        str | None, typer.Option("--host", help="Address to listen on (overrides serving.host).")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="Port to listen on (overrides serving.port).")
    ] = None,
) -> None:
    """Serve a model: HTTP API under /v1 and the style explorer page at /."""
    run_stage("serving", config, set_ or [], host=host, port=port)


# ---------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the app, map errors to messages and exit codes."""
    from typer.exceptions import TyperException

    try:
        # Outside standalone mode click returns a typer.Exit's code instead of raising it.
        returned = app(args=argv, prog_name="glyphflow", standalone_mode=False)
        if isinstance(returned, int) and not isinstance(returned, bool) and returned:
            sys.exit(returned)
    except GlyphflowError as err:
        _report(err, f"error: {err}")
        sys.exit(err.exit_code)
    except typer.Exit as err:
        sys.exit(err.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except TyperException as err:  # click's usage errors (typer vendors click)
        show = getattr(err, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"error: {err}", err=True)
        code = int(getattr(err, "exit_code", EXIT_USAGE))
        sys.exit(code)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except Exception as err:
        _report(err, f"internal error: {type(err).__name__}: {err}")
        if not _state["verbose"]:
            typer.echo("(rerun with --verbose for the traceback)", err=True)
        sys.exit(EXIT_FAILED)
    sys.exit(0)


def _report(err: BaseException, message: str) -> None:
    typer.echo(message, err=True)
    if _state["verbose"]:
        import traceback

        traceback.print_exception(err)
