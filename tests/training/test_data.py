"""Training data: the data section's filters, memory or streaming by size."""

from __future__ import annotations

from pathlib import Path

from glyphflow.training.config import DataConfig
from glyphflow.training.data import (
    MemoryData,
    StreamingData,
    describe,
    open_training_data,
    selection,
)
from tests.support.glyphsets import make_glyph_dataset


def test_the_data_section_becomes_a_selection(tmp_path: Path) -> None:
    made = make_glyph_dataset(
        str(tmp_path / "g"), n_fonts=6, charset="ABC", size=8, layout="font", scored=True
    )
    source = describe(made.url)
    config = DataConfig(characters="CA", fonts={"include": ["Sans"]}, min_confidence=0.6)  # type: ignore[arg-type]
    sel = selection(source, config)
    assert sel.charset == "AC" and sel.min_confidence == 0.6
    assert sel.family_ok("Synth Sans 2") and not sel.family_ok("Synth Serif 1")


def test_auto_mode_streams_above_the_memory_limit(tmp_path: Path) -> None:
    made = make_glyph_dataset(str(tmp_path / "g"), n_fonts=6, charset="ABC", size=8, layout="font")
    source = describe(made.url)
    sel = selection(source, DataConfig())
    small = open_training_data(source, DataConfig(), sel, "fonts", 2, 0)
    assert isinstance(small, MemoryData)
    forced = open_training_data(source, DataConfig(mode="stream"), sel, "fonts", 2, 0)
    assert isinstance(forced, StreamingData)
    tiny = DataConfig(memory_limit_mb=1)
    assert isinstance(open_training_data(source, tiny, sel, "fonts", 2, 0), MemoryData)
