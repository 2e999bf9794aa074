"""Errors a user can cause, each with the exit code the CLI should end with.

Every error here carries a message meant for a person: what was wrong, where, and what
to do. The CLI prints the message alone (no traceback unless ``--verbose``) and exits with
``exit_code``: 2 for bad usage or configuration, 1 for a run that failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "ConfigError",
    "ConfigProblem",
    "GlyphflowError",
    "MissingDependencyError",
    "StageFailedError",
    "UnknownNameError",
    "UsageError",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class GlyphflowError(Exception):
    """Base of every error glyphflow raises on purpose; ``str(err)`` is the user's message."""

    exit_code: int = EXIT_FAILED


class UsageError(GlyphflowError):
    """The command line or a request asked for something that cannot be done as asked."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in a configuration, located as precisely as the source allows.

    ``source`` is a file name, or the ``--set`` argument that introduced the value;
    ``line`` and ``column`` are 1-based and 0 when unknown.
    """

    source: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = self.source
        if self.line:
            where = f"{where}:{self.line}:{self.column}"
        return f"{where}: {self.path or '<root>'}: {self.message}"


class ConfigError(UsageError):
    """A configuration has one or more problems; all of them are reported at once."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"configuration has {count} problem{'s' if count != 1 else ''}:"
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]))


class UnknownNameError(UsageError):
    """A registry was asked for a name it does not hold."""

    def __init__(self, kind: str, name: str, valid: Sequence[str], hint: str = "") -> None:
        self.kind = kind
        self.name = name
        self.valid = sorted(valid)
        message = f"unknown {kind} {name!r}; expected one of: {', '.join(self.valid) or '(none)'}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)


class MissingDependencyError(UsageError):
    """An optional dependency is needed for what was asked; the message names the extra."""

    def __init__(self, what: str, extra: str, module: str) -> None:
        self.extra = extra
        super().__init__(
            f"{what} needs the optional dependency {module!r}, which is not installed; "
            f"install it with: pip install 'glyphflow[{extra}]'"
        )


class StageFailedError(GlyphflowError):
    """A stage ran but its own thresholds say the result is unusable."""

    exit_code = EXIT_FAILED
