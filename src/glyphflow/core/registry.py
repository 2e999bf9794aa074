"""Named registries for the pluggable parts of glyphflow.

A config names a part as ``{class: Name, kwargs: {...}}``; a :class:`Registry` turns the
name into the object. Built-in parts register lazily by import path, so a registry knows
its names (and a config can be checked) without importing torch or beam. Third-party
plugins arrive through the ``glyphflow.plugins`` entry-point group: each entry point is a
function called once with the mapping of all registries, in which it registers its parts.

A config can only pick among registered names: it never makes the program import or
evaluate a string of its own choosing.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator

from glyphflow.core.config import ComponentSpec
from glyphflow.core.errors import UnknownNameError, UsageError

__all__ = ["PLUGIN_GROUP", "Registry", "all_registries", "load_plugins"]

PLUGIN_GROUP = "glyphflow.plugins"

T = TypeVar("T")

_log = logging.getLogger(__name__)
_REGISTRIES: dict[str, Registry[Any]] = {}
_plugins_loaded = False


class Registry(Generic[T]):
    """Names mapped to parts of one kind (sources, layers, models, optimizers, ...)."""

    def __init__(self, kind: str) -> None:
        if kind in _REGISTRIES:
            raise ValueError(f"a registry of kind {kind!r} exists already")
        self.kind = kind
        self._items: dict[str, T] = {}
        self._lazy: dict[str, str] = {}
        _REGISTRIES[kind] = self

    def register(self, name: str, item: T | None = None) -> Any:
        """Register ``item`` under ``name``; without ``item``, return a decorator."""
        if item is None:

            def decorator(obj: T) -> T:
                self._add(name, obj)
                return obj

            return decorator
        self._add(name, item)
        return item

    def register_lazy(self, name: str, target: str) -> None:
        """Register ``module:attribute``, imported only when the name is first used."""
        if ":" not in target:
            raise ValueError(f"lazy target must be 'module:attribute', got {target!r}")
        if name in self._items or name in self._lazy:
            raise ValueError(f"{self.kind} {name!r} is registered already")
        self._lazy[name] = target

    def _add(self, name: str, item: T) -> None:
        if name in self._items or name in self._lazy:
            raise ValueError(f"{self.kind} {name!r} is registered already")
        self._items[name] = item

    def names(self) -> list[str]:
        """Every registered name, plugins included."""
        load_plugins()
        return sorted({*self._items, *self._lazy})

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def get(self, name: str) -> T:
        """The part registered as ``name``; an unknown name lists the valid ones."""
        if name not in self._items and name not in self._lazy:
            load_plugins()
        if name in self._items:
            return self._items[name]
        if name in self._lazy:
            module_name, attr = self._lazy[name].split(":", 1)
            item: T = getattr(importlib.import_module(module_name), attr)
            self._items[name] = item
            del self._lazy[name]
            return item
        raise UnknownNameError(self.kind, name, self.names(), _closest(name, self.names()))

    def build(self, spec: ComponentSpec | Mapping[str, Any], *args: Any, **extra: Any) -> Any:
        """Call the part named by ``spec`` with its kwargs (and ``extra``)."""
        if not isinstance(spec, ComponentSpec):
            spec = ComponentSpec.model_validate(spec)
        factory = self.get(spec.class_)
        kwargs = {**spec.kwargs, **extra}
        if not callable(factory):
            raise UsageError(f"{self.kind} {spec.class_!r} cannot be built")
        try:
            inspect.signature(factory).bind(*args, **kwargs)
        except TypeError as err:
            params = _parameters(factory)
            raise UsageError(
                f"{self.kind} {spec.class_!r}: bad kwargs {sorted(spec.kwargs)} ({err}); "
                f"it accepts: {', '.join(params) or 'nothing'}"
            ) from None
        except ValueError:  # no signature (builtins): let the call decide
            pass
        return factory(*args, **kwargs)

    def spec_type(self) -> Any:
        """A pydantic type for a :class:`ComponentSpec` whose name must be registered here."""

        def check(spec: ComponentSpec) -> ComponentSpec:
            if spec.class_ not in self:
                hint = _closest(spec.class_, self.names())
                extra = f" ({hint})" if hint else ""
                raise ValueError(
                    f"unknown {self.kind} {spec.class_!r}{extra}; "
                    f"expected one of: {', '.join(self.names())}"
                )
            return spec

        return Annotated[ComponentSpec, AfterValidator(check)]


def _closest(name: str, names: list[str]) -> str:
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else ""


def _parameters(factory: Callable[..., Any]) -> list[str]:
    try:
        return [
            p.name
            for p in inspect.signature(factory).parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return []


def all_registries() -> Mapping[str, Registry[Any]]:
    """Every registry created so far, by kind."""
    return dict(_REGISTRIES)


def load_plugins(force: bool = False) -> None:
    """Call each ``glyphflow.plugins`` entry point once with all registries.

    A broken plugin is logged and skipped: one bad package must not stop every run.
    """
    global _plugins_loaded
    if _plugins_loaded and not force:
        return
    _plugins_loaded = True
    from importlib.metadata import entry_points

    for entry in entry_points(group=PLUGIN_GROUP):
        try:
            hook = entry.load()
            hook(all_registries())
        except Exception as err:  # a plugin's failure is reported, not fatal
            _log.warning("plugin %r could not be loaded: %s", entry.name, err)
