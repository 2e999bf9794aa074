"""``glyphflow evaluate``: measure a style model on held-out fonts, decide, show the evidence.

Output folder: ``metrics.json`` (every figure for the model, the baseline and the
champion, over all and novel test fonts, with the observed glyphs of every font),
``report.html``, and exactly one of ``BLESSED`` / ``NOT_BLESSED`` holding the reasons.
The figures go to the model's MLflow run too (``eval.<subset>.<metric>``, the baseline's
as ``eval.<subset>.baseline.<metric>``), with the three files as artifacts under
``evaluation/``. A blessed, registered model gets the champion alias; the version that
held it keeps its number and history. With ``clearml.enabled`` the evaluation is also a
ClearML task of its own: config, figures, verdict, the report's images and files, and
links to the model judged.

The stage always runs (no "current output" shortcut): the verdict depends on the
champion in the registry, which may have changed since the last run.
"""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from glyphflow.core.config import dump_config
from glyphflow.core.errors import StageFailedError, UsageError
from glyphflow.core.logs import progress
from glyphflow.core.manifest import Manifest
from glyphflow.evaluation.baseline import NearestNeighbourBaseline
from glyphflow.evaluation.blessing import ChampionResult, Verdict, decide
from glyphflow.evaluation.config import EvaluationConfig, metric_names
from glyphflow.evaluation.fonts import FontTable, read_fonts
from glyphflow.evaluation.measure import (
    BaselineCompleter,
    Judge,
    MethodScores,
    ModelCompleter,
    RealGlyphs,
    judge_real,
    measure_method,
    measure_samples,
    summarise,
    summarise_real,
)
from glyphflow.evaluation.plan import Plan, make_plan
from glyphflow.evaluation.report import FontGrid, ReportData, render_report, report_images
from glyphflow.io import storage
from glyphflow.io.outputs import StageOutput

if TYPE_CHECKING:
    from glyphflow.tracking.versions import ModelIdentity

__all__ = ["VERDICT_FILES", "run"]

_log = logging.getLogger(__name__)

VERDICT_FILES = ("BLESSED", "NOT_BLESSED")
_MLFLOW_PREFIXES = ("models:/", "runs:/", "mlflow-artifacts:/")
Figures = dict[str, dict[str, float | None]]


def _tracking_uri(config: EvaluationConfig) -> str | None:
    if not config.mlflow.enabled:
        return None
    from glyphflow.tracking.uri import default_workdir, resolve_tracking_uri

    return str(resolve_tracking_uri(config.mlflow.tracking_uri, default_workdir(config.output)))


def _load(uri: str, tracking_uri: str | None, device: str) -> Any:
    if uri.startswith(_MLFLOW_PREFIXES):
        if tracking_uri is None:
            raise UsageError(
                f"{uri} is an MLflow reference but evaluation.mlflow.enabled is false; "
                "give a bundle path or enable MLflow"
            )
        from glyphflow.tracking.registry import load_model

        return load_model(uri, tracking_uri=tracking_uri, map_location=device)
    from glyphflow.models import load

    return load(uri, map_location=device)


def _pinned(uri: str, identity: ModelIdentity | None) -> str:
    if identity is not None and identity.version:
        return f"mlflow:{identity.name}/{identity.version}"
    return f"mlflow:{uri}"


def _identity(
    config: EvaluationConfig, model: Any, tracking_uri: str | None
) -> ModelIdentity | None:
    if tracking_uri is None:
        return None
    from glyphflow.tracking.versions import describe_model

    run_id = (getattr(model, "bundle_extra", None) or {}).get("mlflow_run_id")
    return describe_model(
        config.model,
        tracking_uri=tracking_uri,
        run_id=run_id,
        registered_name=config.registered_model_name,
    )


def run(config: EvaluationConfig) -> Manifest:
    """Evaluate ``config.model`` on the test fonts of ``config.glyphs``; bless it or not."""
    clearml = _start_clearml(config) if config.clearml.enabled else None
    try:
        manifest = _run(config, clearml)
    except StageFailedError:  # the evaluation ran: the task records a NOT_BLESSED verdict
        if clearml is not None:
            clearml.end("FINISHED")
        raise
    except BaseException:
        if clearml is not None:
            clearml.end("FAILED")
        raise
    if clearml is not None:
        clearml.end("FINISHED")
    return manifest


def _start_clearml(config: EvaluationConfig) -> Any:
    from glyphflow.tracking.clearml import ClearmlRun

    name = f"evaluation: {Path(storage.strip_protocol(config.output)).name}"
    clearml = ClearmlRun.start(config.clearml, "evaluation", name)
    clearml.log_config(dump_config(config), "evaluation")
    return clearml


def _run(config: EvaluationConfig, clearml: Any) -> Manifest:
    tracking_uri = _tracking_uri(config)
    model = _load(config.model, tracking_uri, config.device)
    if not (hasattr(model, "encode") and hasattr(model, "decode")):
        raise UsageError(
            f"{config.model} is a {type(model).__name__}, not a style model; evaluation "
            "judges font_style or char_style_aae models (the classifier goes in "
            "evaluation.classifier)"
        )
    identity = _identity(config, model, tracking_uri)
    classifier = (
        _load(config.classifier, tracking_uri, config.device) if config.classifier else None
    )
    # Models on storage are inputs the pipeline runner can re-check; registry and run URIs
    # are recorded by the version they resolved to.
    inputs = {"glyphs": config.glyphs}
    pinned = {}
    for name, uri in (("model", config.model), ("classifier", config.classifier)):
        if uri is None:
            continue
        if uri.startswith(_MLFLOW_PREFIXES):
            pinned[name] = _pinned(uri, identity if name == "model" else None)
        else:
            inputs[name] = uri
    output = StageOutput(
        config.output, "evaluation", config, inputs=inputs, input_fingerprints=pinned
    ).begin()
    for name in VERDICT_FILES:  # exactly one verdict file at the end, never a stale one
        storage.remove(output.path(name))

    train = read_fonts(config.glyphs, config.train_split)
    test = read_fonts(config.glyphs, config.test_split)
    if test.image_shape != tuple(model.image_shape):
        raise UsageError(
            f"{config.model} makes {model.image_shape[0]}x{model.image_shape[1]} glyphs but "
            f"{config.glyphs} holds {test.image_shape[0]}x{test.image_shape[1]}; evaluate on "
            "the glyph dataset the model was trained on"
        )
    usable = "".join(c for c in test.charset if c in model.charset)
    plan = make_plan(
        test, train, usable, config.k_shots, config.seed, config.novelty_l1, config.max_test_fonts
    )
    judge = Judge(classifier, test.image_shape, config.device) if classifier is not None else None
    keep = _report_fonts(plan, config.report.fonts)
    batch_fonts = max(1, config.batch_size)

    tasks = 1 + len(plan.k_shots)
    with progress("evaluating", total=len(plan.test) * tasks * 2, unit="fonts") as bar:
        real = judge_real(plan, judge) if judge is not None else None
        completer = ModelCompleter(model, test.charset, config.device)
        model_scores = measure_method(
            completer, plan, judge, batch_fonts, keep, progress=bar.advance
        )
        model_scores.samples = measure_samples(
            completer, config.samples, plan.usable, judge, config.seed, batch_fonts
        )
        baseline_scores = _measure_baseline(train, plan, judge, batch_fonts, keep, bar.advance)

    champion = _champion(config, identity, tracking_uri, plan, judge, keep, batch_fonts, real)
    subsets = plan.subsets()
    figures: dict[str, Figures] = {
        "model": _summaries(model_scores, subsets, real),
        "baseline": _summaries(baseline_scores, subsets, real) if baseline_scores else {},
    }
    if champion is not None and champion.figures is not None:
        figures["champion"] = champion.scores_by_subset
    fonts = {name: int(mask.sum()) for name, mask in subsets.items()}
    verdict = decide(
        config,
        figures["model"],
        figures["baseline"],
        fonts,
        champion.result if champion is not None else None,
    )
    reference = {name: summarise_real(real, mask) for name, mask in subsets.items()} if real else {}

    document = _metrics_document(config, identity, plan, figures, reference, champion, verdict)
    if baseline_scores is None:
        verdict.notes.append("no training fonts: the baseline could not be measured")
    _set_champion(config, identity, tracking_uri, verdict)
    document["verdict"] = verdict.to_json()
    storage.write_text(output.path("metrics.json"), json.dumps(document, indent=2) + "\n")
    report = _report_data(
        config,
        identity,
        plan,
        figures,
        reference,
        verdict,
        model_scores,
        baseline_scores,
        champion,
        completer,
        keep,
    )
    storage.write_text(output.path("report.html"), render_report(report))
    storage.write_text(output.path(verdict.name), verdict.text())
    if identity is not None and identity.run_id and tracking_uri is not None:
        _log_to_run(identity.run_id, tracking_uri, figures, verdict, output)
    if clearml is not None:
        _log_to_clearml(clearml, config, model, identity, figures, verdict, report, output)

    output.counts.update(
        {
            "test_fonts": fonts["all"],
            "novel_fonts": fonts["novel"],
            "train_fonts": len(train),
            "blessed": int(verdict.blessed),
        }
    )
    output.extra.update(
        {
            "verdict": verdict.name,
            "reasons": verdict.reasons,
            "model": _identity_json(config.model, identity),
        }
    )
    if identity is not None and identity.version:  # for lineage: which version was judged
        output.extra["registered_model_name"] = identity.name
        output.extra["registered_model_version"] = identity.version
    if identity is not None and identity.run_id:
        output.mlflow_run_id = identity.run_id
    manifest = output.commit()
    _log.info("evaluation: %s (%s)", verdict.name, "; ".join(verdict.reasons) or "all checks pass")
    if config.fail_if_not_blessed and not verdict.blessed:
        raise StageFailedError(
            f"model {config.model} is NOT_BLESSED: " + "; ".join(verdict.reasons)
        )
    return manifest


def _report_fonts(plan: Plan, count: int) -> list[int]:
    """Test fonts shown in the report: novel ones first, then the rest, in id order."""
    order = [*np.flatnonzero(plan.novel), *np.flatnonzero(~plan.novel)]
    return [int(i) for i in order[:count]]


def _measure_baseline(
    train: FontTable,
    plan: Plan,
    judge: Judge | None,
    batch_fonts: int,
    keep: list[int],
    advance: Any,
) -> MethodScores | None:
    if len(train) == 0:
        return None
    baseline = BaselineCompleter(NearestNeighbourBaseline(train))
    return measure_method(baseline, plan, judge, batch_fonts, keep, progress=advance)


def _summaries(
    scores: MethodScores, subsets: dict[str, np.ndarray], real: RealGlyphs | None
) -> Figures:
    return {name: summarise(scores, mask, real) for name, mask in subsets.items()}


class _Champion:
    """The champion's identity and, when it could be evaluated, its scores."""

    def __init__(self, result: ChampionResult) -> None:
        self.result = result
        self.scores: MethodScores | None = None
        self.scores_by_subset: Figures = {}

    @property
    def figures(self) -> dict[str, float | None] | None:
        return self.result.figures


def _champion(
    config: EvaluationConfig,
    identity: ModelIdentity | None,
    tracking_uri: str | None,
    plan: Plan,
    judge: Judge | None,
    keep: list[int],
    batch_fonts: int,
    real: RealGlyphs | None,
) -> _Champion | None:
    """Find the champion and score it on the same plan (None: comparison not asked for)."""
    if not config.champion.compare:
        return None
    alias = config.champion.alias
    name = config.registered_model_name or (identity.name if identity else None)
    if tracking_uri is None:
        champion = _Champion(ChampionResult(name, alias))
        champion.result.problem = "MLflow is off (evaluation.mlflow.enabled: false)"
        return champion
    if name is None:
        champion = _Champion(ChampionResult(name, alias))
        champion.result.problem = (
            "the model is not registered and evaluation.registered_model_name is unset"
        )
        return champion
    from glyphflow.tracking.registry import get_alias_version

    version = get_alias_version(name, alias, tracking_uri=tracking_uri)
    result = ChampionResult(name, alias, version)
    champion = _Champion(result)
    if version is None:
        return champion
    if identity is not None and identity.name == name and identity.version == version:
        result.same_as_candidate = True
        return champion
    try:
        model = _load(f"models:/{name}/{version}", tracking_uri, config.device)
    except UsageError as err:
        result.problem = f"it could not be loaded ({err})"
        return champion
    missing = [
        c
        for c, u in zip(plan.test.charset, plan.usable, strict=True)
        if u and c not in model.charset
    ]
    if not (hasattr(model, "encode") and hasattr(model, "decode")):
        result.problem = f"it is a {type(model).__name__}, not a style model"
    elif tuple(model.image_shape) != plan.test.image_shape:
        result.problem = (
            f"it makes {model.image_shape[0]}x{model.image_shape[1]} glyphs, the test fonts "
            f"are {plan.test.image_shape[0]}x{plan.test.image_shape[1]}"
        )
    elif missing:
        result.problem = f"it does not know the characters {''.join(missing)!r}"
    if result.problem is not None:
        return champion
    completer = ModelCompleter(model, plan.test.charset, config.device)
    scores = measure_method(completer, plan, judge, batch_fonts, keep)
    scores.samples = measure_samples(
        completer, config.samples, plan.usable, judge, config.seed, batch_fonts
    )
    champion.scores = scores
    champion.scores_by_subset = _summaries(scores, plan.subsets(), real)
    result.figures = champion.scores_by_subset.get(config.thresholds.subset, {})
    return champion


def _set_champion(
    config: EvaluationConfig,
    identity: ModelIdentity | None,
    tracking_uri: str | None,
    verdict: Verdict,
) -> None:
    if not verdict.blessed:
        return
    name = config.registered_model_name or (identity.name if identity else None)
    if tracking_uri is None or identity is None or not identity.version or name is None:
        verdict.notes.append(
            "the model is not a registered model version, so no registry alias was set; "
            "register it (training with mlflow.registered_model_name) to put it in service"
        )
        return
    if identity.name != name:
        verdict.notes.append(
            f"the model is registered as {identity.name}, not {name}: no alias was set"
        )
        return
    from glyphflow.tracking.registry import set_alias

    set_alias(name, identity.version, config.champion.alias, tracking_uri=tracking_uri)
    verdict.notes.append(f"{name} v{identity.version} is now {config.champion.alias!r}")
    _log.info("evaluation: %s v%s is now %r", name, identity.version, config.champion.alias)


def _identity_json(uri: str, identity: ModelIdentity | None) -> dict[str, Any]:
    return {
        "uri": uri,
        "name": identity.name if identity else None,
        "version": identity.version if identity else None,
        "run_id": identity.run_id if identity else None,
    }


def _metrics_document(
    config: EvaluationConfig,
    identity: ModelIdentity | None,
    plan: Plan,
    figures: dict[str, Figures],
    reference: Figures,
    champion: _Champion | None,
    verdict: Verdict,
) -> dict[str, Any]:
    observed = plan.observed_chars()
    test_fonts = [
        {
            "font_id": font_id,
            "family": plan.test.families[i],
            "novel": bool(plan.novel[i]),
            "nearest_training_font": plan.nearest_font[i],
            "nearest_distance": (
                float(plan.nearest_distance[i]) if np.isfinite(plan.nearest_distance[i]) else None
            ),
            "glyphs": int(plan.test.present[i].sum()),
            "observed": observed[font_id],
        }
        for i, font_id in enumerate(plan.test.font_ids)
    ]
    champion_json = None
    if champion is not None:
        result = champion.result
        champion_json = {
            "name": result.name,
            "alias": result.alias,
            "version": result.version,
            "same_as_candidate": result.same_as_candidate,
            "problem": result.problem,
        }
    return {
        "model": _identity_json(config.model, identity),
        "classifier": config.classifier,
        "glyphs": config.glyphs,
        "k_shots": plan.k_shots,
        "seed": plan.seed,
        "novelty_l1": plan.novelty_l1,
        "thresholds_subset": config.thresholds.subset,
        "metric_names": metric_names(plan.k_shots),
        "fonts": {name: int(mask.sum()) for name, mask in plan.subsets().items()},
        "skipped": plan.skipped,
        "metrics": figures,
        "reference": reference,
        "champion": champion_json,
        "verdict": verdict.to_json(),
        "test_fonts": test_fonts,
    }


def _report_data(
    config: EvaluationConfig,
    identity: ModelIdentity | None,
    plan: Plan,
    figures: dict[str, Figures],
    reference: Figures,
    verdict: Verdict,
    model_scores: MethodScores,
    baseline_scores: MethodScores | None,
    champion: _Champion | None,
    completer: ModelCompleter,
    keep: list[int],
) -> ReportData:
    charset = plan.test.charset
    usable = "".join(c for c, u in zip(charset, plan.usable, strict=True) if u)
    chars = config.report.chars or _spread(usable, 12)
    grids = []
    for font in keep:
        grid = FontGrid(
            font_id=plan.test.font_ids[font],
            family=plan.test.families[font],
            novel=bool(plan.novel[font]),
            nearest_distance=float(plan.nearest_distance[font]),
            truth=plan.test.images[font],
            present=plan.test.present[font],
        )
        for k in plan.k_shots:
            if not plan.observed[k][font].any():
                continue
            task = f"few_shot.k{k}"
            row: dict[str, Any] = {"observed": plan.observed[k][font]}
            row["model"] = model_scores.tasks[task].kept.get(font)
            if baseline_scores is not None:
                row["baseline"] = baseline_scores.tasks[task].kept.get(font)
            if champion is not None and champion.scores is not None:
                row["champion"] = champion.scores.tasks[task].kept.get(font)
            grid.rows[k] = row
        grids.append(grid)
    interpolation = None
    if len(keep) >= 2:
        a, b = keep[0], keep[1]
        pair = np.array([a, b])
        z = completer.encode(plan.test.images[pair], plan.test.present[pair])
        steps = np.linspace(0.0, 1.0, config.report.interpolation_steps)
        import torch

        mix = torch.stack([z[0] * (1 - float(t)) + z[1] * float(t) for t in steps])
        rows = list(completer.decode(mix))
        interpolation = (plan.test.font_ids[a], plan.test.font_ids[b], rows)
    samples = model_scores.samples
    sample_rows = list(samples.images[: config.report.samples]) if samples is not None else []
    label = identity.label if identity is not None else "model"
    champion_label = None
    if champion is not None and champion.result.version is not None:
        champion_label = f"champion v{champion.result.version}"
    return ReportData(
        title=f"glyphflow evaluation: {label}",
        model_ref=config.model,
        model_label=label,
        glyphs_url=config.glyphs,
        verdict=verdict,
        metrics=figures,
        fonts={name: int(mask.sum()) for name, mask in plan.subsets().items()},
        novelty_l1=plan.novelty_l1,
        k_shots=plan.k_shots,
        charset=charset,
        chars=chars,
        reference=reference,
        grids=grids,
        interpolation=interpolation,
        samples=sample_rows,
        champion_label=champion_label,
    )


def _spread(chars: str, count: int) -> str:
    if len(chars) <= count:
        return chars
    picks = np.linspace(0, len(chars) - 1, count).round().astype(int)
    return "".join(chars[i] for i in dict.fromkeys(picks.tolist()))


def _flat_metrics(figures: dict[str, Figures], verdict: Verdict) -> dict[str, float]:
    out: dict[str, float] = {}
    for method, prefix in (("model", ""), ("baseline", "baseline."), ("champion", "champion.")):
        for subset, values in figures.get(method, {}).items():
            for name, value in values.items():
                if value is not None:
                    out[f"eval.{subset}.{prefix}{name}"] = float(value)
    out["eval.blessed"] = 1.0 if verdict.blessed else 0.0
    return out


def _log_to_run(
    run_id: str,
    tracking_uri: str,
    figures: dict[str, Figures],
    verdict: Verdict,
    output: StageOutput,
) -> None:
    """The figures and the files on the model's own run, where its training is recorded."""
    from glyphflow.tracking.attach import attach_to_run

    metrics = {k: v for k, v in _flat_metrics(figures, verdict).items() if ".champion." not in k}
    with tempfile.TemporaryDirectory(prefix="glyphflow-eval-") as tmp:
        files = []
        for name in ("metrics.json", "report.html", verdict.name):
            local = str(Path(tmp) / name)
            storage.copy(output.path(name), local)
            files.append(local)
        attach_to_run(
            run_id,
            tracking_uri,
            metrics=metrics,
            tags={"glyphflow.evaluation.verdict": verdict.name},
            files=files,
            artifact_path="evaluation",
        )


def _log_to_clearml(
    clearml: Any,
    config: EvaluationConfig,
    model: Any,
    identity: ModelIdentity | None,
    figures: dict[str, Figures],
    verdict: Verdict,
    report: ReportData,
    output: StageOutput,
) -> None:
    """The figures, the verdict, the report's images and files, and which model was judged."""
    metrics = _flat_metrics(figures, verdict)
    clearml.log_summary(metrics)
    clearml.log_metrics(metrics, 0)
    extra = getattr(model, "bundle_extra", None) or {}
    judged = {
        "glyphflow.evaluation.verdict": verdict.name,
        "glyphflow.evaluation.reasons": "; ".join(verdict.reasons) or "all checks pass",
        "glyphflow.model.uri": config.model,
    }
    links = {
        "glyphflow.model.name": identity.name if identity else None,
        "glyphflow.model.version": identity.version if identity else None,
        "glyphflow.model.mlflow_run_id": (identity.run_id if identity else None)
        or extra.get("mlflow_run_id"),
        "glyphflow.model.clearml_task_id": extra.get("clearml_task_id"),
    }
    clearml.set_tags({**judged, **{k: v for k, v in links.items() if v}})
    clearml.add_tags([verdict.name])
    for title, image in report_images(report).items():
        clearml.log_image(image, title, title, 0)
    with tempfile.TemporaryDirectory(prefix="glyphflow-eval-") as tmp:
        for name in ("metrics.json", "report.html", verdict.name):
            local = str(Path(tmp) / name)
            storage.copy(output.path(name), local)
            clearml.log_file(local, f"evaluation/{name}")
    output.extra["clearml_task_id"] = clearml.task_id
    if clearml.offline_folder:
        output.extra["clearml_offline_session"] = clearml.offline_folder
