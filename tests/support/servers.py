"""Servers as the separate processes a user starts: launched, waited for, stopped.

``mlflow models serve``, ``mlserver start``, ``bentoml serve`` and ``glyphflow serve`` are
each started in a session of their own (so stopping one stops its workers too), with
their output in a log that a failure quotes; a test waits until a URL answers 200.
Also the registered model the framework tests serve: a tiny style model in a real SQLite
MLflow store under a name and the ``champion`` alias, as training and evaluation leave it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["RegisteredStore", "register_style_model", "running", "start", "stop", "wait_ready"]


def start(
    command: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """``command`` in a new session, stdout and stderr into ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )


def wait_ready(
    process: subprocess.Popen[bytes], url: str, log: Path, what: str, timeout_s: float = 150
) -> None:
    """Return once ``url`` answers 200; fail the test, quoting the log, if the process
    exits or ``timeout_s`` passes first."""
    import httpx

    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            pytest.fail(f"{what} exited ({process.returncode}): {log.read_text()[-4000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not answer {url}: {log.read_text()[-4000:]}")
        time.sleep(0.3)


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, grace_s: float = 30) -> None:
    """Signal the process's whole session; kill it if it has not ended after ``grace_s``."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.contextmanager
def running(
    command: list[str],
    ready_url: str,
    log: Path,
    what: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    sig: int = signal.SIGTERM,
) -> Iterator[subprocess.Popen[bytes]]:
    """The server ``command`` started and answering ``ready_url``; stopped on exit."""
    process = start(command, log, env, cwd)
    try:
        wait_ready(process, ready_url, log, what)
        yield process
    finally:
        stop(process, sig)


class RegisteredStore:
    """A SQLite MLflow store holding a style model bundle as ``NAME`` version 1, alias champion."""

    def __init__(self, tracking_uri: str, bundle: Path, name: str) -> None:
        self.tracking_uri = tracking_uri
        self.bundle = bundle
        self.name = name

    @property
    def champion(self) -> str:
        return f"models:/{self.name}@champion"


def register_style_model(
    folder: Path, model: object, name: str = "glyphflow-style", experiment: str = "tests"
) -> RegisteredStore:
    """Save ``model`` as a bundle in ``folder``, log and register it, point champion at it."""
    from glyphflow import models
    from glyphflow.tracking.registry import log_model, set_alias
    from glyphflow.tracking.runs import TrackingRun

    bundle = folder / "model.pt"
    models.save(model, str(bundle))  # type: ignore[arg-type]
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    run = TrackingRun.start(uri, experiment, run_name="style")
    logged = log_model(run, str(bundle), name)
    run.end()
    assert logged.version is not None
    set_alias(name, logged.version, "champion", uri)
    return RegisteredStore(uri, bundle, name)
