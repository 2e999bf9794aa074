"""Named instances of a variable font, expanded by validation, render as themselves.

Validation writes one accepted row per named instance (``expand_variable_instances``);
preprocessing must render each at its own coordinates, not the default instance three
times over, and do so identically in every engine.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from glyphflow.glyphs import RenderConfig, render_font
from glyphflow.io import shards, storage
from glyphflow.preprocessing.stage import run
from glyphflow.validation.config import ValidationConfig
from glyphflow.validation.stage import run as validate
from tests.preprocessing.helpers import SPLITS, glyph_records, make_config, part_digests
from tests.support.fonts import FontSpec, make_font
from tests.support.rawstore import make_raw_store
from tests.support.variable import make_variable_font

WEIGHTS = {"Light": 300.0, "Regular": 400.0, "Bold": 700.0}


def static_instance(data: bytes, weight: float) -> bytes:
    """The instance as fontTools' instancer builds it, independently of glyphflow."""
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    font = instancer.instantiateVariableFont(TTFont(io.BytesIO(data)), {"wght": weight})
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def font_rows(output: str) -> list[dict[str, Any]]:
    rows = []
    for split in SPLITS:
        folder = storage.join(output, split)
        if shards.list_shards(folder):
            rows += shards.read_table(folder, columns=["font_id", "split", "subfamily"]).to_pylist()
    return rows


@pytest.fixture(scope="module")
def validated(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, bytes]:
    root: Path = tmp_path_factory.mktemp("instances")
    variable = make_variable_font(FontSpec(family="Var Sans"))
    raw = make_raw_store(str(root / "raw"), [variable, make_font(FontSpec(family="Plain"))])
    output = str(root / "validated")
    validate(ValidationConfig(raw=raw, output=output, expand_variable_instances=True))
    return output, variable


def test_each_instance_renders_as_the_static_instance(
    validated: tuple[str, bytes], tmp_path: Path
) -> None:
    upstream, variable = validated
    output = str(tmp_path / "glyphs")
    run(make_config(upstream, output, split_key="family"))
    records = glyph_records(output)
    rows = font_rows(output)
    ids = {row["subfamily"]: row["font_id"] for row in rows if "@" in row["font_id"]}
    assert sorted(ids) == sorted(WEIGHTS)
    # Split by family: the instances of one variable font land in one split.
    assert len({row["split"] for row in rows if "@" in row["font_id"]}) == 1

    config = RenderConfig()
    ink = {}
    for style, weight in WEIGHTS.items():
        expected = render_font(static_instance(variable, weight), 0, config)
        mine = {
            label: image for (font_id, label), image in records.items() if font_id == ids[style]
        }
        assert sorted(mine) == [int(i) for i in np.flatnonzero(expected.present)], style
        for label, image in mine.items():
            assert image == expected.images[label].tobytes(), (style, expected.charset[label])
        ink[style] = np.mean([np.frombuffer(image, np.uint8).mean() for image in mine.values()])
    assert ink["Light"] < ink["Regular"] < ink["Bold"]
    assert ink["Bold"] > 2 * ink["Light"]  # strokes 40 vs 160 units, not one style thrice


@pytest.mark.slow
def test_local_and_beam_render_instances_byte_for_byte(
    validated: tuple[str, bytes], tmp_path: Path
) -> None:
    upstream, _ = validated
    engines: dict[str, dict[str, Any]] = {
        "local-2": {"class": "local", "kwargs": {"workers": 2, "chunksize": 1}},
        "beam": {
            "class": "beam",
            "kwargs": {"beam_options": {"runner": "DirectRunner"}, "chunk_size": 2},
        },
    }
    records, digests = {}, {}
    for name, engine in engines.items():
        output = str(tmp_path / name)
        run(make_config(upstream, output, engine=engine))
        records[name] = glyph_records(output)
        digests[name] = part_digests(output)
    assert len({font_id for font_id, _ in records["beam"]}) == 4  # 3 instances + Plain
    assert records["beam"] == records["local-2"]
    assert digests["beam"] == digests["local-2"]
