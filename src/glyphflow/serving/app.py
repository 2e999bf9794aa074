"""The FastAPI application: routes, the page, limits, errors and metrics, wired together.

``create_app(config)`` loads the model named in the config; ``create_app(config,
model=...)`` serves a model already in memory (tests, notebooks). Either way one app holds
one :class:`~glyphflow.serving.served.ServedModel` and its own Prometheus registry, so
several apps can live in one process.

What wraps every request, outermost first:

- :class:`BodyLimit`: refuses a body over ``limits.max_upload_bytes`` with 413, from the
  Content-Length header before reading, or while reading when there is none, so an
  oversized upload is never spooled whole;
- :class:`Metrics`: request count and latency per route template and status;
- CORS for ``cors_origins`` (none: same origin only);
- error handlers: every refusal is ``{"detail": message, "reason": code}``; an unexpected
  error is logged with its traceback and answered 500 without internals.

Model work runs in worker threads through :class:`Runner`: at most
``limits.max_concurrency`` at once, each bounded by ``limits.request_timeout_s`` (a late
answer is a 503; the thread finishes its step and its result is dropped).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from glyphflow import __version__
from glyphflow.core.errors import GlyphflowError, MissingDependencyError
from glyphflow.serving.config import ServingConfig
from glyphflow.serving.errors import ApiError

if TYPE_CHECKING:
    from fastapi import FastAPI

    from glyphflow.serving.served import ServedModel

__all__ = ["STATIC_DIR", "BodyLimit", "Metrics", "Runner", "create_app"]

_log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")

T = TypeVar("T")

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _error_body(status: int, reason: str, message: str) -> tuple[dict[str, Any], bytes]:
    body = json.dumps({"detail": message, "reason": reason}).encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    return start, body


class _BodyTooLargeError(Exception):
    pass


class BodyLimit:
    """Pure ASGI middleware: a request body over ``limit`` bytes gets a 413."""

    def __init__(
        self, app: ASGIApp, limit: int, on_refuse: Callable[[], None] | None = None
    ) -> None:
        self.app = app
        self.limit = limit
        self.on_refuse = on_refuse

    def _message(self, size: int | None) -> str:
        got = f"{size:,} bytes" if size is not None else "more"
        return (
            f"the request body is {got}, more than the {self.limit:,} bytes allowed "
            "(limits.max_upload_bytes)"
        )

    async def _refuse(self, send: Send, size: int | None) -> None:
        if self.on_refuse is not None:
            self.on_refuse()
        start, body = _error_body(413, "too_large", self._message(size))
        await send(start)
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", ()):
            if key == b"content-length":
                try:
                    size = int(value)
                except ValueError:
                    size = None
                if size is not None and size > self.limit:
                    await self._refuse(send, size)
                    return
        state = {"received": 0, "exceeded": False, "started": False}

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > self.limit:
                    state["exceeded"] = True
                    raise _BodyTooLargeError
            return message

        async def guarded_send(message: Message) -> None:
            if state["exceeded"]:
                return  # whatever the app answers to a cut body, the client gets the 413
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _BodyTooLargeError:
            pass
        except Exception:
            if not state["exceeded"]:
                raise
        if state["exceeded"] and not state["started"]:
            await self._refuse(send, None)


class Metrics:
    """Pure ASGI middleware: Prometheus request count and latency by route and status."""

    def __init__(self, app: ASGIApp, registry: Any) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        self.app = app
        self.requests = Counter(
            "glyphflow_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "glyphflow_http_request_seconds",
            "Time to answer a request, by route template.",
            ["route"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
        )
        self.inflight = Gauge(
            "glyphflow_http_requests_in_flight", "Requests being answered.", registry=registry
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = {"code": 500}

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            await send(message)

        started = time.perf_counter()
        self.inflight.inc()
        try:
            await self.app(scope, receive, recording_send)
        finally:
            self.inflight.dec()
            route = scope.get("route")
            template = getattr(route, "path", None) or (
                "/static" if scope.get("path", "").startswith("/static/") else "unmatched"
            )
            self.latency.labels(template).observe(time.perf_counter() - started)
            self.requests.labels(template, scope.get("method", ""), str(status["code"])).inc()


class Runner:
    """Runs blocking model work in threads: bounded in number and in time."""

    def __init__(self, concurrency: int, timeout_s: float) -> None:
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self._limiter: Any = None

    async def __call__(self, func: Callable[..., T], *args: Any) -> T:
        import anyio
        import anyio.to_thread

        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.concurrency)
        try:
            with anyio.fail_after(self.timeout_s):
                result: T = await anyio.to_thread.run_sync(
                    func, *args, limiter=self._limiter, abandon_on_cancel=True
                )
        except TimeoutError:
            raise ApiError(
                503,
                "timeout",
                f"the request took longer than {self.timeout_s:g} s "
                "(limits.request_timeout_s); try fewer characters or styles",
            ) from None
        return result


def create_app(config: ServingConfig | None = None, model: Any = None) -> FastAPI:
    """The service for ``config`` (defaults if None), loading ``config.model`` unless
    ``model`` (a style model or :class:`ServedModel`) is given."""
    try:
        from fastapi import FastAPI
    except ImportError:
        raise MissingDependencyError("the HTTP service", "serve", "fastapi") from None
    from fastapi.exceptions import RequestValidationError
    from fastapi.middleware.cors import CORSMiddleware
    from fastapi.responses import JSONResponse
    from prometheus_client import CollectorRegistry, Counter, Info
    from starlette.requests import Request

    from glyphflow.serving import routes
    from glyphflow.serving.openapi import narrow_schema
    from glyphflow.serving.served import ServedModel, load_served_model

    config = config or ServingConfig()
    served: ServedModel
    if model is None:
        served = load_served_model(
            config.model, config.classifier, config.tracking_uri, config.torch_threads
        )
    elif isinstance(model, ServedModel):
        served = model
    else:
        served = ServedModel(model, source="(in memory)", torch_threads=config.torch_threads)

    app = FastAPI(
        title="glyphflow",
        version=__version__,
        summary="Explore, complete and export the typeface styles a glyphflow model learned.",
        docs_url=None,  # Swagger UI loads scripts from a CDN; the schema is at /openapi.json
        redoc_url=None,
    )
    registry = CollectorRegistry()
    Info("glyphflow_model", "The served model.", registry=registry).info(
        {"model": served.model_id, "kind": served.kind, "source": served.source}
    )
    rejected = Counter(
        "glyphflow_rejected_requests",
        "Requests refused with a 4xx/5xx answer, by reason code.",
        ["reason"],
        registry=registry,
    )
    app.state.served = served
    app.state.config = config
    app.state.runner = Runner(config.limits.max_concurrency, config.limits.request_timeout_s)
    app.state.registry = registry
    app.state.fonts = routes.FontCache(config.export.cache_size)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, err: ApiError) -> JSONResponse:
        rejected.labels(err.reason).inc()
        _log.info(
            "%s %s -> %d %s: %s", request.method, request.url.path, err.status, err.reason, err
        )
        return JSONResponse({"detail": err.message, "reason": err.reason}, status_code=err.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        rejected.labels("invalid_request").inc()
        problems = []
        for item in err.errors():
            where = ".".join(str(p) for p in item.get("loc", ()))
            got = item.get("input")
            shown = "" if isinstance(got, (dict, list)) or got is None else f" (got {got!r:.60})"
            problems.append(f"{where}: {item.get('msg', 'invalid')}{shown}")
        return JSONResponse(
            {"detail": "; ".join(problems) or "invalid request", "reason": "invalid_request"},
            status_code=422,
        )

    @app.exception_handler(MissingDependencyError)
    async def _missing(request: Request, err: MissingDependencyError) -> JSONResponse:
        return JSONResponse({"detail": str(err), "reason": "missing_dependency"}, status_code=501)

    @app.exception_handler(GlyphflowError)
    async def _glyphflow(request: Request, err: GlyphflowError) -> JSONResponse:
        _log.exception("%s %s failed", request.method, request.url.path)
        return JSONResponse({"detail": str(err), "reason": "failed"}, status_code=500)

    @app.exception_handler(Exception)
    async def _internal(request: Request, err: Exception) -> JSONResponse:
        _log.error("%s %s failed", request.method, request.url.path, exc_info=err)
        return JSONResponse(
            {
                "detail": f"internal error ({type(err).__name__}); see the server log",
                "reason": "internal",
            },
            status_code=500,
        )

    app.include_router(routes.api)
    app.include_router(routes.service)
    if config.page:
        from fastapi.staticfiles import StaticFiles

        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
        app.include_router(routes.page)

    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=config.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["*"],
            expose_headers=["Content-Disposition", *routes.EXPOSED_HEADERS],
        )
    generic_openapi = app.openapi

    def model_openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = narrow_schema(
                generic_openapi(), served.charset, served.latent_dim, config.limits
            )
        return app.openapi_schema

    app.openapi = model_openapi  # type: ignore[method-assign]
    app.add_middleware(Metrics, registry=registry)
    app.add_middleware(
        BodyLimit,
        limit=config.limits.max_upload_bytes,
        on_refuse=rejected.labels("too_large").inc,
    )
    return app


def app_from_environment() -> FastAPI:
    """Factory for uvicorn's multi-process mode: the config comes as JSON in
    ``GLYPHFLOW_SERVING_CONFIG`` (set by :func:`glyphflow.serving.stage.run`)."""
    import os

    raw = os.environ.get("GLYPHFLOW_SERVING_CONFIG")
    config = ServingConfig.model_validate_json(raw) if raw else ServingConfig()
    return create_app(config)
