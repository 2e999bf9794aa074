"""The project's own layers, usable in YAML architectures beside the torch.nn ones.

Each block takes plain sizes and names (``norm: group``, ``activation: relu``) so a config
can write ``{class: ResBlock, kwargs: {in_channels: auto, out_channels: 64, stride: 2}}``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["ConvBlock", "ResBlock", "UpBlock", "make_activation", "make_norm"]

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "elu": nn.ELU,
    "tanh": nn.Tanh,
}


def make_activation(name: str) -> nn.Module:
    """A fresh activation layer by name (relu, leaky_relu (slope 0.2), gelu, silu, elu, tanh)."""
    if name not in _ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(_ACTIVATIONS)} (got {name!r})")
    if name == "leaky_relu":
        return nn.LeakyReLU(0.2)
    return _ACTIVATIONS[name]()


def make_norm(kind: str, channels: int) -> nn.Module:
    """GroupNorm (up to 8 groups that divide ``channels``), BatchNorm2d, or nothing."""
    if kind == "group":
        return nn.GroupNorm(math.gcd(8, channels), channels)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be group, batch or none (got {kind!r})")


class ConvBlock(nn.Sequential):
    """Conv (same padding, optional stride) -> norm -> activation."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        norm: str = "group",
        activation: str = "relu",
    ) -> None:
        super().__init__(
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride=stride,
                padding=kernel_size // 2,
                bias=norm == "none",
            ),
            make_norm(norm, out_channels),
            make_activation(activation),
        )


class UpBlock(nn.Sequential):
    """Nearest-neighbour upsampling by ``scale`` then a :class:`ConvBlock` (no checkerboard)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        scale: int = 2,
        kernel_size: int = 3,
        norm: str = "group",
        activation: str = "relu",
    ) -> None:
        super().__init__(
            nn.Upsample(scale_factor=scale, mode="nearest"),
            ConvBlock(in_channels, out_channels, kernel_size, 1, norm, activation),
        )


class ResBlock(nn.Module):
    """Two 3x3 convs with a skip connection; a 1x1 conv on the skip when the shape changes."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int | None = None,
        stride: int = 1,
        norm: str = "group",
        activation: str = "relu",
    ) -> None:
        super().__init__()
        out = out_channels or in_channels
        self.body = nn.Sequential(
            ConvBlock(in_channels, out, 3, stride, norm, activation),
            nn.Conv2d(out, out, 3, padding=1, bias=norm == "none"),
            make_norm(norm, out),
        )
        self.skip: nn.Module = (
            nn.Identity()
            if stride == 1 and out == in_channels
            else nn.Conv2d(in_channels, out, 1, stride=stride)
        )
        self.act = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.act(self.body(x) + self.skip(x))
        return out
