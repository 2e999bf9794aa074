"""Shared fixtures: a real S3-compatible server (moto) on 127.0.0.1, font makers, paths."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fonts import FontSpec, make_font


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """Start moto's S3 server on a free loopback port for the session; stop it after."""
    pytest.importorskip("moto.server", reason="moto[server] is needed for S3 tests")
    pytest.importorskip("s3fs", reason="glyphflow[s3] is needed for S3 tests")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = {k: os.environ.get(k) for k in _S3_ENV}
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_S3": endpoint,
            "AWS_ENDPOINT_URL": endpoint,
        }
    )
    try:
        yield endpoint
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


_S3_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL",
)


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> str:
    """A fresh, empty bucket on the moto server; returns ``s3://name``."""
    import boto3
    import s3fs

    name = f"gf-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=name)
    s3fs.S3FileSystem.clear_instance_cache()
    return f"s3://{name}"


@pytest.fixture
def memory_url() -> Iterator[str]:
    """A fresh folder in fsspec's in-memory filesystem, removed after the test."""
    import fsspec

    url = f"memory://gf-{uuid.uuid4().hex[:12]}"
    yield url
    fs = fsspec.filesystem("memory")
    if fs.exists(url):
        fs.rm(url, recursive=True)


@pytest.fixture
def font_file(tmp_path: Path) -> Path:
    """A valid TrueType font of the 62 alphanumerics on disk."""
    path = tmp_path / "TestSans-Regular.ttf"
    path.write_bytes(make_font(FontSpec()))
    return path


@pytest.fixture(scope="session")
def mlflow_tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One real MLflow SQLite store for the session (creating one takes seconds).

    Artifacts go to ``mlartifacts/`` beside the database. Use a fresh experiment name
    per test to keep runs apart.
    """
    pytest.importorskip("mlflow", reason="glyphflow[train] is needed for MLflow tests")
    root = tmp_path_factory.mktemp("mlflow")
    return f"sqlite:///{root}/mlflow.db"
