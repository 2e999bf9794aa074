"""Models built from config: a glyph classifier and two style models, saved as bundles.

Registries (importing no torch): :data:`layers` (the allow-list YAML architectures draw
from), :data:`models` (``classifier``, ``char_style_aae``, ``font_style``),
:data:`optimizers` and :data:`schedulers`.

The interface the other stages call (see :mod:`glyphflow.models.interface`):

- classifier: ``model(images[N,1,H,W] in [0,1]) -> logits[N,C]``,
  ``model.features(images) -> [N,F]``, ``model.predict(images) -> (labels, confidence)``;
- style models: ``encode(images[B,K,H,W], labels[B,K], mask[B,K]) -> z[B,D]``,
  ``decode(z[B,D], labels[B,T] | None) -> images[B,T,H,W] in [0,1]``,
  ``sample_prior(n, generator) -> z``, ``latent_dim``;
- every model: ``charset``, ``image_shape`` (H, W), ``render`` (the render settings of
  its training data, for rendering new inputs the same way), ``config``.

``build(config, charset, image_shape, render)`` makes a fresh model; ``save(model, url,
extra)`` / ``load(url)`` write and read a bundle on any fsspec URL (a training output
folder works as the URL too).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from glyphflow.models.interface import Classifier, StyleModel
from glyphflow.models.registries import layers, models, optimizers, schedulers

if TYPE_CHECKING:
    from glyphflow.models.base import GlyphModel

__all__ = [
    "Classifier",
    "StyleModel",
    "build",
    "layers",
    "load",
    "models",
    "optimizers",
    "save",
    "schedulers",
]


def build(
    config: Any,
    charset: str,
    image_shape: tuple[int, int] | list[int],
    render: Mapping[str, Any] | None = None,
) -> GlyphModel:
    """A fresh model from its config section (pydantic model or plain mapping)."""
    from glyphflow.models.bundle import build_model

    return build_model(config, charset, image_shape, render)


def save(model: GlyphModel, url: str, extra: Mapping[str, Any] | None = None) -> str:
    """Save ``model`` as a bundle at ``url`` (weights, config, charset, render settings)."""
    from glyphflow.models.bundle import save as save_bundle

    return save_bundle(model, url, extra)


def load(url: str, map_location: Any = "cpu") -> GlyphModel:
    """Load the bundle at ``url`` (or ``url/model.pt``), in eval mode."""
    from glyphflow.models.bundle import load as load_bundle

    return load_bundle(url, map_location)
