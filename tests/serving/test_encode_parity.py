"""Encode parity: a font uploaded to the service gets the style vector its training
records would give.

The training side is built as preprocessing builds it: ``render_font`` with the render
settings stored in the model, packed into font records (``io.records.font_schema``),
written to Parquet and read back; the model then encodes every present glyph. The
service must give the same vector from the font file alone, and it must take the render
settings from the model, never from defaults: a model trained on other settings gets
other pixels, so the test also shows that the default settings would not match.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import torch

from glyphflow.glyphs import RenderConfig, render_font
from glyphflow.io import records
from glyphflow.io.shards import read_table, write_table
from tests.serving.conftest import make_style_model
from tests.support.fonts import FontSpec, make_font, to_woff


def style_from_records(model: Any, font: bytes, url: str) -> np.ndarray:
    """What training sees: the font's records, written and read back, then encoded."""
    render = RenderConfig.model_validate(model.render)
    glyphs = render_font(font, 0, render)
    size = render.glyph_size
    schema = records.font_schema(size, render.chars)
    table = pa.table(
        {
            "font_id": ["f0"],
            "family": [glyphs.family],
            "split": ["test"],
            "images": records.images_to_arrow(glyphs.images[None]),
            "present": records.images_to_arrow(glyphs.present.astype(np.uint8)[None]),
        },
        schema=schema,
    )
    write_table(url, table)
    back = read_table(url)
    charset = records.charset_of(back.schema)
    images = records.images_from_arrow(back.column("images"), (len(charset), size, size))[0]
    present = records.images_from_arrow(back.column("present"), (len(charset),))[0] > 0
    # training keeps the model's characters (its charset may be a subset), in its order
    keep = np.array([charset.index(c) for c in model.charset])
    labels = np.nonzero(present[keep])[0]
    with torch.inference_mode():
        z = model.encode(
            torch.from_numpy(images[keep][labels])[None],
            torch.from_numpy(labels)[None],
            torch.ones(1, len(labels), dtype=torch.bool),
        )
    return z[0].numpy()  # type: ignore[no-any-return]


def encode_via_api(client: Any, font: bytes, name: str = "font.ttf") -> np.ndarray:
    response = client.post("/v1/encode", files={"file": (name, font)})
    assert response.status_code == 200, response.text
    return np.array(response.json()["style"], dtype=np.float32)


@pytest.mark.parametrize("fmt", ["ttf", "otf"])
def test_uploaded_font_encodes_like_its_training_records(
    client: Any, style_model: Any, tmp_path: Path, fmt: str
) -> None:
    font = make_font(FontSpec(family="Parity", fmt=fmt, stroke=120.0, slant=0.15))
    expected = style_from_records(style_model, font, str(tmp_path / "records.parquet"))
    np.testing.assert_allclose(encode_via_api(client, font), expected, rtol=0, atol=1e-6)
    # the web-font copy of the same font encodes the same
    np.testing.assert_allclose(
        encode_via_api(client, to_woff(font, "woff2"), "p.woff2"), expected, rtol=0, atol=1e-6
    )


def test_service_renders_uploads_with_the_models_settings_not_defaults(
    tmp_path: Path,
) -> None:
    from fastapi.testclient import TestClient

    from glyphflow import models
    from glyphflow.serving.app import create_app
    from glyphflow.serving.config import ServingConfig

    trained_on = RenderConfig(glyph_size=32, normalisation="fit", padding=4, baseline=0.7)
    model = make_style_model(trained_on, seed=3)
    path = tmp_path / "model.pt"
    models.save(model, str(path))
    font = make_font(FontSpec(family="Settings", chars="ABCDEFabcdef0123"))

    with TestClient(create_app(ServingConfig(model=str(path)))) as client:
        served = encode_via_api(client, font)
    expected = style_from_records(model, font, str(tmp_path / "r.parquet"))
    np.testing.assert_allclose(served, expected, rtol=0, atol=1e-6)

    default_render = make_style_model(RenderConfig(glyph_size=32), seed=3)
    default_render.load_state_dict(model.state_dict())  # same weights, default settings
    other = style_from_records(default_render, font, str(tmp_path / "d.parquet"))
    assert np.abs(other - expected).max() > 1e-3, "the settings must change the vector"


def test_a_model_of_some_characters_encodes_them_from_the_full_rendering(
    tmp_path: Path,
) -> None:
    """Training may keep a subset of the rendered charset: the service renders with the
    stored settings (all characters, as preprocessing did) and keeps the model's."""
    from fastapi.testclient import TestClient

    from glyphflow import models
    from glyphflow.serving.app import create_app
    from glyphflow.serving.config import ServingConfig
    from tests.serving.conftest import TINY_MODEL

    rendered = RenderConfig(glyph_size=32)
    torch.manual_seed(5)
    model = models.build(TINY_MODEL, "gfedcbaGFEDCBA", (32, 32), rendered.model_dump()).eval()
    path = tmp_path / "model.pt"
    models.save(model, str(path))
    font = make_font(FontSpec(family="Subset", chars="ABCDabcdXYZ"))
    with TestClient(create_app(ServingConfig(model=str(path)))) as client:
        response = client.post("/v1/encode", files={"file": ("s.ttf", font)})
        assert response.status_code == 200, response.text
        body = response.json()
        sheet = client.post("/v1/generate", json={"styles": [body["style"]], "chars": "abc"})
        assert sheet.status_code == 200
        refused = client.post("/v1/generate", json={"styles": [body["style"]], "chars": "xyz"})
        assert refused.status_code == 422 and refused.json()["reason"] == "unknown_chars"
    assert body["observed"] == "dcbaDCBA"
    assert body["missing"] == {c: "not_in_cmap" for c in "gfeGFE"}
    expected = style_from_records(model, font, str(tmp_path / "r.parquet"))
    np.testing.assert_allclose(np.array(body["style"]), expected, rtol=0, atol=1e-6)
