"""``glyphflow serve -c serving.yaml`` as a user runs it, and the serving config's checks."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from glyphflow.core.config import load_config
from glyphflow.core.errors import ConfigError
from glyphflow.serving.config import DEFAULT_MODEL, ServingConfig
from tests.serving.conftest import free_port

REPO = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    src = str(REPO / "src")
    path = os.pathsep.join([src, str(REPO), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path}


def test_defaults_serve_the_champion_on_loopback() -> None:
    config = ServingConfig()
    assert config.model == DEFAULT_MODEL == "models:/glyphflow-style@champion"
    assert config.host == "127.0.0.1" and config.workers == 1
    assert config.cors_origins == []


def test_example_config_is_valid() -> None:
    config = load_config("serving", ServingConfig, str(REPO / "configs/examples/serve.yaml"))
    assert config.limits.max_chars == 512 and config.export.upsample == 2


def test_bad_config_values_name_their_line(tmp_path: Path) -> None:
    path = tmp_path / "serve.yaml"
    path.write_text(
        "version: 1\nserving:\n  port: 70000\n  cors_origins: [example.org]\n"
        "  limits:\n    max_chars: 0\n  exporte: {}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config("serving", ServingConfig, str(path))
    text = str(err.value)
    for expected in (
        ":3:",
        "serving.port",
        "serving.cors_origins",
        "http://",
        ":6:",
        "serving.limits.max_chars",
        "exporte",
    ):
        assert expected in text, (expected, text)


@pytest.mark.slow
def test_glyphflow_serve_answers_until_stopped(bundle: Path, tmp_path: Path) -> None:
    import httpx

    port = free_port()
    config = tmp_path / "serve.yaml"
    config.write_text(f"version: 1\nserving:\n  model: {bundle}\n  port: 1\n  log_level: warning\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "glyphflow", "serve", "-c", str(config), "--port", str(port)],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            with contextlib.suppress(httpx.HTTPError):
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                if health.status_code == 200:
                    break
            assert time.monotonic() < deadline, "glyphflow serve did not answer"
            time.sleep(0.2)
        assert "style explorer" in httpx.get(f"http://127.0.0.1:{port}/").text
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode in (0, 130, -signal.SIGINT)


@pytest.mark.slow
def test_glyphflow_serve_with_a_missing_model_says_so(tmp_path: Path) -> None:
    config = tmp_path / "serve.yaml"
    config.write_text(f"version: 1\nserving:\n  model: {tmp_path / 'nothing.pt'}\n")
    result = subprocess.run(
        [sys.executable, "-m", "glyphflow", "serve", "-c", str(config)],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "no model bundle" in result.stderr and "Traceback" not in result.stderr


def test_worker_processes_build_the_app_from_the_environment(
    bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With workers > 1 uvicorn imports the factory in each process: the config travels as
    JSON in GLYPHFLOW_SERVING_CONFIG."""
    from fastapi.testclient import TestClient

    from glyphflow.serving.app import app_from_environment

    config = ServingConfig(model=str(bundle), workers=2, port=8123, limits={"max_chars": 7})  # type: ignore[arg-type]
    monkeypatch.setenv("GLYPHFLOW_SERVING_CONFIG", config.model_dump_json(by_alias=True))
    with TestClient(app_from_environment()) as client:
        assert client.get("/v1/model").json()["limits"]["max_chars"] == 7


def test_several_workers_need_a_fixed_port() -> None:
    with pytest.raises(ValueError, match="fixed port"):
        ServingConfig(workers=2, port=0)
