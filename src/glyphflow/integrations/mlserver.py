"""A Seldon MLServer runtime: a glyphflow style model behind the V2 inference protocol.

``mlserver start integrations/mlserver`` loads the model named in ``model-settings.json``
(``parameters.uri``: a registry alias such as ``models:/glyphflow-style@champion``, a
version, a run URI or a bundle path) and answers ``POST /v2/models/glyphflow/infer``
(and the gRPC twin) for three operations, chosen by the request's
``parameters.operation``:

============  ==============================================  ===============================
operation     inputs                                          outputs
============  ==============================================  ===============================
generate      ``styles`` FP32 [B, D]; ``chars`` BYTES [1]     ``glyphs`` UINT8 [B, N, H, W];
              (text, optional: the whole charset)             ``style_ids`` BYTES [B];
                                                              ``chars`` BYTES [1]
encode        ``font`` BYTES [1] (the font file, base64 in    ``style`` FP32 [1, D];
              JSON); ``face_index`` INT32 [1] (optional)      ``style_ids`` BYTES [1];
                                                              ``observed`` BYTES [1]
complete      ``font`` (+ ``face_index``), or ``images``      ``glyphs`` UINT8 [1, C, H, W];
              UINT8 [K, H, W] + ``chars`` BYTES [1] (K        ``chars`` BYTES [1] (charset);
              characters); ``keep_observed`` BOOL [1]         ``style`` FP32 [1, D];
              (optional, default true)                        ``style_ids`` BYTES [1]
============  ==============================================  ===============================

Without ``parameters.operation`` a request with ``styles`` is a generate, one with
``font`` an encode and one with ``images`` a complete. Glyphs are the model's convention
(uint8 coverage, ink 255), the arrays ``glyphflow serve`` answers with ``format=json``.

Every operation is the call ``glyphflow serve`` makes (:class:`ServedModel`'s ``draw``,
``encode_font``, ``complete``, ``encode_glyphs``), uploads pass the same checks
(:func:`glyphflow.serving.uploads.read_font` with the ``serving.limits``), and model work
runs in threads bounded like the service's (:class:`glyphflow.serving.app.Runner`), so
the two front ends answer alike. A request the model cannot serve (unknown characters, a
style of the wrong size, a file that is not a font) is refused with glyphflow's message
and its 4xx status, never a 500.

``parameters.extra`` in the model settings takes ``tracking_uri`` (default: the
``MLFLOW_TRACKING_URI`` environment variable), ``classifier`` (a glyph classifier URI:
adds ``confidence`` FP32 [B, N] to generate, 0 for spaces), ``torch_threads`` (default 1)
and ``limits`` (``serving.limits`` keys). Interpolation, prior samples and font export
are not offered: a client blends or samples style vectors itself and sends them to
generate.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from mlserver import MLModel
from mlserver.errors import InferenceError
from mlserver.types import (
    InferenceRequest,
    InferenceResponse,
    MetadataModelResponse,
    MetadataTensor,
    Parameters,
    RequestInput,
    ResponseOutput,
)
from pydantic import ValidationError

from glyphflow.core.errors import UsageError
from glyphflow.serving import operations, uploads
from glyphflow.serving.config import LimitsConfig, ServingConfig
from glyphflow.serving.errors import ApiError
from glyphflow.serving.schemas import MAX_STYLE_VALUE

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from glyphflow.serving.app import Runner
    from glyphflow.serving.served import ServedModel

__all__ = ["EXTRA_KEYS", "OPERATIONS", "GlyphflowRuntime", "RequestRefusedError"]

#: The operations a request may name in ``parameters.operation``.
OPERATIONS = ("generate", "encode", "complete")

#: What ``parameters.extra`` of the model settings may hold.
EXTRA_KEYS = ("tracking_uri", "classifier", "torch_threads", "limits")

_INPUTS = {
    "generate": ("styles", "chars"),
    "encode": ("font", "face_index"),
    "complete": ("font", "face_index", "images", "chars", "keep_observed"),
}

_INTEGER_TYPES = ("INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64")
_NUMBER_TYPES = (*_INTEGER_TYPES, "FP16", "FP32", "FP64")


class RequestRefusedError(InferenceError):  # type: ignore[misc]
    """A request glyphflow refuses, with its 4xx status (MLServer answers ``{"error"}``)."""

    def __init__(self, message: str, status_code: int = 422) -> None:
        super().__init__(message)
        self.status_code = status_code


# ---------------------------------------------------------------------------- tensors in


def _tensor(inp: RequestInput, datatypes: tuple[str, ...], what: str) -> NDArray[Any]:
    """A numeric input as an array of its declared shape."""
    if inp.datatype not in datatypes:
        raise RequestRefusedError(
            f"input {inp.name!r} must be {what} (got datatype {inp.datatype})"
        )
    data = inp.data.root
    try:
        array = np.asarray(data if isinstance(data, list) else [data])
        if inp.datatype == "BOOL":
            array = array.astype(bool)
        return array.reshape(inp.shape)
    except (ValueError, TypeError) as err:
        raise RequestRefusedError(
            f"input {inp.name!r}: its data does not fit its shape {inp.shape}: {err}"
        ) from None


def _bytes_elements(inp: RequestInput) -> list[bytes]:
    """The elements of a BYTES input: base64 text (JSON) or raw bytes (gRPC)."""
    if inp.datatype != "BYTES":
        raise RequestRefusedError(f"input {inp.name!r} must be BYTES (got datatype {inp.datatype})")
    data = inp.data.root
    items = data if isinstance(data, list) else [data]
    out = []
    for item in items:
        if isinstance(item, str):
            try:
                out.append(base64.b64decode(item, validate=True))
            except (binascii.Error, ValueError):
                raise RequestRefusedError(
                    f"input {inp.name!r} must hold the file as base64 text in JSON "
                    "(e.g. base64 -w0 font.ttf)"
                ) from None
        elif isinstance(item, bytes):
            content = inp.parameters.content_type if inp.parameters else None
            out.append(base64.b64decode(item) if content == "base64" else item)
        else:
            raise RequestRefusedError(f"input {inp.name!r} must hold bytes or base64 text")
    return out


def _text(inp: RequestInput) -> str:
    """A BYTES input of one element as text (UTF-8)."""
    if inp.datatype != "BYTES":
        raise RequestRefusedError(f"input {inp.name!r} must be BYTES text (got {inp.datatype})")
    data = inp.data.root
    items = data if isinstance(data, list) else [data]
    if len(items) != 1:
        raise RequestRefusedError(
            f"input {inp.name!r} must hold one text (got {len(items)} elements)"
        )
    item = items[0]
    if isinstance(item, bytes):
        try:
            return item.decode("utf-8")
        except UnicodeDecodeError:
            raise RequestRefusedError(f"input {inp.name!r} is not UTF-8 text") from None
    if not isinstance(item, str):
        raise RequestRefusedError(f"input {inp.name!r} must hold text (got {type(item).__name__})")
    return item


def _scalar_int(inp: RequestInput | None, default: int, low: int, high: int) -> int:
    if inp is None:
        return default
    values = _tensor(inp, _INTEGER_TYPES, "an integer").ravel()
    if values.size != 1 or not low <= int(values[0]) <= high:
        raise RequestRefusedError(f"input {inp.name!r} must be one integer in {low}..{high}")
    return int(values[0])


def _flag(inp: RequestInput | None, default: bool) -> bool:
    if inp is None:
        return default
    values = _tensor(inp, ("BOOL", *_INTEGER_TYPES), "BOOL").ravel()
    if values.size != 1:
        raise RequestRefusedError(f"input {inp.name!r} must be one BOOL")
    return bool(values[0])


# ---------------------------------------------------------------------------- tensors out


def _numbers(name: str, array: NDArray[Any], datatype: str) -> ResponseOutput:
    return ResponseOutput(
        name=name, shape=list(array.shape), datatype=datatype, data=array.ravel().tolist()
    )


def _strings(name: str, values: list[str]) -> ResponseOutput:
    # UTF-8 bytes: what gRPC carries; MLServer writes them as text in JSON answers
    return ResponseOutput(
        name=name,
        shape=[len(values)],
        datatype="BYTES",
        data=[value.encode("utf-8") for value in values],
        parameters=Parameters(content_type="str"),
    )


# ---------------------------------------------------------------------------- runtime


def _resolve_uri(uri: str, settings_file: str | None) -> str:
    """A relative bundle path is relative to the model settings file (as MLServer's own
    runtimes take ``parameters.uri``) when a file is there."""
    if ":/" in uri or os.path.isabs(uri) or not settings_file:
        return uri
    beside = os.path.join(os.path.dirname(os.path.abspath(settings_file)), uri)
    return beside if os.path.exists(beside) else uri


def _serving_config(
    uri: str | None, extra: Mapping[str, Any], source: str, settings_file: str | None
) -> ServingConfig:
    if not uri:
        raise UsageError(
            f"{source}: parameters.uri names no model; set it to a registry alias "
            "(models:/glyphflow-style@champion), a run URI or a bundle path"
        )
    unknown = sorted(set(extra) - set(EXTRA_KEYS))
    if unknown:
        raise UsageError(
            f"{source}: parameters.extra has {', '.join(map(repr, unknown))}; "
            f"it takes {', '.join(EXTRA_KEYS)}"
        )
    values = {key: extra[key] for key in EXTRA_KEYS if key in extra}
    if isinstance(values.get("classifier"), str):
        values["classifier"] = _resolve_uri(values["classifier"], settings_file)
    values.setdefault("tracking_uri", os.environ.get("MLFLOW_TRACKING_URI") or None)
    try:
        return ServingConfig.model_validate({"model": uri, **values})
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise UsageError(f"{source}: parameters.extra is not valid: {problems}") from None


class GlyphflowRuntime(MLModel):  # type: ignore[misc]
    """MLServer runtime for a glyphflow style model: generate, encode and complete."""

    served: ServedModel
    limits: LimitsConfig

    async def load(self) -> bool:
        from glyphflow.serving.app import Runner
        from glyphflow.serving.served import load_served_model

        params = self.settings.parameters
        source = self.settings._source or f"model settings of {self.name!r}"
        config = _serving_config(
            _resolve_uri(params.uri, self.settings._source) if params and params.uri else None,
            dict((params.extra if params else None) or {}),
            source,
            self.settings._source,
        )
        self.limits = config.limits
        self._runner: Runner = Runner(
            config.limits.max_concurrency, config.limits.request_timeout_s
        )
        # in a thread, but not under the request time limit: a registry download may be slow
        self.served = await asyncio.to_thread(
            load_served_model,
            config.model,
            config.classifier,
            config.tracking_uri,
            config.torch_threads,
        )
        if not self.settings.inputs:
            self.inputs = _input_metadata(self.served)
        if not self.settings.outputs:
            self.outputs = _output_metadata(self.served)
        return True

    async def metadata(self) -> MetadataModelResponse:
        """The V2 metadata, with what ``GET /v1/model`` tells: charset, sizes, limits."""
        answer: MetadataModelResponse = await super().metadata()
        served = self.served
        answer.parameters = Parameters(
            content_type=answer.parameters.content_type if answer.parameters else None,
            operations=list(OPERATIONS),
            glyphflow_model=served.model_id,
            kind=served.kind,
            source=served.source,
            charset=served.charset,
            latent_dim=served.latent_dim,
            glyph_shape=list(served.image_shape),
            classifier=served.classifier is not None,
            max_chars=self.limits.max_chars,
            max_batch=self.limits.max_batch,
            max_upload_bytes=self.limits.max_upload_bytes,
        )
        return answer

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        operation = _operation(payload)
        inputs: dict[str, RequestInput] = {}
        for inp in payload.inputs:
            if inp.name not in _INPUTS[operation]:
                raise RequestRefusedError(
                    f"{operation} takes the inputs {', '.join(_INPUTS[operation])} "
                    f"(got {inp.name!r})"
                )
            if inp.name in inputs:
                raise RequestRefusedError(f"input {inp.name!r} is given twice")
            inputs[inp.name] = inp
        handler: Callable[[dict[str, RequestInput]], Awaitable[list[ResponseOutput]]] = getattr(
            self, f"_{operation}"
        )
        try:
            outputs = await handler(inputs)
        except ApiError as err:
            raise RequestRefusedError(err.message, err.status) from None
        return InferenceResponse(
            model_name=self.name,
            model_version=self.version,
            id=payload.id,
            parameters=Parameters(operation=operation, glyphflow_model=self.served.model_id),
            outputs=outputs,
        )

    # ------------------------------------------------------------------ checks

    def _chars(self, text: str, *, spaces: bool) -> str:
        """The characters to draw, checked as ``/v1/generate`` checks them."""
        return operations.check_chars(self.served, self.limits, text, spaces=spaces)

    def _styles(self, inp: RequestInput) -> NDArray[np.float32]:
        served = self.served
        array = _tensor(inp, _NUMBER_TYPES, "FP32")
        if array.ndim == 1:
            array = array[None]
        if array.ndim != 2 or array.shape[1] != served.latent_dim or len(array) == 0:
            raise RequestRefusedError(
                f"styles has shape {list(inp.shape)}; this model's style vectors have "
                f"{served.latent_dim} values: give [B, {served.latent_dim}] "
                "(see GET /v2/models/glyphflow)"
            )
        if len(array) > self.limits.max_batch:
            raise RequestRefusedError(
                f"styles has {len(array):,} vectors, more than the "
                f"{self.limits.max_batch:,} allowed (limits.max_batch)"
            )
        try:
            styles = array.astype(np.float32)
        except (ValueError, TypeError):
            raise RequestRefusedError("styles must hold numbers") from None
        if not (np.isfinite(styles).all() and (np.abs(styles) <= MAX_STYLE_VALUE).all()):
            raise RequestRefusedError(
                f"styles values must be finite and within ±{MAX_STYLE_VALUE:g}"
            )
        return styles

    def _font(self, inputs: Mapping[str, RequestInput]) -> tuple[uploads.FontUpload, int]:
        elements = _bytes_elements(inputs["font"])
        if len(elements) != 1:
            raise RequestRefusedError(f"font must hold one font file (got {len(elements)})")
        font = uploads.read_font(elements[0], "font", self.limits)
        face_index = _scalar_int(inputs.get("face_index"), 0, 0, 65535)
        uploads.check_face(font, face_index)
        return font, face_index

    async def _encoded(self, inputs: Mapping[str, RequestInput]) -> Any:
        font, face_index = self._font(inputs)

        def work() -> Any:
            return operations.encode_upload(self.served, font, face_index)

        return await self._runner(work)

    def _style_ids(self, z: NDArray[np.float32]) -> ResponseOutput:
        from glyphflow.serving.served import style_id

        return _strings("style_ids", [style_id(self.served.model_id, row) for row in z])

    def _style_outputs(self, z: NDArray[np.float32]) -> list[ResponseOutput]:
        codes = np.asarray(z, dtype=np.float32).reshape(-1, self.served.latent_dim)
        return [_numbers("style", codes, "FP32"), self._style_ids(codes)]

    # ------------------------------------------------------------------ operations

    async def _generate(self, inputs: dict[str, RequestInput]) -> list[ResponseOutput]:
        served = self.served
        if "styles" not in inputs:
            raise RequestRefusedError("generate needs the input styles (FP32 [B, D])")
        z = self._styles(inputs["styles"])
        text = _text(inputs["chars"]) if "chars" in inputs else ""
        chars = self._chars(text or served.charset, spaces=True)

        def work() -> tuple[NDArray[np.uint8], NDArray[np.float32] | None]:
            images = served.draw(z, chars)
            if served.classifier is None:
                return images, None
            drawn = [i for i, c in enumerate(chars) if c != " "]
            text = "".join(chars[i] for i in drawn)
            confidence = np.zeros(images.shape[:2], dtype=np.float32)
            if drawn:
                for row, block in enumerate(images[:, drawn]):
                    confidence[row, drawn] = served.confidence(block, text)
            return images, confidence

        images, confidence = await self._runner(work)
        outputs = [
            _numbers("glyphs", images, "UINT8"),
            self._style_ids(z),
            _strings("chars", [chars]),
        ]
        if confidence is not None:
            outputs.append(_numbers("confidence", confidence, "FP32"))
        return outputs

    async def _encode(self, inputs: dict[str, RequestInput]) -> list[ResponseOutput]:
        if "font" not in inputs:
            raise RequestRefusedError("encode needs the input font (BYTES [1]: the font file)")
        encoded = await self._encoded(inputs)
        return [*self._style_outputs(encoded.z), _strings("observed", [encoded.observed])]

    async def _complete(self, inputs: dict[str, RequestInput]) -> list[ResponseOutput]:
        served = self.served
        keep = _flag(inputs.get("keep_observed"), True)
        if ("font" in inputs) == ("images" in inputs):
            raise RequestRefusedError(
                "complete needs either a partial font (font) or glyph images (images + chars)"
            )
        if "font" in inputs:
            if "chars" in inputs:
                raise RequestRefusedError(
                    "chars goes with images; a font brings its own characters"
                )
            encoded = await self._encoded(inputs)
            z = encoded.z
            observed = encoded.observed_glyphs()
        else:
            images = _tensor(inputs["images"], ("UINT8",), "UINT8 [K, H, W] glyphs")
            height, width = served.image_shape
            if images.ndim != 3 or images.shape[1:] != (height, width) or len(images) == 0:
                raise RequestRefusedError(
                    f"images has shape {list(images.shape)}; give [K, {height}, {width}] "
                    "glyphs of the model's size (uint8, ink 255 on 0)"
                )
            if images.dtype.kind not in "iu" or images.min() < 0 or images.max() > 255:
                raise RequestRefusedError("images must hold integers 0..255 (ink 255)")
            text = _text(inputs["chars"]) if "chars" in inputs else ""
            if len(text) != len(images):
                raise RequestRefusedError(
                    f"give one character per image in chars (got {len(images)} images and "
                    f"{len(text)} characters)"
                )
            chars = self._chars(text, spaces=False)
            stack = np.ascontiguousarray(images, dtype=np.uint8)
            z = await self._runner(served.encode_glyphs, stack, chars)
            observed = dict(zip(chars, stack, strict=True))
        drawn = await self._runner(served.complete, z, observed, keep)
        return [
            _numbers("glyphs", drawn, "UINT8"),
            _strings("chars", [served.charset]),
            *self._style_outputs(z),
        ]


def _operation(payload: InferenceRequest) -> str:
    """The operation a request names, or the one its inputs imply."""
    named = getattr(payload.parameters, "operation", None) if payload.parameters else None
    if named is not None:
        if named not in OPERATIONS:
            raise RequestRefusedError(
                f"parameters.operation is {named!r}; it is one of {', '.join(OPERATIONS)}"
            )
        return str(named)
    names = {inp.name for inp in payload.inputs}
    for name, operation in (("styles", "generate"), ("font", "encode"), ("images", "complete")):
        if name in names:
            return operation
    raise RequestRefusedError(
        "say what to do in parameters.operation (generate, encode or complete), or send "
        "styles (generate), font (encode) or images (complete)"
    )


# ---------------------------------------------------------------------------- metadata


def _input_metadata(served: ServedModel) -> list[MetadataTensor]:
    height, width = served.image_shape
    dim = served.latent_dim
    text = Parameters(content_type="str")
    return [
        MetadataTensor(name="styles", datatype="FP32", shape=[-1, dim]),
        MetadataTensor(name="chars", datatype="BYTES", shape=[1], parameters=text),
        MetadataTensor(
            name="font", datatype="BYTES", shape=[1], parameters=Parameters(content_type="base64")
        ),
        MetadataTensor(name="face_index", datatype="INT32", shape=[1]),
        MetadataTensor(name="images", datatype="UINT8", shape=[-1, height, width]),
        MetadataTensor(name="keep_observed", datatype="BOOL", shape=[1]),
    ]


def _output_metadata(served: ServedModel) -> list[MetadataTensor]:
    height, width = served.image_shape
    text = Parameters(content_type="str")
    outputs = [
        MetadataTensor(name="glyphs", datatype="UINT8", shape=[-1, -1, height, width]),
        MetadataTensor(name="style", datatype="FP32", shape=[1, served.latent_dim]),
        MetadataTensor(name="style_ids", datatype="BYTES", shape=[-1], parameters=text),
        MetadataTensor(name="chars", datatype="BYTES", shape=[1], parameters=text),
        MetadataTensor(name="observed", datatype="BYTES", shape=[1], parameters=text),
    ]
    if served.classifier is not None:
        outputs.append(MetadataTensor(name="confidence", datatype="FP32", shape=[-1, -1]))
    return outputs
