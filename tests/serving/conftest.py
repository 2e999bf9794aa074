"""Fixtures for the serving tests: a small style model saved as a bundle, the app on it,
and the same app served by a real uvicorn on 127.0.0.1 for HTTP and browser tests.

The model is untrained (its weights come from a fixed seed): what serving must get right
(rendering uploads like the training data, limits, shapes, export, the page) does not
depend on how well a model draws, and training in every test run would cost minutes on
a small machine. Where drawing quality matters (export), the tests trace real fonts.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="glyphflow[serve] is needed for the serving tests")
torch = pytest.importorskip("torch", reason="torch is needed for the serving tests")

from glyphflow import models  # noqa: E402
from glyphflow.glyphs import RenderConfig  # noqa: E402
from glyphflow.serving.config import ServingConfig  # noqa: E402
from tests.support.fonts import FontSpec, make_font  # noqa: E402

GLYPH_SIZE = 32
LATENT_DIM = 8

#: A tiny font_style architecture: fast on two CPU cores.
TINY_MODEL: dict[str, Any] = {
    "class": "font_style",
    "channels": [8, 16],
    "hidden_dim": 32,
    "latent_dim": LATENT_DIM,
    "char_embedding_dim": 8,
    "pooling": "attention",
}


def make_style_model(render: RenderConfig, seed: int = 0, **changes: Any) -> Any:
    """An untrained style model with fixed weights, carrying ``render`` like a trained one.

    Its last layer is biased toward paper, as a trained decoder's is (most of a glyph
    image is paper): an unbiased random decoder draws grey noise everywhere, which traces
    into thousands of specks and makes every font export in the tests take seconds.
    """
    torch.manual_seed(seed)
    size = render.glyph_size
    model = models.build({**TINY_MODEL, **changes}, render.chars, (size, size), render.model_dump())
    last = [m for m in model.decoder.modules() if isinstance(m, torch.nn.Conv2d)][-1]
    with torch.no_grad():
        last.bias.fill_(-0.35)
    return model.eval()


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread() -> None:
    # the test machine is small and shared: one thread per computation avoids contention
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def render_config() -> RenderConfig:
    return RenderConfig(glyph_size=GLYPH_SIZE)


@pytest.fixture(scope="session")
def style_model(render_config: RenderConfig) -> Any:
    return make_style_model(render_config)


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory, style_model: Any) -> Path:
    """The model saved as a bundle file, as training writes it."""
    path = tmp_path_factory.mktemp("model") / "model.pt"
    models.save(style_model, str(path))
    return path


@pytest.fixture(scope="session")
def serving_config(bundle: Path) -> ServingConfig:
    return ServingConfig(
        model=str(bundle),
        limits={  # type: ignore[arg-type]
            "max_upload_bytes": 2_000_000,
            "max_unpacked_bytes": 4_000_000,
            "max_image_pixels": 1_000_000,
            "max_chars": 100,
            "max_batch": 4,
            "max_steps": 6,
        },
        export={"upsample": 1, "smooth": 1.0},  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def app(serving_config: ServingConfig) -> Any:
    from glyphflow.serving.app import create_app

    return create_app(serving_config)


@pytest.fixture(scope="session")
def client(app: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def sans() -> bytes:
    """A font the model can encode: every alphanumeric."""
    return make_font(FontSpec(family="Serve Sans", stroke=90.0))


@pytest.fixture(scope="session")
def serif() -> bytes:
    """A second, clearly different style."""
    return make_font(FontSpec(family="Serve Slab", stroke=170.0, width=620.0, slant=0.2, seed="b"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """uvicorn serving an app on 127.0.0.1 in a thread; ``url`` is its base URL."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(app: Any) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server
