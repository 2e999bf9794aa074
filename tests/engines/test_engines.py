"""Engines: every engine yields fn(item, context) in input order; Beam on the DirectRunner."""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path
from typing import Any

import pytest

from glyphflow.core.errors import UnknownNameError, UsageError
from glyphflow.engines import engines
from glyphflow.engines.beam import BeamEngine, beam_flags
from glyphflow.engines.local import LocalEngine


def square_plus(item: int, context: int) -> tuple[int, int]:
    """item**2 + context, and the worker's pid."""
    # Early items take longest, so a pool finishes them last: order must still hold.
    time.sleep(0.002 * (10 - item % 10))
    return item * item + context, os.getpid()


def fail_on_three(item: int, context: Any) -> int:
    if item == 3:
        raise ValueError("three is bad")
    return item


def test_registry_builds_engines_from_config_specs() -> None:
    assert {"local", "beam"} <= set(engines.names())
    engine = engines.build({"class": "local", "kwargs": {"workers": 2, "chunksize": 3}})
    assert isinstance(engine, LocalEngine) and engine.workers == 2
    with pytest.raises(UnknownNameError, match="did you mean 'local'"):
        engines.build({"class": "locl"})
    with pytest.raises(UsageError, match="it accepts: workers"):
        engines.build({"class": "local", "kwargs": {"threads": 2}})


def test_local_in_process_keeps_order_and_passes_context() -> None:
    results = list(LocalEngine().map(square_plus, range(12), 5))
    assert [r for r, _ in results] == [i * i + 5 for i in range(12)]
    assert {pid for _, pid in results} == {os.getpid()}


@pytest.mark.slow
def test_local_pool_keeps_input_order_across_two_processes() -> None:
    engine = LocalEngine(workers=2, chunksize=2)
    results = list(engine.map(square_plus, range(40), 1))
    assert [r for r, _ in results] == [i * i + 1 for i in range(40)]
    pids = {pid for _, pid in results}
    assert len(pids) == 2 and os.getpid() not in pids


@pytest.mark.slow
def test_local_pool_streams_and_stops_early() -> None:
    # An endless input: only a bounded window is ever submitted, and closing the
    # generator shuts the pool down instead of hanging.
    engine = LocalEngine(workers=2, chunksize=1, max_pending=4)
    results = engine.map(square_plus, itertools.count(), 0)
    first = [r for r, _ in itertools.islice(results, 6)]
    results.close()
    assert first == [i * i for i in range(6)]


@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_an_error_in_the_function_reaches_the_caller(workers: int) -> None:
    with pytest.raises(ValueError, match="three is bad"):
        list(LocalEngine(workers=workers).map(fail_on_three, range(6)))


def test_local_engine_refuses_bad_settings() -> None:
    with pytest.raises(ValueError, match="workers must be >= 1"):
        LocalEngine(workers=-1)
    with pytest.raises(ValueError, match="start_method must be one of"):
        LocalEngine(workers=2, start_method="teleport")


def test_beam_flags_from_a_mapping_or_a_list() -> None:
    assert beam_flags(
        {"runner": "DirectRunner", "direct_num_workers": 2, "save_main_session": True}
    ) == [
        "--runner=DirectRunner",
        "--direct_num_workers=2",
        "--save_main_session",
    ]
    assert beam_flags(["--runner=FlinkRunner"]) == ["--runner=FlinkRunner"]
    assert beam_flags(None) == []


@pytest.mark.slow
def test_beam_direct_runner_keeps_input_order_and_cleans_up(tmp_path: Path) -> None:
    engine = BeamEngine({"runner": "DirectRunner"}, chunk_size=3)
    scratch = tmp_path / "scratch"
    results = list(engine.map(square_plus, range(10), 2, scratch_url=str(scratch)))
    assert [r for r, _ in results] == [i * i + 2 for i in range(10)]
    assert not any(scratch.rglob("*.pkl"))  # chunk files removed
    assert list(engine.map(square_plus, [], 2, scratch_url=str(scratch))) == []
