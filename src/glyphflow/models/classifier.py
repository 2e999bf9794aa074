"""The glyph classifier: a CNN over one glyph that predicts its character.

It scores glyphs (is this really an "a"?) so malformed and symbol glyphs can be dropped
before the style model trains, and its feature vector is what the evaluation compares
(legibility of generated glyphs, Frechet distance).

Interface: ``forward(images[N,1,H,W] in [0,1]) -> logits[N,C]``,
``features(images) -> [N,F]``, ``predict(images) -> (labels[N], confidence[N])``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from glyphflow.models.base import GlyphModel, as_images
from glyphflow.models.blocks import make_activation
from glyphflow.models.config import ClassifierConfig
from glyphflow.models.stack import build_stack

__all__ = ["GlyphClassifier", "default_conv_specs"]


def default_conv_specs(channels: list[int], norm: str, act: str) -> list[dict[str, Any]]:
    """Stride-2 :class:`ConvBlock` stages, one per entry of ``channels``."""
    return [
        {
            "class": "ConvBlock",
            "kwargs": {
                "in_channels": "auto",
                "out_channels": c,
                "stride": 2,
                "norm": norm,
                "activation": act,
            },
        }
        for c in channels
    ]


class GlyphClassifier(GlyphModel):
    """body (conv) -> flatten -> neck (features) -> linear head (one logit per character)."""

    name = "classifier"
    batch_kind = "glyphs"

    def __init__(
        self,
        config: ClassifierConfig,
        charset: str,
        image_shape: tuple[int, int],
        render: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(config, charset, image_shape, render)
        height, width = self.image_shape
        body_specs = config.body or default_conv_specs(
            config.channels, config.norm, config.activation
        )
        self.body, shape = build_stack(body_specs, (1, 1, height, width), "model.body")
        flat = math.prod(shape[1:])
        if config.neck is not None:
            self.neck, out = build_stack([{"class": "Flatten"}, *config.neck], shape, "model.neck")
            self.feature_dim = math.prod(out[1:])
        else:
            self.neck = nn.Sequential(
                nn.Flatten(),
                nn.Linear(flat, config.feature_dim),
                make_activation(config.activation),
                nn.Dropout(config.dropout),
            )
            self.feature_dim = config.feature_dim
        self.head = nn.Linear(self.feature_dim, len(charset))

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """[N, F] feature vectors of glyph images [N, 1, H, W] in [0, 1]."""
        x = as_images(images, self.image_shape)
        out: torch.Tensor = self.neck(self.body(x)).flatten(1)
        return out

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """[N, C] logits over the charset."""
        out: torch.Tensor = self.head(self.features(images))
        return out

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Predicted label and its softmax probability for each glyph."""
        probabilities = torch.softmax(self(images), dim=1)
        confidence, labels = probabilities.max(dim=1)
        return labels, confidence
