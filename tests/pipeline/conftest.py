"""Pipeline test fixtures: the demo stages registered, a pipeline file in a tmp folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pipeline import demo_stages


@pytest.fixture(autouse=True)
def demo_catalogue() -> Iterator[list[str]]:
    """Register the demo stages; start every test with an empty record of calls."""
    demo_stages.register()
    demo_stages.CALLS.clear()
    demo_stages.ENVIRONMENT.clear()
    yield demo_stages.CALLS


@pytest.fixture
def pipeline_file(tmp_path: Path) -> Path:
    """The three-step demo pipeline, its workdir under tmp_path."""
    path = tmp_path / "pipeline.yaml"
    path.write_text(demo_stages.PIPELINE.format(workdir=tmp_path / "work"))
    return path
