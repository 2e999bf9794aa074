"""Registries: names to parts, lazy imports, unknown names, plugins by entry point."""

from __future__ import annotations

from typing import Any

import pytest

from glyphflow.core import registry as registry_module
from glyphflow.core.errors import UnknownNameError, UsageError
from glyphflow.core.registry import Registry


def _fresh(kind: str) -> Registry[Any]:
    registry_module._REGISTRIES.pop(kind, None)
    return Registry(kind)


def test_register_get_and_build() -> None:
    reg = _fresh("t_parts")

    @reg.register("Scale")
    def scale(value: float, factor: float = 2.0) -> float:
        return value * factor

    assert reg.get("Scale") is scale
    assert reg.build({"class": "Scale", "kwargs": {"factor": 3}}, 2.0) == 6.0


def test_unknown_name_lists_valid_names_and_suggests() -> None:
    reg = _fresh("t_names")
    reg.register("Adam", object)
    reg.register("SGD", object)
    with pytest.raises(UnknownNameError) as caught:
        reg.get("Adamw")
    assert caught.value.valid == ["Adam", "SGD"]
    assert "did you mean 'Adam'" in str(caught.value)


def test_bad_kwargs_name_what_is_accepted() -> None:
    reg = _fresh("t_kwargs")
    reg.register("Box", lambda width, height=1: (width, height))
    with pytest.raises(UsageError, match="it accepts: width, height"):
        reg.build({"class": "Box", "kwargs": {"depth": 3}})


def test_lazy_registration_imports_only_on_use() -> None:
    reg = _fresh("t_lazy")
    reg.register_lazy("Fraction", "fractions:Fraction")
    assert "Fraction" in reg.names()
    assert reg.build({"class": "Fraction", "kwargs": {"numerator": 1, "denominator": 2}}) == 0.5


def test_duplicate_registration_is_refused() -> None:
    reg = _fresh("t_dup")
    reg.register("A", 1)
    with pytest.raises(ValueError, match="registered already"):
        reg.register("A", 2)


class _EntryPoint:
    name = "demo"

    def __init__(self, hook: Any) -> None:
        self._hook = hook

    def load(self) -> Any:
        return self._hook


def test_plugins_register_through_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    reg = _fresh("t_plugin")

    def hook(registries: Any) -> None:
        registries["t_plugin"].register("FromPlugin", "yes")

    def broken(registries: Any) -> None:
        raise RuntimeError("boom")

    import importlib.metadata

    monkeypatch.setattr(
        importlib.metadata,
        "entry_points",
        lambda group: (
            [_EntryPoint(hook), _EntryPoint(broken)] if group == "glyphflow.plugins" else []
        ),
    )
    registry_module.load_plugins(force=True)
    assert reg.get("FromPlugin") == "yes"
