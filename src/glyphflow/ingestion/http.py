"""HTTP for ingestion: polite, bounded, resumable downloads and page fetches.

One :class:`HttpClient` per run, shared by every thread. It

- sends a clear User-Agent (``glyphflow/<version> (+https://github.com/glyphflow)``);
- keeps to a request rate per host (and a longer ``Crawl-delay`` from robots.txt);
- answers robots.txt questions for the web crawler (:meth:`HttpClient.allowed`);
- retries timeouts, dropped connections, 429 and 5xx with exponential backoff;
- streams downloads to a temporary file with a size cap and a deadline, hashing as it
  goes, and checks the byte count against Content-Length (a cut download is an error,
  never a short font);
- revalidates what it already holds: a conditional GET (If-None-Match /
  If-Modified-Since) and, when a server ignores those, a comparison of ETag or
  Last-Modified + Content-Length before reading the body, so a rerun downloads nothing
  it has.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
import urllib.robotparser
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import httpx

    from glyphflow.ingestion.config import HttpConfig

__all__ = ["Download", "DownloadError", "HttpClient", "Page", "same_content", "validator_of"]

_log = logging.getLogger(__name__)
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_CHUNK = 1 << 16
_MAX_DELAY_S = 60.0

T = TypeVar("T")


class DownloadError(Exception):
    """A request that did not give usable bytes; ``reason`` is a failure code."""

    def __init__(self, reason: str, message: str, gone: bool = False) -> None:
        super().__init__(message)
        self.reason = reason
        self.gone = gone  # the server says it does not exist (404, 410)


@dataclass(frozen=True)
class Page:
    url: str  # after redirects
    content_type: str
    text: str


@dataclass
class Download:
    """A finished download (``path`` is a temporary file), or ``not_modified``."""

    url: str
    validator: dict[str, Any] = field(default_factory=dict)
    not_modified: bool = False
    path: str | None = None
    sha256: str | None = None
    size: int = 0


def validator_of(headers: Mapping[str, str]) -> dict[str, Any]:
    """What identifies a response's content without reading it (ETag, date, length)."""
    out: dict[str, Any] = {}
    if headers.get("etag"):
        out["etag"] = headers["etag"]
    if headers.get("last-modified"):
        out["last_modified"] = headers["last-modified"]
    if headers.get("content-length", "").isdigit() and not headers.get("content-encoding"):
        out["size"] = int(headers["content-length"])
    return out


def same_content(new: Mapping[str, Any], known: Mapping[str, Any]) -> bool:
    """True when two validators prove the same content (an ETag, or date and size)."""
    if new.get("etag") and known.get("etag"):
        return bool(new["etag"] == known["etag"]) and new.get("size") == known.get("size")
    if new.get("last_modified") and new.get("size") is not None:
        return (new["last_modified"], new["size"]) == (
            known.get("last_modified"),
            known.get("size"),
        )
    return False


class _RateLimiter:
    """At most one request per ``interval`` seconds to each host, across threads."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next: dict[str, float] = {}
        self._host_interval: dict[str, float] = {}
        self._lock = threading.Lock()

    def set_interval(self, host: str, interval: float) -> None:
        with self._lock:
            self._host_interval[host] = max(self.interval, interval)

    def wait(self, host: str) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(host, now))
            self._next[host] = slot + self._host_interval.get(host, self.interval)
        if slot > now:
            time.sleep(slot - now)


class HttpClient:
    """A thread-safe client for one ingestion run (see the module docstring)."""

    def __init__(self, config: HttpConfig, temp_dir: str) -> None:
        self.config = config
        self.temp_dir = temp_dir
        self._httpx: httpx.Client | None = None
        self._client_lock = threading.Lock()
        self._limiter = _RateLimiter(1.0 / config.rate_per_host)
        self._robots: dict[str, urllib.robotparser.RobotFileParser] = {}
        self._robots_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self.requests = 0
        self.bytes_downloaded = 0

    @property
    def _client(self) -> httpx.Client:
        """The httpx client, made on first use (a run without HTTP never pays for TLS setup)."""
        with self._client_lock:
            if self._httpx is None:
                import httpx

                self._httpx = httpx.Client(
                    headers={"User-Agent": self.config.user_agent},
                    timeout=httpx.Timeout(self.config.timeout_s),
                    follow_redirects=True,
                    limits=httpx.Limits(max_connections=32, max_keepalive_connections=8),
                )
            return self._httpx

    def close(self) -> None:
        with self._client_lock:
            if self._httpx is not None:
                self._httpx.close()
                self._httpx = None

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ robots.txt

    def allowed(self, url: str) -> bool:
        """Whether robots.txt of ``url``'s host lets our User-Agent fetch it."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._robots_lock:
            parser = self._robots.get(origin)
            if parser is None:
                parser = self._read_robots(origin)
                self._robots[origin] = parser
        return parser.can_fetch(self.config.user_agent, url)

    def _read_robots(self, origin: str) -> urllib.robotparser.RobotFileParser:
        parser = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
        try:
            response = self._request(origin + "/robots.txt", retries=1)
        except DownloadError as err:
            _log.debug("no robots.txt at %s (%s): everything allowed", origin, err)
            parser.parse([])
            return parser
        status = response.status_code
        if status in (401, 403):  # as urllib.robotparser: forbidden means everything
            parser.parse(["User-agent: *", "Disallow: /"])
        elif status >= 400:  # no robots.txt: everything allowed
            parser.parse([])
        else:
            parser.parse(response.text[: 1 << 20].splitlines())
            delay = parser.crawl_delay(self.config.user_agent)
            if delay:
                self._limiter.set_interval(urlsplit(origin).netloc, float(delay))
        return parser

    # ------------------------------------------------------------------ requests

    def _count(self, requests: int = 0, nbytes: int = 0) -> None:
        with self._stats_lock:
            self.requests += requests
            self.bytes_downloaded += nbytes

    def _retrying(self, url: str, action: Callable[[], T], retries: int | None = None) -> T:
        """Run ``action`` (one request) until it succeeds, with backoff between attempts.

        Timeouts, dropped connections, 429/5xx answers and cut bodies are retried; any
        other :class:`DownloadError` ends at once.
        """
        import httpx

        attempts = (self.config.retries if retries is None else retries) + 1
        last = DownloadError("download_failed", f"no response from {url}")
        retry_after: str | None = None
        for attempt in range(attempts):
            if attempt:
                _log.debug("retrying %s after: %s", url, last)
                self._backoff(attempt, retry_after)
                retry_after = None
            self._limiter.wait(urlsplit(url).netloc)
            self._count(requests=1)
            try:
                return action()
            except _RetryableError as err:
                last, retry_after = err.failure, err.retry_after
            except httpx.TimeoutException:
                last = DownloadError("timeout", f"timed out after {self.config.timeout_s}s: {url}")
            except httpx.RemoteProtocolError as err:
                last = DownloadError("truncated_download", f"connection cut: {err} ({url})")
            except httpx.HTTPError as err:
                last = DownloadError("download_failed", f"{type(err).__name__}: {err} ({url})")
        raise last

    def _backoff(self, attempt: int, retry_after: str | None = None) -> None:
        delay = self.config.backoff_s * (2 ** (attempt - 1))
        if retry_after and retry_after.strip().isdigit():
            delay = max(delay, float(retry_after))
        time.sleep(min(delay, _MAX_DELAY_S))

    def _request(self, url: str, retries: int | None = None) -> httpx.Response:
        """A small GET read whole (robots.txt); any status comes back."""

        def attempt() -> httpx.Response:
            response = self._client.get(url)
            if response.status_code in _RETRY_STATUS:
                raise _RetryableError(_status_failure(response, url), response)
            return response

        return self._retrying(url, attempt, retries)

    def get_page(self, url: str, max_bytes: int) -> Page:
        """A web page's text (at most ``max_bytes``); raises :class:`DownloadError`."""

        def attempt() -> Page:
            with self._client.stream("GET", url) as response:
                _check_status(response, url)
                content_type = response.headers.get("content-type", "").split(";")[0].strip()
                chunks: list[bytes] = []
                total = 0
                for chunk in response.iter_bytes(_CHUNK):
                    total += len(chunk)
                    if total > max_bytes:
                        raise DownloadError(
                            "too_large", f"page over {max_bytes} bytes (max_page_bytes): {url}"
                        )
                    chunks.append(chunk)
                self._count(nbytes=response.num_bytes_downloaded)
                encoding = response.encoding or "utf-8"
                text = b"".join(chunks).decode(encoding, errors="replace")
                return Page(str(response.url), content_type, text)

        return self._retrying(url, attempt)

    @contextmanager
    def download(
        self, url: str, max_bytes: int, known: Mapping[str, Any] | None = None
    ) -> Iterator[Download]:
        """Stream ``url`` to a temporary file, or report ``not_modified`` if ``known`` holds.

        ``known`` is the validator of the copy already held (see :func:`validator_of`).
        The temporary file is removed when the block ends.
        """
        headers: dict[str, str] = {}
        if known and known.get("etag"):
            headers["If-None-Match"] = str(known["etag"])
        elif known and known.get("last_modified"):
            headers["If-Modified-Since"] = str(known["last_modified"])
        result = self._retrying(url, lambda: self._download_attempt(url, max_bytes, headers, known))
        try:
            yield result
        finally:
            if result.path and os.path.exists(result.path):
                os.remove(result.path)

    def _download_attempt(
        self,
        url: str,
        max_bytes: int,
        headers: Mapping[str, str],
        known: Mapping[str, Any] | None,
    ) -> Download:
        fd, path = tempfile.mkstemp(prefix="download-", suffix=".part", dir=self.temp_dir)
        done = False
        try:
            with (
                os.fdopen(fd, "wb") as sink,
                self._client.stream("GET", url, headers=dict(headers)) as response,
            ):
                if response.status_code == 304 and known:
                    return Download(url, dict(known), not_modified=True)
                _check_status(response, url)
                validator = validator_of(response.headers)
                if known and same_content(validator, known):
                    return Download(url, validator, not_modified=True)
                declared = _content_length(response)
                if declared is not None and declared > max_bytes:
                    raise DownloadError(
                        "too_large",
                        f"{url} is {declared} bytes, over the limit of {max_bytes} "
                        "(limits.max_download_bytes)",
                    )
                digest = hashlib.sha256()
                size = 0
                deadline = time.monotonic() + self.config.max_seconds
                for chunk in response.iter_bytes(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise DownloadError(
                            "too_large",
                            f"{url} sent more than {max_bytes} bytes (limits.max_download_bytes)",
                        )
                    if time.monotonic() > deadline:
                        raise DownloadError(
                            "timeout",
                            f"{url} took longer than {self.config.max_seconds}s (http.max_seconds)",
                        )
                    digest.update(chunk)
                    sink.write(chunk)
                received = response.num_bytes_downloaded
                self._count(nbytes=received)
                if declared is not None and received != declared:
                    raise _RetryableError(
                        DownloadError(
                            "truncated_download",
                            f"got {received} of {declared} bytes, connection cut ({url})",
                        )
                    )
            done = True
            return Download(url, validator, path=path, sha256=digest.hexdigest(), size=size)
        finally:
            if not done and os.path.exists(path):
                os.remove(path)


class _RetryableError(Exception):
    """Raised inside an attempt: this failure may pass; try again."""

    def __init__(self, failure: DownloadError, response: httpx.Response | None = None) -> None:
        super().__init__(str(failure))
        self.failure = failure
        self.retry_after = response.headers.get("retry-after") if response is not None else None


def _check_status(response: httpx.Response, url: str) -> None:
    if response.status_code in _RETRY_STATUS:
        raise _RetryableError(_status_failure(response, url), response)
    if response.status_code >= 400:
        raise _status_failure(response, url)


def _content_length(response: httpx.Response) -> int | None:
    raw = response.headers.get("content-length", "")
    return int(raw) if raw.isdigit() else None


def _status_failure(response: httpx.Response, url: str) -> DownloadError:
    phrase = response.reason_phrase or ""
    return DownloadError(
        "http_error",
        f"HTTP {response.status_code} {phrase} for {url}".replace("  ", " "),
        gone=response.status_code in (404, 410),
    )
