"""The ingestion config: source kwargs checked with the config, located errors, examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from glyphflow.core.config import load_config
from glyphflow.core.errors import ConfigError
from glyphflow.ingestion.config import USER_AGENT, IngestionConfig

EXAMPLES = sorted((Path(__file__).parents[2] / "configs" / "examples").glob("ingest-*.yaml"))


def _load(text: str, *overrides: str) -> IngestionConfig:
    return load_config("ingestion", IngestionConfig, "ingest.yaml", list(overrides), text=text)


def test_examples_are_valid() -> None:
    names = {p.name for p in EXAMPLES}
    assert {"ingest-folder.yaml", "ingest-google-fonts.yaml", "ingest-s3.yaml"} <= names
    for path in EXAMPLES:
        config = load_config("ingestion", IngestionConfig, str(path))
        assert config.sources


def test_source_kwargs_get_their_defaults() -> None:
    config = _load(
        "version: 1\ningestion:\n  output: out\n  sources:\n"
        "    - class: web\n      kwargs: {url: 'https://example.org/fonts/'}\n"
    )
    kwargs = config.sources[0].kwargs
    assert kwargs["depth"] == 1 and kwargs["robots"] is True and kwargs["same_host"] is True
    assert config.http.user_agent == USER_AGENT
    assert USER_AGENT.startswith("glyphflow/") and "(+https://github.com/glyphflow)" in USER_AGENT


def test_every_mistake_is_located_at_once() -> None:
    text = """version: 1
ingestion:
  output: out
  sources:
    - class: files
      kwargs: {url: [a]}
    - class: web
      kwargs: {url: 'ftp://x', depth: -1}
    - class: flies
  limits:
    max_compression_ratio: 0.5
"""
    with pytest.raises(ConfigError) as err:
        _load(text)
    lines = [str(p) for p in err.value.problems]
    assert lines[0].startswith("ingest.yaml:5:7: ingestion.sources.0: source 'files'")
    assert "kwargs.urls: required, missing" in lines[0]
    assert "kwargs.url: unknown option; valid: exclude, include, name, recursive, urls" in lines[0]
    assert "kwargs.url: must be an http(s):// URL (got 'ftp://x')" in lines[1]
    assert "kwargs.depth: must be >= 0 (got -1)" in lines[1]
    assert lines[2].startswith("ingest.yaml:9:7:") and "did you mean 'files'?" in lines[2]
    assert lines[3].startswith("ingest.yaml:11:5: ingestion.limits.max_compression_ratio")


def test_set_overrides_reach_source_kwargs() -> None:
    config = _load(
        "version: 1\ningestion:\n  output: out\n  sources:\n"
        "    - class: files\n      kwargs: {urls: [a]}\n",
        "ingestion.sources.0.kwargs.urls=[b, c]",
        "ingestion.workers=2",
    )
    assert config.sources[0].kwargs["urls"] == ["b", "c"]
    assert config.workers == 2


@pytest.mark.parametrize("output", ["/", "https://example.org/raw", "s3://"])
def test_output_must_be_a_writable_folder(output: str) -> None:
    with pytest.raises(ConfigError):
        _load(f"version: 1\ningestion:\n  output: '{output}'\n  sources: [{{class: system}}]\n")


def test_sources_are_required_and_named_uniquely() -> None:
    with pytest.raises(ConfigError) as err:
        _load("version: 1\ningestion:\n  output: out\n")
    assert "ingestion.sources: required, missing" in str(err.value)
    config = _load(
        "version: 1\ningestion:\n  output: out\n  sources:\n"
        "    - {class: system}\n    - {class: files, kwargs: {urls: [a]}}\n"
        "    - {class: files, kwargs: {urls: [b]}}\n"
        "    - {class: files, kwargs: {urls: [c], name: mine}}\n"
    )
    assert config.source_names() == ["system", "files", "files-2", "mine"]
