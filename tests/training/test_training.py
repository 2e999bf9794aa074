"""The training stage: each model learns, resume is exact, early stopping, S3, errors."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from glyphflow.core.errors import UsageError  # noqa: E402
from glyphflow.io import storage  # noqa: E402
from glyphflow.io.outputs import is_complete, read_manifest  # noqa: E402
from glyphflow.models import load  # noqa: E402
from glyphflow.training import run  # noqa: E402
from glyphflow.training.config import TrainingConfig  # noqa: E402
from glyphflow.training.loop import TrainingInterruptedError  # noqa: E402
from tests.support.glyphsets import make_glyph_dataset  # noqa: E402

torch.set_num_threads(1)

SMALL = {"channels": [8, 16], "hidden_dim": 32, "latent_dim": 6, "char_embedding_dim": 8}
MODELS: dict[str, dict[str, Any]] = {
    "classifier": {"class": "classifier", "channels": [8, 16], "feature_dim": 32, "dropout": 0.0},
    "char_style_aae": {"class": "char_style_aae", **SMALL},
    "font_style": {"class": "font_style", **SMALL, "observed_max": 3},
}


@pytest.fixture(scope="module")
def glyphs(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("glyphs")
    return make_glyph_dataset(
        str(root / "glyphs"), n_fonts=12, charset="ABCDEF", size=16, layout="font"
    ).url


def config(glyphs: str, output: str, model: str, **changes: Any) -> TrainingConfig:
    data: dict[str, Any] = {
        "glyphs": glyphs,
        "output": output,
        "model": MODELS[model],
        "epochs": 4,
        "batch_size": 2 if model == "font_style" else 8,
        "optimizer": {"class": "AdamW", "kwargs": {"lr": 3e-3}},
        "threads": 1,
        "log_every_steps": 1,
        "checkpoint_every_steps": None,
        "mlflow": {"enabled": False},
    }
    data.update(changes)
    return TrainingConfig.model_validate(data)


def _history(output: str) -> list[dict[str, float]]:
    history: list[dict[str, float]] = json.loads(
        storage.read_text(storage.join(output, "metrics.json"))
    )["history"]
    return history


@pytest.mark.parametrize("model", ["classifier", "char_style_aae", "font_style"])
def test_each_model_trains_with_finite_falling_losses(
    glyphs: str, tmp_path: Path, model: str
) -> None:
    output = str(tmp_path / "model")
    manifest = run(config(glyphs, output, model, epochs=5))
    assert is_complete(output)
    history = _history(output)
    assert len(history) == 5
    key = "epoch_train_loss" if model == "classifier" else "epoch_train_recon"
    values = [h[key] for h in history]
    assert all(torch.isfinite(torch.tensor(v)) for h in history for v in h.values())
    assert values[-1] < values[0], values
    assert "val_loss" in history[-1]
    if model == "font_style":
        assert (
            "val_fewshot3_l1" in history[-1]
            and history[-1]["val_recon_l1"] < history[0]["val_recon_l1"]
        )
        assert storage.exists(storage.join(output, "samples.png"))
        assert storage.exists(storage.join(output, "reconstruction.png"))
    loaded = load(output)
    assert loaded.charset == "ABCDEF" and loaded.render["glyph_size"] == 16
    assert (
        manifest.extra["model_class"] == model and manifest.counts["steps"] == history[-1]["step"]
    )
    assert manifest.extra["samples_per_second"] > 0


def _weights(output: str) -> dict[str, torch.Tensor]:
    return {k: v for k, v in load(output).state_dict().items()}


def test_resumed_run_ends_with_the_same_weights(glyphs: str, tmp_path: Path) -> None:
    settings = {
        "epochs": 3,
        "deterministic": True,
        "checkpoint_every_steps": 2,
        "early_stopping": {"metric": "val_loss", "patience": 10},
    }
    whole = str(tmp_path / "whole")
    run(config(glyphs, whole, "font_style", **settings))

    broken = str(tmp_path / "broken")

    def interrupt(step: int) -> None:
        if step == 5:
            os.kill(os.getpid(), signal.SIGTERM)  # the real signal path

    with pytest.raises(TrainingInterruptedError, match="interrupted at step 6"):
        run(config(glyphs, broken, "font_style", **settings), on_step=interrupt)
    assert not is_complete(broken)
    assert storage.exists(storage.join(broken, "checkpoints", "step-00000006.pt"))
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers are put back

    manifest = run(config(glyphs, broken, "font_style", **settings), resume=True)
    assert manifest.counts["steps"] == 12  # 8 training fonts, 2 per batch, 3 epochs
    expected, got = _weights(whole), _weights(broken)
    assert expected.keys() == got.keys()
    assert all(torch.equal(expected[k], got[k]) for k in expected)
    assert _history(whole) == _history(broken)


def test_resume_refuses_a_changed_model(glyphs: str, tmp_path: Path) -> None:
    output = str(tmp_path / "model")
    run(config(glyphs, output, "classifier", max_steps=2, epochs=None))
    changed = config(glyphs, output, "classifier", max_steps=4, epochs=None, seed=5)
    with pytest.raises(UsageError, match="differs from the checkpoint"):
        run(changed, resume=True)
    longer = config(glyphs, output, "classifier", max_steps=4, epochs=None)
    assert run(longer, resume=True).counts["steps"] == 4


def test_early_stopping_keeps_the_best_epoch(glyphs: str, tmp_path: Path) -> None:
    output = str(tmp_path / "model")
    rule = {"metric": "val_accuracy", "mode": "max", "patience": 1, "min_delta": 2.0}
    manifest = run(config(glyphs, output, "classifier", epochs=6, early_stopping=rule))
    history = _history(output)
    assert len(history) == 2 and manifest.extra["stopped_early"] is True
    assert manifest.extra["best_metrics"]["step"] == history[0]["step"]


def test_trains_from_and_to_s3(s3_bucket: str) -> None:
    source = make_glyph_dataset(
        f"{s3_bucket}/glyphs", n_fonts=6, charset="ABC", size=16, layout="glyph"
    )
    output = f"{s3_bucket}/model"
    settings = {"max_steps": 3, "epochs": None, "checkpoint_every_steps": 2}
    manifest = run(config(source.url, output, "font_style", **settings))
    assert is_complete(output) and manifest.counts["steps"] == 3
    assert storage.exists(f"{output}/checkpoints/step-00000003.pt")
    assert load(output).charset == "ABC"
    longer = config(source.url, output, "font_style", **{**settings, "max_steps": 4})
    assert run(longer, resume=True).counts["steps"] == 4
    assert read_manifest(output) is not None


def test_missing_input_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        run(config(str(tmp_path / "nothing"), str(tmp_path / "out"), "classifier"))
