"""The training loop: steps, validation, early stopping, checkpoints, signals, progress.

One :class:`Trainer` drives any model through its objective. It is deterministic when
asked: the data order and every random choice follow from (seed, epoch, step), and a
checkpoint carries the RNG states, so a run resumed from a checkpoint ends with the same
weights as one that was never interrupted.

SIGINT and SIGTERM do not kill a run: the loop finishes the step it is in, writes a
checkpoint and raises :class:`TrainingInterruptedError`; ``--resume`` continues from there.
Under torchrun every rank agrees on when to stop (one small all-reduce per step).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from glyphflow.core.errors import GlyphflowError, StageFailedError
from glyphflow.core.logs import progress
from glyphflow.models.registries import optimizers, schedulers
from glyphflow.models.style import StyleModel
from glyphflow.training import checkpoints
from glyphflow.training.config import TrainingConfig
from glyphflow.training.data import FontArrays, MemoryData, StreamingData, epoch_rng
from glyphflow.training.distributed import World, all_sum
from glyphflow.training.images import glyph_grid
from glyphflow.training.objectives import Objective, StyleObjective, make_objective

__all__ = ["Reporter", "TrainResult", "Trainer", "TrainingInterruptedError"]

_log = logging.getLogger(__name__)


class TrainingInterruptedError(GlyphflowError):
    """SIGINT/SIGTERM arrived: a checkpoint was written; ``--resume`` continues."""

    exit_code = 130


class Reporter(Protocol):
    """Where the loop sends metrics and images (MLflow, or nowhere)."""

    def metrics(self, values: Mapping[str, float], step: int) -> None: ...

    def image(self, image: np.ndarray, name: str) -> None: ...


class NullReporter:
    def metrics(self, values: Mapping[str, float], step: int) -> None:
        pass

    def image(self, image: np.ndarray, name: str) -> None:
        pass


@dataclass
class TrainResult:
    """How a run ended."""

    step: int
    epoch: int
    history: list[dict[str, float]]
    best: dict[str, float] | None
    stopped_early: bool
    samples_per_second: float
    seconds: float
    images: dict[str, np.ndarray] = field(default_factory=dict)


class Trainer:
    """Trains ``model`` on ``data`` per ``config``; rank 0 validates, reports and checkpoints."""

    def __init__(
        self,
        config: TrainingConfig,
        model: nn.Module,
        data: MemoryData | StreamingData,
        val: Any,
        preview: FontArrays | None,
        device: torch.device,
        world: World,
        reporter: Reporter | None = None,
        stop: threading.Event | None = None,
        on_step: Callable[[int], None] | None = None,
        run_id: str | None = None,
        state_extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.model = model.to(device)
        self.data = data
        self.val = val
        self.preview = preview
        self.device = device
        self.world = world
        self.reporter: Reporter = reporter or NullReporter()
        self.stop = stop or threading.Event()
        self.on_step = on_step
        self.run_id = run_id
        self.state_extra = dict(state_extra or {})
        self.objective: Objective = make_objective(model)

        self.critic: nn.Module | None = None
        if isinstance(model, StyleModel) and self.objective.adversarial:
            self.critic = model.build_discriminator()
            if self.critic is not None:
                self.critic.to(device)
        self.net: nn.Module = self.model
        self.critic_net: nn.Module | None = self.critic
        if world.distributed:
            from torch.nn.parallel import DistributedDataParallel

            ids = [device.index] if device.type == "cuda" else None
            self.net = DistributedDataParallel(self.model, device_ids=ids)
            if self.critic is not None:
                self.critic_net = DistributedDataParallel(self.critic, device_ids=ids)

        self.optimizer = optimizers.build(config.optimizer, self.model.parameters())
        self.critic_optimizer = None
        if self.critic is not None:
            spec = config.discriminator_optimizer or config.optimizer
            self.critic_optimizer = optimizers.build(spec, self.critic.parameters())
        self.total_steps = self._total_steps()
        self.scheduler = schedulers.build(
            config.scheduler, self.optimizer, total_steps=self.total_steps
        )

        self.autocast_dtype = self._amp_dtype()
        self.scaler = torch.amp.GradScaler("cuda") if self.autocast_dtype == torch.float16 else None
        # position and state
        self.step = 0
        self.epoch = 0
        self.batch_in_epoch = 0
        self.history: list[dict[str, float]] = []
        self.best_value: float | None = None
        self.best_step = 0
        self.best_metrics: dict[str, float] | None = None
        self.best_state: dict[str, torch.Tensor] | None = None
        self.bad_validations = 0
        self._saved: tuple[int, int, int] | None = None
        # running sums of this epoch's training metrics (part of the resumable state)
        self.epoch_sums: dict[str, float] = {}
        self.epoch_steps = 0

    # ------------------------------------------------------------------ set-up

    def _total_steps(self) -> int:
        per_epoch = self.data.steps_per_epoch
        options = []
        if self.config.epochs is not None:
            options.append(self.config.epochs * max(1, per_epoch))
        if self.config.max_steps is not None:
            options.append(self.config.max_steps)
        return max(1, min(options))

    def _amp_dtype(self) -> torch.dtype | None:
        if self.device.type != "cuda" or self.config.amp == "off":
            return None
        if self.config.amp == "bf16" or (
            self.config.amp == "auto" and torch.cuda.is_bf16_supported()
        ):
            return torch.bfloat16
        return torch.float16

    def _autocast(self) -> AbstractContextManager[Any]:
        if self.autocast_dtype is None:
            return nullcontext()
        return torch.autocast(device_type="cuda", dtype=self.autocast_dtype)

    # ------------------------------------------------------------------ checkpoints

    def state(self) -> dict[str, Any]:
        """Everything needed to continue exactly from here."""
        rng: dict[str, Any] = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        return {
            "step": self.step,
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "critic": self.critic.state_dict() if self.critic is not None else None,
            "critic_optimizer": (
                self.critic_optimizer.state_dict() if self.critic_optimizer is not None else None
            ),
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "rng": rng,
            "history": self.history,
            "epoch_sums": dict(self.epoch_sums),
            "epoch_steps": self.epoch_steps,
            "early": {
                "best_value": self.best_value,
                "best_step": self.best_step,
                "best_metrics": self.best_metrics,
                "best_state": self.best_state,
                "bad": self.bad_validations,
            },
            "mlflow_run_id": self.run_id,
            **self.state_extra,
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        """Continue from a checkpoint's state (after the model and optimizers are built)."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        if self.critic is not None and state.get("critic") is not None:
            self.critic.load_state_dict(state["critic"])
        if self.critic_optimizer is not None and state.get("critic_optimizer") is not None:
            self.critic_optimizer.load_state_dict(state["critic_optimizer"])
        if self.scaler is not None and state.get("scaler") is not None:
            self.scaler.load_state_dict(state["scaler"])
        self.step = int(state["step"])
        self.epoch = int(state["epoch"])
        self.batch_in_epoch = int(state["batch_in_epoch"])
        self.history = list(state.get("history") or [])
        self.epoch_sums = dict(state.get("epoch_sums") or {})
        self.epoch_steps = int(state.get("epoch_steps") or 0)
        early = state.get("early") or {}
        self.best_value = early.get("best_value")
        self.best_step = int(early.get("best_step") or 0)
        self.best_metrics = early.get("best_metrics")
        self.best_state = early.get("best_state")
        self.bad_validations = int(early.get("bad") or 0)
        torch.set_rng_state(state["rng"]["torch"].cpu())
        if "cuda" in state["rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([s.cpu() for s in state["rng"]["cuda"]])

    def _checkpoint(self) -> None:
        position = (self.step, self.epoch, self.batch_in_epoch)
        if self.world.is_main and position != self._saved:
            checkpoints.save(
                self.config.output, self.step, self.state(), self.config.keep_checkpoints
            )
        self._saved = position

    # ------------------------------------------------------------------ steps

    def _optimize(self, loss: torch.Tensor, optimizer: Any, parameters: Any) -> None:
        optimizer.zero_grad(set_to_none=True)
        clip = self.config.grad_clip
        if self.scaler is not None:
            self.scaler.scale(loss).backward()  # type: ignore[no-untyped-call]
            if clip:
                self.scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(list(parameters), clip)
            self.scaler.step(optimizer)
        else:
            loss.backward()  # type: ignore[no-untyped-call]
            if clip:
                torch.nn.utils.clip_grad_norm_(list(parameters), clip)
            optimizer.step()

    def _train_step(self, items: Any) -> tuple[dict[str, torch.Tensor], int]:
        self.model.train()
        seed = self.config.seed
        rng = epoch_rng(seed, self.epoch, self.step, self.world.rank, 3)
        batch = self.objective.prepare(items, rng, self.device)
        with self._autocast():
            loss, metrics = self.objective.loss(self.net, batch, self.critic)
        self._optimize(loss, self.optimizer, self.model.parameters())
        if (
            self.critic_net is not None
            and self.critic_optimizer is not None
            and self.critic is not None
        ):
            self.critic.train()
            generator = torch.Generator().manual_seed(int(rng.integers(2**62)))
            with self._autocast():
                critic_loss, critic_metrics = self.objective.critic_loss(
                    self.critic_net, batch["z"].detach(), generator
                )
            self._optimize(critic_loss, self.critic_optimizer, self.critic.parameters())
            metrics.update(critic_metrics)
        if self.scaler is not None:
            self.scaler.update()
        self.scheduler.step()
        return metrics, self.objective.samples(batch)

    # ------------------------------------------------------------------ validation

    def validate(self) -> dict[str, float]:
        if not self.world.is_main or self.val is None or len(self.val) == 0:
            return {}
        self.model.eval()
        with self._autocast():
            return self.objective.evaluate(
                self.model, self.val, self.device, self.config.batch_size
            )

    def make_images(self) -> dict[str, np.ndarray]:
        """Reconstruction and prior-sample grids (style models with preview fonts)."""
        if not (self.world.is_main and self.preview is not None and len(self.preview)):
            return {}
        if not isinstance(self.objective, StyleObjective) or not isinstance(self.model, StyleModel):
            return {}
        self.model.eval()
        rows = self.objective.image_rows(
            self.model, self.preview, self.config.mlflow.image_samples, self.config.seed
        )
        return {
            "reconstruction": glyph_grid(rows["reconstruction"], gap_every=3),
            "samples": glyph_grid(rows["samples"]),
        }

    def _early_stop(self, metrics: Mapping[str, float]) -> bool:
        rule = self.config.early_stopping
        if rule is None:
            return False
        if rule.metric not in metrics:
            _log.warning(
                "early_stopping.metric %r is not among the validation metrics (%s)",
                rule.metric,
                ", ".join(sorted(metrics)) or "none",
            )
            return False
        value = float(metrics[rule.metric])
        better = (
            self.best_value is None
            or (rule.mode == "min" and value < self.best_value - rule.min_delta)
            or (rule.mode == "max" and value > self.best_value + rule.min_delta)
        )
        if better:
            self.best_value = value
            self.best_step = self.step
            self.best_metrics = {
                **metrics,
                "epoch": float(self.epoch + 1),
                "step": float(self.step),
            }
            self.bad_validations = 0
            if rule.restore_best:
                self.best_state = {
                    k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()
                }
            return False
        self.bad_validations += 1
        return self.bad_validations >= rule.patience

    # ------------------------------------------------------------------ the loop

    def _agree(self, out_of_data: bool) -> tuple[bool, bool]:
        """(every rank still has a batch, someone asked to stop), agreed by all ranks."""
        stop = self.stop.is_set()
        if not self.world.distributed:
            return not out_of_data, stop
        missing, stops = all_sum(self.world, [float(out_of_data), float(stop)], self.device)
        return missing == 0, stops > 0

    def _broadcast_flag(self, flag: bool) -> bool:
        if not self.world.distributed:
            return flag
        import torch.distributed as dist

        tensor = torch.tensor([float(flag)], device=self.device)
        dist.broadcast(tensor, src=0)
        return bool(tensor.item())

    def fit(self) -> TrainResult:
        """Train until epochs, max_steps or early stopping; returns how it ended."""
        config = self.config
        started = time.perf_counter()
        total_samples = 0
        window: dict[str, float] = {}
        window_steps = 0
        window_samples = 0
        window_start = time.perf_counter()
        stopped_early = False
        images: dict[str, np.ndarray] = {}
        max_epochs = config.epochs if config.epochs is not None else 2**31
        done = self.step >= self.total_steps if config.max_steps else False
        unit = self.objective.unit
        with progress("training", total=self.total_steps, unit="steps") as bar:
            bar.advance(self.step)
            while not done and self.epoch < max_epochs:
                batches = self.data.batches(self.epoch, skip=self.batch_in_epoch)
                while True:
                    items = next(batches, None)
                    has_batch, stop = self._agree(items is None)
                    if not has_batch:
                        break
                    metrics, samples = self._train_step(items)
                    self.step += 1
                    self.batch_in_epoch += 1
                    total_samples += samples
                    window_samples += samples
                    window_steps += 1
                    self.epoch_steps += 1
                    for key, value in metrics.items():
                        number = float(value)
                        window[key] = window.get(key, 0.0) + number
                        self.epoch_sums[key] = self.epoch_sums.get(key, 0.0) + number
                    bar.advance(1)
                    if self.on_step is not None:
                        self.on_step(self.step)
                    if self.step % config.log_every_steps == 0:
                        elapsed = max(time.perf_counter() - window_start, 1e-9)
                        averaged = {f"train_{k}": v / window_steps for k, v in window.items()}
                        if not math.isfinite(averaged.get("train_loss", 0.0)):
                            raise StageFailedError(
                                f"the training loss is not finite at step {self.step}; lower "
                                "optimizer.kwargs.lr or enable grad_clip"
                            )
                        rate = window_samples * self.world.size / elapsed
                        averaged[f"throughput_{unit}_per_s"] = rate
                        averaged["lr"] = float(self.scheduler.get_last_lr()[0])
                        if self.world.is_main:
                            self.reporter.metrics(averaged, self.step)
                        bar.update(
                            status=f"epoch {self.epoch + 1} loss {averaged.get('train_loss', 0):.4f} "
                            f"{rate:,.0f} {unit}/s"
                        )
                        window, window_steps, window_samples = {}, 0, 0
                        window_start = time.perf_counter()
                    every = config.checkpoint_every_steps
                    if every and self.step % every == 0:
                        self._checkpoint()
                    if stop:
                        self._checkpoint()
                        raise TrainingInterruptedError(
                            f"training interrupted at step {self.step}; checkpoint saved under "
                            f"{checkpoints.FOLDER}/ of {config.output}; run again with --resume"
                        )
                    if config.max_steps is not None and self.step >= config.max_steps:
                        done = True
                        break
                # end of epoch
                record: dict[str, float] = {
                    "epoch": float(self.epoch + 1),
                    "step": float(self.step),
                }
                if self.epoch_steps:
                    record.update(
                        {
                            f"epoch_train_{k}": v / self.epoch_steps
                            for k, v in self.epoch_sums.items()
                        }
                    )
                self.epoch_sums, self.epoch_steps = {}, 0
                last_epoch = done or self.epoch + 1 >= max_epochs
                if (self.epoch + 1) % config.validate_every_epochs == 0 or last_epoch:
                    val_metrics = self.validate()
                    record.update(val_metrics)
                    stopped_early = self._broadcast_flag(
                        self._early_stop(val_metrics) if self.world.is_main else False
                    )
                every_images = config.mlflow.log_images_every_epoch
                if self.world.is_main and (
                    (every_images and (self.epoch + 1) % every_images == 0)
                    or last_epoch
                    or stopped_early
                ):
                    images = self.make_images()
                    for name, image in images.items():
                        self.reporter.image(image, f"images/epoch-{self.epoch + 1:04d}-{name}.png")
                if self.world.is_main:
                    self.reporter.metrics(record, self.step)
                    _log.info(
                        "epoch %d: %s",
                        self.epoch + 1,
                        ", ".join(
                            f"{k}={v:.4g}" for k, v in record.items() if k not in ("epoch", "step")
                        ),
                    )
                self.history.append(record)
                self.epoch += 1
                self.batch_in_epoch = 0
                if self._agree(False)[1]:
                    self._checkpoint()
                    raise TrainingInterruptedError(
                        f"training interrupted after epoch {self.epoch}; checkpoint saved; run again with --resume"
                    )
                if stopped_early:
                    _log.info(
                        "early stopping after epoch %d (best at step %d)",
                        self.epoch,
                        self.best_step,
                    )
                    break
        seconds = time.perf_counter() - started
        self._checkpoint()  # the end state too: a later --resume with more epochs goes on from it
        rule = config.early_stopping
        if rule is not None and rule.restore_best and self.best_state is not None:
            self.model.load_state_dict(self.best_state)
            if self.world.is_main and self.best_step != self.step:
                images = self.make_images()
        return TrainResult(
            step=self.step,
            epoch=self.epoch,
            history=self.history,
            best=self.best_metrics,
            stopped_early=stopped_early,
            samples_per_second=total_samples * self.world.size / max(seconds, 1e-9),
            seconds=seconds,
            images=images,
        )
