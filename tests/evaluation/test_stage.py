"""The evaluation stage end to end: real training runs, a real MLflow store, the verdict.

The corpus (:func:`tests.support.stylesets.between_corpus`) puts every training font at
one of two extremes of ink and the test fonts in between: the nearest-neighbour copy is
far off there, and a trained style model is not, so "trained beats baseline" holds by
construction while an untrained model loses to the baseline.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("mlflow")

from mlflow import MlflowClient  # noqa: E402

from glyphflow.core.config import load_config  # noqa: E402
from glyphflow.core.errors import ConfigError, StageFailedError, UsageError  # noqa: E402
from glyphflow.evaluation.config import EvaluationConfig  # noqa: E402
from glyphflow.evaluation.stage import run as evaluate  # noqa: E402
from glyphflow.io.outputs import is_complete, read_manifest  # noqa: E402
from glyphflow.models import build, save  # noqa: E402
from glyphflow.models.config import parse_model_config  # noqa: E402
from glyphflow.tracking.registry import get_alias_version  # noqa: E402
from glyphflow.training import run as train  # noqa: E402
from glyphflow.training.config import TrainingConfig  # noqa: E402
from tests.support.stylesets import between_corpus, write_styled_dataset  # noqa: E402

STYLE = {
    "class": "font_style",
    "channels": [16, 32],
    "hidden_dim": 64,
    "latent_dim": 8,
    "char_embedding_dim": 8,
    "observed_max": 4,
    "prior": "kl",
    "prior_weight": 0.01,
}
CLASSIFIER = {"class": "classifier", "channels": [8, 16], "feature_dim": 32, "dropout": 0.0}
NAME = "eval-test-style"
# The bar a model must clear on the novel test fonts: beat the baseline, and an absolute
# bound that the untrained model misses by far.
THRESHOLDS = {
    "absolute": {"few_shot.k4.l1": {"max": 0.12}, "legibility.casefold": {"min": 0.0}},
    "baseline": {"few_shot.k4.l1": 0.0},
}


@dataclass
class Corpus:
    root: Path
    glyphs: str
    uri: str
    classifier: str


def _train(
    corpus_glyphs: str,
    output: str,
    uri: str | None,
    model: dict[str, Any],
    steps: int,
    name: str | None = NAME,
    batch: int = 8,
) -> str:
    config = TrainingConfig.model_validate(
        {
            "glyphs": corpus_glyphs,
            "output": output,
            "model": model,
            "epochs": None,
            "max_steps": steps,
            "batch_size": batch,
            "optimizer": {"class": "AdamW", "kwargs": {"lr": 3e-3}},
            "threads": 1,
            "seed": 0,
            "checkpoint_every_steps": None,
            "log_every_steps": 50,
            "data": {"val_split": None},
            "mlflow": {
                "enabled": uri is not None,
                "tracking_uri": uri,
                "experiment": "evaluation-tests",
                "registered_model_name": name or "",
                "log_images_every_epoch": 0,
            },
        }
    )
    train(config)
    return output


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("evaluation")
    glyphs = write_styled_dataset(str(root / "glyphs"), between_corpus())
    uri = f"sqlite:///{root}/mlflow.db"
    classifier = _train(glyphs, str(root / "classifier"), None, CLASSIFIER, 60, batch=16)
    return Corpus(root, glyphs, uri, classifier)


def _config(corpus: Corpus, model: str, output: str, **changes: Any) -> EvaluationConfig:
    data: dict[str, Any] = {
        "glyphs": corpus.glyphs,
        "model": model,
        "classifier": corpus.classifier,
        "output": output,
        "k_shots": [1, 4],
        "samples": 16,
        "thresholds": THRESHOLDS,
        "registered_model_name": NAME,
        "mlflow": {"tracking_uri": corpus.uri},
    }
    data.update(changes)
    return EvaluationConfig.model_validate(data)


def _metrics(output: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((Path(output) / "metrics.json").read_text())
    return document


def _verdict(output: str) -> tuple[str, str]:
    found = [name for name in ("BLESSED", "NOT_BLESSED") if (Path(output) / name).exists()]
    assert len(found) == 1, found
    return found[0], (Path(output) / found[0]).read_text()


@pytest.fixture(scope="module")
def untrained(corpus: Corpus) -> str:
    path = str(corpus.root / "untrained.pt")
    torch.manual_seed(0)
    save(build(parse_model_config(STYLE), "ABCDEF", (16, 16)), path)
    return path


@pytest.fixture(scope="module")
def blessed(corpus: Corpus) -> str:
    """A trained model (registered v1) evaluated: the run that makes it champion."""
    model = _train(corpus.glyphs, str(corpus.root / "good"), corpus.uri, STYLE, 200)
    output = str(corpus.root / "eval-good")
    evaluate(_config(corpus, model, output))
    return output


@pytest.mark.slow
def test_untrained_model_is_not_blessed_with_reasons(corpus: Corpus, untrained: str) -> None:
    output = str(corpus.root / "eval-untrained")
    manifest = evaluate(_config(corpus, untrained, output, mlflow={"enabled": False}))
    assert is_complete(output)
    verdict, text = _verdict(output)
    assert verdict == "NOT_BLESSED" and manifest.extra["verdict"] == "NOT_BLESSED"
    document = _metrics(output)
    model, baseline = (
        document["metrics"]["model"]["novel"],
        document["metrics"]["baseline"]["novel"],
    )
    assert model["few_shot.k4.l1"] > baseline["few_shot.k4.l1"]
    assert "few_shot.k4.l1" in text and "above max 0.12" in text
    assert "does not match or beat the baseline" in text
    assert document["verdict"]["reasons"] == manifest.extra["reasons"]
    assert "no comparison with a champion: MLflow is off" in text


@pytest.mark.parametrize("kind", ["font_style", "char_style_aae"])
def test_no_thresholds_is_never_blessed(corpus: Corpus, kind: str, tmp_path: Path) -> None:
    model = str(tmp_path / "model.pt")
    section = {k: v for k, v in STYLE.items() if k != "observed_max"} | {"class": kind}
    save(build(parse_model_config(section), "ABCDEF", (16, 16)), model)
    output = str(tmp_path / "eval")
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "BLESSED").write_text("stale\n")  # from an earlier run
    config = _config(
        corpus,
        model,
        output,
        thresholds={},
        k_shots=[2],
        classifier=None,
        mlflow={"enabled": False},
        samples=4,
    )
    evaluate(config)
    verdict, text = _verdict(output)
    assert verdict == "NOT_BLESSED"
    assert "no thresholds configured" in text


@pytest.mark.slow
def test_trained_model_is_blessed_and_becomes_champion(corpus: Corpus, blessed: str) -> None:
    verdict, text = _verdict(blessed)
    assert verdict == "BLESSED", text
    document = _metrics(blessed)
    novel = document["metrics"]["model"]["novel"]
    assert document["fonts"] == {"all": 6, "novel": 6}
    assert novel["few_shot.k4.l1"] < document["metrics"]["baseline"]["novel"]["few_shot.k4.l1"]
    assert document["model"]["name"] == NAME and document["model"]["version"] == "1"
    assert get_alias_version(NAME, "champion", corpus.uri) == "1"
    # every metric is reported for all and novel fonts, legibility and FID included
    for subset in ("all", "novel"):
        figures = document["metrics"]["model"][subset]
        for name in (
            "reconstruction.ssim",
            "few_shot.k1.fid",
            "fid",
            "legibility.exact",
            "few_shot.k4.legibility.casefold",
        ):
            assert figures[name] is not None, (subset, name)
    assert document["reference"]["all"]["legibility.exact"] is not None
    # ... and logged to the model's own MLflow run, with the files as artifacts
    client = MlflowClient(tracking_uri=corpus.uri)
    run = client.get_run(document["model"]["run_id"])
    assert run.data.metrics["eval.novel.few_shot.k4.l1"] == pytest.approx(novel["few_shot.k4.l1"])
    assert "eval.novel.baseline.few_shot.k4.l1" in run.data.metrics
    assert run.data.metrics["eval.blessed"] == 1.0
    assert run.data.tags["glyphflow.evaluation.verdict"] == "BLESSED"
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "evaluation")}
    assert {"evaluation/metrics.json", "evaluation/report.html", "evaluation/BLESSED"} <= artifacts


@pytest.mark.slow
def test_a_worse_later_model_does_not_replace_the_champion(corpus: Corpus, blessed: str) -> None:
    worse = _train(corpus.glyphs, str(corpus.root / "worse"), corpus.uri, STYLE, 30)
    output = str(corpus.root / "eval-worse")
    evaluate(_config(corpus, worse, output))
    verdict, text = _verdict(output)
    document = _metrics(output)
    figures = document["metrics"]
    # it clears the thresholds on its own but loses to the champion on the same fonts
    assert (
        figures["model"]["novel"]["few_shot.k4.l1"] < figures["baseline"]["novel"]["few_shot.k4.l1"]
    )
    assert (
        figures["champion"]["novel"]["few_shot.k4.l1"] < figures["model"]["novel"]["few_shot.k4.l1"]
    )
    assert verdict == "NOT_BLESSED"
    assert f"is worse than champion {NAME} v1" in text
    assert document["model"]["version"] == "2"
    assert document["champion"]["version"] == "1"
    assert get_alias_version(NAME, "champion", corpus.uri) == "1"
    versions = MlflowClient(tracking_uri=corpus.uri).search_model_versions(f"name='{NAME}'")
    assert sorted(str(v.version) for v in versions) == ["1", "2"]
    # the champion was scored with exactly the observed glyphs of the candidate's run
    assert document["test_fonts"] == _metrics(blessed)["test_fonts"]
    # re-evaluating the champion itself: no comparison with itself, still blessed
    again = str(corpus.root / "eval-again")
    evaluate(_config(corpus, f"models:/{NAME}@champion", again))
    verdict, text = _verdict(again)
    assert verdict == "BLESSED" and "the model is the current champion" in text
    with pytest.raises(StageFailedError, match="NOT_BLESSED"):
        evaluate(_config(corpus, worse, str(corpus.root / "eval-fail"), fail_if_not_blessed=True))
    assert is_complete(str(corpus.root / "eval-fail"))


def test_observed_glyphs_are_fixed_by_seed_and_stored(
    corpus: Corpus, untrained: str, tmp_path: Path
) -> None:
    def observed(seed: int, name: str) -> dict[str, Any]:
        output = str(tmp_path / name)
        evaluate(
            _config(
                corpus,
                untrained,
                output,
                seed=seed,
                k_shots=[1, 3, 5],
                classifier=None,
                thresholds={},
                samples=4,
                mlflow={"enabled": False},
            )
        )
        return {f["font_id"]: f["observed"] for f in _metrics(output)["test_fonts"]}

    first, again, other = observed(0, "a"), observed(0, "b"), observed(1, "c")
    assert first == again and first != other
    for sets in first.values():
        assert [len(sets[k]) for k in ("1", "3", "5")] == [1, 3, 5]
        assert set(sets["1"]) <= set(sets["3"]) <= set(sets["5"])  # nested
    # a font with no more glyphs than k is left out of that k (nothing left to score)
    assert all(sets.get("6", "") == "" for sets in first.values())


def test_config_problems_are_located(tmp_path: Path) -> None:
    file = tmp_path / "evaluation.yaml"
    file.write_text(
        "version: 1\nevaluation:\n  glyphs: g\n  model: m\n  output: o\n  k_shots: [1, 4]\n"
        "  thresholds:\n    absolute:\n      few_shot.k8.l1: {max: 0.1}\n"
    )
    with pytest.raises(ConfigError, match=re.escape("unknown metric 'few_shot.k8.l1'")):
        load_config("evaluation", EvaluationConfig, str(file))
    file.write_text(
        "version: 1\nevaluation:\n  glyphs: g\n  model: m\n  output: o\n"
        "  thresholds:\n    absolute:\n      legibility.exact: {min: 0.9}\n"
        "    baseline:\n      fid: 0.1\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config("evaluation", EvaluationConfig, str(file))
    assert "use a few_shot.* metric" in str(info.value)


def test_a_classifier_is_refused_as_the_style_model(corpus: Corpus, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a style model"):
        evaluate(_config(corpus, corpus.classifier, str(tmp_path / "e"), mlflow={"enabled": False}))
    manifest = read_manifest(str(tmp_path / "e"))
    assert manifest is None


CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.mark.slow
def test_report_renders_in_chromium_with_its_images(blessed: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium)")
    report = Path(blessed) / "report.html"
    text = report.read_text()
    assert "http://" not in text and "https://" not in text  # self-contained
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(report.as_uri())
            page.wait_for_load_state("load")
            widths = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
            verdict = page.inner_text("#verdict")
            headings = page.eval_on_selector_all("h2", "els => els.map(e => e.textContent)")
            rows = page.eval_on_selector_all("table tr", "els => els.length")
            page.screenshot(path=str(ARTIFACTS / "evaluation-report.png"), full_page=True)
        finally:
            browser.close()
    # 4 fonts x 2 k x (observed, model, baseline, truth) + 7 interpolation + 6 sample rows
    assert len(widths) >= 4 * 2 * 4 + 7 + 6
    assert all(w > 0 for w in widths), widths
    assert verdict == "BLESSED"
    assert headings == [
        "Metrics",
        "Checks",
        "Few-shot completion",
        "Interpolation",
        "Random samples",
    ]
    assert rows > 10


def test_glyphflow_evaluate_command(corpus: Corpus, untrained: str, tmp_path: Path) -> None:
    from glyphflow.cli import main

    config = tmp_path / "evaluation.yaml"
    config.write_text(
        f"version: 1\nevaluation:\n  glyphs: {corpus.glyphs}\n  model: {untrained}\n"
        f"  output: {tmp_path / 'out'}\n  k_shots: [2]\n  samples: 4\n"
        "  thresholds: {baseline: {few_shot.k2.l1: 0.0}}\n"
    )
    with pytest.raises(SystemExit) as done:
        main(["-q", "evaluate", "-c", str(config), "--set", "evaluation.mlflow.enabled=false"])
    assert done.value.code == 0
    assert (tmp_path / "out" / "NOT_BLESSED").exists()
    with pytest.raises(SystemExit) as failed:
        main(
            [
                "-q",
                "evaluate",
                "-c",
                str(config),
                "--set",
                "evaluation.mlflow.enabled=false",
                "--set",
                "evaluation.fail_if_not_blessed=true",
            ]
        )
    assert failed.value.code == 1


@pytest.mark.parametrize("name", ["evaluation", "scoring"])
def test_example_configs_are_valid(name: str) -> None:
    from glyphflow.pipeline import catalogue

    root = Path(__file__).resolve().parents[2]
    entry = catalogue.stage_by_section(name)
    load_config(
        name, catalogue.config_model(entry), str(root / "configs/examples" / f"{name}.yaml")
    )
