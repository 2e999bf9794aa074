"""Build a layer list from ``{class, kwargs}`` specs, filling ``auto`` sizes by shape.

A layer list is built one layer at a time on a probe tensor of the shape that reaches it,
so ``in_channels: auto`` (and friends) take the right value and any layer that does not
fit its input is reported with its position in the config, not as a torch traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from glyphflow.core.config import ComponentSpec
from glyphflow.core.errors import UsageError
from glyphflow.models.registries import layers

__all__ = ["AUTO", "build_stack", "output_shape"]

AUTO = "auto"

# kwarg name -> which dimension of the incoming shape (batch first) fills it.
_AUTO_KWARGS = {
    "in_channels": 1,
    "num_features": 1,
    "num_channels": 1,
    "in_features": -1,
    "normalized_shape": -1,
}


def output_shape(module: nn.Module, shape: Sequence[int]) -> tuple[int, ...]:
    """The shape ``module`` gives for a batch of two inputs of ``shape`` (batch first)."""
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            out = module(torch.zeros(2, *shape[1:]))
    finally:
        module.train(was_training)
    return tuple(out.shape)


def build_stack(
    specs: Sequence[ComponentSpec | dict[str, Any]], in_shape: Sequence[int], where: str
) -> tuple[nn.Sequential, tuple[int, ...]]:
    """An ``nn.Sequential`` of ``specs`` and its output shape for inputs of ``in_shape``.

    ``in_shape`` includes a batch dimension (any size); ``where`` is the config path of
    the list (``training.model.encoder``), used in error messages.
    """
    shape = (2, *tuple(in_shape)[1:])
    built: list[nn.Module] = []
    for index, raw in enumerate(specs):
        spec = raw if isinstance(raw, ComponentSpec) else ComponentSpec.model_validate(raw)
        label = f"{where}.{index} ({spec.class_})"
        kwargs = dict(spec.kwargs)
        for key, value in kwargs.items():
            if value == AUTO:
                if key not in _AUTO_KWARGS:
                    raise UsageError(
                        f"{label}: 'auto' is only allowed for {', '.join(_AUTO_KWARGS)} "
                        f"(got it for {key!r})"
                    )
                kwargs[key] = shape[_AUTO_KWARGS[key]]
        try:
            layer = layers.build(
                ComponentSpec.model_validate({"class": spec.class_, "kwargs": kwargs})
            )
        except UsageError as err:
            raise UsageError(f"{label}: {err}") from None
        except (TypeError, ValueError) as err:
            raise UsageError(f"{label}: cannot build with kwargs {spec.kwargs}: {err}") from None
        try:
            shape = output_shape(layer, shape)
        except (RuntimeError, ValueError, TypeError, IndexError) as err:
            raise UsageError(
                f"{label}: does not fit its input of shape {list(shape[1:])} (batch first "
                f"omitted): {err}"
            ) from None
        built.append(layer)
    return nn.Sequential(*built), shape
