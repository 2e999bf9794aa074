"""MLflow tracking, for real: a SQLite store, runs with params, metrics and images, a
registered pyfunc model that loads and predicts, aliases, loading by any model URI."""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
mlflow = pytest.importorskip("mlflow")

from mlflow import MlflowClient  # noqa: E402

from glyphflow.cli import main  # noqa: E402
from glyphflow.core.manifest import Manifest  # noqa: E402
from glyphflow.io.outputs import read_manifest  # noqa: E402
from glyphflow.models import load  # noqa: E402
from glyphflow.tracking import resolve_tracking_uri  # noqa: E402
from glyphflow.tracking.registry import (  # noqa: E402
    get_alias_version,
    load_model,
    log_metrics_to_run,
    set_alias,
)
from glyphflow.tracking.runs import flatten_params  # noqa: E402
from glyphflow.training import run  # noqa: E402
from glyphflow.training.config import TrainingConfig  # noqa: E402
from tests.support.glyphsets import GlyphSet, draw_glyph, make_glyph_dataset  # noqa: E402

torch.set_num_threads(1)

STYLE_YAML = """\
version: 1
training:
  glyphs: {glyphs}
  output: {output}
  model:
    class: font_style
    channels: [8, 16]
    hidden_dim: 32
    latent_dim: 6
    char_embedding_dim: 8
    observed_max: 3
  epochs: 1
  batch_size: 2
  threads: 1
  log_every_steps: 1
  mlflow:
    tracking_uri: {uri}
    experiment: {experiment}
    run_name: tiny-style
    registered_model_name: {name}
    image_fonts: 2
    image_samples: 3
"""


@dataclass
class Trained:
    glyphs: GlyphSet
    output: str
    manifest: Manifest
    uri: str
    name: str


@pytest.fixture(scope="module")
def style_run(tmp_path_factory: pytest.TempPathFactory, mlflow_tracking_uri: str) -> Trained:
    """A font-style model trained through the CLI (2 epochs via --set), tracked in MLflow."""
    root = tmp_path_factory.mktemp("tracked")
    glyphs = make_glyph_dataset(
        str(root / "glyphs"), n_fonts=8, charset="ABCDE", size=16, layout="font"
    )
    output = str(root / "model")
    name = f"test-style-{uuid.uuid4().hex[:8]}"
    config = root / "training.yaml"
    config.write_text(
        STYLE_YAML.format(
            glyphs=glyphs.url,
            output=output,
            uri=mlflow_tracking_uri,
            experiment=f"exp-{name}",
            name=name,
        )
    )
    with pytest.raises(SystemExit) as done:
        main(["train", "-c", str(config), "--set", "training.epochs=2"])
    assert done.value.code == 0
    manifest = read_manifest(output)
    assert manifest is not None
    return Trained(glyphs, output, manifest, mlflow_tracking_uri, name)


@pytest.fixture
def keep_sys_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """MLflow puts the model's code folder on sys.path when it loads a model; undo that."""
    monkeypatch.setattr(sys, "path", list(sys.path))


def _artifacts(client: MlflowClient, run_id: str, path: str | None = None) -> list[str]:
    out: list[str] = []
    for item in client.list_artifacts(run_id, path):
        out += _artifacts(client, run_id, item.path) if item.is_dir else [item.path]
    return out


def test_run_has_params_metrics_images_and_model(style_run: Trained) -> None:
    client = MlflowClient(tracking_uri=style_run.uri)
    run_id = style_run.manifest.mlflow_run_id
    assert run_id is not None
    found = client.get_run(run_id)
    assert found.info.status == "FINISHED" and found.info.run_name == "tiny-style"
    params = found.data.params
    assert params["model.latent_dim"] == "6" and params["epochs"] == "2"
    assert params["optimizer.class"] == "AdamW" and params["glyphs"] == style_run.glyphs.url
    assert found.data.tags["glyphflow.model"] == "font_style"
    steps = client.get_metric_history(run_id, "train_loss")
    assert len(steps) >= 4 and all(np.isfinite(m.value) for m in steps)
    assert len(client.get_metric_history(run_id, "val_loss")) == 2
    assert "throughput_fonts_per_s" in found.data.metrics
    artifacts = set(_artifacts(client, run_id))
    for expected in (
        "config/training.yaml",
        "inputs/glyphs_manifest.json",
        "images/epoch-0001-reconstruction.png",
        "images/epoch-0002-reconstruction.png",
        "images/epoch-0002-samples.png",
        "metrics.json",
        "model/MLmodel",
        "model/artifacts/model.pt",
        "model/requirements.txt",
    ):
        assert expected in artifacts
    local = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="images/epoch-0002-samples.png", tracking_uri=style_run.uri
    )
    from PIL import Image

    with Image.open(local) as image:
        assert image.size[0] > 5 * 16 and image.size[1] > 3 * 16  # 5 characters x 3 samples
    requirements = Path(
        mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path="model/requirements.txt", tracking_uri=style_run.uri
        )
    ).read_text()
    assert "torch==2." in requirements and "+cpu" not in requirements


def test_registered_version_loads_as_pyfunc_and_predicts(
    style_run: Trained, monkeypatch: pytest.MonkeyPatch, keep_sys_path: None
) -> None:
    extra = style_run.manifest.extra
    assert extra["registered_model_name"] == style_run.name
    version = extra["registered_model_version"]
    client = MlflowClient(tracking_uri=style_run.uri)
    assert (
        client.get_model_version(style_run.name, version).run_id == style_run.manifest.mlflow_run_id
    )

    monkeypatch.setenv("MLFLOW_TRACKING_URI", style_run.uri)
    import pandas as pd

    pyfunc = mlflow.pyfunc.load_model(f"models:/{style_run.name}/{version}")
    model = load(style_run.output)
    style = [0.5, -1.0, 0.0, 0.25, 1.0, -0.5]
    generated = pyfunc.predict(pd.DataFrame({"style": [style, style], "chars": ["AC", "E"]}))
    assert list(generated["row"]) == [0, 0, 1] and list(generated["char"]) == ["A", "C", "E"]
    image = np.asarray(generated["image"][1], dtype=np.float32)
    with torch.no_grad():
        expected = model.decode(torch.tensor([style]), model.labels_of("C").unsqueeze(0))[0, 0]  # type: ignore[operator]
    assert image.shape == (16, 16)
    assert np.allclose(image, expected.numpy(), atol=1e-6)

    font = style_run.glyphs.fonts[0]
    glyphs = [draw_glyph(c, font.style, 16).tolist() for c in "ABD"]  # 0..255 values
    encoded = pyfunc.predict(pd.DataFrame({"chars": ["ABD"], "glyphs": [glyphs]}))
    pixels = torch.tensor(np.array(glyphs, dtype=np.float32) / 255.0).unsqueeze(0)
    with torch.no_grad():
        z = model.encode(pixels, model.labels_of("ABD").unsqueeze(0))  # type: ignore[operator]
    assert np.allclose(np.asarray(encoded["style"][0]), z[0].numpy(), atol=1e-5)


def test_aliases_and_loading_by_any_uri(style_run: Trained, keep_sys_path: None) -> None:
    version = style_run.manifest.extra["registered_model_version"]
    uri = style_run.uri
    assert get_alias_version(style_run.name, "champion", uri) is None
    set_alias(style_run.name, version, "champion", uri)
    assert get_alias_version(style_run.name, "champion", uri) == version
    reference = load(style_run.output).state_dict()
    run_id = style_run.manifest.mlflow_run_id
    for source in (f"models:/{style_run.name}@champion", f"runs:/{run_id}/model", style_run.output):
        loaded = load_model(source, tracking_uri=uri)
        assert loaded.render["glyph_size"] == 16
        assert all(torch.equal(reference[k], v) for k, v in loaded.state_dict().items())
    log_metrics_to_run(run_id, {"eval_l1": 0.125}, tracking_uri=uri)  # type: ignore[arg-type]
    assert MlflowClient(tracking_uri=uri).get_run(run_id).data.metrics["eval_l1"] == 0.125  # type: ignore[arg-type]


def test_classifier_is_registered_and_classifies(
    tmp_path: Path, mlflow_tracking_uri: str, monkeypatch: pytest.MonkeyPatch, keep_sys_path: None
) -> None:
    glyphs = make_glyph_dataset(
        str(tmp_path / "glyphs"), n_fonts=6, charset="ABCD", size=16, layout="glyph"
    )
    name = f"test-classifier-{uuid.uuid4().hex[:8]}"
    config = TrainingConfig.model_validate(
        {
            "glyphs": glyphs.url,
            "output": str(tmp_path / "model"),
            "model": {"class": "classifier", "channels": [8, 16], "feature_dim": 16},
            "epochs": 2,
            "threads": 1,
            "mlflow": {
                "tracking_uri": mlflow_tracking_uri,
                "experiment": name,
                "registered_model_name": name,
            },
        }
    )
    manifest = run(config)
    version = manifest.extra["registered_model_version"]
    assert version is not None
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_tracking_uri)
    import pandas as pd

    pyfunc = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    font = glyphs.fonts[0]
    images = [draw_glyph(c, font.style, 16) for c in "ABCD"]
    out = pyfunc.predict(pd.DataFrame({"image": [i.tolist() for i in images]}))
    model = load(str(tmp_path / "model"))
    labels, confidence = model.predict(
        torch.tensor(np.stack(images)[:, None] / 255.0, dtype=torch.float32)
    )  # type: ignore[operator]
    assert list(out["predicted"]) == [model.charset[i] for i in labels.tolist()]
    assert np.allclose(out["confidence"], confidence.numpy(), atol=1e-6)
    assert all(len(p) == 4 for p in out["probabilities"])


def test_tracking_uri_defaults_to_sqlite_in_the_workdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert resolve_tracking_uri(None, str(tmp_path)) == f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert resolve_tracking_uri(None, str(tmp_path)) == "http://127.0.0.1:5000"
    assert resolve_tracking_uri("sqlite:///x.db", str(tmp_path)) == "sqlite:///x.db"


def test_params_are_the_flattened_config() -> None:
    data: dict[str, Any] = {
        "model": {
            "class": "x",
            "channels": [8, 16],
            "encoder": [{"class": "Conv2d", "kwargs": {"k": 3}}],
        },
        "seed": 1,
    }
    assert flatten_params(data) == {
        "model.class": "x",
        "model.channels": "[8, 16]",
        "model.encoder.0.class": "Conv2d",
        "model.encoder.0.kwargs.k": "3",
        "seed": "1",
    }
