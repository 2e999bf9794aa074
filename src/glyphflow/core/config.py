"""Configuration: YAML files into pydantic models, with every problem reported at once.

A stage's config file has a schema ``version`` and one section named after the stage::

    version: 1
    training:
      epochs: 3

``load_config`` reads such a file from any fsspec URL, applies ``--set a.b=VALUE``
overrides (values parsed as YAML scalars, paths checked against the schema), validates,
and on failure raises :class:`ConfigError` whose problems read
``FILE:LINE:COL: dotted.path: what was expected (got VALUE)``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from glyphflow.core.errors import ConfigError, ConfigProblem
from glyphflow.core.yamlsource import Located, Path, Position, load_yaml_text

__all__ = [
    "SCHEMA_VERSION",
    "ComponentSpec",
    "ConfigModel",
    "apply_overrides",
    "config_hash",
    "document_model",
    "dump_config",
    "load_config",
    "load_document",
    "parse_override",
    "read_text",
    "valid_paths",
    "validate_located",
]

SCHEMA_VERSION = 1

M = TypeVar("M", bound=BaseModel)


class ConfigModel(BaseModel):
    """Base of every config section: unknown keys are errors, defaults are validated."""

    model_config = ConfigDict(extra="forbid", validate_default=True, populate_by_name=True)


class ComponentSpec(ConfigModel):
    """A pluggable part written ``{class: Name, kwargs: {...}}``, resolved by a registry."""

    class_: str = Field(alias="class", min_length=1, description="registered name of the part")
    kwargs: dict[str, Any] = Field(default_factory=dict, description="keyword arguments")


def read_text(url: str) -> str:
    """Read a config file from a local path or any fsspec URL."""
    import fsspec

    try:
        with fsspec.open(url, "rt", encoding="utf-8") as handle:
            text: str = handle.read()
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(url, 0, 0, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError([ConfigProblem(url, 0, 0, "", f"cannot read: {err}")]) from None
    return text


def document_model(section: str, config_cls: type[BaseModel]) -> type[BaseModel]:
    """The model of a whole stage file: ``version`` plus the stage's own section."""
    fields: dict[str, Any] = {
        "version": (Literal[1], Field(default=SCHEMA_VERSION, description="schema version")),
        section: (config_cls, Field(default_factory=config_cls)),
    }
    model: type[BaseModel] = create_model(
        f"{config_cls.__name__}File", __base__=ConfigModel, **fields
    )
    return model


def load_document(
    model: type[M], url: str, overrides: Sequence[str] = (), text: str | None = None
) -> M:
    """Load ``url`` (or ``text``, named ``url``), apply overrides, validate as ``model``."""
    located = load_yaml_text(read_text(url) if text is None else text, url)
    if located.data is None or located.data == {}:
        located.data = {}
    if not isinstance(located.data, dict):
        pos = located.position(())
        raise ConfigError(
            [ConfigProblem(url, pos.line, pos.column, "", "expected a mapping at the top level")]
        )
    apply_overrides(located, model, overrides)
    return validate_located(model, located)


def load_config(
    section: str,
    config_cls: type[M],
    url: str,
    overrides: Sequence[str] = (),
    text: str | None = None,
) -> M:
    """Load a stage file and return its section as ``config_cls``."""
    doc = load_document(document_model(section, config_cls), url, overrides, text)
    section_value: M = getattr(doc, section)
    return section_value


# ---------------------------------------------------------------------------- overrides


def parse_override(arg: str) -> tuple[Path, Any]:
    """Split ``a.b.0.c=VALUE`` into a path and a YAML-parsed value."""
    if "=" not in arg:
        raise ConfigError(
            [
                ConfigProblem(
                    f"--set {arg}", 0, 0, arg, "expected PATH=VALUE, e.g. training.epochs=3"
                )
            ]
        )
    dotted, raw = arg.split("=", 1)
    dotted = dotted.strip()
    if not dotted or any(not part for part in dotted.split(".")):
        raise ConfigError([ConfigProblem(f"--set {arg}", 0, 0, dotted, "empty path segment")])
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as err:
        raise ConfigError(
            [ConfigProblem(f"--set {arg}", 0, 0, dotted, f"value is not valid YAML: {err}")]
        ) from None
    path: list[str | int] = [int(p) if p.isdigit() else p for p in dotted.split(".")]
    return tuple(path), value


def apply_overrides(located: Located, model: type[BaseModel], overrides: Iterable[str]) -> None:
    """Apply ``--set`` overrides in order; every unknown path is reported with a suggestion."""
    problems: list[ConfigProblem] = []
    for arg in overrides:
        try:
            path, value = parse_override(arg)
        except ConfigError as err:
            problems.extend(err.problems)
            continue
        source = f"--set {arg}"
        problem = _check_path(model, path)
        if problem is not None:
            problems.append(ConfigProblem(source, 0, 0, _dotted(path), problem))
            continue
        _set_path(located.data, path)
        parent = _descend(located.data, path[:-1])
        parent[path[-1]] = value
        # Every value at or below the overridden path now comes from the command line.
        for known in [p for p in located.positions if p[: len(path)] == path]:
            del located.positions[known]
        located.positions[path] = Position(source, 0, 0)
    if problems:
        raise ConfigError(problems)


def _set_path(data: Any, path: Path) -> None:
    node = data
    for i, key in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(node, list):
            if not isinstance(key, int) or key >= len(node):
                raise ConfigError(
                    [ConfigProblem("--set", 0, 0, _dotted(path), f"no item {key} in the list")]
                )
            node = node[key]
            continue
        if key not in node or not isinstance(node[key], (dict, list)):
            node[key] = [] if isinstance(nxt, int) else {}
        node = node[key]


def _descend(data: Any, path: Path) -> Any:
    node = data
    for key in path:
        node = node[key]
    return node


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types an annotation may hold (through Optional, Union, Annotated)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            out.extend(_unwrap(arg))
        return out
    return [annotation]


def _field_names(model: type[BaseModel]) -> dict[str, str]:
    """Names accepted in YAML (aliases included) mapped to the field name."""
    names: dict[str, str] = {}
    for name, info in model.model_fields.items():
        names[name] = name
        if info.alias:
            names[info.alias] = name
    return names


def _check_path(model: type[BaseModel], path: Path) -> str | None:
    """None when ``path`` names a settable value in ``model``, else why not."""
    candidates: list[Any] = [model]
    for depth, key in enumerate(path):
        next_candidates: list[Any] = []
        sibling_names: list[str] = []
        for candidate in candidates:
            for typ in _unwrap(candidate):
                origin = typing.get_origin(typ)
                if isinstance(typ, type) and issubclass(typ, BaseModel):
                    names = _field_names(typ)
                    sibling_names.extend(n for n in names if not n.endswith("_"))
                    if isinstance(key, str) and key in names:
                        next_candidates.append(typ.model_fields[names[key]].annotation)
                elif typ is Any or origin in (dict, Mapping) or typ is dict:
                    args = typing.get_args(typ)
                    next_candidates.append(args[1] if len(args) == 2 else Any)
                elif origin in (list, tuple, Sequence) and isinstance(key, int):
                    args = typing.get_args(typ)
                    next_candidates.append(args[0] if args else Any)
        if not next_candidates:
            prefix = _dotted(path[:depth])
            label = f"{prefix}.{key}" if prefix else str(key)
            close = difflib.get_close_matches(str(key), sorted(set(sibling_names)), n=1, cutoff=0.5)
            if close:
                suggestion = f"{prefix}.{close[0]}" if prefix else close[0]
                return f"unknown setting {label!r}; did you mean {suggestion!r}?"
            valid = ", ".join(sorted(set(sibling_names))) or "(no settings below this point)"
            return f"unknown setting {label!r}; valid here: {valid}"
        candidates = next_candidates
    return None


def valid_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every dotted path of a leaf or free-form mapping in ``model`` (for docs and hints)."""
    out: list[str] = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        dotted = f"{prefix}.{key}" if prefix else key
        nested = [
            t for t in _unwrap(info.annotation) if isinstance(t, type) and issubclass(t, BaseModel)
        ]
        if nested:
            for sub in nested:
                out.extend(valid_paths(sub, dotted))
        else:
            out.append(dotted)
    return out


# ---------------------------------------------------------------------------- validation


def validate_located(model: type[M], located: Located) -> M:
    """Validate ``located.data`` as ``model``; translate every error to a located problem."""
    try:
        return model.model_validate(located.data)
    except ValidationError as err:
        problems = [_problem(model, located, e) for e in err.errors(include_url=False)]
        problems.sort(key=lambda p: (p.source != located.source, p.source, p.line, p.column))
        raise ConfigError(problems) from None


def _data_path(data: Any, loc: Sequence[str | int]) -> Path:
    """Keep the parts of a pydantic ``loc`` that name real keys (drop union member tags)."""
    path: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and not _is_tag(part):
            if index < len(loc) - 1:
                # Not a key but more follows: the tag of a discriminated union member.
                continue
            # A missing field: name it, there is nothing further to walk.
            path.append(part)
            break
    return tuple(path)


def _is_tag(part: str) -> bool:
    return "[" in part or part in {"str", "int", "float", "bool", "list", "dict", "none"}


def _problem(model: type[BaseModel], located: Located, error: Any) -> ConfigProblem:
    path = _data_path(located.data, error["loc"])
    pos = located.position(path)
    kind = error["type"]
    ctx = error.get("ctx") or {}
    message = str(error["msg"])
    if kind == "extra_forbidden":
        key = path[-1] if path else ""
        siblings = _siblings(model, path[:-1], _node_at(located.data, path[:-1]))
        close = difflib.get_close_matches(str(key), siblings, n=1, cutoff=0.5)
        message = "unknown setting"
        if close:
            message += f"; did you mean {close[0]!r}?"
        elif siblings:
            message += f"; valid here: {', '.join(siblings)}"
        return ConfigProblem(pos.source, pos.line, pos.column, _dotted(path), message)
    if kind == "union_tag_invalid":
        # A discriminated union (e.g. ``model: {class: ...}``): point at the tag itself.
        names = re.findall(r"'([^']+)'", str(ctx.get("discriminator", "")))
        node = _node_at(located.data, path)
        key = next((n for n in reversed(names) if isinstance(node, dict) and n in node), "")
        if key:
            path = (*path, key)
            pos = located.position(path)
        message = f"unknown {key or 'kind'} {ctx.get('tag')!r}; expected one of: " + str(
            ctx.get("expected_tags", "")
        ).replace("'", "")
        return ConfigProblem(pos.source, pos.line, pos.column, _dotted(path), message)
    if kind == "missing":
        return ConfigProblem(pos.source, pos.line, pos.column, _dotted(path), "required, missing")
    comparisons = {
        "greater_than": ("gt", ">"),
        "greater_than_equal": ("ge", ">="),
        "less_than": ("lt", "<"),
        "less_than_equal": ("le", "<="),
    }
    if kind in comparisons:
        key, sign = comparisons[kind]
        message = f"must be {sign} {ctx.get(key)}"
    else:
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        message = message.replace("Input should be", "must be")
        message = message[:1].lower() + message[1:]
    if "input" in error and not isinstance(error["input"], (dict, list)):
        message += f" (got {error['input']!r})"
    return ConfigProblem(pos.source, pos.line, pos.column, _dotted(path), message)


def _node_at(data: Any, path: Path) -> Any:
    try:
        return _descend(data, path)
    except (KeyError, IndexError, TypeError):
        return None


def _accepts(typ: type[BaseModel], node: Any) -> bool:
    """False when ``node`` holds a value that a Literal field of ``typ`` rules out (a tag)."""
    if not isinstance(node, dict):
        return True
    names = _field_names(typ)
    for key, value in node.items():
        if key not in names:
            continue
        annotation = typ.model_fields[names[key]].annotation
        if typing.get_origin(annotation) is Literal and value not in typing.get_args(annotation):
            return False
    return True


def _siblings(model: type[BaseModel], path: Path, node: Any = None) -> list[str]:
    candidates: list[Any] = [model]
    for key in path:
        nxt: list[Any] = []
        for candidate in candidates:
            for typ in _unwrap(candidate):
                if isinstance(typ, type) and issubclass(typ, BaseModel):
                    names = _field_names(typ)
                    if isinstance(key, str) and key in names:
                        nxt.append(typ.model_fields[names[key]].annotation)
                elif typing.get_origin(typ) in (list, tuple) and isinstance(key, int):
                    args = typing.get_args(typ)
                    nxt.append(args[0] if args else Any)
        candidates = nxt
    out: set[str] = set()
    for candidate in candidates:
        for typ in _unwrap(candidate):
            if isinstance(typ, type) and issubclass(typ, BaseModel) and _accepts(typ, node):
                out.update(n for n in _field_names(typ) if not n.endswith("_"))
    return sorted(out)


# ---------------------------------------------------------------------------- identity


def dump_config(config: BaseModel) -> dict[str, Any]:
    """The resolved config as plain JSON-able data, keys as written in YAML."""
    dumped: dict[str, Any] = config.model_dump(mode="json", by_alias=True)
    return dumped


def config_hash(config: BaseModel | Mapping[str, Any]) -> str:
    """A stable sha256 of a resolved config (key order and formatting do not matter)."""
    data = dump_config(config) if isinstance(config, BaseModel) else dict(config)
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _dotted(path: Path) -> str:
    return ".".join(str(p) for p in path)
