"""BentoML: a registered model imported into BentoML's store, served by ``bentoml serve``.

A tiny untrained style model is registered in a real SQLite MLflow store as
``glyphflow-style`` version 1, alias ``champion`` (as training and evaluation leave it),
imported with ``python -m glyphflow.integrations.bentoml import`` into a BentoML home in a
temporary folder, and served by BentoML's own ``bentoml serve`` (a separate process, on
127.0.0.1) from ``integrations/bentoml``, the README's example folder. ``glyphflow serve``'s
app serves the same alias beside it, and every answer must be the same: glyphs byte for
byte, styles to 1e-6, refusals word for word. ``bentoml build`` packs the service with the
model's reference.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.integrations import require

bentoml = require("bentoml", "bentoml")
require("mlflow", "bentoml")
httpx = require("httpx", "bentoml")

from glyphflow.glyphs import RenderConfig  # noqa: E402
from tests.serving.conftest import LiveServer, free_port, make_style_model  # noqa: E402
from tests.support.fonts import FontSpec, make_font  # noqa: E402
from tests.support.servers import register_style_model, running  # noqa: E402

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    # bentoml build reads .bentoignore patterns with an API pathspec deprecated
    pytest.mark.filterwarnings("ignore::DeprecationWarning:pathspec.*"),
]

EXAMPLE = Path(__file__).resolve().parents[2] / "integrations" / "bentoml"
NAME = "glyphflow-style"
STYLES = [[0.5, -1.0, 0.0, 0.25, 1.5, -0.5, 0.0, 2.0], [-1.0, 0.3, 1.2, 0.0, -0.7, 0.9, 0.1, -2.0]]


def _cli(name: str) -> str:
    found = Path(sys.executable).with_name(name)
    assert found.exists(), f"{name} is not installed beside {sys.executable}"
    return str(found)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A BentoML home of this test's own (set here too: the store is looked up lazily)."""
    import torch

    torch.set_num_threads(1)  # the machine is small and shared
    settings = {
        "BENTOML_HOME": str(tmp_path_factory.mktemp("bentoml-home")),
        "BENTOML_DO_NOT_TRACK": "True",
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in settings.items():
            patch.setenv(key, value)
        yield {**os.environ, **settings}


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite MLflow store holding the model as glyphflow-style v1, alias champion."""
    registered = register_style_model(
        tmp_path_factory.mktemp("mlflow"),
        make_style_model(RenderConfig(glyph_size=32)),
        NAME,
        experiment="glyphflow-bentoml-test",
    )
    return registered.tracking_uri


@pytest.fixture(scope="module")
def imported(env: dict[str, str], tracking_uri: str) -> str:
    """The champion imported into the BentoML store by the module's CLI; its tag."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "glyphflow.integrations.bentoml",
            "import",
            f"models:/{NAME}@champion",
            "--tracking-uri",
            tracking_uri,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    tag = done.stdout.split(":", 2)
    return f"{tag[0]}:{tag[1]}"


@pytest.fixture(scope="module")
def glyphflow_url(tracking_uri: str) -> Iterator[str]:
    """``glyphflow serve``'s app on the same champion alias (uvicorn in a thread)."""
    from glyphflow.serving.app import create_app
    from glyphflow.serving.config import ServingConfig

    config = ServingConfig(model=f"models:/{NAME}@champion", tracking_uri=tracking_uri)
    with LiveServer(create_app(config)) as server:
        yield server.url


@pytest.fixture(scope="module")
def bento_url(
    imported: str, env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """``bentoml serve`` of the example folder's service, as the README runs it."""
    port = free_port()
    log = tmp_path_factory.mktemp("logs") / "bentoml-serve.log"
    command = [
        _cli("bentoml"),
        "serve",
        "service:GlyphflowService",
        "--working-dir",
        str(EXAMPLE),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    url = f"http://127.0.0.1:{port}"
    with running(command, f"{url}/readyz", log, "bentoml serve", env=env):
        yield url


@pytest.fixture(scope="module")
def fonts() -> dict[str, bytes]:
    return {
        "sans.ttf": make_font(FontSpec(family="Bento Sans", stroke=90.0)),
        "slab.ttf": make_font(
            FontSpec(family="Bento Slab", stroke=170.0, width=620.0, slant=0.2, seed="b")
        ),
    }


def _post(url: str, **kwargs: Any) -> Any:
    return httpx.post(url, timeout=120, **kwargs)


def _glyphs(answer: dict[str, Any]) -> np.ndarray:
    """(styles, chars, H, W) uint8 from a json glyph answer."""
    height, width = answer["shape"]
    return np.stack(
        [
            np.stack(
                [
                    np.frombuffer(base64.b64decode(image), dtype=np.uint8).reshape(height, width)
                    for image in style["images"]
                ]
            )
            for style in answer["styles"]
        ]
    )


# ---------------------------------------------------------------------------- tests


def test_import_stores_the_model_with_its_render_settings(imported: str) -> None:
    from glyphflow import models
    from glyphflow.serving.served import ServedModel

    stored = bentoml.models.get(f"{NAME}:latest")
    assert str(stored.tag) == imported
    bundle = Path(stored.path_of("model.pt"))
    assert bundle.is_file()
    metadata = stored.info.metadata
    original = ServedModel(make_style_model(RenderConfig(glyph_size=32)))
    assert metadata["render"] == RenderConfig(glyph_size=32).model_dump(mode="json")
    assert metadata["glyphflow_model_id"] == original.model_id
    assert metadata["charset"] == original.charset
    assert metadata["image_shape"] == [32, 32]
    assert metadata["latent_dim"] == 8
    assert metadata["source"] == f"models:/{NAME}@champion"
    # the stored bundle is the registered model: the same weights
    assert ServedModel(models.load(str(bundle))).model_id == original.model_id


def test_generate_draws_what_glyphflow_serve_draws(bento_url: str, glyphflow_url: str) -> None:
    chars = "Ag 0g"
    bento = _post(f"{bento_url}/generate", json={"styles": STYLES, "chars": chars})
    assert bento.status_code == 200, bento.text
    served = _post(
        f"{glyphflow_url}/v1/generate", json={"styles": STYLES, "chars": chars, "format": "json"}
    )
    assert served.status_code == 200, served.text
    answer = bento.json()
    assert answer["chars"] == chars and answer["shape"] == [32, 32]
    images = _glyphs(answer)
    assert images.shape == (2, 5, 32, 32)
    np.testing.assert_array_equal(images, _glyphs(served.json()))
    assert answer == served.json()  # ids, styles, encoding: the whole answer
    assert not images[:, 2].any()  # the space is blank
    np.testing.assert_array_equal(images[:, 1], images[:, 4])  # "g" twice, drawn once
    assert images[:, 0].any() and not np.array_equal(images[0], images[1])  # styles differ


def test_encode_finds_the_style_glyphflow_serve_finds(
    bento_url: str, glyphflow_url: str, fonts: dict[str, bytes]
) -> None:
    styles = []
    for name, data in fonts.items():
        bento = _post(f"{bento_url}/encode", files={"file": (name, data)})
        assert bento.status_code == 200, bento.text
        served = _post(f"{glyphflow_url}/v1/encode", files={"file": (name, data)})
        assert served.status_code == 200, served.text
        ours, theirs = bento.json(), served.json()
        np.testing.assert_allclose(ours.pop("style"), theirs.pop("style"), rtol=0, atol=1e-6)
        ours.pop("style_id"), theirs.pop("style_id")  # a hash of the style: equal above
        assert ours == theirs
        assert ours["file"] == name and len(ours["observed"]) == 62
        styles.append(bento.json()["style"])
    assert not np.allclose(styles[0], styles[1], atol=1e-3)  # two fonts, two styles


def test_complete_and_sample_answer_as_glyphflow_serve(
    bento_url: str, glyphflow_url: str, fonts: dict[str, bytes]
) -> None:
    data = fonts["slab.ttf"]
    bento = _post(f"{bento_url}/complete", files={"font": ("slab.ttf", data)})
    assert bento.status_code == 200, bento.text
    served = _post(
        f"{glyphflow_url}/v1/complete", files={"font": ("slab.ttf", data)}, data={"format": "json"}
    )
    assert served.status_code == 200, served.text
    np.testing.assert_array_equal(_glyphs(bento.json()), _glyphs(served.json()))
    assert bento.json()["chars"] == served.json()["chars"]

    bento = _post(f"{bento_url}/sample", json={"n": 3, "seed": 7})
    served = _post(f"{glyphflow_url}/v1/sample", json={"n": 3, "seed": 7})
    assert bento.status_code == served.status_code == 200
    assert bento.json() == served.json()


@pytest.mark.parametrize(
    ("api", "request_args", "status", "reason"),
    [
        ("generate", {"json": {"styles": STYLES, "chars": "A€"}}, 422, "unknown_chars"),
        ("generate", {"json": {"styles": [[0.0, 1.0]]}}, 422, "bad_style"),
        ("encode", {"files": {"file": ("notes.txt", b"not a font at all")}}, 415, "not_a_font"),
        (
            "encode",
            {"files": {"file": ("sans.ttf", None)}, "data": {"face_index": "3"}},
            422,
            "bad_face_index",
        ),
    ],
)
def test_refusals_say_what_glyphflow_serve_says(
    bento_url: str,
    glyphflow_url: str,
    fonts: dict[str, bytes],
    api: str,
    request_args: dict[str, Any],
    status: int,
    reason: str,
) -> None:
    files = request_args.get("files")
    if files and files["file"][1] is None:
        request_args = {**request_args, "files": {"file": ("sans.ttf", fonts["sans.ttf"])}}
    bento = _post(f"{bento_url}/{api}", **request_args)
    served = _post(f"{glyphflow_url}/v1/{api}", **request_args)
    assert (bento.status_code, served.status_code) == (status, status), bento.text
    assert bento.json() == served.json()
    assert bento.json()["reason"] == reason
    if reason == "unknown_chars":
        assert "cannot draw '€'" in bento.json()["detail"]


def test_bentoml_build_packs_the_service_with_the_model(imported: str, env: dict[str, str]) -> None:
    done = subprocess.run(
        [_cli("bentoml"), "build", "-f", str(EXAMPLE / "bentofile.yaml"), str(EXAMPLE)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    bento = bentoml.bentos.get("glyphflow:latest")
    models = [str(model.tag) for service in bento.info.services for model in service.models]
    assert models == [imported]
    assert (Path(bento.path) / "src" / "service.py").is_file()
    requirements = (Path(bento.path) / "env" / "python" / "requirements.txt").read_text()
    assert any(line.startswith("glyphflow[") for line in requirements.splitlines())
