"""torchrun with two CPU processes: DistributedDataParallel over gloo, one MLflow run."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytest.importorskip("torch")
mlflow = pytest.importorskip("mlflow")

from glyphflow.io.outputs import is_complete, read_manifest  # noqa: E402
from glyphflow.models import load  # noqa: E402
from tests.support.glyphsets import make_glyph_dataset  # noqa: E402

SRC = Path(__file__).resolve().parents[2] / "src"

CONFIG = """\
version: 1
training:
  glyphs: {glyphs}
  output: {output}
  model: {{class: font_style, channels: [8, 16], hidden_dim: 32, latent_dim: 6, char_embedding_dim: 8}}
  epochs: 2
  batch_size: 2
  threads: 1
  log_every_steps: 1
  checkpoint_every_steps: 2
  mlflow: {{tracking_uri: "{uri}", experiment: {experiment}, registered_model_name: ""}}
"""


@pytest.mark.slow
def test_torchrun_two_processes_train_and_log_once(
    tmp_path: Path, mlflow_tracking_uri: str
) -> None:
    glyphs = make_glyph_dataset(
        str(tmp_path / "glyphs"),
        n_fonts=12,
        charset="ABCD",
        size=16,
        layout="font",
        rows_per_part=2,
    )
    output = str(tmp_path / "model")
    experiment = f"ddp-{uuid.uuid4().hex[:8]}"
    config = tmp_path / "training.yaml"
    config.write_text(
        CONFIG.format(
            glyphs=glyphs.url, output=output, uri=mlflow_tracking_uri, experiment=experiment
        )
    )
    env = {
        **os.environ,
        "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "OMP_NUM_THREADS": "1",
    }
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "glyphflow",
        "train",
        "-c",
        str(config),
    ]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 processes" in done.stderr
    assert is_complete(output)
    manifest = read_manifest(output)
    assert manifest is not None
    # 8 training fonts in 4 parts: each rank reads its 2 parts (4 fonts), 2 per batch
    assert manifest.counts["steps"] == 4 and manifest.counts["train_items"] == 8
    assert load(output).charset == "ABCD"
    client = mlflow.MlflowClient(tracking_uri=mlflow_tracking_uri)
    found = client.get_experiment_by_name(experiment)
    assert found is not None
    runs = client.search_runs([found.experiment_id])
    assert len(runs) == 1 and runs[0].info.run_id == manifest.mlflow_run_id
    assert runs[0].info.status == "FINISHED"
    assert len(client.get_metric_history(runs[0].info.run_id, "train_loss")) == 4
    assert manifest.extra.get("registered_model_version") is None  # registration off ("")
