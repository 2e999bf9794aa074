"""Both record layouts of a split read into the same fonts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from glyphflow.core.errors import UsageError
from glyphflow.evaluation.fonts import read_fonts
from tests.support.glyphsets import draw_glyph, make_glyph_dataset


def test_glyph_and_font_layouts_give_the_same_fonts(tmp_path: Path) -> None:
    common = {"n_fonts": 9, "charset": "ABCDE", "size": 16, "seed": 5, "missing": 0.3}
    by_glyph = make_glyph_dataset(str(tmp_path / "g"), layout="glyph", rows_per_part=4, **common)
    by_font = make_glyph_dataset(str(tmp_path / "f"), layout="font", rows_per_part=1, **common)
    for split in ("train", "test"):
        a, b = read_fonts(by_glyph.url, split), read_fonts(by_font.url, split)
        assert a.font_ids == b.font_ids == sorted(f.font_id for f in by_glyph.split(split))
        assert a.families == b.families and a.charset == b.charset == "ABCDE"
        np.testing.assert_array_equal(a.images, b.images)
        np.testing.assert_array_equal(a.present, b.present)
        font = by_glyph.split(split)[0]
        table_index = a.font_ids.index(font.font_id)
        for char in "ABCDE":
            column = "ABCDE".index(char)
            assert a.present[table_index, column] == (char in font.present)
            if char in font.present:
                expected = draw_glyph(char, font.style, 16)
                np.testing.assert_array_equal(a.images[table_index, column], expected)


def test_a_missing_split_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="has no 'test' split"):
        read_fonts(str(tmp_path), "test")
