"""``glyphflow train``: train a model on glyph records, track it (MLflow, ClearML), write a bundle.

Output folder: ``model.pt`` (the bundle: weights, model config, charset, render settings
of the training data), ``checkpoints/``, ``metrics.json`` (per-epoch history, best and
final figures), ``reconstruction.png`` and ``samples.png`` (style models), and the
manifest, whose ``mlflow_run_id`` and ``extra`` (registered model name and version,
model URI, tracking URI) tell later stages where the model lives.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from glyphflow import models
from glyphflow.core.config import config_hash, dump_config
from glyphflow.core.errors import UsageError
from glyphflow.core.manifest import Manifest
from glyphflow.io import storage
from glyphflow.io.outputs import StageOutput, read_manifest
from glyphflow.models.bundle import BUNDLE_NAME
from glyphflow.training import checkpoints
from glyphflow.training.config import TrainingConfig
from glyphflow.training.data import (
    FontArrays,
    Selection,
    Source,
    describe,
    load_items,
    open_training_data,
    selection,
)
from glyphflow.training.distributed import (
    World,
    all_sum,
    barrier,
    pick_device,
    seed_everything,
    setup,
    teardown,
)
from glyphflow.training.loop import Reporter, Trainer, TrainingInterruptedError, TrainResult

__all__ = ["run"]

_log = logging.getLogger(__name__)

# Settings a resumed run may change: how long and how it runs, not what it learns.
_RESUMABLE_CHANGES = {
    "epochs",
    "max_steps",
    "early_stopping",
    "validate_every_epochs",
    "log_every_steps",
    "checkpoint_every_steps",
    "keep_checkpoints",
    "device",
    "threads",
    "mlflow",
    "clearml",
}


def _resume_key(config: TrainingConfig) -> str:
    data = {k: v for k, v in dump_config(config).items() if k not in _RESUMABLE_CHANGES}
    return config_hash(data)


def run(
    config: TrainingConfig,
    resume: bool = False,
    on_step: Callable[[int], None] | None = None,
) -> Manifest:
    """Train as ``config`` says; with ``resume``, continue from the latest checkpoint.

    ``on_step(step)`` is called after every optimizer step (for tests and tools).
    """
    if config.threads:
        torch.set_num_threads(config.threads)
    device = pick_device(config.device, int(os.environ.get("LOCAL_RANK", "0")))
    world = setup(device)
    try:
        return _run(config, resume, device, world, on_step)
    finally:
        teardown(world)


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set ``stop`` (the loop checkpoints and ends) instead of killing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():  # a second signal: stop now
            raise KeyboardInterrupt
        _log.warning("signal %d: finishing this step, then checkpointing", signum)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _start_tracking(config: TrainingConfig, run_id: str | None, source: Source) -> Any:
    from glyphflow.tracking import default_workdir, resolve_tracking_uri
    from glyphflow.tracking.runs import TrackingRun

    uri = resolve_tracking_uri(config.mlflow.tracking_uri, default_workdir(config.output))
    tags = {
        "glyphflow.stage": "training",
        "glyphflow.model": config.model.class_,
        **config.mlflow.tags,
    }
    tracking = TrackingRun.start(
        uri, config.mlflow.experiment, config.mlflow.run_name, tags, run_id
    )
    _log.info("MLflow run %s at %s", tracking.run_id, uri)
    return tracking


def _start_clearml(config: TrainingConfig) -> Any:
    from glyphflow.tracking.clearml import ClearmlRun

    name = f"training: {Path(storage.strip_protocol(config.output)).name}"
    return ClearmlRun.start(config.clearml, "training", name, [config.model.class_])


def _log_clearml_inputs(clearml: Any, config: TrainingConfig) -> None:
    clearml.log_config(dump_config(config), "training")


def _log_inputs(tracking: Any, config: TrainingConfig) -> None:
    import yaml

    from glyphflow.tracking.runs import flatten_params

    resolved = dump_config(config)
    tracking.log_params(flatten_params(resolved))
    tracking.log_text(
        yaml.safe_dump({"version": 1, "training": resolved}, sort_keys=False),
        "config/training.yaml",
    )


def _prepare_output(out: StageOutput, resume: bool) -> dict[str, Any] | None:
    """Withdraw ``_SUCCESS``; return the checkpoint to resume from (fresh runs drop old ones)."""
    out.begin()
    found = checkpoints.latest(out.url)
    if not resume:
        for old in checkpoints.list_checkpoints(out.url):
            storage.remove(old)
        return None
    if found is None:
        _log.warning("--resume: no checkpoint under %s; starting from the beginning", out.url)
        return None
    _log.info("resuming from %s", found)
    return checkpoints.load(found)


def _run(
    config: TrainingConfig,
    resume: bool,
    device: torch.device,
    world: World,
    on_step: Callable[[int], None] | None,
) -> Manifest:
    out = StageOutput(config.output, "training", config, inputs={"glyphs": config.glyphs})
    state: dict[str, Any] | None = None
    if world.is_main:
        state = _prepare_output(out, resume)
    barrier(world)
    if state is None and resume and not world.is_main:
        found = checkpoints.latest(config.output)
        state = checkpoints.load(found) if found else None
    if state is not None and state.get("resume_key") not in (None, _resume_key(config)):
        raise UsageError(
            "the config differs from the checkpoint's in what the model learns (model, data, "
            "optimizer, schedule, seed...); resume with the same config or start afresh "
            "without --resume"
        )

    source = describe(config.glyphs)
    sel = selection(source, config.data)
    seed_everything(config.seed, config.deterministic, device)
    model = models.build(config.model, sel.charset, source.image_shape, render=source.render)
    kind = model.batch_kind
    data = open_training_data(
        source, config.data, sel, kind, config.batch_size, config.seed, world.rank, world.size
    )
    total_items = int(all_sum(world, [float(len(data))], device)[0])
    val: Any = None
    preview: FontArrays | None = None
    if world.is_main:
        val, preview = _validation_items(config, source, sel, kind)
    _log.info(
        "training %s on %d %s (%d characters, %dx%d), %d steps per epoch on %s%s",
        config.model.class_,
        total_items,
        kind,
        len(sel.charset),
        *source.image_shape,
        data.steps_per_epoch,
        device,
        f", {world.size} processes" if world.distributed else "",
    )

    from glyphflow.tracking.fanout import Trackers

    trackers = Trackers()
    run_id = state.get("mlflow_run_id") if state else None
    if world.is_main and config.mlflow.enabled:
        trackers.mlflow = _start_tracking(config, run_id, source)
        _log_inputs(trackers.mlflow, config)
        run_id = trackers.mlflow.run_id
    if world.is_main and config.clearml.enabled:
        try:
            trackers.clearml = _start_clearml(config)
            _log_clearml_inputs(trackers.clearml, config)
        except BaseException:
            trackers.end("FAILED")
            raise
    if trackers:
        trackers.set_tags(
            {
                "glyphflow.charset": source.charset,
                "glyphflow.image_shape": f"{source.image_shape[0]}x{source.image_shape[1]}",
                "glyphflow.input": config.glyphs,
            }
        )
        if source.manifest is not None:
            trackers.log_dict(source.manifest, "inputs/glyphs_manifest.json")
    reporter: Reporter | None = trackers if trackers else None

    stop = threading.Event()
    trainer = Trainer(
        config, model, data, val, preview, device, world, reporter, stop, on_step, run_id
    )
    if state is not None:
        trainer.restore(state)
    key = _resume_key(config)
    original_state = trainer.state

    def state_with_key() -> dict[str, Any]:
        return {**original_state(), "resume_key": key}

    trainer.state = state_with_key  # type: ignore[method-assign]
    try:
        with _stop_on_signals(stop):
            result = trainer.fit()
    except TrainingInterruptedError:
        trackers.end("KILLED")
        raise
    except BaseException:
        trackers.end("FAILED")
        raise

    manifest: Manifest | None = None
    if world.is_main:
        try:
            manifest = _finish(config, out, trainer, result, source, sel, trackers, total_items)
        except BaseException:
            trackers.end("FAILED")
            raise
        trackers.end("FINISHED")
    barrier(world)
    if manifest is None:
        manifest = read_manifest(config.output)
        if manifest is None:
            raise UsageError(f"rank 0 wrote no manifest under {config.output}")
    return manifest


def _validation_items(
    config: TrainingConfig, source: Source, sel: Selection, kind: str
) -> tuple[Any, FontArrays | None]:
    split = config.data.val_split
    if split is None:
        return None, None
    from glyphflow.io.shards import list_shards

    if not list_shards(source.split_url(split)):
        _log.warning(
            "no validation records at %s; training without validation", source.split_url(split)
        )
        return None, None
    val = load_items(source, split, sel, kind, limit=config.data.val_limit)
    preview = None
    if config.model.class_ != "classifier":
        if kind == "fonts":
            assert isinstance(val, FontArrays)
            preview = val.take(np.arange(min(len(val), config.mlflow.image_fonts)))
        else:
            fonts = load_items(source, split, sel, "fonts", limit=config.mlflow.image_fonts)
            assert isinstance(fonts, FontArrays)
            preview = fonts
    return val, preview


def _finish(
    config: TrainingConfig,
    out: StageOutput,
    trainer: Trainer,
    result: TrainResult,
    source: Source,
    sel: Selection,
    trackers: Any,
    total_items: int,
) -> Manifest:
    tracking = trackers.mlflow
    clearml = trackers.clearml
    model = trainer.model
    final = dict(result.history[-1]) if result.history else {}
    metrics = {
        "final": final,
        "best": result.best,
        "history": result.history,
        "steps": result.step,
        "epochs": result.epoch,
        "stopped_early": result.stopped_early,
        "samples_per_second": result.samples_per_second,
        "unit": trainer.objective.unit,
        "seconds": result.seconds,
    }
    extra_bundle = {
        "training_output": config.output,
        "mlflow_run_id": tracking.run_id if tracking is not None else None,
        "clearml_task_id": clearml.task_id if clearml is not None else None,
        "steps": result.step,
        "metrics": result.best or final,
    }
    bundle_url = out.path(BUNDLE_NAME)
    models.save(model, bundle_url, extra_bundle)  # type: ignore[arg-type]
    storage.write_text(
        out.path("metrics.json"), json.dumps(metrics, indent=2, default=float) + "\n"
    )
    for name, image in result.images.items():
        _write_png(out.path(f"{name}.png"), image)

    out.counts.update(
        {
            "steps": result.step,
            "epochs": result.epoch,
            "train_items": total_items,
            "characters": len(sel.charset),
            "parameters": sum(p.numel() for p in model.parameters()),
        }
    )
    out.timings["train_s"] = round(result.seconds, 3)
    out.extra.update(
        {
            "model_class": config.model.class_,
            "charset": sel.charset,
            "image_shape": list(source.image_shape),
            "render": source.render,
            "bundle": BUNDLE_NAME,
            "samples_per_second": round(result.samples_per_second, 3),
            "sample_unit": trainer.objective.unit,
            "stopped_early": result.stopped_early,
            "final_metrics": final,
            "best_metrics": result.best,
        }
    )
    metadata = {
        "model_class": config.model.class_,
        "charset": sel.charset,
        "image_shape": list(source.image_shape),
        "render": source.render,
        "latent_dim": getattr(model, "latent_dim", None),
    }
    summary = {f"final_{k}": v for k, v in final.items() if k not in ("epoch", "step")}
    summary["samples_per_second"] = result.samples_per_second
    if trackers:
        trackers.log_dict(metrics, "metrics.json")
        trackers.metrics(summary, result.step)
    if clearml is not None:
        _finish_clearml(config, out, clearml, bundle_url, summary, metadata)
    if tracking is not None:
        from glyphflow.tracking.registry import log_model

        out.mlflow_run_id = tracking.run_id
        out.extra["tracking_uri"] = tracking.tracking_uri
        if config.mlflow.log_model:
            with tempfile.TemporaryDirectory(prefix="glyphflow-bundle-") as tmp:
                local = str(Path(tmp) / BUNDLE_NAME)
                storage.copy(bundle_url, local)
                registered = log_model(tracking, local, config.registered_model_name, metadata)
            out.extra["model_uri"] = registered.model_uri
            out.extra["registered_model_name"] = registered.name
            out.extra["registered_model_version"] = registered.version
            if registered.version:
                _log.info("registered %s version %s", registered.name, registered.version)
    return out.commit()


def _finish_clearml(
    config: TrainingConfig,
    out: StageOutput,
    clearml: Any,
    bundle_url: str,
    summary: Mapping[str, float],
    metadata: Mapping[str, Any],
) -> None:
    """The final figures, the image grids and the model bundle on the ClearML task."""
    clearml.log_summary(summary)
    out.extra["clearml_task_id"] = clearml.task_id
    if clearml.offline_folder:
        out.extra["clearml_offline_session"] = clearml.offline_folder
    if not config.clearml.log_model:
        return
    with tempfile.TemporaryDirectory(prefix="glyphflow-bundle-") as tmp:
        local = str(Path(tmp) / BUNDLE_NAME)
        storage.copy(bundle_url, local)
        name = config.registered_model_name or f"glyphflow-{config.model.class_}"
        out.extra["clearml_model_id"] = clearml.log_model(
            local, name, metadata, tags=[config.model.class_]
        )


def _write_png(url: str, image: np.ndarray) -> None:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    storage.write_bytes(url, buffer.getvalue())
