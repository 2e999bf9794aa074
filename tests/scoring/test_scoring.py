"""The scoring stage: a trained classifier's scores on every glyph, whatever the engine."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

torch = pytest.importorskip("torch")

from glyphflow.cli import main  # noqa: E402
from glyphflow.core.errors import UsageError  # noqa: E402
from glyphflow.io import records  # noqa: E402
from glyphflow.io.outputs import is_complete, read_manifest  # noqa: E402
from glyphflow.io.shards import list_shards, read_table  # noqa: E402
from glyphflow.models import build, load, save  # noqa: E402
from glyphflow.models.config import parse_model_config  # noqa: E402
from glyphflow.scoring.config import ScoringConfig  # noqa: E402
from glyphflow.scoring.stage import run as score  # noqa: E402
from glyphflow.training import run as train  # noqa: E402
from glyphflow.training.config import TrainingConfig  # noqa: E402
from tests.support.glyphsets import make_glyph_dataset  # noqa: E402

CHARSET = "ABCDEF"
CLASSIFIER = {"class": "classifier", "channels": [8, 16], "feature_dim": 32, "dropout": 0.0}
SPLITS = ("train", "val", "test")


@dataclass
class Data:
    root: Path
    glyphs: str  # one row per glyph
    fonts: str  # the same fonts, one row per font
    classifier: str


def _train(glyphs: str, output: str, **changes: Any) -> str:
    data: dict[str, Any] = {
        "glyphs": glyphs,
        "output": output,
        "model": CLASSIFIER,
        "epochs": None,
        "max_steps": 80,
        "batch_size": 16,
        "optimizer": {"class": "AdamW", "kwargs": {"lr": 3e-3}},
        "threads": 1,
        "checkpoint_every_steps": None,
        "data": {"val_split": None},
        "mlflow": {"enabled": False},
    }
    data.update(changes)
    train(TrainingConfig.model_validate(data))
    return output


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Data:
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("scoring")
    common = {"n_fonts": 10, "charset": CHARSET, "size": 16, "seed": 3, "missing": 0.15}
    glyphs = make_glyph_dataset(str(root / "glyphs"), layout="glyph", **common).url
    fonts = make_glyph_dataset(str(root / "fonts"), layout="font", **common).url
    return Data(root, glyphs, fonts, _train(glyphs, str(root / "classifier")))


def _config(source: str, model: str, output: str, **changes: Any) -> ScoringConfig:
    values: dict[str, Any] = {"glyphs": source, "model": model, "output": output, "batch_size": 7}
    values.update(changes)
    return ScoringConfig.model_validate(values)


def _tables(output: str) -> dict[str, pa.Table]:
    return {split: read_table(f"{output}/{split}") for split in SPLITS}


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["glyphs", "fonts"])
def test_local_and_beam_engines_give_identical_scores(data: Data, layout: str) -> None:
    source = getattr(data, layout)
    local = str(data.root / f"local-{layout}")
    beam = str(data.root / f"beam-{layout}")
    score(_config(source, data.classifier, local))
    score(_config(source, data.classifier, beam, engine={"class": "beam"}))
    assert is_complete(local) and is_complete(beam)
    left, right = _tables(local), _tables(beam)
    for split in SPLITS:
        assert left[split].equals(right[split]), split
        # same parts, rows and order as the input; input fields and metadata kept
        assert len(list_shards(f"{local}/{split}")) == len(list_shards(f"{source}/{split}"))
        original = read_table(f"{source}/{split}")
        assert left[split].select(original.column_names).equals(original)
        meta = left[split].schema.metadata
        assert meta[records.IMAGE_SHAPE_KEY] == original.schema.metadata[records.IMAGE_SHAPE_KEY]
        assert meta[records.CHARSET_KEY] == original.schema.metadata[records.CHARSET_KEY]
        assert json.loads(meta[b"glyphflow.scoring"])["charset"] == CHARSET


def _expected(classifier: str, images: np.ndarray) -> np.ndarray:
    model = load(classifier)
    with torch.no_grad():
        logits = model(torch.from_numpy(images).float().div(255).unsqueeze(1))
    probs: np.ndarray = torch.softmax(logits, dim=1).numpy()
    return probs


def test_scores_are_the_classifiers_probabilities(data: Data) -> None:
    output = str(data.root / "checked")
    manifest = score(_config(data.glyphs, data.classifier, output))
    table = read_table(f"{output}/test")
    images = records.images_from_arrow(table.column("image"), (16, 16))
    expected = _expected(data.classifier, images)
    probs = np.array(table.column("probabilities").to_pylist(), dtype=np.float32)
    np.testing.assert_allclose(probs, expected, rtol=1e-4, atol=1e-6)
    chars = table.column("char").to_pylist()
    own = expected[np.arange(len(chars)), [CHARSET.index(c) for c in chars]]
    np.testing.assert_allclose(table.column("confidence").to_numpy(), own, rtol=1e-4, atol=1e-6)
    assert table.column("predicted").to_pylist() == [CHARSET[i] for i in expected.argmax(axis=1)]
    # a trained classifier reads most synthetic glyphs right, with confidence
    statistics = manifest.extra["statistics"]["train"]
    assert statistics["accuracy"] > 0.8 and statistics["mean_confidence"] > 0.5
    assert manifest.counts["train_glyphs"] == read_table(f"{data.glyphs}/train").num_rows
    assert manifest.extra["render"]["glyph_size"] == 16


def test_font_layout_scores_match_the_glyph_layout(data: Data) -> None:
    by_glyph = str(data.root / "by-glyph")
    by_font = str(data.root / "by-font")
    score(_config(data.glyphs, data.classifier, by_glyph, splits=["train"]))
    score(_config(data.fonts, data.classifier, by_font, splits=["train"]))
    glyph_rows = read_table(f"{by_glyph}/train").to_pylist()
    font_rows = {row["font_id"]: row for row in read_table(f"{by_font}/train").to_pylist()}
    for row in glyph_rows:
        font = font_rows[row["font_id"]]
        index = CHARSET.index(row["char"])
        assert font["confidence"][index] == pytest.approx(row["confidence"], rel=1e-4, abs=1e-6)
        assert font["predicted"][index] == row["predicted"]
    for font in font_rows.values():
        for index, present in enumerate(font["present"]):
            if not present:
                assert font["confidence"][index] == 0.0 and font["predicted"][index] is None


def test_training_that_filters_on_confidence_drops_the_glyphs_below_it(data: Data) -> None:
    scored = str(data.root / "filtered-input")
    score(_config(data.glyphs, data.classifier, scored))
    confidence = read_table(f"{scored}/train").column("confidence").to_numpy()
    threshold = float(np.quantile(confidence, 0.4))
    keep = int((confidence >= threshold).sum())
    assert 0 < keep < len(confidence)
    everything = read_manifest(_train(scored, str(data.root / "unfiltered-model"), max_steps=1))
    filtered = read_manifest(
        _train(
            scored,
            str(data.root / "filtered-model"),
            max_steps=1,
            data={"val_split": None, "min_confidence": threshold},
        )
    )
    assert everything is not None and filtered is not None
    assert everything.counts["train_items"] == len(confidence)
    assert filtered.counts["train_items"] == keep


def test_a_rerun_with_the_same_inputs_does_nothing(data: Data, tmp_path: Path) -> None:
    output = str(tmp_path / "scored")
    first = score(_config(data.glyphs, data.classifier, output, splits=["test"]))
    part = Path(list_shards(f"{output}/test")[0])
    stamp = part.stat().st_mtime_ns
    second = score(_config(data.glyphs, data.classifier, output, splits=["test"]))
    assert second.fingerprint == first.fingerprint and part.stat().st_mtime_ns == stamp
    # another classifier is another input: scored again
    other = str(tmp_path / "other.pt")
    save(build(parse_model_config(CLASSIFIER), CHARSET, (16, 16)), other)
    third = score(_config(data.glyphs, other, output, splits=["test"]))
    assert third.fingerprint != first.fingerprint


def test_models_that_do_not_fit_are_refused(data: Data, tmp_path: Path) -> None:
    style = str(tmp_path / "style.pt")
    save(
        build(parse_model_config({"class": "font_style", "channels": [8]}), CHARSET, (16, 16)),
        style,
    )
    with pytest.raises(UsageError, match="not a glyph classifier"):
        score(_config(data.glyphs, style, str(tmp_path / "a")))
    big = str(tmp_path / "big.pt")
    save(build(parse_model_config(CLASSIFIER), CHARSET, (32, 32)), big)
    with pytest.raises(UsageError, match="reads 32x32 glyphs"):
        score(_config(data.glyphs, big, str(tmp_path / "b")))
    with pytest.raises(UsageError, match="not a complete stage output"):
        score(_config(str(tmp_path), data.classifier, str(tmp_path / "c")))


@pytest.mark.slow
def test_score_by_registry_alias_and_run_uri(data: Data, tmp_path: Path) -> None:
    pytest.importorskip("mlflow")
    from glyphflow.tracking.registry import set_alias

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    output = _train(
        data.glyphs,
        str(tmp_path / "registered"),
        max_steps=5,
        mlflow={"tracking_uri": uri, "experiment": "scoring", "log_images_every_epoch": 0},
    )
    manifest = read_manifest(output)
    assert manifest is not None
    name, version = (
        manifest.extra["registered_model_name"],
        manifest.extra["registered_model_version"],
    )
    set_alias(name, version, "champion", tracking_uri=uri)
    results = []
    for reference in (f"models:/{name}@champion", f"runs:/{manifest.mlflow_run_id}/model", output):
        target = str(tmp_path / f"scored-{len(results)}")
        score(_config(data.glyphs, reference, target, splits=["val"], tracking_uri=uri))
        results.append(read_table(f"{target}/val").drop_columns([]))
    assert results[0].equals(results[2]) and results[1].equals(results[2])


def test_glyphflow_score_command(data: Data, tmp_path: Path, capsys: Any) -> None:
    config = tmp_path / "scoring.yaml"
    config.write_text(
        f"version: 1\nscoring:\n  glyphs: {data.glyphs}\n  model: {data.classifier}\n"
        f"  output: {tmp_path / 'cli'}\n  splits: [val]\n"
    )
    with pytest.raises(SystemExit) as done:
        main(["-q", "score", "-c", str(config), "--set", "scoring.batch_size=5"])
    assert done.value.code == 0
    assert is_complete(str(tmp_path / "cli"))
    manifest = read_manifest(str(tmp_path / "cli"))
    assert manifest is not None and manifest.config["batch_size"] == 5
    config.write_text(config.read_text() + "  engine: {class: spark}\n")
    with pytest.raises(SystemExit) as bad:
        main(["score", "-c", str(config)])
    assert bad.value.code == 2
    assert "unknown engine 'spark'" in capsys.readouterr().err
