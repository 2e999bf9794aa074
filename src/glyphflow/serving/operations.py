"""What the API's operations check and answer, without HTTP: shared by every front end.

``glyphflow serve``'s routes and the framework adapters (BentoML...) take requests in
their own way, then call these to vet inputs against the serving limits and to shape the
answers, so a style, a glyph array or a refusal reads the same whichever server gave it.
Every refusal is an :class:`~glyphflow.serving.errors.ApiError` (status, reason, message).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from glyphflow.glyphs import FontRenderError
from glyphflow.serving import sheets
from glyphflow.serving.config import LimitsConfig
from glyphflow.serving.errors import ApiError
from glyphflow.serving.schemas import EncodeResponse, GlyphArrays, ModelInfo, StyleGlyphs
from glyphflow.serving.served import Encoded, ServedModel, style_id

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from glyphflow.serving.uploads import FontUpload

__all__ = [
    "check_chars",
    "check_styles",
    "encode_answer",
    "encode_upload",
    "glyph_arrays",
    "model_info",
]


def check_chars(
    served: ServedModel,
    limits: LimitsConfig,
    chars: str | None,
    *,
    spaces: bool,
    distinct: bool = False,
) -> str:
    """The characters to draw: checked against the charset and ``limits.max_chars``."""
    text = served.charset if chars is None or chars == "" else chars
    if distinct:
        text = "".join(dict.fromkeys(c for c in text if c != " "))
        if not text:
            text = served.charset
    if len(text) > limits.max_chars:
        raise ApiError(
            422,
            "too_many_chars",
            f"chars has {len(text):,} characters, more than the {limits.max_chars:,} allowed "
            "(limits.max_chars)",
        )
    unknown = served.unknown(text.replace(" ", "") if spaces else text)
    if unknown:
        shown = unknown if len(unknown) <= 20 else unknown[:20] + "..."
        raise ApiError(
            422,
            "unknown_chars",
            f"the model cannot draw {shown!r}; it draws {served.charset!r}"
            + (" and spaces" if spaces else ""),
        )
    return text


def check_styles(
    served: ServedModel, limits: LimitsConfig, vectors: list[list[float]], what: str = "styles"
) -> NDArray[np.float32]:
    """Style vectors as a ``(B, latent_dim)`` array: checked against ``limits.max_batch``."""
    if len(vectors) > limits.max_batch:
        raise ApiError(
            422,
            "too_many_styles",
            f"{what} has {len(vectors):,} vectors, more than the {limits.max_batch:,} allowed "
            "(limits.max_batch)",
        )
    for i, vector in enumerate(vectors):
        if len(vector) != served.latent_dim:
            raise ApiError(
                422,
                "bad_style",
                f"{what}[{i}] has {len(vector)} values; this model's style vectors have "
                f"{served.latent_dim} (see GET /v1/model)",
            )
    return np.asarray(vectors, dtype=np.float32).reshape(len(vectors), served.latent_dim)


def glyph_arrays(
    served: ServedModel,
    images: NDArray[np.uint8],
    z: NDArray[Any],
    chars: str,
    confidence: list[NDArray[np.float32] | None] | None = None,
) -> GlyphArrays:
    """Glyphs ``(B, N, H, W)`` drawn in styles ``z (B, D)`` as the ``json`` answer."""
    return GlyphArrays(
        model=served.model_id,
        chars=chars,
        shape=list(served.image_shape),
        styles=[
            StyleGlyphs(
                style=[float(v) for v in vector],
                style_id=style_id(served.model_id, vector),
                images=sheets.encode_arrays(block),
                confidence=None
                if confidence is None or confidence[i] is None
                else [float(c) for c in confidence[i]],  # type: ignore[union-attr]
            )
            for i, (vector, block) in enumerate(zip(z, images, strict=True))
        ],
    )


def encode_upload(served: ServedModel, font: FontUpload, face_index: int) -> Encoded:
    """The style of a vetted font upload, font problems turned into 422s (blocking)."""
    try:
        return served.encode_font(font.data, face_index)
    except FontRenderError as err:
        raise ApiError(422, err.reason, f"{font.name or 'the font'}: {err.message}") from None
    except ValueError as err:
        raise ApiError(422, "no_glyphs", f"{font.name or 'the font'}: {err}") from None


def encode_answer(
    served: ServedModel, font: FontUpload, face_index: int, encoded: Encoded
) -> EncodeResponse:
    """The answer to an encode request."""
    return EncodeResponse(
        model=served.model_id,
        style=[float(v) for v in encoded.z],
        style_id=style_id(served.model_id, encoded.z),
        file=font.name,
        face_index=face_index,
        family=encoded.family,
        style_name=encoded.style,
        observed=encoded.observed,
        missing=encoded.missing,
    )


def model_info(served: ServedModel, limits: LimitsConfig) -> ModelInfo:
    """What the served model is and accepts (``GET /v1/model``)."""
    return ModelInfo(
        model=served.model_id,
        source=served.source,
        kind=served.kind,
        latent_dim=served.latent_dim,
        charset=served.charset,
        glyph_shape=list(served.image_shape),
        render=served.render.model_dump(mode="json"),
        classifier=served.classifier is not None,
        limits={
            "max_upload_bytes": limits.max_upload_bytes,
            "max_chars": limits.max_chars,
            "max_batch": limits.max_batch,
            "max_steps": limits.max_steps,
            "max_image_pixels": limits.max_image_pixels,
            "request_timeout_s": limits.request_timeout_s,
        },
    )
