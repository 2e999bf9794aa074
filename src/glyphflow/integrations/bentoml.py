"""BentoML: a service that packages a glyphflow style model with its render settings.

Two halves, each a thin layer over glyphflow's serving API:

- :func:`import_model` (and ``python -m glyphflow.integrations.bentoml import URI``) puts a
  glyphflow model, from the registry (``models:/glyphflow-style@champion``), a run or a
  bundle path, into BentoML's model store as ``model.pt`` with what a deployment needs to
  know without loading it in the metadata: the weights' id, the charset, glyph shape,
  latent size and the render settings uploads must go through.
- :class:`GlyphflowService`, a ``@bentoml.service`` whose model is a reference to that
  stored model, so ``bentoml serve`` answers with it and ``bentoml build`` packs it into a
  Bento. Its APIs call the same :class:`~glyphflow.serving.served.ServedModel` methods,
  upload checks and answer builders (:mod:`glyphflow.serving.operations`) as
  ``glyphflow serve``, so both give the same glyphs, styles and refusals.

BentoML is imported here only: nothing else in glyphflow imports this module.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import bentoml
from pydantic import Field

from glyphflow.core.errors import GlyphflowError, UsageError
from glyphflow.serving import operations, uploads
from glyphflow.serving.config import LimitsConfig, ServingConfig
from glyphflow.serving.errors import ApiError
from glyphflow.serving.schemas import (
    EncodeResponse,
    GlyphArrays,
    ModelInfo,
    SampleResponse,
    StyleVector,
)
from glyphflow.serving.served import ServedModel, style_id

__all__ = [
    "BUNDLE",
    "DEFAULT_NAME",
    "MODEL_ENV",
    "SETTINGS_ENV",
    "GlyphflowService",
    "import_model",
    "main",
]

#: The BentoML model name ``import_model`` uses unless told otherwise.
DEFAULT_NAME = "glyphflow-style"
#: The glyphflow bundle's file name inside the stored BentoML model.
BUNDLE = "model.pt"
#: Which stored model the service loads (a BentoML tag; default ``glyphflow-style:latest``).
MODEL_ENV = "GLYPHFLOW_BENTO_MODEL"
#: Serving settings as JSON, in ``glyphflow serve``'s config shape; ``limits`` and
#: ``torch_threads`` apply (the model comes from the store, host and port from BentoML).
SETTINGS_ENV = "GLYPHFLOW_BENTO_SETTINGS"


# ---------------------------------------------------------------------------- import


def _load_glyphflow_model(uri: str, tracking_uri: str | None) -> Any:
    """A glyphflow model by registry/run URI (needs glyphflow[train]) or bundle path/URL."""
    if uri.startswith(("models:/", "runs:/", "mlflow-artifacts:/")):
        try:
            from glyphflow.tracking.registry import load_model
        except ImportError:
            raise UsageError(
                f"{uri} is an MLflow URI; loading it needs glyphflow[train] (mlflow), or "
                "give the bundle's path (workdir/font-style/model.pt)"
            ) from None
        return load_model(uri, tracking_uri=tracking_uri)
    from glyphflow.models import load

    return load(uri)


def import_model(
    uri: str, name: str = DEFAULT_NAME, tracking_uri: str | None = None
) -> bentoml.Model:
    """Save the glyphflow model at ``uri`` into BentoML's model store as ``name``.

    The stored model holds the bundle (``model.pt``) and, as metadata, the weights' id,
    kind, charset, glyph shape, latent size, render settings and the source URI; each
    import is a new version, and ``name:latest`` is the last one.
    """
    from glyphflow import models

    model = _load_glyphflow_model(uri, tracking_uri)
    with bentoml.models.create(name, labels={"framework": "glyphflow"}) as stored:
        # the bundle first: ServedModel below tunes the decoder's memory layout in place
        models.save(model, stored.path_of(BUNDLE))
        served = ServedModel(model, source=uri)
        stored.info.metadata.update(
            {
                "glyphflow_model_id": served.model_id,
                "kind": served.kind,
                "charset": served.charset,
                "image_shape": list(served.image_shape),
                "latent_dim": served.latent_dim,
                "render": served.render.model_dump(mode="json"),
                "source": uri,
            }
        )
        stored.info.labels["kind"] = served.kind
    return bentoml.models.get(stored.tag)  # the stored copy (``stored`` was a draft)


# ---------------------------------------------------------------------------- service


def _settings() -> ServingConfig:
    raw = os.environ.get(SETTINGS_ENV)
    if not raw:
        return ServingConfig()
    try:
        return ServingConfig.model_validate_json(raw)
    except ValueError as err:
        raise UsageError(f"{SETTINGS_ENV} is not a valid serving config: {err}") from None


def _refused(err: ApiError) -> Any:
    """A refusal as ``glyphflow serve`` answers it: the status and {detail, reason}."""
    from starlette.responses import JSONResponse

    return JSONResponse({"detail": err.message, "reason": err.reason}, status_code=err.status)


@bentoml.service(name="glyphflow", workers=1, traffic={"timeout": 120})
class GlyphflowService:
    """Draw, encode, complete and sample styles with a glyphflow model from the model store."""

    stored = bentoml.models.BentoModel(os.environ.get(MODEL_ENV, f"{DEFAULT_NAME}:latest"))

    def __init__(self) -> None:
        from glyphflow import models

        settings = _settings()
        self.limits: LimitsConfig = settings.limits
        metadata = self.stored.info.metadata
        model = models.load(self.stored.path_of(BUNDLE))
        self.served = ServedModel(
            model,
            source=f"bentoml:{self.stored.tag} ({metadata.get('source', 'unknown source')})",
            torch_threads=settings.torch_threads,
        )
        expected = metadata.get("glyphflow_model_id")
        if expected is not None and expected != self.served.model_id:
            raise GlyphflowError(
                f"BentoML model {self.stored.tag} holds weights {self.served.model_id}, "
                f"but its metadata says {expected}: the store is damaged; import it again"
            )

    @bentoml.api
    def model(self) -> ModelInfo:
        """What the served model is and accepts (as GET /v1/model)."""
        return operations.model_info(self.served, self.limits)

    @bentoml.api
    def generate(
        self,
        styles: Annotated[list[StyleVector], Field(min_length=1, max_length=1024)],
        chars: Annotated[str | None, Field(max_length=65536)] = None,
    ) -> GlyphArrays:
        """Draw characters (default: the charset) in each style: /v1/generate's json."""
        try:
            text = operations.check_chars(self.served, self.limits, chars, spaces=True)
            z = operations.check_styles(self.served, self.limits, styles)
        except ApiError as err:
            return _refused(err)
        return operations.glyph_arrays(self.served, self.served.draw(z, text), z, text)

    @bentoml.api
    def sample(
        self,
        n: Annotated[int, Field(ge=1, le=1024)] = 1,
        seed: Annotated[int | None, Field(ge=0, le=2**63 - 1)] = None,
    ) -> SampleResponse:
        """Style vectors from the model's prior (reproducible with a seed), as /v1/sample."""
        if n > self.limits.max_batch:
            return _refused(
                ApiError(
                    422,
                    "too_many_styles",
                    f"n is {n}, more than the {self.limits.max_batch} allowed (limits.max_batch)",
                )
            )
        z = self.served.sample(n, seed)
        return SampleResponse(
            model=self.served.model_id,
            styles=[[float(v) for v in row] for row in z],
            style_ids=[style_id(self.served.model_id, row) for row in z],
        )

    @bentoml.api
    def encode(
        self, file: Path, face_index: Annotated[int, Field(ge=0, le=65535)] = 0
    ) -> EncodeResponse:
        """The style of an uploaded font file (or a .zip holding one), as /v1/encode."""
        try:
            font = self._font(file, face_index)
            encoded = operations.encode_upload(self.served, font, face_index)
        except ApiError as err:
            return _refused(err)
        return operations.encode_answer(self.served, font, face_index, encoded)

    @bentoml.api
    def complete(
        self,
        font: Path,
        face_index: Annotated[int, Field(ge=0, le=65535)] = 0,
        keep_observed: bool = True,
    ) -> GlyphArrays:
        """The whole charset in the style of a partial font, as /v1/complete's json."""
        try:
            upload = self._font(font, face_index)
            encoded = operations.encode_upload(self.served, upload, face_index)
        except ApiError as err:
            return _refused(err)
        drawn = self.served.complete(encoded.z, encoded.observed_glyphs(), keep_observed)
        return operations.glyph_arrays(self.served, drawn, encoded.z[None], self.served.charset)

    def _font(self, path: Path, face_index: int) -> uploads.FontUpload:
        """The upload vetted as ``glyphflow serve`` vets it, under its client's file name."""
        name = _client_name(path)
        if path.stat().st_size > self.limits.max_upload_bytes:
            raise ApiError(
                413,
                "too_large",
                f"{name or 'the upload'} is more than the {self.limits.max_upload_bytes:,} "
                "bytes allowed (limits.max_upload_bytes)",
            )
        font = uploads.read_font(path.read_bytes(), name, self.limits)
        uploads.check_face(font, face_index)
        return font


#: BentoML saves an upload as ``tempfile.NamedTemporaryFile(suffix=CLIENT_NAME)``: "tmp",
#: eight random characters, then the client's file name (the integration test checks it).
_UPLOAD_NAME = re.compile(r"tmp[a-z0-9_]{8}(?P<name>.+)")


def _client_name(path: Path) -> str:
    """The file name the client sent (answers and messages name it, as glyphflow serve's)."""
    found = _UPLOAD_NAME.fullmatch(path.name)
    return found["name"] if found else ""


# ---------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """``python -m glyphflow.integrations.bentoml import MODEL_URI [--name NAME]``."""
    parser = argparse.ArgumentParser(
        prog="python -m glyphflow.integrations.bentoml",
        description="Put a glyphflow model into BentoML's model store for GlyphflowService.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    importing = commands.add_parser(
        "import", help="store a model (models:/NAME@ALIAS, models:/NAME/3, runs:/ID/model, path)"
    )
    importing.add_argument("uri", help="the glyphflow model: registry/run URI or bundle path")
    importing.add_argument("--name", default=DEFAULT_NAME, help="BentoML model name")
    importing.add_argument(
        "--tracking-uri", default=None, help="MLflow tracking URI (default: MLflow's)"
    )
    args = parser.parse_args(argv)
    try:
        stored = import_model(args.uri, args.name, args.tracking_uri)
    except GlyphflowError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    metadata = stored.info.metadata
    print(
        f"{stored.tag}: glyphflow {metadata['kind']} model {metadata['glyphflow_model_id']}, "
        f"{len(metadata['charset'])} characters at "
        f"{metadata['image_shape'][0]}x{metadata['image_shape'][1]}, from {args.uri}"
    )
    print(
        f"serve it: {MODEL_ENV}={stored.tag} bentoml serve "
        "glyphflow.integrations.bentoml:GlyphflowService"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
