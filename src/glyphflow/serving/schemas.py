"""Request and response bodies of the HTTP API (they make the OpenAPI schema).

Requests refuse unknown fields, so a misspelt option is a 422 naming it rather than an
option silently ignored. Limits that come from the serving config (characters, batch,
steps) are checked by the routes, which name the config key in their message; the
bounds here are the ones that hold for every deployment.

Style vectors are plain lists of finite floats; a model's length is ``latent_dim`` (see
``GET /v1/model``). Values are bounded by :data:`MAX_STYLE_VALUE`: the prior is N(0, I),
so anything near the bound is already far outside what the model has seen.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "MAX_STYLE_VALUE",
    "EncodeResponse",
    "ErrorResponse",
    "FontRequest",
    "GenerateRequest",
    "GlyphArrays",
    "HealthResponse",
    "ModelInfo",
    "SampleRequest",
    "SampleResponse",
    "StyleGlyphs",
]

MAX_STYLE_VALUE = 50.0

StyleValue = Annotated[float, Field(ge=-MAX_STYLE_VALUE, le=MAX_STYLE_VALUE, allow_inf_nan=False)]
StyleVector = Annotated[list[StyleValue], Field(min_length=1, max_length=4096)]
Format = Literal["png", "json"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GenerateRequest(_Request):
    """Draw characters in one or more styles."""

    styles: list[StyleVector] = Field(
        min_length=1, max_length=1024, description="style vectors, each latent_dim floats"
    )
    chars: str | None = Field(
        None,
        max_length=65536,
        description="characters to draw, in order (repeats and spaces allowed); "
        "default: the model's whole charset",
    )
    format: Format = Field("png", description="png: a sheet image; json: arrays")
    columns: int | None = Field(
        None, ge=1, le=1024, description="glyphs per sheet row (default up to 16)"
    )
    scale: int = Field(1, ge=1, le=8, description="sheet pixels per glyph pixel")


class FontRequest(_Request):
    """Export a style as an installable OpenType font."""

    style: StyleVector = Field(description="the style vector, latent_dim floats")
    chars: str | None = Field(
        None, max_length=65536, description="characters to include (default: the charset)"
    )
    family: str | None = Field(
        None,
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9 ]+$",
        description="family name (default: the configured prefix and the style id)",
    )


class SampleRequest(_Request):
    """Draw style vectors from the model's prior."""

    n: int = Field(1, ge=1, le=1024, description="how many")
    seed: int | None = Field(
        None, ge=0, le=2**63 - 1, description="seed for a reproducible draw (default: random)"
    )


class SampleResponse(BaseModel):
    model: str
    styles: list[list[float]]
    style_ids: list[str]


class StyleGlyphs(BaseModel):
    style: list[float]
    style_id: str
    images: list[str] = Field(description="base64 of H*W uint8 bytes per glyph, ink 255")
    confidence: list[float] | None = Field(
        None, description="classifier probability of each intended character (if configured)"
    )


class GlyphArrays(BaseModel):
    """Glyph images as arrays (the ``json`` format of generate, complete, interpolate)."""

    model: str
    chars: str
    shape: list[int] = Field(description="[H, W] of every image")
    encoding: Literal["base64-uint8"] = "base64-uint8"
    styles: list[StyleGlyphs]


class EncodeResponse(BaseModel):
    """The style of an uploaded font."""

    model: str
    style: list[float]
    style_id: str
    file: str = Field(description="the file the style came from (a .zip member if zipped)")
    face_index: int
    family: str
    style_name: str
    observed: str = Field(description="characters whose glyphs made the style vector")
    missing: dict[str, str] = Field(description="characters not used, with the reason")


class ModelInfo(BaseModel):
    """What the served model is and what it accepts."""

    model: str = Field(description="id of the weights (first 12 hex of their SHA-256)")
    source: str
    kind: str
    latent_dim: int
    charset: str
    glyph_shape: list[int]
    render: dict[str, object] = Field(description="render settings uploads go through")
    classifier: bool
    limits: dict[str, float]


class HealthResponse(BaseModel):
    status: Literal["ok"]
    model: str
    version: str


class ErrorResponse(BaseModel):
    """Every refusal: a message for people and a reason code for programs."""

    detail: str
    reason: str
