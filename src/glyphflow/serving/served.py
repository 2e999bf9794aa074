"""The model behind the service: load it once, then encode, decode and sample with it.

:class:`ServedModel` holds a style model with everything a request needs to use it the
way it was trained: its charset (label order), its glyph shape and the render settings of
its training data (:attr:`render`), which encode uploads go through. Nothing here knows
about HTTP; the routes turn its errors into 4xx answers.

Every method is synchronous and thread-safe (inference mode, no state changed), so the
app runs them in worker threads.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from glyphflow.core.errors import UsageError
from glyphflow.glyphs import FontGlyphs, RenderConfig, render_font

if TYPE_CHECKING:
    import torch
    from numpy.typing import NDArray

__all__ = ["Encoded", "ServedModel", "load_served_model", "style_id"]

_log = logging.getLogger(__name__)


def _is_mlflow_uri(uri: str) -> bool:
    return uri.startswith(("models:/", "runs:/", "mlflow-artifacts:/"))


def _load(uri: str, tracking_uri: str | None) -> Any:
    """A glyphflow model by registry/run URI (through tracking) or bundle path/URL."""
    if _is_mlflow_uri(uri):
        from glyphflow.tracking.registry import load_model

        try:
            return load_model(uri, tracking_uri=tracking_uri)
        except UsageError as err:
            raise UsageError(
                f"{err} (tracking URI: {tracking_uri or 'MLflow default'}). Train a model "
                "(glyphflow train) and bless it (glyphflow evaluate) to get a champion, or "
                "set serving.model to a bundle path such as workdir/font-style/model.pt"
            ) from None
    from glyphflow.models import load

    return load(uri)


def _fingerprint(model: Any) -> str:
    """A short id of the weights: the same bundle gives the same id on every machine."""
    digest = hashlib.sha256(model.charset.encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:12]


def style_id(model_id: str, z: NDArray[np.floating[Any]]) -> str:
    """A short stable name for a style vector of a model (rounded, so JSON trips agree)."""
    values = np.round(np.asarray(z, dtype=np.float64), 4) + 0.0  # -0.0 -> 0.0
    digest = hashlib.sha256(model_id.encode() + values.astype("<f8").tobytes())
    return digest.hexdigest()[:10]


def render_config_of(model: Any) -> RenderConfig:
    """The render settings the model's training data was made with, checked against it.

    The model's charset may be a subset of the rendered one (training can keep only some
    characters); every model character must be rendered, at the model's glyph size.
    """
    settings = dict(getattr(model, "render", None) or {})
    height, width = model.image_shape
    if not settings:
        _log.warning(
            "the model carries no render settings; rendering uploads with the defaults "
            "at its charset and %dx%d glyphs",
            height,
            width,
        )
        settings = {"charset": model.charset, "glyph_size": height}
    try:
        config = RenderConfig.model_validate(settings)
    except ValueError as err:
        raise UsageError(f"the model's render settings are not valid here: {err}") from None
    missing = "".join(c for c in model.charset if c not in config.chars)
    if missing:
        raise UsageError(
            f"the model draws {missing!r}, which its render settings do not render "
            f"(charset {config.charset!r}); the bundle is inconsistent"
        )
    if (config.glyph_size, config.glyph_size) != (height, width):
        raise UsageError(
            f"the model's render settings give {config.glyph_size}px glyphs but the model "
            f"takes {height}x{width}; the bundle is inconsistent"
        )
    return config


@dataclass(frozen=True)
class Encoded:
    """The style of an uploaded font and what it was computed from (model charset order)."""

    z: NDArray[np.float32]  # (D,)
    charset: str  # the model's
    images: NDArray[np.uint8]  # (C, H, W) the font's glyphs, zeros where missing
    present: NDArray[np.bool_]  # (C,)
    missing: dict[str, str]  # character -> reason it has no glyph
    family: str
    style: str

    @property
    def observed(self) -> str:
        """The characters whose images went into the style vector."""
        return "".join(c for c, p in zip(self.charset, self.present, strict=True) if p)

    def observed_glyphs(self) -> dict[str, NDArray[np.uint8]]:
        """Character -> the font's own glyph, for the characters it has."""
        return {c: self.images[i] for i, c in enumerate(self.charset) if self.present[i]}


class ServedModel:
    """A loaded style model (and optional classifier) with the operations the API offers."""

    def __init__(
        self,
        model: Any,
        *,
        source: str = "",
        classifier: Any = None,
        torch_threads: int | None = None,
    ) -> None:
        import torch

        if not hasattr(model, "decode") or not hasattr(model, "encode"):
            raise UsageError(
                f"{source or 'the model'} is not a style model (it has no encode/decode); "
                "serving needs a font_style or char_style_aae model"
            )
        if classifier is not None and classifier.charset != model.charset:
            raise UsageError("the classifier's charset differs from the style model's")
        if torch_threads is not None:
            torch.set_num_threads(torch_threads)
        self.model = model.eval()
        decoder = getattr(model, "decoder", None)
        if isinstance(decoder, torch.nn.Module):
            # oneDNN convolutions run about 1.5x faster on channels-last tensors on CPU;
            # only the decoder (the cost of a sheet): encoding keeps the exact layout
            # training used, so an upload's style equals its records' bit for bit
            decoder.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.classifier = classifier.eval() if classifier is not None else None
        self.source = source
        self.charset: str = model.charset
        self.latent_dim: int = int(model.latent_dim)
        self.image_shape: tuple[int, int] = (int(model.image_shape[0]), int(model.image_shape[1]))
        self.render = render_config_of(model)
        self.model_id = _fingerprint(model)
        self.kind: str = getattr(model, "name", type(model).__name__)
        self._index = {c: i for i, c in enumerate(self.charset)}
        rendered = self.render.chars
        self._render_index = np.array([rendered.index(c) for c in self.charset], dtype=np.int64)

    # ----------------------------------------------------------------- helpers

    def labels(self, chars: str) -> list[int]:
        """Label of each character (every one must be in the charset)."""
        return [self._index[c] for c in chars]

    def unknown(self, chars: str) -> str:
        """The characters of ``chars`` the model cannot draw, each once, in order."""
        seen: dict[str, None] = {}
        for c in chars:
            if c not in self._index:
                seen.setdefault(c)
        return "".join(seen)

    def _tensor(self, z: NDArray[np.floating[Any]]) -> torch.Tensor:
        import torch

        array = np.asarray(z, dtype=np.float32)
        if array.ndim == 1:
            array = array[None]
        if array.ndim != 2 or array.shape[1] != self.latent_dim:
            raise ValueError(
                f"a style vector has {self.latent_dim} values (got shape {list(array.shape)})"
            )
        return torch.from_numpy(np.ascontiguousarray(array))

    # ----------------------------------------------------------------- operations

    def decode(self, z: NDArray[np.floating[Any]], chars: str) -> NDArray[np.uint8]:
        """Glyphs ``(B, len(chars), H, W)`` uint8 (ink 255) for styles ``z (B, D)``."""
        import torch

        codes = self._tensor(z)
        labels = torch.tensor(self.labels(chars), dtype=torch.long)
        with torch.inference_mode():
            images = self.model.decode(codes, labels.expand(codes.shape[0], -1))
        out: NDArray[np.uint8] = (images.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8).numpy()
        return out

    def draw(self, z: NDArray[np.floating[Any]], chars: str) -> NDArray[np.uint8]:
        """Glyphs ``(B, len(chars), H, W)`` uint8 for any text: spaces blank, repeats decoded once.

        What ``/v1/generate`` and ``/v1/interpolate`` answer, and what the framework
        adapters (MLServer, BentoML) call, so every front end draws alike.
        """
        distinct = "".join(dict.fromkeys(c for c in chars if c != " "))
        codes = np.asarray(z, dtype=np.float32)
        if codes.ndim == 1:
            codes = codes[None]
        height, width = self.image_shape
        out = np.zeros((len(codes), len(chars), height, width), dtype=np.uint8)
        if distinct:
            images = self.decode(codes, distinct)
            where = {c: i for i, c in enumerate(distinct)}
            for j, char in enumerate(chars):
                if char != " ":
                    out[:, j] = images[:, where[char]]
        return out

    def complete(
        self,
        z: NDArray[np.floating[Any]],
        observed: Mapping[str, NDArray[np.uint8]],
        keep_observed: bool = True,
    ) -> NDArray[np.uint8]:
        """The whole charset ``(1, C, H, W)`` in style ``z``; with ``keep_observed`` the
        given glyphs (character -> image) are put back in place of generated ones."""
        out = self.decode(np.asarray(z, dtype=np.float32).reshape(1, -1), self.charset)
        if keep_observed:
            for i, char in enumerate(self.charset):
                if char in observed:
                    out[0, i] = observed[char]
        return out

    def decode_float(self, z: NDArray[np.floating[Any]], chars: str) -> NDArray[np.float32]:
        """Like :meth:`decode` but float in [0, 1] (what export traces)."""
        import torch

        codes = self._tensor(z)
        labels = torch.tensor(self.labels(chars), dtype=torch.long)
        with torch.inference_mode():
            images = self.model.decode(codes, labels.expand(codes.shape[0], -1))
        out: NDArray[np.float32] = images.float().numpy()
        return out

    def encode_glyphs(self, images: NDArray[np.uint8], chars: str) -> NDArray[np.float32]:
        """Style ``(D,)`` from glyph images ``(K, H, W)`` uint8 of the characters ``chars``."""
        import torch

        if len(chars) != len(images) or not chars:
            raise ValueError(
                f"give one image per character (got {len(images)} images, {len(chars)} chars)"
            )
        pixels = torch.from_numpy(np.ascontiguousarray(images, dtype=np.uint8))[None]
        labels = torch.tensor(self.labels(chars), dtype=torch.long)[None]
        mask = torch.ones(labels.shape, dtype=torch.bool)
        with torch.inference_mode():
            z = self.model.encode(pixels, labels, mask)
        out: NDArray[np.float32] = z[0].float().numpy()
        return out

    def render_font(self, data: bytes, face_index: int = 0) -> FontGlyphs:
        """The font's glyphs exactly as the model's training data was rendered."""
        return render_font(data, face_index, self.render)

    def encode_font(self, data: bytes, face_index: int = 0) -> Encoded:
        """Style of a font file from every model character it has (as its records hold).

        Raises :class:`~glyphflow.glyphs.FontRenderError` for an unusable font and
        ``ValueError`` when it has none of the model's characters.
        """
        glyphs = self.render_font(data, face_index)
        index = self._render_index
        present = glyphs.present[index]
        if not present.any():
            raise ValueError(
                "the font has none of the model's characters "
                f"({self.charset[:20]}{'...' if len(self.charset) > 20 else ''}): "
                f"{_reason_summary(glyphs, self.charset)}"
            )
        images = glyphs.images[index]
        chars = "".join(c for c, p in zip(self.charset, present, strict=True) if p)
        z = self.encode_glyphs(images[present], chars)
        reasons = glyphs.missing()
        return Encoded(
            z=z,
            charset=self.charset,
            images=images,
            present=present,
            missing={c: reasons[c] for c in self.charset if c in reasons},
            family=glyphs.family,
            style=glyphs.style,
        )

    def sample(self, n: int, seed: int | None) -> NDArray[np.float32]:
        """``n`` style vectors from the model's prior (reproducible with a seed)."""
        import torch

        generator = torch.Generator()
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(seed)
        with torch.inference_mode():
            z = self.model.sample_prior(n, generator)
        out: NDArray[np.float32] = z.detach().cpu().float().numpy()
        return out

    def confidence(self, images: NDArray[np.uint8], chars: str) -> NDArray[np.float32] | None:
        """Classifier probability of the intended character per glyph, if a classifier is set."""
        if self.classifier is None:
            return None
        import torch

        pixels = torch.from_numpy(np.ascontiguousarray(images, dtype=np.uint8)).float() / 255.0
        labels = torch.tensor(self.labels(chars), dtype=torch.long)
        with torch.inference_mode():
            probabilities = torch.softmax(self.classifier(pixels[:, None]), dim=1)
        out: NDArray[np.float32] = probabilities.gather(1, labels[:, None])[:, 0].float().numpy()
        return out


def _reason_summary(glyphs: FontGlyphs, charset: str) -> str:
    counts: dict[str, int] = {}
    for char, reason in zip(glyphs.charset, glyphs.reasons, strict=True):
        if reason is not None and char in charset:
            counts[reason] = counts.get(reason, 0) + 1
    return ", ".join(f"{n} {r}" for r, n in sorted(counts.items())) or "no glyphs"


def load_served_model(
    uri: str,
    classifier_uri: str | None = None,
    tracking_uri: str | None = None,
    torch_threads: int | None = None,
) -> ServedModel:
    """Load the style model (and classifier) named in a serving config."""
    model = _load(uri, tracking_uri)
    classifier = _load(classifier_uri, tracking_uri) if classifier_uri else None
    if classifier is not None and not hasattr(classifier, "predict"):
        raise UsageError(f"{classifier_uri} is not a glyph classifier")
    return ServedModel(model, source=uri, classifier=classifier, torch_threads=torch_threads)
