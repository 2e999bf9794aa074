"""Render config: charsets resolve in a fixed order; bad geometry is refused with reasons."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from glyphflow.glyphs import NAMED_CHARSETS, RenderConfig, charset


def test_named_sets_and_combinations() -> None:
    assert len(charset(RenderConfig(charset="alphanumeric"))) == 62
    assert charset(RenderConfig(charset="digits+uppercase")).startswith("0123456789AB")
    assert charset(RenderConfig(charset="xyz")) == "xyz"
    assert set(NAMED_CHARSETS) >= {"uppercase", "lowercase", "digits", "alphanumeric"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"charset": "ABA"}, "lists 'A' twice"),
        ({"charset": "uppercase+uppercase"}, "twice"),
        ({"charset": "A B"}, "draws nothing"),
        ({"charset": ""}, "charset is empty"),
        ({"padding": 31}, "padding must be <"),
        ({"glyph_size": 512, "supersample": 8}, "glyph_size * supersample must be <= 2048"),
        ({"normalisation": "cap_height", "cap_height": 0.9}, "cap_height must be <= baseline"),
        ({"normalisation": "height"}, "normalisation"),
        ({"glyph_size": 4}, "glyph_size"),
    ],
)
def test_bad_settings_say_what_is_wrong(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        RenderConfig.model_validate(changes)


def test_a_dataset_manifest_gives_back_its_render_config() -> None:
    made = RenderConfig(charset="digits", glyph_size=32, normalisation="fit")
    manifest = {"config": {"render": made.model_dump(mode="json"), "layout": "glyph"}}
    assert RenderConfig.from_manifest(manifest) == made
    with pytest.raises(ValueError, match="not a glyph dataset"):
        RenderConfig.from_manifest({"config": {}})
