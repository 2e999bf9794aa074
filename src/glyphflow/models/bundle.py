"""Model bundles: one file holding weights, model config, charset and render settings.

A bundle is a ``torch.save`` of plain data (no pickled classes), loaded with
``weights_only=True``, so opening a bundle from a URL cannot run code. It is written
atomically to any fsspec URL. Loading rebuilds the model from its config through the
model registry and restores the weights: save -> load gives identical outputs.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import torch

from glyphflow import __version__
from glyphflow.core.config import dump_config
from glyphflow.core.errors import UsageError
from glyphflow.io import storage
from glyphflow.models.base import GlyphModel
from glyphflow.models.config import parse_model_config
from glyphflow.models.registries import models

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_NAME",
    "build_model",
    "load",
    "load_payload",
    "save",
    "to_payload",
]

BUNDLE_FORMAT = "glyphflow.model/1"
#: File name of the bundle inside a training output folder.
BUNDLE_NAME = "model.pt"


def build_model(
    config: Any,
    charset: str,
    image_shape: tuple[int, int] | list[int],
    render: Mapping[str, Any] | None = None,
) -> GlyphModel:
    """A fresh model from a model section (pydantic or plain data), charset and shape."""
    section = parse_model_config(config)
    factory = models.get(section.class_)
    model: GlyphModel = factory(
        section, charset, (int(image_shape[0]), int(image_shape[1])), render
    )
    return model


def to_payload(model: GlyphModel, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The bundle's content as plain data (CPU tensors)."""
    return {
        "format": BUNDLE_FORMAT,
        "glyphflow_version": __version__,
        "model": dump_config(model.config),
        "charset": model.charset,
        "image_shape": list(model.image_shape),
        "render": dict(model.render),
        "extra": dict(extra or {}),
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
    }


def save(model: GlyphModel, url: str, extra: Mapping[str, Any] | None = None) -> str:
    """Write ``model`` as a bundle to ``url`` (atomically); returns ``url``."""
    buffer = io.BytesIO()
    torch.save(to_payload(model, extra), buffer)
    storage.write_bytes(url, buffer.getvalue())
    return url


def _bundle_url(url: str) -> str:
    if url.endswith((".pt", ".pth")):
        return url
    candidate = storage.join(url, BUNDLE_NAME)
    return candidate if storage.exists(candidate) else url


def load_payload(url: str, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The raw bundle at ``url`` (a file, or a training output folder holding model.pt)."""
    url = _bundle_url(url)
    if not storage.exists(url):
        raise UsageError(f"no model bundle at {url}; give a model.pt file or a training output")
    try:
        payload: dict[str, Any] = torch.load(
            io.BytesIO(storage.read_bytes(url)), map_location=map_location, weights_only=True
        )
    except Exception as err:  # a damaged or foreign file: say so, not a pickle traceback
        raise UsageError(f"{url} is not a readable glyphflow model bundle: {err}") from None
    if not isinstance(payload, dict) or payload.get("format") != BUNDLE_FORMAT:
        raise UsageError(f"{url} is not a glyphflow model bundle (format {BUNDLE_FORMAT})")
    return payload


def load(url: str, map_location: str | torch.device = "cpu") -> GlyphModel:
    """The model saved at ``url``, in eval mode, with ``bundle_extra`` set from the bundle."""
    payload = load_payload(url, map_location)
    model = build_model(
        payload["model"], payload["charset"], payload["image_shape"], payload["render"]
    )
    model.load_state_dict(payload["state_dict"])
    model.bundle_extra = dict(payload.get("extra") or {})
    model.to(map_location)
    return model.eval()
