"""The registries of model parts: layers, models, optimizers and learning-rate schedules.

Everything registers lazily by import path, so a config naming ``Conv2d`` or ``font_style``
is checked against these names without importing torch. The layer registry is an
allow-list: a YAML architecture can only use the torch.nn layers named here and the
project's own blocks; any other name is a config error with its file and line.
Plugins add their parts through the ``glyphflow.plugins`` entry points as usual.
"""

from __future__ import annotations

from typing import Any

from glyphflow.core.registry import Registry

__all__ = ["TORCH_LAYERS", "layers", "models", "optimizers", "schedulers"]

#: torch.nn layers a YAML architecture may use, by their torch names.
TORCH_LAYERS = (
    "Conv2d",
    "ConvTranspose2d",
    "Linear",
    "BatchNorm1d",
    "BatchNorm2d",
    "GroupNorm",
    "LayerNorm",
    "ReLU",
    "LeakyReLU",
    "GELU",
    "SiLU",
    "ELU",
    "Tanh",
    "Sigmoid",
    "Dropout",
    "Dropout2d",
    "Flatten",
    "Unflatten",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "Upsample",
    "Identity",
)

layers: Registry[Any] = Registry("layer")
for _name in TORCH_LAYERS:
    layers.register_lazy(_name, f"torch.nn:{_name}")
layers.register_lazy("ResBlock", "glyphflow.models.blocks:ResBlock")
layers.register_lazy("ConvBlock", "glyphflow.models.blocks:ConvBlock")
layers.register_lazy("UpBlock", "glyphflow.models.blocks:UpBlock")

models: Registry[Any] = Registry("model")
models.register_lazy("classifier", "glyphflow.models.classifier:GlyphClassifier")
models.register_lazy("char_style_aae", "glyphflow.models.style:CharStyleAAE")
models.register_lazy("font_style", "glyphflow.models.style:FontStyleModel")

optimizers: Registry[Any] = Registry("optimizer")
for _name in ("Adam", "AdamW", "SGD", "RMSprop", "Adagrad"):
    optimizers.register_lazy(_name, f"torch.optim:{_name}")

schedulers: Registry[Any] = Registry("scheduler")
for _name in ("constant", "cosine", "step", "exponential", "linear"):
    schedulers.register_lazy(_name, f"glyphflow.models.schedules:{_name}")
