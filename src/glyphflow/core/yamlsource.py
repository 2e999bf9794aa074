"""YAML loading that remembers where every value came from.

Configuration errors must name the file, line and column of each problem. PyYAML's
composer gives every node a start mark; this module builds plain Python data from the
node tree and, beside it, a map from each value's path (a tuple of keys and indices) to
its position, so a validation error's location can be translated back to the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from glyphflow.core.errors import ConfigError, ConfigProblem

__all__ = ["Located", "Path", "Position", "load_yaml_text"]

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    """A 1-based line and column inside ``source``."""

    source: str
    line: int
    column: int


@dataclass
class Located:
    """Plain data loaded from YAML plus the position of every value in it."""

    data: Any
    source: str
    positions: dict[Path, Position] = field(default_factory=dict)

    def position(self, path: Path) -> Position:
        """The position of ``path``, or of its closest located ancestor."""
        for end in range(len(path), -1, -1):
            found = self.positions.get(tuple(path[:end]))
            if found is not None:
                return found
        return Position(self.source, 0, 0)


def load_yaml_text(text: str, source: str) -> Located:
    """Parse ``text`` (named ``source`` in messages) into data with positions.

    Duplicate keys are an error: YAML would silently keep the last one, which hides
    mistakes in hand-written configs.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        raise ConfigError(
            [ConfigProblem(source, line, column, "", f"invalid YAML: {err.problem}")]
        ) from None
    located = Located(data={}, source=source)
    if node is None:
        return located
    problems: list[ConfigProblem] = []
    located.data = _build(node, (), located, problems)
    if problems:
        raise ConfigError(problems)
    return located


def _mark(node: yaml.Node, source: str) -> Position:
    return Position(source, node.start_mark.line + 1, node.start_mark.column + 1)


def _build(node: yaml.Node, path: Path, out: Located, problems: list[ConfigProblem]) -> Any:
    out.positions[path] = _mark(node, out.source)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if isinstance(key, (dict, list)) or key is None:
                pos = _mark(key_node, out.source)
                problems.append(
                    ConfigProblem(
                        out.source, pos.line, pos.column, _dotted(path), "keys must be plain names"
                    )
                )
                continue
            key = str(key) if not isinstance(key, (str, int)) else key
            if key in result:
                pos = _mark(key_node, out.source)
                problems.append(
                    ConfigProblem(
                        out.source, pos.line, pos.column, _dotted((*path, key)), "duplicate key"
                    )
                )
                continue
            child = (*path, key)
            result[key] = _build(value_node, child, out, problems)
            # Point at the key, not its value: that is where a reader looks for a field.
            out.positions[child] = _mark(key_node, out.source)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), out, problems) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _dotted(path: Path) -> str:
    return ".".join(str(p) for p in path)
