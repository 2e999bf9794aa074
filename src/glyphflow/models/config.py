"""The model section of a training config: one pydantic model per registered model.

``model: {class: font_style, latent_dim: 32, ...}`` picks the member by ``class``. Every
part of an architecture is either built from a few sizes (``channels``, ``hidden_dim``)
or replaced by an explicit layer list of ``{class, kwargs}`` specs drawn from the
:data:`glyphflow.models.registries.layers` allow-list. In a layer's kwargs the value
``auto`` for ``in_channels``, ``in_features``, ``num_features``, ``num_channels`` or
``normalized_shape`` is filled in from the shape reaching that layer, so an override never
has to work out sizes by hand.

This module imports no torch: configs are checked (and JSON Schema is generated) without it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, model_validator

from glyphflow.core.config import ConfigModel
from glyphflow.models.registries import layers

__all__ = [
    "CharStyleAAEConfig",
    "ClassifierConfig",
    "FontStyleConfig",
    "LayerSpec",
    "ModelConfig",
    "StyleConfig",
    "parse_model_config",
]

#: One layer of an architecture: ``{class: Conv2d, kwargs: {...}}`` from the allow-list.
LayerSpec = layers.spec_type()

Norm = Literal["group", "batch", "none"]
Activation = Literal["relu", "leaky_relu", "gelu", "silu", "elu", "tanh"]


class _Sizes(ConfigModel):
    channels: list[Annotated[int, Field(ge=1)]] = Field(
        default_factory=lambda: [32, 64, 128],
        min_length=1,
        description="channels of the stride-2 conv stages (the decoder mirrors them)",
    )
    norm: Norm = Field("group", description="normalisation in the default conv blocks")
    activation: Activation = Field("relu", description="activation in the default blocks")


class ClassifierConfig(_Sizes):
    """A CNN over single glyphs predicting their character; its features feed the metrics."""

    class_: Literal["classifier"] = Field("classifier", alias="class")
    feature_dim: int = Field(128, ge=1, description="size of the feature vector")
    dropout: float = Field(0.1, ge=0, lt=1)
    label_smoothing: float = Field(0.0, ge=0, lt=1)
    body: list[LayerSpec] | None = Field(  # type: ignore[valid-type]
        None, description="replaces the conv stack: glyph [N,1,H,W] -> feature map"
    )
    neck: list[LayerSpec] | None = Field(  # type: ignore[valid-type]
        None, description="replaces flattened body output -> features (default Linear+act)"
    )


class StyleConfig(_Sizes):
    """What the style models share: glyph encoder, char-conditioned decoder, prior."""

    latent_dim: int = Field(32, ge=1, description="size of the style vector z")
    char_embedding_dim: int = Field(32, ge=1)
    hidden_dim: int = Field(256, ge=1, description="width of the MLPs around z")
    encoder: list[LayerSpec] | None = Field(  # type: ignore[valid-type]
        None, description="replaces the glyph conv stack: glyph [N,1,H,W] -> features"
    )
    decoder: list[LayerSpec] | None = Field(  # type: ignore[valid-type]
        None,
        description="replaces the upsampling stack: seed [N,*decoder_seed] -> [N,1,H,W] logits",
    )
    decoder_seed: list[Annotated[int, Field(ge=1)]] | None = Field(
        None,
        min_length=3,
        max_length=3,
        description="[channels, height, width] the decoder starts from "
        "(default: last of channels at the image size / 2**len(channels))",
    )
    discriminator: list[LayerSpec] | None = Field(  # type: ignore[valid-type]
        None, description="replaces the prior discriminator body: z [N,D] -> [N,F]"
    )
    prior: Literal["adversarial", "kl"] = Field(
        "adversarial", description="how z is pushed toward N(0, I)"
    )
    recon_loss: Literal["bce", "l1", "mse"] = Field("bce")
    recon_weight: float = Field(1.0, gt=0)
    prior_weight: float = Field(
        0.05, ge=0, description="weight of the adversarial loss, or of the KL term"
    )


class CharStyleAAEConfig(StyleConfig):
    """Supervised adversarial autoencoder: (glyph, char) -> z -> (z, char) -> glyph."""

    class_: Literal["char_style_aae"] = Field("char_style_aae", alias="class")


class FontStyleConfig(StyleConfig):
    """Any subset of a font's glyphs -> one style z -> every character of the charset."""

    class_: Literal["font_style"] = Field("font_style", alias="class")
    pooling: Literal["mean", "attention"] = Field(
        "attention", description="masked, permutation-invariant pooling over glyphs"
    )
    observed_min: int = Field(1, ge=1, description="fewest observed glyphs per font in training")
    observed_max: int = Field(8, ge=1, description="most observed glyphs per font in training")
    targets_per_font: int | None = Field(
        None, ge=1, description="glyphs decoded per font per step (None: every present one)"
    )

    @model_validator(mode="after")
    def _observed_range(self) -> FontStyleConfig:
        if self.observed_min > self.observed_max:
            raise ValueError(
                f"observed_min must be <= observed_max (got {self.observed_min} > "
                f"{self.observed_max})"
            )
        return self


ModelConfig = Annotated[
    ClassifierConfig | CharStyleAAEConfig | FontStyleConfig, Field(discriminator="class_")
]

_ADAPTER: TypeAdapter[Any] = TypeAdapter(ModelConfig)


def parse_model_config(data: Any) -> ClassifierConfig | CharStyleAAEConfig | FontStyleConfig:
    """A model section from plain data (a bundle, a dict), validated."""
    if isinstance(data, (ClassifierConfig, CharStyleAAEConfig, FontStyleConfig)):
        return data
    parsed: ClassifierConfig | CharStyleAAEConfig | FontStyleConfig = _ADAPTER.validate_python(data)
    return parsed
