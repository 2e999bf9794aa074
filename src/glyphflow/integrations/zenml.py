"""ZenML: a glyphflow pipeline file run as a ZenML pipeline, one ZenML step per glyphflow step.

For teams whose runs, lineage and dashboards live in ZenML. The ZenML pipeline is built
from the same ``pipeline.yaml`` (``load_pipeline``: steps, overrides, wiring) and each
ZenML step settles its glyphflow step with the runner's own ``run_step``: the same
decision (ran or skipped, and why) and the same stage call as ``glyphflow run``.

What travels between ZenML steps is each step's output URL (a ``str`` artifact named
``output``); the data stays in glyphflow's storage layout (``<workdir>/<step>`` with
``_manifest.json`` and ``_SUCCESS``), where the next stage reads it. The DAG's edges are
glyphflow's input wiring.

ZenML's own cache is off for these steps on purpose: it would key a step on its
parameters and input artifacts, which are only URLs, and reuse a step whose output was
deleted or whose upstream data changed in place. glyphflow's fingerprints (config,
inputs' manifests, version) decide instead, and every step records the decision, the
fingerprint and the output's counts as ZenML metadata (see ``zenml_steps``).

    python -m glyphflow.integrations.zenml PIPELINE.yaml [--set STEP.path=VALUE ...]
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from glyphflow.core.errors import GlyphflowError, MissingDependencyError, UsageError

__all__ = ["build_pipeline", "main", "run"]


def build_pipeline(
    pipeline_yaml: str, overrides: Sequence[str] = (), *, name: str | None = None
) -> Any:
    """The ZenML pipeline for a glyphflow pipeline file, parameters bound; call it to run.

    The file is validated here (every problem located, before ZenML starts anything).
    Its text is a parameter of the ZenML run, so ZenML records exactly what ran; the
    steps read it from there (a ``config_file`` it names must still be readable where
    they run). ``name``: the ZenML pipeline's name, default ``glyphflow-<file stem>``.
    """
    from glyphflow.core.config import read_text
    from glyphflow.io import storage
    from glyphflow.pipeline.spec import load_pipeline

    steps = _steps_module()
    url = pipeline_yaml
    if storage.is_local(url):
        url = str(Path(storage.strip_protocol(url)).resolve())
    text = read_text(url)
    resolved = load_pipeline(url, overrides, text=text)
    for current in resolved.steps:
        if len(current.upstream) > steps.MAX_INPUTS:
            raise UsageError(
                f"step {current.name!r} reads {len(current.upstream)} earlier steps "
                f"({', '.join(current.upstream.values())}); a ZenML step here reads at most "
                f"{steps.MAX_INPUTS}: give the others as URLs in its inputs"
            )
    from zenml import pipeline
    from zenml.enums import ExecutionMode

    stem = Path(url.rstrip("/").rsplit("/", 1)[-1]).stem
    zenml_pipeline = pipeline(name=name or f"glyphflow-{stem}", enable_cache=False)(
        steps.entrypoint
    )
    # Fail fast, as `glyphflow run` does: the stage's own error reaches the caller, and
    # the steps after it are not run.
    return zenml_pipeline.with_options(
        parameters={"pipeline_url": url, "text": text, "overrides": list(overrides)},
        execution_mode=ExecutionMode.FAIL_FAST,
    )


def run(pipeline_yaml: str, overrides: Sequence[str] = (), *, name: str | None = None) -> Any:
    """Run a glyphflow pipeline file on the active ZenML stack; returns ZenML's pipeline run."""
    return build_pipeline(pipeline_yaml, overrides, name=name)()


def _steps_module() -> Any:
    try:
        from glyphflow.integrations import zenml_steps
    except ImportError as err:
        if (err.name or "").split(".")[0] != "zenml":
            raise
        raise MissingDependencyError("running a pipeline inside ZenML", "zenml", "zenml") from None
    return zenml_steps


# ---------------------------------------------------------------------------- command


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m glyphflow.integrations.zenml PIPELINE.yaml [--set k=v ...] [--name N]``."""
    parser = argparse.ArgumentParser(
        prog="python -m glyphflow.integrations.zenml",
        description="Run a glyphflow pipeline file as a ZenML pipeline on the active stack; "
        "glyphflow decides which steps run (ZenML's cache is off for them).",
    )
    parser.add_argument("pipeline", help="the pipeline file (glyphflow's pipeline.yaml)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="STEP.path=VALUE",
        help="override a value, as `glyphflow run --set` does (repeatable)",
    )
    parser.add_argument("--name", help="ZenML pipeline name (default: glyphflow-<file stem>)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        pipeline_run = run(args.pipeline, args.overrides, name=args.name)
    except GlyphflowError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    print(summary(pipeline_run))
    return 0


def summary(pipeline_run: Any) -> str:
    """One line per step: glyphflow's decision as the ZenML run recorded it."""
    if pipeline_run is None:
        return "ZenML returned no run (a schedule?); see `zenml pipeline runs list`"
    lines = [f"ZenML run {pipeline_run.name}: {pipeline_run.status.value}"]
    for name, step_run in pipeline_run.steps.items():
        meta = step_run.run_metadata
        lines.append(
            f"  {name}: {meta.get('glyphflow_status', step_run.status.value)}: "
            f"{meta.get('glyphflow_why', '')}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
