"""The pipeline file: named steps, each a stage with its config, resolved and wired.

A pipeline file is ``version: 1`` plus a ``pipeline`` section::

    version: 1
    pipeline:
      workdir: runs/quickstart          # each step writes <workdir>/<step name>
      mlflow: {enabled: true}           # a parent run that links the steps' runs
      steps:
        - name: ingest
          stage: ingestion              # a stage section (or its command, e.g. ingest)
          config: {sources: [...]}      # the stage's section, inline ...
        - name: preprocess
          stage: preprocessing
          config_file: preprocess.yaml  # ... or a stage file, relative to this file
        - name: train_style
          stage: training
          inputs: {input: preprocess}   # an input field -> an earlier step (or a URL)

Wiring: a step's output field defaults to ``<workdir>/<name>``; its first input field
(the catalogue's ``inputs[0]``) defaults to the previous step's output. A value the
step's config sets itself is kept.

Overrides (``--set``, and ``--grid`` in sweeps) address a step by name or every step of
a stage by its section, then the path inside the stage's config:
``train_style.epochs=3`` (one step), ``training.epochs=3`` (every training step; a step
name wins over a section of the same name), ``pipeline.workdir=/tmp/w`` (the pipeline's
own settings).

Every problem is reported at once and located: ``pipeline.yaml:14:9: train_style.epochs:
must be >= 1 (got 0)``.
"""

from __future__ import annotations

import difflib
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field, field_validator

from glyphflow.core.config import (
    ConfigModel,
    apply_overrides,
    document_model,
    dump_config,
    parse_override,
    read_text,
    validate_located,
)
from glyphflow.core.errors import ConfigError, ConfigProblem, GlyphflowError
from glyphflow.core.yamlsource import Located, Path, Position, load_yaml_text
from glyphflow.io import storage
from glyphflow.pipeline import catalogue
from glyphflow.pipeline.catalogue import StageEntry

__all__ = [
    "MlflowSettings",
    "Pipeline",
    "PipelineConfig",
    "ResolvedStep",
    "StepSpec",
    "load_pipeline",
    "pipeline_file_model",
]

# "pipeline" addresses the pipeline's own settings in --set; the MLflow names are the
# default store's files in the workdir.
RESERVED_NAMES = frozenset({"pipeline", "version", "mlartifacts", "mlruns"})
SECTION = "pipeline"


class MlflowSettings(ConfigModel):
    """The pipeline's own MLflow run, parent of the runs its steps log."""

    enabled: bool = Field(
        False, description="open a parent run for each pipeline run (needs glyphflow[train])"
    )
    tracking_uri: str | None = Field(
        None,
        description="tracking URI; default: `$MLFLOW_TRACKING_URI`, else "
        "`sqlite:///<workdir>/mlflow.db` with artifacts in `<workdir>/mlartifacts`",
    )
    experiment: str = Field("glyphflow", min_length=1, description="experiment name")
    run_name: str | None = Field(
        None, description="parent run name; default: `pipeline:<file name>`"
    )


class StepSpec(ConfigModel):
    """One step: a name, the stage it runs, its config, and where its inputs come from."""

    name: str = Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_-]*$",
        description="unique step name; also its output folder under workdir",
    )
    stage: str = Field(description="stage section or command (see `glyphflow config stages`)")
    config: dict[str, Any] | None = Field(None, description="the stage's config section, inline")
    config_file: str | None = Field(
        None, description="a stage config file (relative to the pipeline file), instead"
    )
    inputs: dict[str, str] = Field(
        default_factory=dict,
        description="input field: an earlier step's name or a URL (default: the first "
        "input field reads the previous step)",
    )

    @field_validator("stage")
    @classmethod
    def _known_stage(cls, value: str) -> str:
        try:
            return catalogue.stage_by_command(value).section
        except GlyphflowError:
            names = catalogue.STAGES.names()
            close = difflib.get_close_matches(value, names, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(
                f"unknown stage {value!r}; {hint}stages: {', '.join(names) or 'none registered'}"
            ) from None


class PipelineConfig(ConfigModel):
    """The ``pipeline`` section of a pipeline file."""

    workdir: str = Field(min_length=1, description="folder (URL) holding every step's output")
    mlflow: MlflowSettings = Field(default_factory=MlflowSettings)
    steps: list[StepSpec] = Field(min_length=1, description="the steps, run in this order")


def pipeline_file_model() -> type[BaseModel]:
    """The model of a whole pipeline file: ``version`` plus ``pipeline``."""
    return document_model(SECTION, PipelineConfig)


@dataclass(frozen=True)
class ResolvedStep:
    """A step ready to run: its validated config with inputs and output wired in."""

    index: int
    name: str
    entry: StageEntry
    config: BaseModel
    output: str
    inputs: dict[str, str]  # input field -> URL
    upstream: dict[str, str]  # input field -> the earlier step it reads

    @property
    def stage(self) -> str:
        return self.entry.section

    def resolved(self) -> dict[str, Any]:
        return dump_config(self.config)


@dataclass(frozen=True)
class Pipeline:
    """A validated pipeline: where it came from, its settings and its wired steps."""

    source: str
    workdir: str
    mlflow: MlflowSettings
    steps: list[ResolvedStep]
    overrides: tuple[str, ...] = ()
    name_suffix: dict[str, str] = field(default_factory=dict)

    def step(self, name: str) -> ResolvedStep:
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.steps]

    def document(self) -> dict[str, Any]:
        """The resolved pipeline as a pipeline file: every step's full config, wired."""
        return {
            "version": 1,
            SECTION: {
                "workdir": self.workdir,
                "mlflow": dump_config(self.mlflow),
                "steps": [
                    {"name": s.name, "stage": s.stage, "config": s.resolved()} for s in self.steps
                ],
            },
        }

    def downstream(self, names: set[str]) -> set[str]:
        """``names`` and every step that reads one of them, transitively."""
        out = set(names)
        for step in self.steps:
            if any(up in out for up in step.upstream.values()):
                out.add(step.name)
        return out


# ---------------------------------------------------------------------------- loading


def load_pipeline(
    url: str,
    overrides: Sequence[str] = (),
    *,
    text: str | None = None,
    output_suffix: Mapping[str, str] | None = None,
) -> Pipeline:
    """Read, override, validate and wire a pipeline file; every problem raised at once.

    ``output_suffix`` maps step names to a suffix appended to their output URL (sweeps
    give each grid point its own folders for the steps it changes).
    """
    located = load_yaml_text(read_text(url) if text is None else text, url)
    if not isinstance(located.data, dict):
        pos = located.position(())
        raise ConfigError(
            [ConfigProblem(url, pos.line, pos.column, "", "expected a mapping at the top level")]
        )
    own, per_step, problems = _split_overrides(overrides)
    try:
        apply_overrides(located, pipeline_file_model(), own)
    except ConfigError as err:
        problems.extend(err.problems)
    try:
        doc = validate_located(pipeline_file_model(), located)
    except ConfigError as err:
        raise ConfigError([*err.problems, *problems]) from None
    config: PipelineConfig = getattr(doc, SECTION)
    workdir = config.workdir.rstrip("/") or config.workdir
    names_problems = _check_names(config, located)
    if names_problems:
        raise ConfigError(names_problems)
    targets, route_problems = _route_overrides(config, per_step)
    problems.extend(route_problems)
    steps: list[ResolvedStep] = []
    outputs: dict[str, str] = {}
    for index, spec in enumerate(config.steps):
        step, step_problems = _resolve_step(
            url,
            located,
            index,
            spec,
            workdir,
            outputs,
            [config.steps[index - 1].name] if index else [],
            targets.get(spec.name, []),
            (output_suffix or {}).get(spec.name, ""),
        )
        problems.extend(step_problems)
        if step is not None:
            steps.append(step)
            outputs[spec.name] = step.output
        else:  # keep wiring the later steps to report their own problems too
            outputs[spec.name] = storage.join(workdir, spec.name)
    if problems:
        raise ConfigError(problems)
    return Pipeline(
        source=url,
        workdir=workdir,
        mlflow=config.mlflow,
        steps=steps,
        overrides=tuple(overrides),
        name_suffix=dict(output_suffix or {}),
    )


@dataclass(frozen=True)
class _Override:
    arg: str  # as the user wrote it
    target: str  # step name, stage section or "pipeline"
    rest: str  # dotted path inside the target's config
    raw: str  # the value text


def _split_overrides(
    overrides: Sequence[str],
) -> tuple[list[str], list[_Override], list[ConfigProblem]]:
    own: list[str] = []
    per_step: list[_Override] = []
    problems: list[ConfigProblem] = []
    for arg in overrides:
        try:
            path, _ = parse_override(arg)
        except ConfigError as err:
            problems.extend(err.problems)
            continue
        dotted, raw = arg.split("=", 1)
        if path[0] == SECTION:
            if len(path) > 1 and path[1] == "steps":
                problems.append(
                    ConfigProblem(
                        f"--set {arg}",
                        0,
                        0,
                        dotted.strip(),
                        "address a step by its name: STEP.path=VALUE "
                        "(or STAGE.path=VALUE for every step of a stage)",
                    )
                )
                continue
            own.append(arg)
            continue
        if len(path) < 2:
            problems.append(
                ConfigProblem(
                    f"--set {arg}",
                    0,
                    0,
                    dotted.strip(),
                    "expected STEP.path=VALUE, STAGE.path=VALUE or pipeline.path=VALUE",
                )
            )
            continue
        rest = dotted.strip().split(".", 1)[1]
        per_step.append(_Override(arg, str(path[0]), rest, raw))
    return own, per_step, problems


def _check_names(config: PipelineConfig, located: Located) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    seen: dict[str, int] = {}
    for index, spec in enumerate(config.steps):
        pos = located.position((SECTION, "steps", index, "name"))
        where = f"{SECTION}.steps.{index}.name"
        if spec.name in RESERVED_NAMES:
            problems.append(
                ConfigProblem(
                    pos.source, pos.line, pos.column, where, "reserved name; pick another"
                )
            )
        elif spec.name in seen:
            problems.append(
                ConfigProblem(
                    pos.source,
                    pos.line,
                    pos.column,
                    where,
                    f"duplicate step name {spec.name!r} (also step {seen[spec.name]}); "
                    "step names must be unique",
                )
            )
        seen.setdefault(spec.name, index)
        if spec.config is not None and spec.config_file is not None:
            pos = located.position((SECTION, "steps", index, "config_file"))
            problems.append(
                ConfigProblem(
                    pos.source,
                    pos.line,
                    pos.column,
                    f"{SECTION}.steps.{index}",
                    "give either config (inline) or config_file, not both",
                )
            )
    return problems


def _route_overrides(
    config: PipelineConfig, overrides: list[_Override]
) -> tuple[dict[str, list[_Override]], list[ConfigProblem]]:
    """Which steps each override applies to: a step by name, or every step of a stage."""
    names = [s.name for s in config.steps]
    sections = sorted({s.stage for s in config.steps})
    targets: dict[str, list[_Override]] = {}
    problems: list[ConfigProblem] = []
    for item in overrides:
        if item.target in names:
            targets.setdefault(item.target, []).append(item)
            continue
        stage = _stage_of(item.target)
        matching = [s.name for s in config.steps if stage is not None and s.stage == stage]
        if matching:
            for name in matching:
                targets.setdefault(name, []).append(item)
            continue
        if stage is not None:
            message = f"no step of stage {stage!r} in this pipeline; steps: {', '.join(names)}"
        else:
            valid = [*names, *sections, SECTION]
            close = difflib.get_close_matches(item.target, valid, n=1, cutoff=0.5)
            message = f"no step or stage named {item.target!r}"
            message += (
                f"; did you mean {close[0]!r}?"
                if close
                else f"; steps: {', '.join(names)}; stages: {', '.join(sections)}"
            )
        problems.append(ConfigProblem(f"--set {item.arg}", 0, 0, item.target, message))
    return targets, problems


def _stage_of(name: str) -> str | None:
    try:
        return catalogue.stage_by_command(name).section
    except GlyphflowError:
        return None


def _looks_like_url(value: str) -> bool:
    return any(ch in value for ch in "/:.\\~")


def _resolve_step(
    url: str,
    located: Located,
    index: int,
    spec: StepSpec,
    workdir: str,
    outputs: Mapping[str, str],
    previous: list[str],
    overrides: list[_Override],
    suffix: str,
) -> tuple[ResolvedStep | None, list[ConfigProblem]]:
    entry = catalogue.stage_by_section(spec.stage)
    here: Path = (SECTION, "steps", index)
    step_pos = located.position(here)
    problems: list[ConfigProblem] = []

    # The step's config section, with positions: inline, or from its own file.
    if spec.config_file is not None:
        section, file_problems = _load_step_file(url, located, here, spec.config_file, entry)
        if file_problems:
            return None, file_problems
    else:
        section = _sub_located(located, (*here, "config"), step_pos)

    model = catalogue.config_model(entry)
    for item in overrides:
        rewritten = f"{item.rest}={item.raw}"
        try:
            apply_overrides(section, model, [rewritten])
        except ConfigError as err:
            problems.extend(
                ConfigProblem(
                    f"--set {item.arg}", 0, 0, f"{item.target}.{p.path}", p.message.strip()
                )
                for p in err.problems
            )
            continue
        for path, pos in list(section.positions.items()):
            if pos.source == f"--set {rewritten}":
                section.positions[path] = Position(f"--set {item.arg}", 0, 0)
    data: dict[str, Any] = section.data

    # Output: the config's own value, else <workdir>/<name>; a sweep point adds a suffix.
    output_field = entry.output
    output = data.get(output_field)
    if not isinstance(output, str) or not output:
        output = storage.join(workdir, spec.name)
        section.positions[(output_field,)] = step_pos
    output = output.rstrip("/") + suffix
    data[output_field] = output

    # Inputs: named in `inputs`, else the first input field <- the previous step.
    inputs: dict[str, str] = {}
    upstream: dict[str, str] = {}
    for field_name, source in spec.inputs.items():
        pos = located.position((*here, "inputs", field_name))
        where = f"{spec.name}.inputs.{field_name}"
        if field_name not in entry.inputs:
            valid = ", ".join(entry.inputs) or "none"
            problems.append(
                ConfigProblem(
                    pos.source,
                    pos.line,
                    pos.column,
                    where,
                    f"stage {entry.section!r} has no input field {field_name!r}; "
                    f"its input fields: {valid}",
                )
            )
            continue
        if field_name in data:
            problems.append(
                ConfigProblem(
                    pos.source,
                    pos.line,
                    pos.column,
                    where,
                    f"also set in the step's config ({field_name}); set it in one place",
                )
            )
            continue
        if source in outputs:
            inputs[field_name] = outputs[source]
            upstream[field_name] = source
        elif source == spec.name or not _looks_like_url(source):
            earlier = ", ".join(outputs) or "none"
            problems.append(
                ConfigProblem(
                    pos.source,
                    pos.line,
                    pos.column,
                    where,
                    f"no earlier step named {source!r} (earlier steps: {earlier}); "
                    "a step reads only steps before it, or a URL",
                )
            )
            continue
        else:
            inputs[field_name] = source
        data[field_name] = inputs[field_name]
        section.positions[(field_name,)] = pos
    if entry.inputs and previous:
        first = entry.inputs[0]
        if first not in data:
            inputs[first] = outputs[previous[-1]]
            upstream[first] = previous[-1]
            data[first] = inputs[first]
            section.positions[(first,)] = step_pos
    for field_name in entry.inputs:
        value = data.get(field_name)
        if field_name not in inputs and isinstance(value, str):
            inputs[field_name] = value  # set in the config itself: an external URL

    try:
        config = validate_located(model, section)
    except ConfigError as err:
        problems.extend(
            ConfigProblem(
                p.source,
                p.line,
                p.column,
                f"{spec.name}.{p.path}" if p.path else spec.name,
                p.message,
            )
            for p in err.problems
        )
    if problems:
        return None, problems
    return (
        ResolvedStep(
            index=index,
            name=spec.name,
            entry=entry,
            config=config,
            output=output,
            inputs=inputs,
            upstream=upstream,
        ),
        [],
    )


def _sub_located(located: Located, prefix: Path, fallback: Position) -> Located:
    """The part of ``located`` under ``prefix``, as its own document (an empty one if unset)."""
    node: Any = located.data
    for key in prefix:
        if isinstance(node, dict):
            node = node.get(key)
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
        else:
            node = None
    data = node if isinstance(node, dict) else {}
    positions = {
        path[len(prefix) :]: pos
        for path, pos in located.positions.items()
        if path[: len(prefix)] == prefix
    }
    positions.setdefault((), fallback)
    return Located(data=data, source=located.source, positions=positions)


def _load_step_file(
    url: str, located: Located, here: Path, config_file: str, entry: StageEntry
) -> tuple[Located, list[ConfigProblem]]:
    """A step's stage file: ``version`` plus the stage's section, nothing else."""
    target = _relative_to(url, config_file)
    pos = located.position((*here, "config_file"))
    try:
        doc = load_yaml_text(read_text(target), target)
    except ConfigError as err:
        if err.problems and err.problems[0].message == "file not found":
            return _placeholder(target), [
                ConfigProblem(
                    pos.source,
                    pos.line,
                    pos.column,
                    f"{SECTION}.steps.{here[-1]}.config_file",
                    f"file not found: {target}",
                )
            ]
        return _placeholder(target), list(err.problems)
    problems: list[ConfigProblem] = []
    if doc.data is None or doc.data == {}:
        doc.data = {}
    if not isinstance(doc.data, dict):
        where = doc.position(())
        return doc, [
            ConfigProblem(target, where.line, where.column, "", "expected a mapping at the top")
        ]
    for key in doc.data:
        if key not in ("version", entry.section):
            where = doc.position((key,))
            problems.append(
                ConfigProblem(
                    target,
                    where.line,
                    where.column,
                    str(key),
                    f"a step's config file holds only version and {entry.section!r}",
                )
            )
    version = doc.data.get("version", 1)
    if version != 1:
        where = doc.position(("version",))
        problems.append(
            ConfigProblem(
                target, where.line, where.column, "version", f"must be 1 (got {version!r})"
            )
        )
    return _sub_located(doc, (entry.section,), doc.position(())), problems


def _placeholder(source: str) -> Located:
    return Located(data={}, source=source)


def _relative_to(pipeline_url: str, path: str) -> str:
    """``path`` as written if absolute or a URL, else beside the pipeline file."""
    if "://" in path or posixpath.isabs(path):
        return path
    base = posixpath.dirname(pipeline_url)
    return posixpath.join(base, path) if base else path
