"""The style models: glyphs of a font -> style vector z -> glyphs of any character.

Both share one interface (what evaluation and serving call):

- ``encode(images[B,K,H,W], labels[B,K], mask[B,K]) -> z[B,D]``: the style of each of B
  fonts from its K observed glyphs (``mask`` marks the real ones; padding is ignored).
- ``decode(z[B,D], labels[B,T] | None) -> images[B,T,H,W]`` in [0, 1]; ``None`` decodes
  the whole charset (T = C).
- ``sample_prior(n, generator) -> z[n,D]`` from N(0, I); ``latent_dim``; ``charset``.
- ``forward(images, labels, mask, target_labels)``: the training pass, returning decoder
  logits for the targets, z and the KL term (zero under the adversarial prior).
- ``build_discriminator()``: the prior's critic on z (adversarial prior), else None.

``FontStyleModel`` pools per-glyph embeddings (each conditioned on its character) with a
masked mean or attention, so any subset of a font gives one z. ``CharStyleAAE`` encodes
each glyph with its character on its own and averages the per-glyph z over the mask.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from glyphflow.core.errors import UsageError
from glyphflow.models.base import GlyphModel
from glyphflow.models.blocks import make_activation
from glyphflow.models.classifier import default_conv_specs
from glyphflow.models.config import CharStyleAAEConfig, FontStyleConfig, StyleConfig
from glyphflow.models.stack import build_stack

__all__ = ["CharStyleAAE", "FontStyleModel", "StyleModel"]


def _default_decoder_specs(config: StyleConfig) -> list[dict[str, Any]]:
    """Upsampling stages mirroring the encoder, then a conv to one channel of logits."""
    mirrored = [*reversed(config.channels[:-1]), config.channels[0]]
    specs: list[dict[str, Any]] = [
        {
            "class": "UpBlock",
            "kwargs": {
                "in_channels": "auto",
                "out_channels": c,
                "norm": config.norm,
                "activation": config.activation,
            },
        }
        for c in mirrored
    ]
    specs.append(
        {
            "class": "Conv2d",
            "kwargs": {"in_channels": "auto", "out_channels": 1, "kernel_size": 3, "padding": 1},
        }
    )
    return specs


class StyleModel(GlyphModel):
    """Shared parts: glyph encoder, char embedding, char-conditioned decoder, prior."""

    config: StyleConfig

    def __init__(
        self,
        config: StyleConfig,
        charset: str,
        image_shape: tuple[int, int],
        render: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(config, charset, image_shape, render)
        height, width = self.image_shape
        self.latent_dim = config.latent_dim
        hidden = config.hidden_dim
        self.char_embedding = nn.Embedding(len(charset), config.char_embedding_dim)

        enc_specs = config.encoder or default_conv_specs(
            config.channels, config.norm, config.activation
        )
        self.glyph_encoder, shape = build_stack(enc_specs, (1, 1, height, width), "model.encoder")
        self.glyph_features = nn.Sequential(
            nn.Flatten(),
            nn.Linear(math.prod(shape[1:]), hidden),
            make_activation(config.activation),
        )

        seed = config.decoder_seed or self._default_seed()
        self.decoder_seed = tuple(seed)
        self.decoder_input = nn.Sequential(
            nn.Linear(config.latent_dim + config.char_embedding_dim, math.prod(seed)),
            make_activation(config.activation),
        )
        dec_specs = config.decoder or _default_decoder_specs(config)
        self.decoder, out = build_stack(dec_specs, (1, *seed), "model.decoder")
        if tuple(out[1:]) != (1, height, width):
            raise UsageError(
                f"model.decoder: must turn the seed {list(seed)} into one channel of "
                f"{height}x{width} logits, but gives {list(out[1:])}; change the layers or "
                "model.decoder_seed"
            )

    def _default_seed(self) -> list[int]:
        height, width = self.image_shape
        factor = 2 ** len(self.config.channels)
        if height % factor or width % factor:
            raise UsageError(
                f"model.channels: the default decoder upsamples by {factor}, which does not "
                f"divide the image size {height}x{width}; use fewer channels or set "
                "model.decoder_seed and model.decoder"
            )
        return [self.config.channels[-1], height // factor, width // factor]

    # ----------------------------------------------------------------- encoding

    def _glyph_embeddings(
        self, images: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """[B, K, hidden] features of the observed glyphs (zeros where mask is False)."""
        batch, count = labels.shape
        height, width = self.image_shape
        if images.dtype == torch.uint8:
            images = images.float() / 255.0
        flat_mask = mask.reshape(-1).bool()
        chosen = flat_mask.nonzero(as_tuple=True)[0]
        pixels = images.reshape(batch * count, 1, height, width).index_select(0, chosen)
        features: torch.Tensor = self.glyph_features(self.glyph_encoder(pixels))
        out = features.new_zeros(batch * count, features.shape[1])
        out = out.index_copy(0, chosen, features)
        return out.reshape(batch, count, -1)

    def encode_stats(
        self, images: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Mean of z and, under the KL prior, its log-variance."""
        raise NotImplementedError

    def encode(
        self, images: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """[B, D] style of each font from its observed glyphs (deterministic: the mean)."""
        if mask is None:
            mask = torch.ones(labels.shape, dtype=torch.bool, device=labels.device)
        if not bool(mask.any(dim=1).all()):
            raise ValueError(
                "every font needs at least one observed glyph (a row of mask is empty)"
            )
        mean, _ = self.encode_stats(images, labels.long(), mask.bool())
        return mean

    def _latent(self, stats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.config.prior == "kl":
            mean, logvar = stats.chunk(2, dim=-1)
            return mean, logvar.clamp(-12.0, 8.0)
        return stats, None

    # ----------------------------------------------------------------- decoding

    def decode_logits(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """[B, T, H, W] decoder logits for characters ``labels[B, T]``."""
        batch, count = labels.shape
        height, width = self.image_shape
        codes = z.unsqueeze(1).expand(batch, count, z.shape[-1]).reshape(batch * count, -1)
        chars = self.char_embedding(labels.reshape(-1).long())
        seed = self.decoder_input(torch.cat([codes, chars], dim=1))
        logits: torch.Tensor = self.decoder(seed.view(batch * count, *self.decoder_seed))
        return logits.view(batch, count, height, width)

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """[B, T, H, W] images in [0, 1]; ``labels=None`` decodes the whole charset."""
        if labels is None:
            labels = torch.arange(len(self.charset), device=z.device).expand(z.shape[0], -1)
        return torch.sigmoid(self.decode_logits(z, labels.to(z.device)))

    def sample_prior(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` style vectors from N(0, I) (drawn on the CPU, so seeds agree across devices)."""
        z = torch.randn(n, self.latent_dim, generator=generator)
        return z.to(self.device)

    # ----------------------------------------------------------------- training

    def forward(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        mask: torch.Tensor,
        target_labels: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        """Encode observed glyphs, decode ``target_labels``; logits, z and KL (mean per font)."""
        mean, logvar = self.encode_stats(images, labels.long(), mask.bool())
        if logvar is not None:
            std = torch.exp(0.5 * logvar)
            z = mean + std * torch.randn_like(std) if self.training else mean
            kl = 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1).mean()
        else:
            z = mean
            kl = mean.new_zeros(())
        return {"logits": self.decode_logits(z, target_labels), "z": z, "kl": kl}

    def build_discriminator(self) -> nn.Module | None:
        """The critic telling z from N(0, I) samples (adversarial prior); None for KL."""
        if self.config.prior != "adversarial":
            return None
        hidden = self.config.hidden_dim
        specs = self.config.discriminator or [
            {"class": "Linear", "kwargs": {"in_features": "auto", "out_features": hidden}},
            {"class": "LeakyReLU", "kwargs": {"negative_slope": 0.2}},
            {"class": "Linear", "kwargs": {"in_features": "auto", "out_features": hidden}},
            {"class": "LeakyReLU", "kwargs": {"negative_slope": 0.2}},
        ]
        body, shape = build_stack(specs, (1, self.latent_dim), "model.discriminator")
        return nn.Sequential(body, nn.Flatten(), nn.Linear(math.prod(shape[1:]), 1))


class FontStyleModel(StyleModel):
    """Set encoder over a font's glyphs (masked mean or attention pooling) -> z -> charset."""

    name = "font_style"
    batch_kind = "fonts"
    config: FontStyleConfig

    def __init__(
        self,
        config: FontStyleConfig,
        charset: str,
        image_shape: tuple[int, int],
        render: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(config, charset, image_shape, render)
        hidden = config.hidden_dim
        act = config.activation
        self.element = nn.Sequential(
            nn.Linear(hidden + config.char_embedding_dim, hidden),
            make_activation(act),
            nn.Linear(hidden, hidden),
            make_activation(act),
        )
        self.attention = nn.Linear(hidden, 1) if config.pooling == "attention" else None
        out = config.latent_dim * (2 if config.prior == "kl" else 1)
        self.head = nn.Sequential(
            nn.Linear(hidden, hidden), make_activation(act), nn.Linear(hidden, out)
        )

    def encode_stats(
        self, images: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        glyphs = self._glyph_embeddings(images, labels, mask)
        elements = self.element(torch.cat([glyphs, self.char_embedding(labels)], dim=-1))
        weights = mask.to(elements.dtype)
        if self.attention is not None:
            scores = self.attention(elements).squeeze(-1).float()
            scores = scores.masked_fill(~mask, float("-inf"))
            weights = torch.softmax(scores, dim=1).to(elements.dtype)
        else:
            weights = weights / weights.sum(dim=1, keepdim=True).clamp_min(1.0)
        pooled = (elements * weights.unsqueeze(-1)).sum(dim=1)
        return self._latent(self.head(pooled))


class CharStyleAAE(StyleModel):
    """Each glyph with its character -> z on its own; a font's z is the masked mean."""

    name = "char_style_aae"
    batch_kind = "glyphs"
    config: CharStyleAAEConfig

    def __init__(
        self,
        config: CharStyleAAEConfig,
        charset: str,
        image_shape: tuple[int, int],
        render: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(config, charset, image_shape, render)
        hidden = config.hidden_dim
        out = config.latent_dim * (2 if config.prior == "kl" else 1)
        self.head = nn.Sequential(
            nn.Linear(hidden + config.char_embedding_dim, hidden),
            make_activation(config.activation),
            nn.Linear(hidden, out),
        )

    def encode_stats(
        self, images: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        glyphs = self._glyph_embeddings(images, labels, mask)
        stats = self.head(torch.cat([glyphs, self.char_embedding(labels)], dim=-1))
        weights = mask.to(stats.dtype).unsqueeze(-1)
        pooled = (stats * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1.0)
        return self._latent(pooled)
