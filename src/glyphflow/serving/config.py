"""The serving stage's config: which model, where to listen, and what a request may cost.

``serving.model`` names the style model the way every glyphflow stage does: a registry
alias (``models:/glyphflow-style@champion``, the default: the model evaluation blessed),
a version (``models:/NAME/3``), a run (``runs:/RUN/model``) or a bundle path or training
output folder on any fsspec URL.

How uploads are rendered is *not* configured here: the render settings travel with the
model, so an uploaded font is rendered exactly as the model's training data was.

This module imports no FastAPI, torch or MLflow: ``glyphflow config schema serve`` and
``config check`` work on a base install.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from glyphflow.core.config import ConfigModel

__all__ = ["DEFAULT_MODEL", "ExportConfig", "LimitsConfig", "ServingConfig"]

DEFAULT_MODEL = "models:/glyphflow-style@champion"

_MiB = 1024 * 1024


class LimitsConfig(ConfigModel):
    """What one request may cost at most; anything beyond gets a 4xx that says which limit."""

    max_upload_bytes: int = Field(
        16 * _MiB, gt=0, description="largest request body (uploads included), in bytes"
    )
    max_unpacked_bytes: int = Field(
        64 * _MiB,
        gt=0,
        description="largest font after unpacking a WOFF/WOFF2 file or a .zip upload",
    )
    max_compression_ratio: float = Field(
        100.0, gt=1, description="largest unpacked/packed size ratio of an upload (zip bombs)"
    )
    max_archive_members: int = Field(256, gt=0, description="most entries a .zip upload may hold")
    max_image_pixels: int = Field(
        4_000_000, gt=0, description="largest glyph image upload, in pixels (width * height)"
    )
    request_timeout_s: float = Field(
        30.0, gt=0, description="longest a request may compute before it is answered 503"
    )
    max_chars: int = Field(
        512, ge=1, description="most characters one request may generate per style"
    )
    max_batch: int = Field(16, ge=1, description="most style vectors (or samples) per request")
    max_steps: int = Field(32, ge=2, description="most steps of an interpolation")
    max_concurrency: int = Field(
        4, ge=1, description="model computations run at once; more requests wait their turn"
    )


class ExportConfig(ConfigModel):
    """How generated glyphs become an OTF: upsample, smooth, trace, build."""

    upsample: int = Field(
        2, ge=1, le=16, description="trace at this many times the model's glyph size"
    )
    smooth: float = Field(
        0.5,
        ge=0,
        le=4,
        description="Gaussian blur before thresholding, in model pixels (0: none)",
    )
    threshold: float = Field(0.5, gt=0, lt=1, description="ink level that becomes the outline")
    units_per_em: int = Field(1000, ge=16, le=16384, description="the font's units per em")
    turdsize: int = Field(2, ge=0, description="specks up to this many traced pixels are dropped")
    alphamax: float = Field(
        1.0, ge=0, le=1.334, description="potrace corner threshold: 0 polygons, higher rounder"
    )
    opttolerance: float = Field(
        0.2, ge=0, description="potrace curve optimisation tolerance (0: no merging)"
    )
    family_prefix: str = Field(
        "Glyphflow",
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9 ]+$",
        description="family name of exported fonts, followed by the style id",
    )
    sidebearing: float = Field(
        0.06, ge=0, le=0.5, description="space on each side of a glyph's ink, in ems"
    )
    cache_size: int = Field(16, ge=0, description="exported fonts kept in memory (0: none)")


class ServingConfig(ConfigModel):
    """``glyphflow serve``: HTTP API and the style explorer page for one style model."""

    model: str = Field(
        DEFAULT_MODEL,
        min_length=1,
        description="style model: registry alias or version URI, run URI, or bundle path/URL",
    )
    classifier: str | None = Field(
        None,
        description="optional glyph classifier (same URI forms): adds per-glyph confidence",
    )
    tracking_uri: str | None = Field(
        None, description="MLflow tracking URI for models:/ and runs:/ (default: MLflow's)"
    )
    host: str = Field("127.0.0.1", min_length=1, description="address to listen on")
    port: int = Field(8000, ge=0, le=65535, description="port to listen on (0: any free port)")
    workers: int = Field(1, ge=1, le=64, description="server processes (each loads the model)")
    torch_threads: int | None = Field(
        1,
        ge=1,
        description="torch threads per computation (None: torch's default); 1 serves "
        "concurrent requests best on small machines",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="origins allowed to call the API from a browser (e.g. "
        "https://example.org); empty: same origin only; '*': any",
    )
    page: bool = Field(True, description="serve the style explorer page at /")
    log_level: str = Field("info", description="uvicorn's log level")
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    export: ExportConfig = Field(default_factory=ExportConfig)

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        for value in values:
            if value != "*" and not value.startswith(("http://", "https://")):
                raise ValueError(
                    f"an origin is '*' or starts with http:// or https:// (got {value!r})"
                )
            if value != "*" and value.rstrip("/") != value:
                raise ValueError(f"an origin has no trailing slash (got {value!r})")
        return values

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        levels = ("critical", "error", "warning", "info", "debug", "trace")
        if value.lower() not in levels:
            raise ValueError(f"must be one of {', '.join(levels)} (got {value!r})")
        return value.lower()

    @model_validator(mode="after")
    def _port_and_workers(self) -> ServingConfig:
        if self.workers > 1 and self.port == 0:
            raise ValueError("workers > 1 needs a fixed port (got port 0)")
        return self
