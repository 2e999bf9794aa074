"""Fixtures for ingestion tests: a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.webserver import WebServer, serve


@pytest.fixture
def web() -> Iterator[WebServer]:
    with serve() as server:
        yield server
