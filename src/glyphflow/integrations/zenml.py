"""ZenML: a glyphflow pipeline file run as a ZenML pipeline, one ZenML step per glyphflow step.

For teams whose runs, lineage and dashboards live in ZenML. The ZenML pipeline is built
from the same ``pipeline.yaml`` (``load_pipeline``: steps, overrides, wiring) and every
ZenML step settles its glyphflow step with the runner's own ``run_step``: the same
decision (ran or skipped, and why) and the same stage call as ``glyphflow run``.

What travels between ZenML steps is each step's output URL (a ``str`` artifact); the data
stays in glyphflow's storage layout (``<workdir>/<step>`` with ``_manifest.json`` and
``_SUCCESS``), where the next stage reads it. The DAG's edges are glyphflow's input wiring.

ZenML's own cache is off for these steps on purpose: ZenML would key a step on its
parameters and input artifacts, which are only URLs, and would reuse a step whose output
was deleted or whose upstream data changed. glyphflow's fingerprints (config, inputs'
manifests, version) decide instead, and each step records the decision, the
fingerprint and the output's counts as ZenML metadata.

    python -m glyphflow.integrations.zenml PIPELINE.yaml [--set STEP.path=VALUE ...]
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from glyphflow.core.errors import GlyphflowError, MissingDependencyError, UsageError

try:
    from zenml import log_metadata, pipeline, step
    from zenml.metadata.metadata_types import Uri
except ImportError as _err:  # pragma: no cover - only without the extra
    raise MissingDependencyError(
        "running a pipeline inside ZenML", "zenml", "zenml"
    ) from _err

__all__ = ["MAX_INPUTS", "OUTPUT", "build_pipeline", "main", "run", "step_metadata"]

OUTPUT = "output"  # the name of every step's one artifact: its output URL
# ZenML steps need fixed signatures; one step function per number of upstream steps.
MAX_INPUTS = 4

_log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------- steps


def _settle(pipeline_url: str, text: str, overrides: list[str], name: str, *inputs: str) -> str:
    """Run or skip glyphflow step ``name`` as ``glyphflow run`` would; return its output URL."""
    from glyphflow.pipeline.runner import run_step
    from glyphflow.pipeline.spec import load_pipeline

    resolved = load_pipeline(pipeline_url, overrides, text=text)
    current = resolved.step(name)
    expected = [current.inputs[field] for field in current.upstream]
    if list(inputs) != expected:  # the DAG was built from another version of the file
        raise UsageError(
            f"step {name!r}: ZenML passed inputs {list(inputs)}, but the pipeline file wires "
            f"{expected}; rebuild the ZenML pipeline from {pipeline_url}"
        )
    result = run_step(resolved, name)
    metadata = step_metadata(result)
    log_metadata(metadata=metadata)
    log_metadata(metadata=metadata, artifact_name=OUTPUT, infer_artifact=True)
    return result.output


def step_metadata(result: Any) -> dict[str, Any]:
    """What ZenML records about a settled step (a ``StepResult``): the decision and its output."""
    manifest = result.manifest
    out: dict[str, Any] = {
        "glyphflow_status": result.status,
        "glyphflow_why": result.why,
        "glyphflow_stage": result.stage,
        "glyphflow_output": Uri(result.output),
        "glyphflow_fingerprint": result.fingerprint or "",
        "glyphflow_seconds": round(result.seconds, 3),
    }
    if manifest is not None:
        out["glyphflow_counts"] = dict(manifest.counts)
        out["glyphflow_inputs"] = dict(manifest.input_urls)
        if manifest.mlflow_run_id:
            out["glyphflow_mlflow_run_id"] = manifest.mlflow_run_id
    return out


@step(enable_cache=False)
def glyphflow_step_0(
    pipeline_url: str, text: str, overrides: list[str], name: str
) -> Annotated[str, OUTPUT]:
    """A glyphflow step reading no earlier step."""
    return _settle(pipeline_url, text, overrides, name)


@step(enable_cache=False)
def glyphflow_step_1(
    pipeline_url: str, text: str, overrides: list[str], name: str, input_1: str
) -> Annotated[str, OUTPUT]:
    """A glyphflow step reading one earlier step's output."""
    return _settle(pipeline_url, text, overrides, name, input_1)


@step(enable_cache=False)
def glyphflow_step_2(
    pipeline_url: str, text: str, overrides: list[str], name: str, input_1: str, input_2: str
) -> Annotated[str, OUTPUT]:
    """A glyphflow step reading two earlier steps' outputs."""
    return _settle(pipeline_url, text, overrides, name, input_1, input_2)


@step(enable_cache=False)
def glyphflow_step_3(
    pipeline_url: str,
    text: str,
    overrides: list[str],
    name: str,
    input_1: str,
    input_2: str,
    input_3: str,
) -> Annotated[str, OUTPUT]:
    """A glyphflow step reading three earlier steps' outputs."""
    return _settle(pipeline_url, text, overrides, name, input_1, input_2, input_3)


@step(enable_cache=False)
def glyphflow_step_4(
    pipeline_url: str,
    text: str,
    overrides: list[str],
    name: str,
    input_1: str,
    input_2: str,
    input_3: str,
    input_4: str,
) -> Annotated[str, OUTPUT]:
    """A glyphflow step reading four earlier steps' outputs."""
    return _settle(pipeline_url, text, overrides, name, input_1, input_2, input_3, input_4)


_STEPS = (glyphflow_step_0, glyphflow_step_1, glyphflow_step_2, glyphflow_step_3, glyphflow_step_4)


# ---------------------------------------------------------------------------- pipeline


def _entrypoint(pipeline_url: str, text: str, overrides: list[str]) -> None:
    """The steps of ``pipeline_url`` in order, each fed the output URLs of the steps it reads."""
    from glyphflow.pipeline.spec import load_pipeline

    resolved = load_pipeline(pipeline_url, overrides, text=text)
    outputs: dict[str, Any] = {}
    for current in resolved.steps:
        upstream = [outputs[name] for name in current.upstream.values()]
        function = _STEPS[len(upstream)]
        outputs[current.name] = function(
            pipeline_url, text, list(overrides), current.name, *upstream, id=current.name
        )


def build_pipeline(pipeline_yaml: str, overrides: Sequence[str] = (), *, name: str | None = None) -> Any:
    """The ZenML pipeline for a glyphflow pipeline file; call it to run it.

    The file is validated here (located errors, before ZenML starts anything); its text
    is a parameter of the ZenML run, so ZenML records exactly what ran. ``name`` is the
    ZenML pipeline's name (default ``glyphflow-<file stem>``).
    """
    from glyphflow.core.config import read_text
    from glyphflow.io import storage
    from glyphflow.pipeline.spec import load_pipeline

    url = str(Path(pipeline_yaml).resolve()) if storage.is_local(pipeline_yaml) else pipeline_yaml
    text = read_text(url)
    resolved = load_pipeline(url, overrides, text=text)
    for current in resolved.steps:
        if len(current.upstream) > MAX_INPUTS:
            raise UsageError(
                f"step {current.name!r} reads {len(current.upstream)} earlier steps "
                f"({', '.join(current.upstream.values())}); the ZenML adapter supports at most "
                f"{MAX_INPUTS}: give the others as URLs in its inputs"
            )
    stem = Path(url.rstrip("/").rsplit("/", 1)[-1]).stem
    zenml_pipeline = pipeline(name=name or f"glyphflow-{stem}", enable_cache=False)(_entrypoint)
    return zenml_pipeline.with_options(
        parameters={"pipeline_url": url, "text": text, "overrides": list(overrides)}
    )


def run(pipeline_yaml: str, overrides: Sequence[str] = (), *, name: str | None = None) -> Any:
    """Run a glyphflow pipeline file on the active ZenML stack; returns ZenML's pipeline run."""
    return build_pipeline(pipeline_yaml, overrides, name=name)()


# ---------------------------------------------------------------------------- command


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m glyphflow.integrations.zenml PIPELINE.yaml [--set k=v ...] [--name N]``."""
    parser = argparse.ArgumentParser(
        prog="python -m glyphflow.integrations.zenml",
        description="Run a glyphflow pipeline file as a ZenML pipeline on the active stack.",
    )
    parser.add_argument("pipeline", help="the pipeline file (glyphflow's pipeline.yaml)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="STEP.path=VALUE",
        help="override a value, as for `glyphflow run --set` (repeatable)",
    )
    parser.add_argument("--name", help="ZenML pipeline name (default: glyphflow-<file stem>)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        pipeline_run = run(args.pipeline, args.overrides, name=args.name)
    except GlyphflowError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(_summary(pipeline_run))
    return 0


def _summary(pipeline_run: Any) -> str:
    if pipeline_run is None:
        return "ZenML did not return the run (see `zenml pipeline runs list`)"
    lines = [f"ZenML run {pipeline_run.name}: {pipeline_run.status}"]
    for name, step_run in pipeline_run.steps.items():
        meta = step_run.run_metadata
        status = meta.get("glyphflow_status", "-")
        lines.append(f"  {name}: {status}: {meta.get('glyphflow_why', '')}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
