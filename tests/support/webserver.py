"""A real HTTP server on 127.0.0.1 for download and crawl tests, with a request log.

Routes are set per path: a body, a status, a delay before answering (past a client's
timeout), a Content-Length larger than the body (a cut download), a gate the handler
waits on (to hold a client mid-run), and validators (Last-Modified, ETag) honoured in
conditional requests with 304. Every request is logged with its method, path, status
and headers, so tests can count what was really downloaded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

__all__ = ["LAST_MODIFIED", "Route", "WebServer", "serve"]

LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT"


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hanging up mid-answer is what these tests do


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/octet-stream"
    delay_s: float = 0.0
    declared_length: int | None = None  # claim more than the body: the client sees a cut
    last_modified: str | None = LAST_MODIFIED
    etag: str | None = None
    gate: threading.Event | None = None  # wait for it before answering


@dataclass
class Request:
    method: str
    path: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    completed: bool = False  # the whole answer was sent


class WebServer:
    """A threaded HTTP server; ``url(path)`` gives absolute URLs of its routes."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.log: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                server._answer(self)

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: bytes = b"", **options: object) -> str:
        self.routes[path] = Route(body=body, **options)  # type: ignore[arg-type]
        return self.url(path)

    def page(self, path: str, html: str) -> str:
        return self.add(path, html.encode(), content_type="text/html; charset=utf-8")

    def downloads(self, path: str) -> int:
        """How many times ``path`` was answered with a full 200 body, sent to the end."""
        with self._lock:
            return sum(1 for r in self.log if r.path == path and r.status == 200 and r.completed)

    def requests_for(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.log if r.path == path]

    def clear_log(self) -> None:
        with self._lock:
            self.log.clear()

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        path = urlsplit(handler.path).path
        route = self.routes.get(path)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        status = route.status if route else 404
        if route is not None and status == 200:
            # RFC 9110: If-None-Match, when sent, decides alone.
            if "if-none-match" in headers:
                if route.etag and headers["if-none-match"] == route.etag:
                    status = 304
            elif route.last_modified and headers.get("if-modified-since") == route.last_modified:
                status = 304
        request = Request("GET", path, status, headers)
        with self._lock:
            self.log.append(request)
        if route is not None and route.gate is not None:
            route.gate.wait(60)
        if route is not None and route.delay_s:
            time.sleep(route.delay_s)
        body = route.body if route is not None and status == 200 else b""
        if route is None:
            body = b"not found"
        try:
            handler.send_response(status)
            if status == 304:
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            content_type = route.content_type if route else "text/plain"
            handler.send_header("Content-Type", content_type)
            length = route.declared_length if route and route.declared_length else len(body)
            handler.send_header("Content-Length", str(length))
            if route is not None and route.last_modified:
                handler.send_header("Last-Modified", route.last_modified)
            if route is not None and route.etag:
                handler.send_header("ETag", route.etag)
            if route is not None and route.declared_length:
                handler.send_header("Connection", "close")
                handler.close_connection = True
            handler.end_headers()
            handler.wfile.write(body)
            handler.wfile.flush()
            request.completed = not (route is not None and route.declared_length)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True

    def start(self) -> WebServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        for route in self.routes.values():
            if route.gate is not None:
                route.gate.set()
        self._httpd.shutdown()
        self._httpd.server_close()


@contextmanager
def serve() -> Iterator[WebServer]:
    server = WebServer().start()
    try:
        yield server
    finally:
        server.stop()
