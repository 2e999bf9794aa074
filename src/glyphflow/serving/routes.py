"""The HTTP endpoints: ``/v1/...`` (the API), ``/health``, ``/metrics`` and the page.

Each route checks what the serving config limits (characters, batch, steps), then hands
the model work to the app's runner (a thread, bounded in time) and shapes the answer.
Uploads are vetted by :mod:`glyphflow.serving.uploads` before any parser sees them, and
fonts are rendered by the model's own render settings (see :class:`ServedModel`).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from threading import Lock
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response

from glyphflow import __version__
from glyphflow.serving import operations, sheets, uploads
from glyphflow.serving.config import ServingConfig
from glyphflow.serving.errors import ApiError
from glyphflow.serving.schemas import (
    MAX_STYLE_VALUE,
    EncodeResponse,
    ErrorResponse,
    FontRequest,
    GenerateRequest,
    GlyphArrays,
    HealthResponse,
    ModelInfo,
    SampleRequest,
    SampleResponse,
)
from glyphflow.serving.served import ServedModel, style_id

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from glyphflow.serving.app import Runner

__all__ = ["EXPOSED_HEADERS", "FontCache", "api", "page", "service"]

#: Headers describing a PNG sheet, so a client can cut glyphs out of it.
EXPOSED_HEADERS = (
    "X-Glyphflow-Model",
    "X-Glyphflow-Columns",
    "X-Glyphflow-Glyph-Size",
    "X-Glyphflow-Style-Ids",
)

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in (
        (413, "an upload or request over a configured limit"),
        (415, "an upload that is not a font (or not an image)"),
        (422, "an invalid request, or a font that cannot be used"),
        (503, "the request took longer than limits.request_timeout_s"),
    )
}
_SHEET = {
    200: {
        "description": "a PNG sheet (format=png) or glyph arrays (format=json)",
        "model": GlyphArrays,
        "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
    },
    **_ERRORS,
}

api = APIRouter(prefix="/v1", tags=["api"], responses=_ERRORS)
service = APIRouter(tags=["service"])
page = APIRouter(include_in_schema=False)


# ---------------------------------------------------------------------------- helpers


def _served(request: Request) -> ServedModel:
    served: ServedModel = request.app.state.served
    return served


def _config(request: Request) -> ServingConfig:
    config: ServingConfig = request.app.state.config
    return config


def _runner(request: Request) -> Runner:
    runner: Runner = request.app.state.runner
    return runner


def _chars(request: Request, chars: str | None, *, spaces: bool, distinct: bool = False) -> str:
    """The characters to draw: checked against the charset and ``limits.max_chars``."""
    return operations.check_chars(
        _served(request), _config(request).limits, chars, spaces=spaces, distinct=distinct
    )


def _styles(request: Request, vectors: list[list[float]], what: str = "styles") -> NDArray[Any]:
    return operations.check_styles(_served(request), _config(request).limits, vectors, what)


def _answer(
    served: ServedModel,
    images: NDArray[np.uint8],
    z: NDArray[Any],
    chars: str,
    fmt: str,
    columns: int | None,
    scale: int,
    confidence: list[NDArray[np.float32] | None] | None = None,
) -> Response:
    if fmt == "json":
        body = operations.glyph_arrays(served, images, z, chars, confidence)
        return JSONResponse(body.model_dump(mode="json"))
    ids = [style_id(served.model_id, vector) for vector in z]
    cols, _ = sheets.sheet_layout(len(chars), columns)
    height, width = served.image_shape
    return Response(
        sheets.sheet_png(images, cols, scale),
        media_type="image/png",
        headers={
            "X-Glyphflow-Model": served.model_id,
            "X-Glyphflow-Columns": str(cols),
            "X-Glyphflow-Glyph-Size": f"{height * scale}x{width * scale}",
            "X-Glyphflow-Style-Ids": ",".join(ids),
        },
    )


async def _read_upload(upload: UploadFile, request: Request) -> bytes:
    limit = _config(request).limits.max_upload_bytes
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise ApiError(
            413,
            "too_large",
            f"{upload.filename or 'the upload'} is more than the {limit:,} bytes allowed "
            "(limits.max_upload_bytes)",
        )
    return data


async def _font_upload(upload: UploadFile, face_index: int, request: Request) -> uploads.FontUpload:
    data = await _read_upload(upload, request)
    font = uploads.read_font(data, upload.filename or "", _config(request).limits)
    uploads.check_face(font, face_index)
    return font


def _encode(served: ServedModel, font: uploads.FontUpload, face_index: int) -> Any:
    """Encode in a worker thread, turning font problems into 422s."""
    return operations.encode_upload(served, font, face_index)


def _parse_style(text: str, what: str) -> list[float]:
    try:
        value = json.loads(text)
    except ValueError:
        raise ApiError(
            422, "bad_style", f"{what} must be a JSON array of numbers (got {text[:40]!r})"
        ) from None
    if not isinstance(value, list) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
    ):
        raise ApiError(422, "bad_style", f"{what} must be a JSON array of numbers")
    floats = [float(v) for v in value]
    if not all(np.isfinite(v) and abs(v) <= MAX_STYLE_VALUE for v in floats):
        raise ApiError(
            422, "bad_style", f"{what} values must be finite and within ±{MAX_STYLE_VALUE:g}"
        )
    return floats


class FontCache:
    """The last few exported fonts, by style, characters and family (exports are slow)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()
        self._lock = Lock()

    def get(self, key: tuple[str, str, str]) -> bytes | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, str, str], value: bytes) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


# ---------------------------------------------------------------------------- /v1


@api.get("/model", response_model=ModelInfo, summary="What the served model is and accepts")
async def model_info(request: Request) -> ModelInfo:
    return operations.model_info(_served(request), _config(request).limits)


@api.post("/sample", response_model=SampleResponse, summary="Style vectors from the prior")
async def sample(body: SampleRequest, request: Request) -> SampleResponse:
    served = _served(request)
    limit = _config(request).limits.max_batch
    if body.n > limit:
        raise ApiError(
            422,
            "too_many_styles",
            f"n is {body.n}, more than the {limit} allowed (limits.max_batch)",
        )
    z = await _runner(request)(served.sample, body.n, body.seed)
    return SampleResponse(
        model=served.model_id,
        styles=[[float(v) for v in row] for row in z],
        style_ids=[style_id(served.model_id, row) for row in z],
    )


@api.post(
    "/generate",
    responses=_SHEET,
    response_class=Response,
    summary="Draw characters in given styles: a PNG sheet or arrays",
)
async def generate(body: GenerateRequest, request: Request) -> Response:
    served = _served(request)
    chars = _chars(request, body.chars, spaces=True)
    z = _styles(request, body.styles)

    drawn = [i for i, c in enumerate(chars) if c != " "]
    scored = body.format == "json" and served.classifier is not None

    def work() -> tuple[NDArray[np.uint8], list[NDArray[np.float32] | None] | None]:
        images = served.draw(z, chars)
        if not scored:
            return images, None
        # spaces are not glyphs: a classifier scores (and the answer lists) drawn ones
        images = images[:, drawn]
        text = "".join(chars[i] for i in drawn)
        return images, [served.confidence(block, text) for block in images]

    images, confidence = await _runner(request)(work)
    if scored:
        text = "".join(chars[i] for i in drawn)
        return _answer(served, images, z, text, "json", None, 1, confidence)
    return _answer(served, images, z, chars, body.format, body.columns, body.scale)


@api.post("/encode", response_model=EncodeResponse, summary="The style of an uploaded font file")
async def encode(
    request: Request,
    file: Annotated[
        UploadFile,
        File(
            description="a font file (.ttf .otf .ttc .woff .woff2 .pfb .pfa) or a .zip holding one"
        ),
    ],
    face_index: Annotated[int, Form(ge=0, le=65535, description="face of a collection")] = 0,
) -> EncodeResponse:
    served = _served(request)
    font = await _font_upload(file, face_index, request)
    encoded = await _runner(request)(_encode, served, font, face_index)
    return operations.encode_answer(served, font, face_index, encoded)


@api.post(
    "/complete",
    responses=_SHEET,
    response_class=Response,
    summary="Complete a font from a few glyph images or a partial font",
)
async def complete(
    request: Request,
    font: Annotated[
        UploadFile | None, File(description="a partial font file (instead of images)")
    ] = None,
    images: Annotated[
        list[UploadFile] | None,
        File(description="glyph images (PNG, JPEG...), one per character of `chars`"),
    ] = None,
    chars: Annotated[
        str | None, Form(max_length=65536, description="the character of each image, in order")
    ] = None,
    face_index: Annotated[int, Form(ge=0, le=65535)] = 0,
    keep_observed: Annotated[
        bool, Form(description="put the given glyphs back in place of generated ones")
    ] = True,
    format: Annotated[Literal["png", "json"], Form()] = "png",
    columns: Annotated[int | None, Form(ge=1, le=1024)] = None,
    scale: Annotated[int, Form(ge=1, le=8)] = 1,
) -> Response:
    served = _served(request)
    config = _config(request)
    files = [f for f in (images or []) if f is not None]
    if font is not None and files:
        raise ApiError(422, "ambiguous_input", "give either a font or glyph images, not both")
    if font is None and not files:
        raise ApiError(
            422, "missing_input", "give a partial font (font) or glyph images (images + chars)"
        )
    if font is not None:
        upload = await _font_upload(font, face_index, request)
        encoded = await _runner(request)(_encode, served, upload, face_index)
        z = encoded.z
        observed = encoded.observed_glyphs()
    else:
        if len(files) > config.limits.max_chars:
            raise ApiError(
                422,
                "too_many_chars",
                f"{len(files)} images, more than the {config.limits.max_chars} allowed "
                "(limits.max_chars)",
            )
        if chars is None or len(chars) != len(files):
            raise ApiError(
                422,
                "chars_mismatch",
                f"give one character per image in chars (got {len(files)} images and "
                f"{0 if chars is None else len(chars)} characters)",
            )
        _chars(request, chars, spaces=False)
        pixels = []
        for upload_file, char in zip(files, chars, strict=True):
            data = await _read_upload(upload_file, request)
            name = upload_file.filename or f"image for {char!r}"
            pixels.append(uploads.read_glyph_image(data, name, config.limits, served.image_shape))
        stack = np.stack(pixels)
        z = await _runner(request)(served.encode_glyphs, stack, chars)
        observed = dict(zip(chars, stack, strict=True))
    drawn = await _runner(request)(served.complete, z, observed, keep_observed)
    return _answer(served, drawn, z[None], served.charset, format, columns, scale)


@api.post(
    "/interpolate",
    responses=_SHEET,
    response_class=Response,
    summary="Blend two styles (vectors or fonts) in steps: a sheet, one row per step",
)
async def interpolate(
    request: Request,
    style_a: Annotated[
        str | None, Form(max_length=200_000, description="first style as a JSON array")
    ] = None,
    style_b: Annotated[
        str | None, Form(max_length=200_000, description="second style as a JSON array")
    ] = None,
    font_a: Annotated[UploadFile | None, File(description="first style from a font")] = None,
    font_b: Annotated[UploadFile | None, File(description="second style from a font")] = None,
    face_a: Annotated[int, Form(ge=0, le=65535)] = 0,
    face_b: Annotated[int, Form(ge=0, le=65535)] = 0,
    steps: Annotated[int, Form(ge=2, le=100_000, description="styles from a to b")] = 5,
    chars: Annotated[str | None, Form(max_length=65536)] = None,
    format: Annotated[Literal["png", "json"], Form()] = "png",
    columns: Annotated[int | None, Form(ge=1, le=1024)] = None,
    scale: Annotated[int, Form(ge=1, le=8)] = 1,
) -> Response:
    served = _served(request)
    limit = _config(request).limits.max_steps
    if steps > limit:
        raise ApiError(
            422,
            "too_many_steps",
            f"steps is {steps}, more than the {limit} allowed (limits.max_steps)",
        )
    text = _chars(request, chars, spaces=True)
    ends = []
    for name, vector, upload, face in (
        ("a", style_a, font_a, face_a),
        ("b", style_b, font_b, face_b),
    ):
        if (vector is None) == (upload is None):
            raise ApiError(
                422,
                "missing_input",
                f"give style {name} either as a vector (style_{name}) or as a font (font_{name})",
            )
        if upload is not None:
            font = await _font_upload(upload, face, request)
            encoded = await _runner(request)(_encode, served, font, face)
            ends.append(encoded.z)
        else:
            assert vector is not None
            ends.append(
                _styles(request, [_parse_style(vector, f"style_{name}")], f"style_{name}")[0]
            )
    weights = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    z = (1.0 - weights) * ends[0][None] + weights * ends[1][None]
    drawn = await _runner(request)(served.draw, z, text)
    return _answer(served, drawn, z, text, format, columns, scale)


@api.post(
    "/font",
    response_class=Response,
    responses={
        200: {
            "description": "an OpenType (CFF) font file",
            "content": {"font/otf": {"schema": {"type": "string", "format": "binary"}}},
        },
        501: {"model": ErrorResponse, "description": "font export is not installed"},
    },
    summary="Export a style as an installable OpenType font",
)
async def font(body: FontRequest, request: Request) -> Response:
    from glyphflow.serving.export import FontNames, build_otf

    served = _served(request)
    config = _config(request)
    chars = _chars(request, body.chars, spaces=True, distinct=True)
    z = _styles(request, [body.style], "style")
    sid = style_id(served.model_id, z[0])
    family = body.family or f"{config.export.family_prefix} {sid}"
    names = FontNames(family=family, style_id=sid, model_id=served.model_id)
    cache: FontCache = request.app.state.fonts
    key = (sid, chars, family)
    data = cache.get(key)
    if data is None:

        def work() -> bytes:
            images = served.decode_float(z, chars)[0]
            return build_otf(images, chars, served.render, names, config.export)

        data = await _runner(request)(work)
        cache.put(key, data)
    filename = f"{names.postscript}.otf"
    return Response(
        data,
        media_type="font/otf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Glyphflow-Model": served.model_id,
            "X-Glyphflow-Style-Ids": sid,
        },
    )


# ---------------------------------------------------------------------------- service


@service.get("/health", response_model=HealthResponse, summary="Liveness: the model is loaded")
async def health(request: Request) -> HealthResponse:
    return HealthResponse(status="ok", model=_served(request).model_id, version=__version__)


@service.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics",
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)


# ---------------------------------------------------------------------------- page


@page.get("/")
async def index() -> FileResponse:
    from glyphflow.serving.app import STATIC_DIR

    return FileResponse(STATIC_DIR / "index.html", media_type="text/html")
