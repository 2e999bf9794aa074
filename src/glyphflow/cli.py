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

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", help="Stage config YAML (path or URL).")
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
    section, _ = _load_any(file, set_ or [])
    typer.echo(f"{file}: ok ({section})")


@config_app.command("schema")
def config_schema(
    stage: Annotated[str, typer.Argument(help="Stage name, e.g. training or train.")],
) -> None:
    """Print the JSON Schema of a stage's config file (for editors)."""
    from glyphflow.core.config import document_model
    from glyphflow.pipeline import catalogue

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


@app.command("ingest")
def ingest(
    config: Annotated[
        str,
        typer.Option("--config", "-c", metavar="FILE", help="Ingestion config YAML (path or URL)."),
    ],
    set_: SetOption = None,
) -> None:
    """Gather font files from folders, archives, buckets, web pages and this machine.

    Writes a content-addressed raw store (files/, fonts.parquet, failures.parquet) at
    ingestion.output. Reruns are incremental: nothing held is read or downloaded again.
    """
    run_stage("ingestion", config, set_ or [])


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
    run_stage("preprocessing", str(config), set_ or [], follow=follow)


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
    run_stage("training", str(config), set_ or [], resume=resume)


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
    run_stage("serving", str(config), set_ or [], host=host, port=port)


# ---------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the app, map errors to messages and exit codes."""
    from typer.exceptions import TyperException

    try:
        app(args=argv, prog_name="glyphflow", standalone_mode=False)
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
