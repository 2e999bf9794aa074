"""``mlserver start`` with the repo's model settings answers like ``glyphflow serve``.

A tiny untrained style model is registered in a real SQLite MLflow store as
``glyphflow-style`` with the alias ``champion``: the URI the repo's
``integrations/mlserver/model-settings.json`` names, used unchanged
(``MLFLOW_TRACKING_URI`` points at the store, as a user sets it). MLServer and
``glyphflow serve`` are started as the processes a user runs, on free loopback ports,
on the same model; every V2 answer must equal the service's: generated glyphs byte for
byte, style vectors to 1e-6, completions byte for byte, and refusals with the same words.
"""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.integrations import require

mlserver = require("mlserver", "mlserver")

from glyphflow.glyphs import RenderConfig, render_font  # noqa: E402
from tests.serving.conftest import free_port, make_style_model  # noqa: E402
from tests.support import servers as servers_support  # noqa: E402
from tests.support.fonts import FontSpec, make_font  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "integrations" / "mlserver"
RENDER = RenderConfig(glyph_size=32)
STYLES = [[0.5, -1.0, 0.0, 0.25, 1.5, -0.5, 0.0, 2.0], [0.0] * 8]


# ---------------------------------------------------------------------------- servers


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | str]:
    """The tiny model as a bundle, and a SQLite MLflow store whose
    glyphflow-style@champion is that bundle."""
    registered = servers_support.register_style_model(
        tmp_path_factory.mktemp("mlflow"), make_style_model(RENDER), experiment="mlserver-test"
    )
    return {"tracking_uri": registered.tracking_uri, "bundle": registered.bundle}


def _env(tracking_uri: str) -> dict[str, str]:
    """The environment a user has: the venv's commands on PATH, the tracking URI set."""
    bin_dir = str(Path(sys.executable).parent)
    path = os.pathsep.join([str(REPO / "src"), str(REPO), os.environ.get("PYTHONPATH", "")])
    return {
        **os.environ,
        "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
        "PYTHONPATH": path,
        "MLFLOW_TRACKING_URI": tracking_uri,
        "OMP_NUM_THREADS": "1",
    }


def _model_folder(root: Path, **settings: Any) -> tuple[Path, dict[str, Any]]:
    """A model repository with the repo's model settings and its server settings on free
    ports (``settings`` changed on top)."""
    models = root / "models"
    models.mkdir()
    (models / "model-settings.json").write_text((EXAMPLE / "model-settings.json").read_text())
    server = json.loads((EXAMPLE / "settings.json").read_text())
    server.update(http_port=free_port(), grpc_port=free_port(), metrics_port=free_port())
    server.update(settings)
    (models / "settings.json").write_text(json.dumps(server))
    return models, server


def _mlserver(models: Path, env: dict[str, str], root: Path) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).with_name("mlserver")), "start", str(models)]
    return servers_support.start(command, root / "mlserver.log", env, root)


@pytest.fixture(scope="module")
def servers(
    store: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """MLServer on the repo's example settings and ``glyphflow serve``, both serving the
    champion (the URI both name by default), started side by side."""
    root = tmp_path_factory.mktemp("mlserver")
    models, settings = _model_folder(root)
    serve_port = free_port()
    serve_yaml = root / "serve.yaml"
    serve_yaml.write_text(
        f"version: 1\nserving:\n  tracking_uri: {store['tracking_uri']}\n  log_level: warning\n"
    )
    env = _env(store["tracking_uri"])
    ml = _mlserver(models, env, root)
    glyphflow_serve = [sys.executable, "-m", "glyphflow", "serve", "-c", str(serve_yaml)]
    gf = servers_support.start(
        [*glyphflow_serve, "--port", str(serve_port)], root / "serve.log", env, root
    )
    try:
        ml_url = f"http://127.0.0.1:{settings['http_port']}"
        gf_url = f"http://127.0.0.1:{serve_port}"
        servers_support.wait_ready(
            ml, f"{ml_url}/v2/models/glyphflow/ready", root / "mlserver.log", "mlserver start"
        )
        servers_support.wait_ready(gf, f"{gf_url}/health", root / "serve.log", "glyphflow serve")
        yield {"mlserver": ml_url, "serve": gf_url}
    finally:
        servers_support.stop(ml, signal.SIGINT)
        servers_support.stop(gf, signal.SIGINT)


# ---------------------------------------------------------------------------- helpers


def infer(servers: dict[str, str], body: dict[str, Any]) -> Any:
    import httpx

    return httpx.post(f"{servers['mlserver']}/v2/models/glyphflow/infer", json=body, timeout=60)


def outputs(response: Any) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.text
    return {out["name"]: out for out in response.json()["outputs"]}


def array(output: dict[str, Any], dtype: Any) -> np.ndarray:
    return np.asarray(output["data"], dtype=dtype).reshape(output["shape"])


def served_glyphs(body: dict[str, Any]) -> np.ndarray:
    """``/v1/... format=json`` arrays as ``(B, N, H, W)`` uint8."""
    height, width = body["shape"]
    return np.stack(
        [
            np.stack(
                [
                    np.frombuffer(base64.b64decode(b), np.uint8).reshape(height, width)
                    for b in s["images"]
                ]
            )
            for s in body["styles"]
        ]
    )


def font_input(data: bytes) -> dict[str, Any]:
    return {
        "name": "font",
        "datatype": "BYTES",
        "shape": [1],
        "data": [base64.b64encode(data).decode()],
    }


def text_input(name: str, text: str) -> dict[str, Any]:
    return {"name": name, "datatype": "BYTES", "shape": [1], "data": [text]}


def post(servers: dict[str, str], route: str, **kwargs: Any) -> Any:
    import httpx

    response = httpx.post(f"{servers['serve']}{route}", timeout=60, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------------------- tests


def test_metadata_describes_the_model(servers: dict[str, str]) -> None:
    import httpx

    meta = httpx.get(f"{servers['mlserver']}/v2/models/glyphflow", timeout=10).json()
    info = httpx.get(f"{servers['serve']}/v1/model", timeout=10).json()
    assert meta["platform"] == "glyphflow"
    assert {i["name"] for i in meta["inputs"]} >= {"styles", "chars", "font", "images"}
    styles = next(i for i in meta["inputs"] if i["name"] == "styles")
    assert styles["shape"] == [-1, 8] and styles["datatype"] == "FP32"
    params = meta["parameters"]
    assert params["glyphflow_model"] == info["model"]  # the same weights
    assert params["charset"] == info["charset"] and params["latent_dim"] == 8
    assert params["glyph_shape"] == [32, 32]


def test_generate_equals_glyphflow_serve(servers: dict[str, str]) -> None:
    chars = "Ag 7A"
    request = {
        "parameters": {"operation": "generate"},
        "inputs": [
            {
                "name": "styles",
                "datatype": "FP32",
                "shape": [2, 8],
                "data": [v for s in STYLES for v in s],
            },
            text_input("chars", chars),
        ],
    }
    got = outputs(infer(servers, request))
    glyphs = array(got["glyphs"], np.uint8)
    assert got["glyphs"]["datatype"] == "UINT8" and glyphs.shape == (2, 5, 32, 32)
    expected = post(
        servers, "/v1/generate", json={"styles": STYLES, "chars": chars, "format": "json"}
    )
    np.testing.assert_array_equal(glyphs, served_glyphs(expected))
    assert got["style_ids"]["data"] == [s["style_id"] for s in expected["styles"]]
    assert got["chars"]["data"] == [chars]
    assert glyphs[:, 2].max() == 0 and glyphs[:, [0, 1, 3]].max() > 0  # a space is blank
    np.testing.assert_array_equal(glyphs[:, 0], glyphs[:, 4])  # repeats drawn alike

    # the example request in the repo (a 16-d model's) is a valid V2 request
    example = json.loads((EXAMPLE / "generate.json").read_text())
    assert example["parameters"]["operation"] == "generate"
    assert example["inputs"][0]["shape"][0] * example["inputs"][0]["shape"][1] == len(
        example["inputs"][0]["data"]
    )


def test_encode_equals_glyphflow_serve(servers: dict[str, str]) -> None:
    font = make_font(FontSpec(family="Serve Sans", stroke=90.0))
    got = outputs(
        infer(
            servers,
            {
                "parameters": {"operation": "encode"},
                "inputs": [
                    font_input(font),
                    {"name": "face_index", "datatype": "INT32", "shape": [1], "data": [0]},
                ],
            },
        )
    )
    expected = post(servers, "/v1/encode", files={"file": ("sans.ttf", font)})
    style = array(got["style"], np.float32)
    assert style.shape == (1, 8)
    np.testing.assert_allclose(style[0], expected["style"], atol=1e-6, rtol=0)
    assert got["style_ids"]["data"] == [expected["style_id"]]
    assert got["observed"]["data"] == [expected["observed"]]
    assert len(expected["observed"]) == 62 and np.abs(style).sum() > 0


def test_complete_a_partial_font_equals_glyphflow_serve(servers: dict[str, str]) -> None:
    partial = make_font(FontSpec(family="Partial", chars="HOMEhome"))
    got = outputs(
        infer(servers, {"parameters": {"operation": "complete"}, "inputs": [font_input(partial)]})
    )
    expected = post(
        servers, "/v1/complete", files={"font": ("partial.ttf", partial)}, data={"format": "json"}
    )
    glyphs = array(got["glyphs"], np.uint8)
    assert glyphs.shape == (1, 62, 32, 32)
    np.testing.assert_array_equal(glyphs, served_glyphs(expected))
    assert got["chars"]["data"] == [expected["chars"]]
    np.testing.assert_allclose(
        array(got["style"], np.float32)[0], expected["styles"][0]["style"], atol=1e-6
    )
    rendered = render_font(partial, 0, RENDER)
    h = RENDER.chars.index("H")
    np.testing.assert_array_equal(glyphs[0, h], rendered.images[h])  # its own glyph kept


def test_complete_from_glyph_images_equals_glyphflow_serve(servers: dict[str, str]) -> None:
    from PIL import Image

    rendered = render_font(make_font(FontSpec(family="Serve Sans", stroke=90.0)), 0, RENDER)
    chars = "Rag"
    images = rendered.images[[RENDER.chars.index(c) for c in chars]]
    got = outputs(
        infer(
            servers,
            {
                "parameters": {"operation": "complete"},
                "inputs": [
                    {
                        "name": "images",
                        "datatype": "UINT8",
                        "shape": [3, 32, 32],
                        "data": images.ravel().tolist(),
                    },
                    text_input("chars", chars),
                    {"name": "keep_observed", "datatype": "BOOL", "shape": [1], "data": [False]},
                ],
            },
        )
    )
    files = []
    for char, image in zip(chars, images, strict=True):
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="PNG")
        files.append(("images", (f"{char}.png", buffer.getvalue())))
    expected = post(
        servers,
        "/v1/complete",
        files=files,
        data={"chars": chars, "format": "json", "keep_observed": "false"},
    )
    np.testing.assert_array_equal(array(got["glyphs"], np.uint8), served_glyphs(expected))
    np.testing.assert_allclose(
        array(got["style"], np.float32)[0], expected["styles"][0]["style"], atol=1e-6
    )


def test_refusals_are_4xx_with_glyphflow_words(servers: dict[str, str]) -> None:
    import httpx

    unknown = infer(
        servers,
        {
            "parameters": {"operation": "generate"},
            "inputs": [
                {"name": "styles", "datatype": "FP32", "shape": [1, 8], "data": STYLES[0]},
                text_input("chars", "A€"),
            ],
        },
    )
    served = httpx.post(
        f"{servers['serve']}/v1/generate", json={"styles": STYLES[:1], "chars": "A€"}, timeout=30
    )
    assert unknown.status_code == served.status_code == 422
    assert unknown.json()["error"] == served.json()["detail"]
    assert "cannot draw '€'" in unknown.json()["error"]

    wrong_size = infer(
        servers,
        {"inputs": [{"name": "styles", "datatype": "FP32", "shape": [1, 3], "data": [0.0] * 3}]},
    )
    assert wrong_size.status_code == 422 and "8 values" in wrong_size.json()["error"]

    not_a_font = infer(
        servers,
        {"parameters": {"operation": "encode"}, "inputs": [font_input(b"hello, not a font" * 10)]},
    )
    assert not_a_font.status_code == 415, not_a_font.text

    unknown_operation = infer(
        servers, {"parameters": {"operation": "interpolate"}, "inputs": [font_input(b"x")]}
    )
    assert unknown_operation.status_code == 422
    assert "generate, encode, complete" in unknown_operation.json()["error"]

    # and the server is still well after them
    ok = infer(
        servers,
        {"inputs": [{"name": "styles", "datatype": "FP32", "shape": [1, 8], "data": STYLES[0]}]},
    )
    assert outputs(ok)["glyphs"]["shape"] == [1, 62, 32, 32]


def test_a_bundle_path_in_parallel_workers_over_grpc(
    store: dict[str, Any], servers: dict[str, str], tmp_path: Path
) -> None:
    """MLServer's defaults (inference in a worker process) with the model and a
    classifier as bundles beside the settings file: over gRPC the same style as over
    REST, and generate adds the classifier's confidence."""
    import grpc
    import torch
    from mlserver.grpc import dataplane_pb2 as pb
    from mlserver.grpc import dataplane_pb2_grpc as pb_grpc

    from glyphflow import models as glyphflow_models

    models, settings = _model_folder(tmp_path, parallel_workers=1)
    (models / "model.pt").write_bytes(Path(store["bundle"]).read_bytes())
    torch.manual_seed(1)
    classifier = glyphflow_models.build(
        {"class": "classifier", "channels": [8, 16], "feature_dim": 16},
        RENDER.chars,
        (32, 32),
        RENDER.model_dump(),
    )
    glyphflow_models.save(classifier, str(models / "classifier.pt"))
    model_settings = json.loads((models / "model-settings.json").read_text())
    model_settings["parameters"]["uri"] = "model.pt"  # relative to the settings file
    model_settings["parameters"]["extra"]["classifier"] = "classifier.pt"
    (models / "model-settings.json").write_text(json.dumps(model_settings))
    env = _env("sqlite:///nowhere.db")  # a bundle path needs no tracking
    process = _mlserver(models, env, tmp_path)
    try:
        url = f"http://127.0.0.1:{settings['http_port']}"
        servers_support.wait_ready(
            process, f"{url}/v2/models/glyphflow/ready", tmp_path / "mlserver.log", "mlserver"
        )
        font = make_font(FontSpec(family="Serve Sans", stroke=90.0))
        tensor = pb.ModelInferRequest.InferInputTensor(
            name="font", datatype="BYTES", shape=[1], contents=pb.InferTensorContents()
        )
        tensor.contents.bytes_contents.append(font)  # raw bytes: gRPC needs no base64
        request = pb.ModelInferRequest(model_name="glyphflow", inputs=[tensor])
        request.parameters["operation"].string_param = "encode"
        with grpc.insecure_channel(f"127.0.0.1:{settings['grpc_port']}") as channel:
            answer = pb_grpc.GRPCInferenceServiceStub(channel).ModelInfer(request, timeout=60)
        got = {out.name: out for out in answer.outputs}
        over_rest = outputs(infer(servers, {"inputs": [font_input(font)]}))
        np.testing.assert_allclose(
            list(got["style"].contents.fp32_contents), over_rest["style"]["data"], atol=1e-6
        )
        assert list(got["style_ids"].contents.bytes_contents) == [
            s.encode() for s in over_rest["style_ids"]["data"]
        ]

        # a classifier scores each generated glyph (spaces are not glyphs: 0)
        scored = outputs(
            httpx_post(
                f"{url}/v2/models/glyphflow/infer",
                {
                    "inputs": [
                        {"name": "styles", "datatype": "FP32", "shape": [1, 8], "data": STYLES[0]},
                        text_input("chars", "a b"),
                    ]
                },
            )
        )
        glyphs = array(scored["glyphs"], np.uint8)[0]
        confidence = array(scored["confidence"], np.float32)
        assert confidence.shape == (1, 3) and confidence[0, 1] == 0.0
        with torch.inference_mode():
            pixels = torch.from_numpy(glyphs[[0, 2]]).float()[:, None] / 255
            probabilities = torch.softmax(classifier.eval()(pixels), dim=1)
        labels = [RENDER.chars.index("a"), RENDER.chars.index("b")]
        np.testing.assert_allclose(
            confidence[0, [0, 2]], probabilities[[0, 1], labels].numpy(), atol=1e-5
        )

        # a refusal crosses the worker boundary with its status and glyphflow's words
        refused = httpx_post(
            f"{url}/v2/models/glyphflow/infer",
            {
                "inputs": [
                    {"name": "styles", "datatype": "FP32", "shape": [1, 8], "data": STYLES[0]},
                    text_input("chars", "A€"),
                ]
            },
        )
        assert refused.status_code == 422 and "cannot draw '€'" in refused.json()["error"]
    finally:
        servers_support.stop(process, signal.SIGINT)


def httpx_post(url: str, body: dict[str, Any]) -> Any:
    import httpx

    return httpx.post(url, json=body, timeout=60)


def test_model_settings_mistakes_say_what_to_fix() -> None:
    import asyncio

    from mlserver.settings import ModelSettings

    from glyphflow.core.errors import UsageError
    from glyphflow.integrations.mlserver import GlyphflowRuntime

    def load(parameters: dict[str, Any]) -> None:
        settings = ModelSettings(
            name="glyphflow", implementation=GlyphflowRuntime, parameters=parameters
        )
        asyncio.run(GlyphflowRuntime(settings).load())

    with pytest.raises(UsageError, match=r"parameters\.uri names no model"):
        load({})
    with pytest.raises(UsageError, match=r"'torch_thread'.*it takes tracking_uri"):
        load({"uri": "model.pt", "extra": {"torch_thread": 2}})
    with pytest.raises(UsageError, match=r"parameters\.extra is not valid.*max_chars"):
        load({"uri": "model.pt", "extra": {"limits": {"max_chars": 0}}})
