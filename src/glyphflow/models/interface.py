"""The interface other stages program against, without importing torch.

Scoring, evaluation and serving hold models through these protocols; the classes in
:mod:`glyphflow.models.classifier` and :mod:`glyphflow.models.style` implement them.
Images are float tensors in [0, 1]; labels index ``charset``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import torch

__all__ = ["Classifier", "StyleModel"]


@runtime_checkable
class Classifier(Protocol):
    """A glyph classifier (``model.class: classifier``)."""

    charset: str
    image_shape: tuple[int, int]
    render: dict[str, Any]
    feature_dim: int

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """``images[N,1,H,W]`` -> logits ``[N,C]``."""
        ...

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """``images[N,1,H,W]`` -> feature vectors ``[N,F]`` (for FID-like metrics)."""
        ...

    def predict(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``images`` -> (predicted label ``[N]``, softmax confidence ``[N]``)."""
        ...


@runtime_checkable
class StyleModel(Protocol):
    """A style model (``font_style`` or ``char_style_aae``)."""

    charset: str
    image_shape: tuple[int, int]
    render: dict[str, Any]
    latent_dim: int

    def encode(
        self, images: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``images[B,K,H,W]``, ``labels[B,K]``, ``mask[B,K]`` (True = observed) -> ``z[B,D]``."""
        ...

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """``z[B,D]``, ``labels[B,T]`` (None: the whole charset) -> ``images[B,T,H,W]``."""
        ...

    def sample_prior(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` style vectors drawn from the prior N(0, I)."""
        ...
