"""The HTTP API, endpoint by endpoint, against the app on a real (untrained) model bundle.

Answers are checked against the model itself (a sheet's pixels are the decoder's output,
an encoded style is the encoder's), and every kind of bad input must get a 4xx whose
body says what was wrong: ``{"detail": message, "reason": code}``.
"""

from __future__ import annotations

import base64
import io
import zipfile
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from glyphflow.glyphs import render_font
from tests.serving.conftest import LATENT_DIM
from tests.support.fonts import FontSpec, make_collection, make_font, to_woff


def refused(response: Any, status: int, reason: str) -> str:
    """Assert a refusal and return its message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["reason"] == reason, body
    assert isinstance(body["detail"], str) and len(body["detail"]) > 10
    return str(body["detail"])


def decode(style_model: Any, z: list[list[float]], chars: str) -> np.ndarray:
    labels = torch.tensor([style_model.charset.index(c) for c in chars])
    with torch.inference_mode():
        out = style_model.decode(torch.tensor(z), labels.expand(len(z), -1))
    return (out.clamp(0, 1) * 255).round().to(torch.uint8).numpy()


def assert_same_pixels(got: np.ndarray, expected: np.ndarray) -> None:
    """Equal up to rounding: the service runs the decoder channels-last, whose float sums
    may differ in the last bit and so round a pixel to its neighbouring level."""
    assert got.shape == expected.shape
    difference = np.abs(got.astype(int) - expected.astype(int))
    assert difference.max() <= 1 and difference.mean() < 0.05


def png(response: Any) -> np.ndarray:
    assert response.headers["content-type"] == "image/png"
    return np.asarray(Image.open(io.BytesIO(response.content)))


@pytest.fixture(scope="module")
def styles(client: Any) -> list[list[float]]:
    response = client.post("/v1/sample", json={"n": 2, "seed": 7})
    assert response.status_code == 200
    return response.json()["styles"]


# ---------------------------------------------------------------------------- service


def test_health_names_the_model(client: Any) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert len(body["model"]) == 12


def test_model_info_reports_what_the_model_takes(client: Any, style_model: Any) -> None:
    info = client.get("/v1/model").json()
    assert info["latent_dim"] == LATENT_DIM
    assert info["charset"] == style_model.charset
    assert info["glyph_shape"] == [32, 32]
    assert info["render"]["glyph_size"] == 32  # the model's own render settings
    assert info["limits"]["max_chars"] == 100


def test_openapi_lists_every_endpoint(client: Any) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/generate", "/v1/encode", "/v1/complete", "/v1/interpolate", "/v1/font"):
        assert "post" in paths[path], path
    assert "/health" in paths and "/metrics" in paths


def test_page_and_its_files_are_served_locally(client: Any) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "style explorer" in page.text
    for name in ("app.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200
    # nothing on the page may come from elsewhere
    for text in (page.text, client.get("/static/app.js").text):
        assert "http://" not in text and "https://" not in text


def test_metrics_count_requests_by_route(client: Any) -> None:
    client.get("/health")
    client.post("/v1/generate", json={"styles": [[0.0] * LATENT_DIM], "chars": "€"})
    text = client.get("/metrics").text
    assert 'glyphflow_http_requests_total{method="GET",route="/health",status="200"}' in text
    assert 'route="/v1/generate",status="422"' in text
    assert "glyphflow_http_request_seconds_bucket" in text
    assert "glyphflow_model_info" in text
    assert 'glyphflow_rejected_requests_total{reason="unknown_chars"}' in text


# ---------------------------------------------------------------------------- sample


def test_sample_is_reproducible_with_a_seed(client: Any) -> None:
    first = client.post("/v1/sample", json={"n": 3, "seed": 11}).json()
    again = client.post("/v1/sample", json={"n": 3, "seed": 11}).json()
    other = client.post("/v1/sample", json={"n": 3, "seed": 12}).json()
    assert first["styles"] == again["styles"] != other["styles"]
    assert len(first["styles"]) == 3 and len(first["styles"][0]) == LATENT_DIM
    assert len(set(first["style_ids"])) == 3


def test_sample_over_the_batch_limit_is_refused(client: Any) -> None:
    message = refused(client.post("/v1/sample", json={"n": 5}), 422, "too_many_styles")
    assert "limits.max_batch" in message


# ---------------------------------------------------------------------------- generate


def test_generate_png_sheet_holds_the_decoded_glyphs(
    client: Any, style_model: Any, styles: list[list[float]]
) -> None:
    chars = "AbZ09q"
    response = client.post("/v1/generate", json={"styles": styles, "chars": chars, "columns": 4})
    assert response.status_code == 200
    assert response.headers["x-glyphflow-columns"] == "4"
    assert response.headers["x-glyphflow-glyph-size"] == "32x32"
    sheet = png(response)
    assert sheet.shape == (2 * 2 * 32, 4 * 32)  # 2 styles x 2 rows, 4 columns
    expected = decode(style_model, styles, chars)
    for s in range(2):
        for i in range(len(chars)):
            row, col = s * 2 + i // 4, i % 4
            cell = sheet[row * 32 : (row + 1) * 32, col * 32 : (col + 1) * 32]
            assert_same_pixels(255 - cell, expected[s, i])


def test_generate_whole_charset_by_default_and_scale(
    client: Any, styles: list[list[float]]
) -> None:
    response = client.post("/v1/generate", json={"styles": styles[:1], "scale": 2})
    sheet = png(response)
    assert sheet.shape == (4 * 64, 16 * 64)  # 62 glyphs in rows of 16, doubled


def test_generate_json_arrays_round_trip(
    client: Any, style_model: Any, styles: list[list[float]]
) -> None:
    response = client.post(
        "/v1/generate", json={"styles": styles, "chars": "a b", "format": "json"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["chars"] == "a b" and body["shape"] == [32, 32]
    expected = decode(style_model, styles, "ab")
    for s, block in enumerate(body["styles"]):
        images = [
            np.frombuffer(base64.b64decode(b), np.uint8).reshape(32, 32) for b in block["images"]
        ]
        assert_same_pixels(images[0], expected[s, 0])
        assert not images[1].any()  # a space is blank
        assert_same_pixels(images[2], expected[s, 1])
        assert block["style"] == pytest.approx(styles[s])


def test_generate_different_styles_draw_differently(client: Any, styles: list[list[float]]) -> None:
    a = png(client.post("/v1/generate", json={"styles": styles[:1], "chars": "Ag"}))
    b = png(client.post("/v1/generate", json={"styles": styles[1:], "chars": "Ag"}))
    assert np.abs(a.astype(int) - b).mean() > 1


@pytest.mark.parametrize(
    ("body", "status", "reason", "says"),
    [
        ({"styles": [[0.0] * 8], "chars": "A€"}, 422, "unknown_chars", "€"),
        ({"styles": [[0.0] * 8], "chars": "A" * 101}, 422, "too_many_chars", "limits.max_chars"),
        ({"styles": [[0.0] * 3]}, 422, "bad_style", "8"),
        ({"styles": [[0.0] * 8] * 5}, 422, "too_many_styles", "limits.max_batch"),
        ({"styles": []}, 422, "invalid_request", "styles"),
        ({"styles": [[0.0] * 8], "colour": "red"}, 422, "invalid_request", "colour"),
        ({"styles": [[1e9] * 8]}, 422, "invalid_request", "styles"),
        ({"styles": [[0.0] * 8], "format": "gif"}, 422, "invalid_request", "format"),
        ({"chars": "A"}, 422, "invalid_request", "styles"),
    ],
)
def test_generate_bad_requests(client: Any, body: Any, status: int, reason: str, says: str) -> None:
    assert says in refused(client.post("/v1/generate", json=body), status, reason)


def test_generate_refuses_nan_and_broken_json(client: Any) -> None:
    nan = client.post(
        "/v1/generate",
        content=b'{"styles": [[NaN, 0, 0, 0, 0, 0, 0, 0]]}',
        headers={"content-type": "application/json"},
    )
    refused(nan, 422, "invalid_request")
    broken = client.post(
        "/v1/generate", content=b'{"styles": [[', headers={"content-type": "application/json"}
    )
    refused(broken, 422, "invalid_request")


# ---------------------------------------------------------------------------- encode


def encode(client: Any, data: bytes, name: str = "font.ttf", **form: Any) -> Any:
    return client.post("/v1/encode", files={"file": (name, data)}, data=form)


def test_encode_a_font(client: Any, sans: bytes) -> None:
    response = encode(client, sans, "ServeSans.ttf")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["family"] == "Serve Sans"
    assert len(body["style"]) == LATENT_DIM
    assert body["observed"] == client.get("/v1/model").json()["charset"]
    assert body["missing"] == {}


def test_encode_gives_one_style_for_every_packaging_of_a_font(client: Any, sans: bytes) -> None:
    plain = encode(client, sans).json()["style"]
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", "not a font")
        archive.writestr("fonts/ServeSans.ttf", sans)
    for data, name in (
        (to_woff(sans, "woff"), "a.woff"),
        (to_woff(sans, "woff2"), "a.woff2"),
        (zipped.getvalue(), "a.zip"),
    ):
        response = encode(client, data, name)
        assert response.status_code == 200, (name, response.text)
        assert response.json()["style"] == pytest.approx(plain, abs=1e-6), name
    assert encode(client, zipped.getvalue(), "a.zip").json()["file"] == "a.zip/fonts/ServeSans.ttf"


def test_encode_picks_the_face_of_a_collection(client: Any, sans: bytes, serif: bytes) -> None:
    collection = make_collection([sans, serif])
    first = encode(client, collection, "pair.ttc").json()
    second = encode(client, collection, "pair.ttc", face_index=1).json()
    assert first["family"] == "Serve Sans" and second["family"] == "Serve Slab"
    assert second["style"] == pytest.approx(encode(client, serif).json()["style"], abs=1e-6)
    message = refused(encode(client, collection, "pair.ttc", face_index=2), 422, "bad_face_index")
    assert "2 face" in message


def test_encode_reports_missing_characters(client: Any) -> None:
    partial = make_font(FontSpec(family="Few", chars="ABCabc"))
    body = encode(client, partial).json()
    assert body["observed"] == "ABCabc"
    assert body["missing"]["Z"] == "not_in_cmap"


def bomb_zip(size: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("bomb.ttf", b"\x00\x01\x00\x00" + bytes(size))
    return out.getvalue()


def test_encode_bad_uploads(client: Any, sans: bytes) -> None:
    refused(encode(client, b"<html>not a font</html>", "evil.ttf"), 415, "not_a_font")
    refused(encode(client, b"", "empty.ttf"), 422, "empty_file")
    refused(encode(client, sans[: len(sans) // 2], "cut.ttf"), 422, "corrupt_font")
    # a zip bomb: 3.9 MB of zeros (under max_unpacked_bytes) packed ~1000:1
    message = refused(encode(client, bomb_zip(3_900_000), "bomb.zip"), 413, "compression_ratio")
    assert "limits.max_compression_ratio" in message
    refused(encode(client, bomb_zip(5_000_000), "big.zip"), 413, "too_large")
    no_font = io.BytesIO()
    with zipfile.ZipFile(no_font, "w") as archive:
        archive.writestr("readme.txt", "hello")
    refused(encode(client, no_font.getvalue(), "docs.zip"), 415, "no_font_in_archive")
    refused(encode(client, b"PK\x03\x04garbage" * 10, "bad.zip"), 422, "corrupt_archive")
    refused(
        encode(client, b"\x1f\x8b\x08\x00" + bytes(40), "font.tar.gz"), 415, "unsupported_archive"
    )
    symbols = make_font(FontSpec(family="Symbols", chars="!#%&"))
    refused(encode(client, symbols, "symbols.ttf"), 422, "no_glyphs")


def test_encode_refuses_a_woff_bomb(client: Any, sans: bytes) -> None:
    """A WOFF whose table directory lies: it unpacks far beyond what it declares."""
    import struct
    import zlib

    def bomb(declared: int | None) -> bytes:
        woff = bytearray(to_woff(sans, "woff"))
        (count,) = struct.unpack(">H", woff[12:14])
        assert count > 1
        # the largest table's data becomes a small, highly compressed blob
        entries = [44 + 20 * i for i in range(count)]
        entry = max(entries, key=lambda e: struct.unpack(">I", woff[e + 12 : e + 16])[0])
        _, _, _, unpacked, checksum = struct.unpack(">4sIIII", woff[entry : entry + 20])
        blob = zlib.compress(bytes(3_000_000 if declared else 600_000), 9)
        assert len(blob) < unpacked
        size = unpacked if declared is None else declared
        woff[entry + 4 : entry + 20] = struct.pack(">IIII", len(woff), len(blob), size, checksum)
        woff += blob
        woff[8:12] = struct.pack(">I", len(woff))
        return bytes(woff)

    message = refused(encode(client, bomb(None), "liar.woff"), 422, "corrupt_font")
    assert "declares" in message
    message = refused(encode(client, bomb(3_000_000), "honest.woff"), 413, "compression_ratio")
    assert "limits.max_compression_ratio" in message


def test_request_over_the_upload_limit_is_refused_before_reading(client: Any) -> None:
    message = refused(encode(client, bytes(2_100_000), "huge.ttf"), 413, "too_large")
    assert "limits.max_upload_bytes" in message


def test_chunked_request_over_the_limit_is_refused_while_reading(live_server: Any) -> None:
    import httpx

    def body() -> Any:
        yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.ttf"\r\n\r\n'
        for _ in range(40):
            yield bytes(100_000)
        yield b"\r\n--x--\r\n"

    response = httpx.post(
        f"{live_server.url}/v1/encode",
        content=body(),
        headers={"content-type": "multipart/form-data; boundary=x"},
        timeout=30,
    )
    refused(response, 413, "too_large")
    assert httpx.get(f"{live_server.url}/health").status_code == 200  # still serving


# ---------------------------------------------------------------------------- complete


def glyph_png(image: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(image).save(out, format="PNG")
    return out.getvalue()


def json_images(body: dict[str, Any], shape: tuple[int, int] = (32, 32)) -> np.ndarray:
    return np.stack(
        [np.frombuffer(base64.b64decode(b), np.uint8).reshape(shape) for b in body["images"]]
    )


def test_complete_a_partial_font_keeps_its_glyphs(client: Any, render_config: Any) -> None:
    partial = make_font(FontSpec(family="Partial", chars="HOMEhome"))
    rendered = render_font(partial, 0, render_config)
    response = client.post(
        "/v1/complete", files={"font": ("partial.ttf", partial)}, data={"format": "json"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    images = json_images(body["styles"][0])
    assert body["chars"] == render_config.chars and len(images) == 62
    for i, char in enumerate(body["chars"]):
        if char in "HOMEhome":
            np.testing.assert_array_equal(images[i], rendered.images[i])
    encoded = encode(client, partial).json()["style"]
    assert body["styles"][0]["style"] == pytest.approx(encoded, abs=1e-6)


def test_complete_png_sheet(client: Any, sans: bytes) -> None:
    response = client.post("/v1/complete", files={"font": ("s.ttf", sans)}, data={"columns": "31"})
    assert png(response).shape == (2 * 32, 31 * 32)


def test_complete_from_glyph_images_matches_encoding_them(
    client: Any, sans: bytes, render_config: Any, style_model: Any
) -> None:
    rendered = render_font(sans, 0, render_config)
    chars = "Rag"
    picks = [render_config.chars.index(c) for c in chars]
    files = [
        ("images", (f"{c}.png", glyph_png(rendered.images[i])))
        for c, i in zip(chars, picks, strict=True)
    ]
    response = client.post(
        "/v1/complete",
        files=files,
        data={"chars": chars, "format": "json", "keep_observed": "false"},
    )
    assert response.status_code == 200, response.text
    style = response.json()["styles"][0]["style"]
    with torch.inference_mode():
        direct = style_model.encode(
            torch.from_numpy(rendered.images[picks])[None],
            torch.tensor(picks)[None],
            torch.ones(1, 3, dtype=torch.bool),
        )[0]
    assert style == pytest.approx(direct.tolist(), abs=1e-6)


def test_complete_normalises_images_drawn_the_other_way(
    client: Any, sans: bytes, render_config: Any
) -> None:
    """Dark ink on white paper at another size is inverted and resized, not refused."""
    rendered = render_font(sans, 0, render_config)
    index = render_config.chars.index("R")
    big = Image.fromarray(255 - rendered.images[index]).resize((96, 96), Image.Resampling.BICUBIC)
    from glyphflow.serving.uploads import read_glyph_image

    limits = client.app.state.config.limits
    out = read_glyph_image(glyph_png(np.asarray(big)), "R.png", limits, (32, 32))
    assert np.abs(out.astype(int) - rendered.images[index]).mean() < 6
    response = client.post(
        "/v1/complete",
        files=[("images", ("R.png", glyph_png(np.asarray(big.convert("RGB")))))],
        data={"chars": "R"},
    )
    assert response.status_code == 200


def test_complete_bad_inputs(client: Any, sans: bytes) -> None:
    small = glyph_png(np.zeros((32, 32), np.uint8))
    refused(client.post("/v1/complete", data={"chars": "A"}), 422, "missing_input")
    both = client.post(
        "/v1/complete",
        files=[("font", ("s.ttf", sans)), ("images", ("a.png", small))],
        data={"chars": "A"},
    )
    refused(both, 422, "ambiguous_input")
    mismatch = client.post(
        "/v1/complete", files=[("images", ("a.png", small))], data={"chars": "AB"}
    )
    refused(mismatch, 422, "chars_mismatch")
    unknown = client.post("/v1/complete", files=[("images", ("a.png", small))], data={"chars": "€"})
    refused(unknown, 422, "unknown_chars")
    text = client.post(
        "/v1/complete", files=[("images", ("a.png", b"GIF89a but not really"))], data={"chars": "A"}
    )
    refused(text, 415, "not_an_image")
    # a huge image: 2000 x 2000 pixels in a few kB of PNG, refused before decoding
    huge = io.BytesIO()
    Image.new("1", (2000, 2000)).save(huge, format="PNG")
    message = refused(
        client.post(
            "/v1/complete", files=[("images", ("huge.png", huge.getvalue()))], data={"chars": "A"}
        ),
        413,
        "image_too_large",
    )
    assert "limits.max_image_pixels" in message
    refused(client.post("/v1/complete", files={"font": ("x.ttf", b"nope" * 10)}), 415, "not_a_font")


# ---------------------------------------------------------------------------- interpolate


def test_interpolate_vectors_runs_from_a_to_b(
    client: Any, style_model: Any, styles: list[list[float]]
) -> None:
    form = {"style_a": str(styles[0]), "style_b": str(styles[1]), "steps": "4", "chars": "Ab"}
    response = client.post("/v1/interpolate", data={**form, "format": "json"})
    assert response.status_code == 200, response.text
    rows = response.json()["styles"]
    assert len(rows) == 4
    assert rows[0]["style"] == pytest.approx(styles[0], abs=1e-6)
    assert rows[-1]["style"] == pytest.approx(styles[1], abs=1e-6)
    middle = (np.array(styles[0]) + np.array(styles[1])) * 0.5
    assert np.mean([rows[1]["style"], rows[2]["style"]], axis=0) == pytest.approx(middle, abs=1e-5)
    assert_same_pixels(json_images(rows[0]), decode(style_model, [styles[0]], "Ab")[0])
    sheet = png(client.post("/v1/interpolate", data=form))
    assert sheet.shape == (4 * 32, 2 * 32)


def test_interpolate_between_uploaded_fonts(client: Any, sans: bytes, serif: bytes) -> None:
    response = client.post(
        "/v1/interpolate",
        files={"font_a": ("a.ttf", sans), "font_b": ("b.woff2", to_woff(serif, "woff2"))},
        data={"steps": "3", "format": "json", "chars": "x"},
    )
    assert response.status_code == 200, response.text
    rows = response.json()["styles"]
    assert rows[0]["style"] == pytest.approx(encode(client, sans).json()["style"], abs=1e-5)
    assert rows[2]["style"] == pytest.approx(encode(client, serif).json()["style"], abs=1e-5)


def test_interpolate_bad_inputs(client: Any, sans: bytes, styles: list[list[float]]) -> None:
    a, b = str(styles[0]), str(styles[1])
    refused(client.post("/v1/interpolate", data={"style_a": a, "steps": "3"}), 422, "missing_input")
    both = client.post(
        "/v1/interpolate", data={"style_a": a, "style_b": b}, files={"font_a": ("a.ttf", sans)}
    )
    refused(both, 422, "missing_input")
    message = refused(
        client.post("/v1/interpolate", data={"style_a": a, "style_b": b, "steps": "7"}),
        422,
        "too_many_steps",
    )
    assert "limits.max_steps" in message
    refused(
        client.post("/v1/interpolate", data={"style_a": a, "style_b": "[1, 2"}), 422, "bad_style"
    )
    refused(
        client.post("/v1/interpolate", data={"style_a": a, "style_b": "[1, 2]"}), 422, "bad_style"
    )
    refused(
        client.post("/v1/interpolate", data={"style_a": a, "style_b": '["x"]'}), 422, "bad_style"
    )
    refused(
        client.post("/v1/interpolate", data={"style_a": a, "style_b": b, "steps": "1"}),
        422,
        "invalid_request",
    )


# ---------------------------------------------------------------------------- font


def test_font_download_is_an_otf_with_the_style_in_its_names(
    client: Any, styles: list[list[float]]
) -> None:
    from fontTools.ttLib import TTFont

    response = client.post("/v1/font", json={"style": styles[0], "chars": "AbC1"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "font/otf"
    style_id = response.headers["x-glyphflow-style-ids"]
    assert f'filename="Glyphflow{style_id}-Regular.otf"' in response.headers["content-disposition"]
    font = TTFont(io.BytesIO(response.content))
    assert "CFF " in font and font.sfntVersion == "OTTO"
    cmap = font.getBestCmap()
    assert {chr(c) for c in cmap} >= set("AbC1 ")
    assert font["name"].getDebugName(1) == f"Glyphflow {style_id}"
    assert style_id in font["name"].getDebugName(3)
    again = client.post("/v1/font", json={"style": styles[0], "chars": "AbC1"})
    assert again.content == response.content


def test_font_family_name_and_bad_requests(client: Any, styles: list[list[float]]) -> None:
    from fontTools.ttLib import TTFont

    named = client.post("/v1/font", json={"style": styles[1], "chars": "ab", "family": "My Font"})
    assert TTFont(io.BytesIO(named.content))["name"].getDebugName(1) == "My Font"
    refused(
        client.post("/v1/font", json={"style": styles[1], "family": "bad/../name"}),
        422,
        "invalid_request",
    )
    refused(client.post("/v1/font", json={"style": [0.0]}), 422, "bad_style")
    refused(client.post("/v1/font", json={"style": styles[1], "chars": "a€"}), 422, "unknown_chars")


# ---------------------------------------------------------------------------- config limits


def test_slow_requests_get_503_and_the_service_stays_up(
    bundle: Any, styles: list[list[float]]
) -> None:
    from fastapi.testclient import TestClient

    from glyphflow.serving.app import create_app
    from glyphflow.serving.config import ServingConfig

    config = ServingConfig(model=str(bundle), limits={"request_timeout_s": 0.01})  # type: ignore[arg-type]
    with TestClient(create_app(config)) as slow:
        message = refused(slow.post("/v1/font", json={"style": styles[0]}), 503, "timeout")
        assert "limits.request_timeout_s" in message
        assert slow.get("/health").status_code == 200


def test_cors_only_for_configured_origins(bundle: Any, client: Any) -> None:
    from fastapi.testclient import TestClient

    from glyphflow.serving.app import create_app
    from glyphflow.serving.config import ServingConfig

    preflight = {
        "Origin": "https://fonts.example.org",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    config = ServingConfig(model=str(bundle), cors_origins=["https://fonts.example.org"])
    with TestClient(create_app(config)) as open_client:
        allowed = open_client.options("/v1/generate", headers=preflight)
        assert allowed.headers["access-control-allow-origin"] == "https://fonts.example.org"
        other = open_client.options(
            "/v1/generate", headers={**preflight, "Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in other.headers
    closed = client.get("/health", headers={"Origin": "https://fonts.example.org"})
    assert "access-control-allow-origin" not in closed.headers


def test_a_configured_classifier_scores_generated_glyphs(
    bundle: Any, tmp_path: Any, render_config: Any, styles: list[list[float]]
) -> None:
    from fastapi.testclient import TestClient

    from glyphflow import models
    from glyphflow.serving.app import create_app
    from glyphflow.serving.config import ServingConfig

    torch.manual_seed(1)
    classifier = models.build(
        {"class": "classifier", "channels": [8, 16], "feature_dim": 16},
        render_config.chars,
        (32, 32),
        render_config.model_dump(),
    )
    path = tmp_path / "classifier.pt"
    models.save(classifier, str(path))
    config = ServingConfig(model=str(bundle), classifier=str(path))
    with TestClient(create_app(config)) as scored:
        assert scored.get("/v1/model").json()["classifier"] is True
        body = scored.post(
            "/v1/generate", json={"styles": styles, "chars": "a b", "format": "json"}
        ).json()
        assert body["chars"] == "ab"  # a classifier scores glyphs: spaces are left out
        for block in body["styles"]:
            assert len(block["images"]) == len(block["confidence"]) == 2
            assert all(0.0 <= c <= 1.0 for c in block["confidence"])
        with torch.inference_mode():
            images = torch.from_numpy(json_images(body["styles"][0])).float()[:, None] / 255
            probabilities = torch.softmax(classifier.eval()(images), dim=1)
        label = render_config.chars.index("a")
        assert body["styles"][0]["confidence"][0] == pytest.approx(
            float(probabilities[0, label]), abs=1e-5
        )
    not_a_classifier = ServingConfig(model=str(bundle), classifier=str(bundle))
    from glyphflow.core.errors import UsageError

    with pytest.raises(UsageError, match="not a glyph classifier"):
        create_app(not_a_classifier)
