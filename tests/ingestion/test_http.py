"""The ingestion HTTP client against a real server: retries, limits, robots, revalidation."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from glyphflow.ingestion.config import HttpConfig
from glyphflow.ingestion.http import DownloadError, HttpClient, same_content, validator_of
from tests.support.ingestion import FAST_HTTP
from tests.support.webserver import WebServer


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpClient]:
    """One client for the module (TLS setup is slow); each test's server is a new host."""
    folder = tmp_path_factory.mktemp("downloads")
    with HttpClient(HttpConfig.model_validate(FAST_HTTP), str(folder)) as http:
        yield http


@pytest.fixture
def client(shared: HttpClient, tmp_path: Path) -> HttpClient:
    shared.temp_dir = str(tmp_path)
    return shared


def test_download_streams_to_a_temporary_file_it_removes(
    client: HttpClient, web: WebServer, tmp_path: Path
) -> None:
    body = bytes(range(256)) * 1000
    url = web.add("/blob.bin", body)
    with client.download(url, max_bytes=1 << 20) as download:
        assert download.path is not None and Path(download.path).parent == tmp_path
        assert Path(download.path).read_bytes() == body
        assert download.size == len(body)
        assert download.validator == {
            "last_modified": web.routes["/blob.bin"].last_modified,
            "size": len(body),
        }
        path = download.path
    assert not Path(path).exists()
    assert list(tmp_path.iterdir()) == []


def test_user_agent_and_conditional_revalidation(client: HttpClient, web: WebServer) -> None:
    url = web.add("/f.ttf", b"font bytes", etag='"v1"')
    with client.download(url, 1 << 20) as first:
        known = first.validator
    assert known["etag"] == '"v1"'
    with client.download(url, 1 << 20, known) as second:
        assert second.not_modified and second.path is None
    statuses = [r.status for r in web.requests_for("/f.ttf")]
    assert statuses == [200, 304]
    assert all(r.headers["user-agent"].startswith("glyphflow/") for r in web.log)
    web.routes["/f.ttf"].etag = '"v2"'  # changed on the server: downloaded again
    with client.download(url, 1 << 20, known) as third:
        assert not third.not_modified and third.validator["etag"] == '"v2"'


def test_server_ignoring_conditionals_is_not_downloaded_again(
    client: HttpClient, web: WebServer
) -> None:
    url = web.add("/f.ttf", b"same bytes", last_modified=None, etag='"e"')
    known = {"etag": '"e"', "size": len(b"same bytes")}
    web.routes["/f.ttf"].etag = '"e"'
    # The server answers 200 (it ignores If-None-Match here: we send a different tag),
    # but ETag and size prove the content: the body is not read.
    with client.download(url, 1 << 20, {**known, "etag": '"e"'}) as download:
        assert download.not_modified
    assert same_content({"etag": '"e"', "size": 3}, {"etag": '"e"', "size": 3})
    assert not same_content({"size": 3}, {"size": 3})  # size alone proves nothing


def test_404_is_final_and_503_is_retried(client: HttpClient, web: WebServer) -> None:
    with pytest.raises(DownloadError) as err, client.download(web.url("/missing"), 1 << 20):
        pass
    assert err.value.reason == "http_error" and "404" in str(err.value)
    assert len(web.requests_for("/missing")) == 1
    url = web.add("/busy", b"x", status=503)
    with pytest.raises(DownloadError) as err, client.download(url, 1 << 20):
        pass
    assert "503" in str(err.value)
    assert len(web.requests_for("/busy")) == 2  # FAST_HTTP: one retry


def test_timeout_and_cut_download(client: HttpClient, web: WebServer) -> None:
    slow = web.add("/slow", b"x", delay_s=1.5)
    cut = web.add("/cut", b"x" * 100, declared_length=5000)
    with pytest.raises(DownloadError) as err, client.download(slow, 1 << 20):
        pass
    assert err.value.reason == "timeout"
    with pytest.raises(DownloadError) as err, client.download(cut, 1 << 20):
        pass
    assert err.value.reason == "truncated_download"


def test_size_limit_from_header_and_from_the_stream(client: HttpClient, web: WebServer) -> None:
    url = web.add("/big", bytes(5000))
    with pytest.raises(DownloadError) as err, client.download(url, 4999):
        pass
    assert err.value.reason == "too_large"
    assert len(web.requests_for("/big")) == 1  # a limit is not retried


def test_robots_txt(client: HttpClient, web: WebServer) -> None:
    web.add("/robots.txt", b"User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    assert client.allowed(web.url("/fonts/a.ttf"))
    assert not client.allowed(web.url("/private/a.ttf"))
    assert len(web.requests_for("/robots.txt")) == 1  # read once per host


def test_robots_forbidden_means_nothing_allowed(client: HttpClient, web: WebServer) -> None:
    web.add("/robots.txt", b"no", status=403)
    assert not client.allowed(web.url("/anything.ttf"))


def test_missing_robots_means_everything_allowed(client: HttpClient, web: WebServer) -> None:
    assert client.allowed(web.url("/anything.ttf"))


def test_rate_limit_per_host(tmp_path: Path, web: WebServer) -> None:
    config = HttpConfig.model_validate({**FAST_HTTP, "rate_per_host": 10})
    url = web.add("/r", b"x")
    start = time.monotonic()
    with HttpClient(config, str(tmp_path)) as http:
        for _ in range(5):
            with http.download(url, 100):
                pass
    assert time.monotonic() - start >= 0.4  # 5 requests at 10/s: at least 4 gaps of 0.1 s


def test_crawl_delay_from_robots_slows_down(tmp_path: Path, web: WebServer) -> None:
    web.add("/robots.txt", b"User-agent: *\nCrawl-delay: 1\n", content_type="text/plain")
    url = web.add("/r", b"x")
    with HttpClient(HttpConfig.model_validate(FAST_HTTP), str(tmp_path)) as http:
        assert http.allowed(url)
        start = time.monotonic()
        for _ in range(2):
            with http.download(url, 100):
                pass
    assert time.monotonic() - start >= 0.95


def test_validator_of_headers() -> None:
    headers = {
        "etag": '"x"',
        "last-modified": "Wed, 01 Jan 2025 00:00:00 GMT",
        "content-length": "12",
    }
    assert validator_of(headers) == {
        "etag": '"x"',
        "last_modified": "Wed, 01 Jan 2025 00:00:00 GMT",
        "size": 12,
    }
    assert validator_of({"content-length": "12", "content-encoding": "gzip"}) == {}
