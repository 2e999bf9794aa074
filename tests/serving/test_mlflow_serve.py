"""The model's MLflow pyfunc flavour answers ``mlflow models serve --env-manager local``.

The bundle is saved as a pyfunc model exactly as training logs it
(:func:`glyphflow.tracking.pyfunc.save_pyfunc`), MLflow's own scoring server is started on
127.0.0.1 as a separate process, and its ``/invocations`` answers must be the model's own
outputs: glyphs for a style (generate) and a style for glyphs (encode).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from tests.serving.conftest import free_port
from tests.support.servers import running

pytest.importorskip("mlflow", reason="glyphflow[train] is needed for the pyfunc model")

pytestmark = pytest.mark.slow


def _mlflow_cli() -> str:
    beside = Path(sys.executable).with_name("mlflow")
    found = str(beside) if beside.exists() else shutil.which("mlflow")
    if not found:
        pytest.skip("the mlflow command is not installed")
    return found


@pytest.fixture(scope="module")
def scoring_server(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from glyphflow.tracking.pyfunc import save_pyfunc

    folder = tmp_path_factory.mktemp("pyfunc") / "model"
    save_pyfunc(str(bundle), str(folder))
    port = free_port()
    log = tmp_path_factory.mktemp("logs") / "mlflow-serve.log"
    # mlflow starts its scoring server as `uvicorn ...` from PATH: the venv's, as a user's
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = {
        **os.environ,
        "PATH": path,
        "MLFLOW_TRACKING_URI": f"sqlite:///{folder.parent / 'mlflow.db'}",
    }
    command = [
        _mlflow_cli(),
        "models",
        "serve",
        "-m",
        str(folder),
        "--env-manager",
        "local",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-w",
        "1",
    ]
    url = f"http://127.0.0.1:{port}"
    with running(command, f"{url}/ping", log, "mlflow models serve", env=env):
        yield url


def test_generate_through_mlflow_serve(scoring_server: str, style_model: Any) -> None:
    import httpx

    z = [0.5, -1.0, 0.0, 0.25, 1.5, -0.5, 0.0, 2.0]
    response = httpx.post(
        f"{scoring_server}/invocations",
        json={"dataframe_records": [{"style": z, "chars": "Ag"}]},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    rows = response.json()["predictions"]
    assert [row["char"] for row in rows] == ["A", "g"]
    labels = torch.tensor([[style_model.charset.index("A"), style_model.charset.index("g")]])
    with torch.inference_mode():
        expected = style_model.decode(torch.tensor([z]), labels)[0].numpy()
    got = np.array([row["image"] for row in rows], dtype=np.float32)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_encode_through_mlflow_serve(
    scoring_server: str, style_model: Any, sans: bytes, render_config: Any
) -> None:
    import httpx

    from glyphflow.glyphs import render_font

    glyphs = render_font(sans, 0, render_config)
    chars = "Hey"
    picks = [render_config.chars.index(c) for c in chars]
    images = [glyphs.images[i].tolist() for i in picks]
    response = httpx.post(
        f"{scoring_server}/invocations",
        json={"dataframe_records": [{"chars": chars, "glyphs": images}]},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    style = response.json()["predictions"][0]["style"]
    with torch.inference_mode():
        expected = style_model.encode(
            torch.from_numpy(glyphs.images[picks]).float()[None] / 255.0,
            torch.tensor([picks]),
            torch.ones(1, 3, dtype=torch.bool),
        )[0]
    assert style == pytest.approx(expected.tolist(), abs=1e-5)
