"""The ZenML steps and pipeline entrypoint behind :mod:`glyphflow.integrations.zenml`.

Kept apart from the public module because ZenML needs them at module level (it loads a
step by its import path in whatever process runs it) and so imports zenml at the top;
:mod:`glyphflow.integrations.zenml` imports this only when it builds a pipeline, so its
command can say which extra to install instead of failing at import.

Every step is the same call, ``_settle``: load the pipeline file, settle the one
glyphflow step with the runner's ``run_step`` (ran or skipped, and why), record that
as ZenML metadata, and return the step's output URL. A ZenML step's signature is fixed,
so there is one step function per number of upstream steps (``input_1``...); the
metadata ``glyphflow_inputs`` names each input field and the URL it read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from zenml import log_metadata, step
from zenml.metadata.metadata_types import Uri

from glyphflow.core.errors import UsageError
from glyphflow.pipeline.runner import StepResult, run_step
from glyphflow.pipeline.spec import load_pipeline

__all__ = ["MAX_INPUTS", "OUTPUT", "STEPS", "artifact_metadata", "entrypoint", "step_metadata"]

OUTPUT = "output"  # every step's one artifact: its output URL
MAX_INPUTS = 4

# glyphflow's fingerprints decide what runs, never ZenML's cache (see the zenml module)
_uncached_step: Callable[[Callable[..., Any]], Any] = step(enable_cache=False)


def step_metadata(result: StepResult) -> dict[str, Any]:
    """What this run did with the step: glyphflow's decision and why, and the output's facts."""
    return {
        "glyphflow_status": result.status,
        "glyphflow_why": result.why,
        "glyphflow_seconds": round(result.seconds, 3),
        **artifact_metadata(result),
    }


def artifact_metadata(result: StepResult) -> dict[str, Any]:
    """What the output is: stage, location, fingerprint, counts, inputs, MLflow run."""
    out: dict[str, Any] = {
        "glyphflow_stage": result.stage,
        "glyphflow_output": Uri(result.output),
        "glyphflow_fingerprint": result.fingerprint or "",
    }
    manifest = result.manifest
    if manifest is not None:
        out["glyphflow_counts"] = dict(manifest.counts)
        out["glyphflow_inputs"] = dict(manifest.input_urls)
        if manifest.mlflow_run_id:
            out["glyphflow_mlflow_run_id"] = manifest.mlflow_run_id
    return out


def _settle(pipeline_url: str, text: str, overrides: list[str], name: str, *inputs: str) -> str:
    """Run or skip glyphflow step ``name`` as ``glyphflow run`` would; return its output URL."""
    pipeline = load_pipeline(pipeline_url, overrides, text=text)
    current = pipeline.step(name)
    expected = [current.inputs[field] for field in current.upstream]
    if list(inputs) != expected:  # cannot happen unless the DAG came from another file
        raise UsageError(
            f"step {name!r}: ZenML passed the inputs {list(inputs)}, but {pipeline_url} "
            f"wires {expected}; build the ZenML pipeline again from the file"
        )
    result = run_step(pipeline, name)
    log_metadata(metadata=step_metadata(result))
    log_metadata(metadata=artifact_metadata(result), artifact_name=OUTPUT, infer_artifact=True)
    return result.output


@_uncached_step
def glyphflow_step_0(
    pipeline_url: str, text: str, overrides: list[str], name: str
) -> Annotated[str, OUTPUT]:
    """A glyphflow step reading no earlier step."""
    return _settle(pipeline_url, text, overrides, name)


@_uncached_step
def glyphflow_step_1(
    pipeline_url: str, text: str, overrides: list[str], name: str, input_1: str
) -> Annotated[str, OUTPUT]:
    """A glyphflow step reading one earlier step's output."""
    return _settle(pipeline_url, text, overrides, name, input_1)


@_uncached_step
def glyphflow_step_2(
    pipeline_url: str, text: str, overrides: list[str], name: str, input_1: str, input_2: str
) -> Annotated[str, OUTPUT]:
    """A glyphflow step reading two earlier steps' outputs."""
    return _settle(pipeline_url, text, overrides, name, input_1, input_2)


@_uncached_step
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


@_uncached_step
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


# by number of upstream steps
STEPS = (glyphflow_step_0, glyphflow_step_1, glyphflow_step_2, glyphflow_step_3, glyphflow_step_4)


def entrypoint(pipeline_url: str, text: str, overrides: list[str]) -> None:
    """The ZenML pipeline's body: the file's steps in order, each fed the URLs it reads."""
    pipeline = load_pipeline(pipeline_url, overrides, text=text)
    outputs: dict[str, Any] = {}
    for current in pipeline.steps:
        upstream = [outputs[name] for name in current.upstream.values()]
        outputs[current.name] = STEPS[len(upstream)](
            pipeline_url, text, list(overrides), current.name, *upstream, id=current.name
        )
