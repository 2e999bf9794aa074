"""What every glyphflow model is: a torch module that knows its charset, image shape,
the render settings its training data was made with, and its own config.

These attributes travel in the saved bundle, so whoever loads a model (scoring,
evaluation, serving) renders inputs and reads outputs exactly as training did.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from pydantic import BaseModel
from torch import nn

__all__ = ["GlyphModel", "as_images"]


class GlyphModel(nn.Module):
    """Base of the registered models.

    Attributes: ``config`` (the model section it was built from), ``charset`` (label
    order), ``image_shape`` ((H, W)), ``render`` (render settings of its training data),
    ``batch_kind`` ("glyphs": trained on single glyphs; "fonts": on whole fonts).
    """

    name: ClassVar[str] = ""
    batch_kind: ClassVar[str] = "glyphs"

    def __init__(
        self,
        config: BaseModel,
        charset: str,
        image_shape: tuple[int, int],
        render: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        if not charset:
            raise ValueError("a model needs a non-empty charset")
        if len(set(charset)) != len(charset):
            raise ValueError(f"charset has repeated characters: {charset!r}")
        self.config = config
        self.charset = charset
        self.image_shape = (int(image_shape[0]), int(image_shape[1]))
        self.render: dict[str, Any] = dict(render or {})
        self.bundle_extra: dict[str, Any] = {}

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def labels_of(self, chars: str) -> torch.Tensor:
        """Label indices of ``chars`` in this model's charset (unknown ones are refused)."""
        missing = sorted({c for c in chars if c not in self.charset})
        if missing:
            raise ValueError(f"characters not in the model's charset: {''.join(missing)!r}")
        return torch.tensor([self.charset.index(c) for c in chars], dtype=torch.long)


def as_images(images: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """Float images in [0, 1] as [N, 1, H, W]; uint8 input is scaled by 1/255."""
    if images.dtype == torch.uint8:
        images = images.float() / 255.0
    if images.dim() == 3:
        images = images.unsqueeze(1)
    if images.dim() != 4 or tuple(images.shape[-2:]) != shape or images.shape[1] != 1:
        raise ValueError(
            f"expected images of shape [N, 1, {shape[0]}, {shape[1]}] (got {list(images.shape)})"
        )
    return images
