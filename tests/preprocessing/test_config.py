"""The preprocessing config: examples load, mistakes are reported with where and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from glyphflow.core.config import load_config
from glyphflow.core.errors import ConfigError
from glyphflow.engines import engines
from glyphflow.engines.beam import BeamEngine
from glyphflow.preprocessing.config import PreprocessingConfig

EXAMPLES = Path(__file__).resolve().parents[2] / "configs" / "examples"


@pytest.mark.parametrize("name", ["preprocess.yaml", "preprocess-beam.yaml"])
def test_example_configs_load_and_build_their_engine(name: str) -> None:
    config = load_config("preprocessing", PreprocessingConfig, str(EXAMPLES / name))
    assert config.chars.startswith("ABC") and len(config.chars) == 62
    engine = engines.build(config.engine)
    if name == "preprocess-beam.yaml":
        assert isinstance(engine, BeamEngine)
        assert "--runner=DirectRunner" in engine.flags


def _problems(text: str, tmp_path: Path, *overrides: str) -> str:
    path = tmp_path / "pre.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config("preprocessing", PreprocessingConfig, str(path), list(overrides))
    return str(caught.value)


def test_mistakes_are_located_and_explained(tmp_path: Path) -> None:
    text = (
        "version: 1\n"
        "preprocessing:\n"
        "  fonts: raw\n"
        "  output: glyphs\n"
        "  splits: {train: 0.8, val: 0.3, test: 0.1}\n"
        "  engine: {class: spark}\n"
        "  render: {normalisation: cap_height, cap_height: 0.9}\n"
    )
    message = _problems(text, tmp_path)
    assert "pre.yaml:5:3: preprocessing.splits: split fractions must add up to 1" in message
    assert "pre.yaml:6:3: preprocessing.engine: unknown engine 'spark'" in message
    assert "cap_height must be <= baseline" in message


def test_output_may_not_be_the_input(tmp_path: Path) -> None:
    text = "version: 1\npreprocessing:\n  fonts: data/raw\n  output: data/raw/\n"
    assert "output must be a folder of its own" in _problems(text, tmp_path)


def test_set_overrides_reach_the_render_config(tmp_path: Path) -> None:
    path = tmp_path / "pre.yaml"
    path.write_text("version: 1\npreprocessing:\n  fonts: raw\n  output: glyphs\n")
    config = load_config(
        "preprocessing",
        PreprocessingConfig,
        str(path),
        ["preprocessing.render.glyph_size=32", "preprocessing.render.charset=digits"],
    )
    assert config.render.glyph_size == 32 and config.chars == "0123456789"
    assert config.effective_min_glyphs == 5
