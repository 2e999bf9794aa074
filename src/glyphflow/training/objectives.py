"""What each model learns from a batch: losses, metrics, validation, sample images.

An objective turns a batch of items (numpy arrays from :mod:`glyphflow.training.data`)
into tensors, computes the loss of the main model (and, for the adversarial prior, of
the discriminator), and evaluates a validation set. It draws every random choice (which
glyphs a font shows the encoder, the prior samples the discriminator sees) from a
generator it is given, which the loop seeds by (seed, epoch, step): the choices are the
same in an interrupted and an uninterrupted run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from glyphflow.models.classifier import GlyphClassifier
from glyphflow.models.style import FontStyleModel, StyleModel
from glyphflow.training.data import FontArrays, GlyphArrays, epoch_rng

__all__ = ["ClassifierObjective", "Objective", "StyleObjective", "make_objective"]

Batch = dict[str, torch.Tensor]


def _pixels(array: np.ndarray, device: torch.device) -> torch.Tensor:
    return (
        torch.from_numpy(np.ascontiguousarray(array))
        .to(device, non_blocking=True)
        .float()
        .div_(255.0)
    )


def _chunks(n: int, size: int) -> Iterator[np.ndarray]:
    for start in range(0, n, size):
        yield np.arange(start, min(n, start + size))


class Objective:
    """Interface of the per-model training logic."""

    unit = "glyphs"
    adversarial = False

    def prepare(self, items: Any, rng: np.random.Generator, device: torch.device) -> Batch:
        raise NotImplementedError

    def loss(
        self, net: nn.Module, batch: Batch, critic: nn.Module | None
    ) -> tuple[torch.Tensor, Batch]:
        raise NotImplementedError

    def critic_loss(
        self, critic: nn.Module, z: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, Batch]:
        raise NotImplementedError

    def evaluate(
        self, model: nn.Module, items: Any, device: torch.device, batch_size: int
    ) -> dict[str, float]:
        raise NotImplementedError

    def samples(self, batch: Batch) -> int:
        """Items (glyphs or fonts) in a batch, for throughput."""
        return int(next(iter(batch.values())).shape[0])


class ClassifierObjective(Objective):
    """Cross-entropy over the charset; accuracy."""

    def __init__(self, model: GlyphClassifier) -> None:
        self.smoothing = model.config.label_smoothing  # type: ignore[attr-defined]

    def prepare(self, items: GlyphArrays, rng: np.random.Generator, device: torch.device) -> Batch:
        return {
            "images": _pixels(items.images, device).unsqueeze(1),
            "labels": torch.from_numpy(items.labels).to(device),
        }

    def loss(
        self, net: nn.Module, batch: Batch, critic: nn.Module | None
    ) -> tuple[torch.Tensor, Batch]:
        logits = net(batch["images"])
        loss = functional.cross_entropy(
            logits.float(), batch["labels"], label_smoothing=self.smoothing
        )
        accuracy = (logits.detach().argmax(1) == batch["labels"]).float().mean()
        return loss, {"loss": loss.detach(), "accuracy": accuracy}

    @torch.no_grad()
    def evaluate(
        self, model: nn.Module, items: GlyphArrays, device: torch.device, batch_size: int
    ) -> dict[str, float]:
        total = correct = loss = 0.0
        for index in _chunks(len(items), batch_size):
            batch = self.prepare(items.take(index), epoch_rng(0), device)
            logits = model(batch["images"]).float()
            loss += float(functional.cross_entropy(logits, batch["labels"], reduction="sum"))
            correct += float((logits.argmax(1) == batch["labels"]).sum())
            total += len(index)
        return {"val_loss": loss / max(total, 1), "val_accuracy": correct / max(total, 1)}


class StyleObjective(Objective):
    """Reconstruction of target glyphs from observed ones, plus the prior term."""

    def __init__(self, model: StyleModel) -> None:
        self.config = model.config
        self.fonts = isinstance(model, FontStyleModel)
        self.unit = "fonts" if self.fonts else "glyphs"
        self.adversarial = self.config.prior == "adversarial"
        self.count = len(model.charset)
        self.observed = (
            int(getattr(self.config, "observed_min", 1)),
            int(getattr(self.config, "observed_max", 1)),
        )

    # ------------------------------------------------------------------ batches

    def prepare(self, items: Any, rng: np.random.Generator, device: torch.device) -> Batch:
        if not self.fonts:
            pixels = _pixels(items.images, device).unsqueeze(1)
            labels = torch.from_numpy(items.labels).to(device).unsqueeze(1)
            mask = torch.ones_like(labels, dtype=torch.bool)
            return {
                "images": pixels,
                "labels": labels,
                "mask": mask,
                "target_labels": labels,
                "targets": pixels,
                "target_mask": mask,
            }
        return self._font_batch(items, rng, device, self.observed[0], self.observed[1])

    def _font_batch(
        self,
        items: FontArrays,
        rng: np.random.Generator,
        device: torch.device,
        k_min: int,
        k_max: int | None,
        all_targets: bool = False,
    ) -> Batch:
        """Observed: k random present glyphs per font (k in [k_min, k_max]); targets: present ones."""
        present = items.present
        fonts, count = present.shape
        n_present = present.sum(axis=1)
        # A random order of each font's present glyphs first, then its missing ones.
        keys = rng.random((fonts, count)) + (~present) * 2.0
        order = np.argsort(keys, axis=1, kind="stable")
        upper = n_present if k_max is None else np.minimum(k_max, n_present)
        lower = np.minimum(k_min, upper)
        k = rng.integers(lower, upper + 1)
        width = int(k.max())
        observed = order[:, :width]
        obs_mask = np.arange(width)[None, :] < k[:, None]
        rows = np.arange(fonts)[:, None]
        targets_per_font = None if all_targets else getattr(self.config, "targets_per_font", None)
        if targets_per_font is None:
            target_labels = np.tile(np.arange(count), (fonts, 1))
            target_mask = present
        else:
            t_order = np.argsort(
                rng.random((fonts, count)) + (~present) * 2.0, axis=1, kind="stable"
            )
            t = min(targets_per_font, count)
            target_labels = t_order[:, :t]
            target_mask = np.arange(t)[None, :] < np.minimum(n_present, t)[:, None]
        images = torch.from_numpy(np.ascontiguousarray(items.images[rows, observed])).to(device)
        targets = torch.from_numpy(np.ascontiguousarray(items.images[rows, target_labels])).to(
            device
        )
        return {
            "images": images.float().div_(255.0),
            "labels": torch.from_numpy(observed.astype(np.int64)).to(device),
            "mask": torch.from_numpy(obs_mask).to(device),
            "target_labels": torch.from_numpy(
                np.ascontiguousarray(target_labels, dtype=np.int64)
            ).to(device),
            "targets": targets.float().div_(255.0),
            "target_mask": torch.from_numpy(np.ascontiguousarray(target_mask)).to(device),
        }

    # ------------------------------------------------------------------ losses

    def _recon(
        self, logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Masked mean reconstruction loss and L1 (per glyph, then over real glyphs)."""
        logits = logits.float()
        kind = self.config.recon_loss
        if kind == "bce":
            per_pixel = functional.binary_cross_entropy_with_logits(
                logits, targets, reduction="none"
            )
        elif kind == "l1":
            per_pixel = (torch.sigmoid(logits) - targets).abs()
        else:
            per_pixel = (torch.sigmoid(logits) - targets).pow(2)
        weights = mask.float()
        denominator = weights.sum().clamp_min(1.0)
        loss = (per_pixel.mean(dim=(-2, -1)) * weights).sum() / denominator
        with torch.no_grad():
            l1 = (
                (torch.sigmoid(logits) - targets).abs().mean(dim=(-2, -1)) * weights
            ).sum() / denominator
        return loss, l1

    def loss(
        self, net: nn.Module, batch: Batch, critic: nn.Module | None
    ) -> tuple[torch.Tensor, Batch]:
        out = net(batch["images"], batch["labels"], batch["mask"], batch["target_labels"])
        recon, l1 = self._recon(out["logits"], batch["targets"], batch["target_mask"])
        total = self.config.recon_weight * recon
        metrics: Batch = {"recon": recon.detach(), "l1": l1}
        if self.config.prior == "kl":
            total = total + self.config.prior_weight * out["kl"].float()
            metrics["kl"] = out["kl"].detach()
        elif critic is not None:
            fooled = functional.binary_cross_entropy_with_logits(
                critic(out["z"]).float(), torch.ones(out["z"].shape[0], 1, device=out["z"].device)
            )
            total = total + self.config.prior_weight * fooled
            metrics["adv"] = fooled.detach()
        metrics["loss"] = total.detach()
        batch["z"] = out["z"]
        return total, metrics

    def critic_loss(
        self, critic: nn.Module, z: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, Batch]:
        prior = torch.randn(z.shape, generator=generator).to(z.device, z.dtype)
        logits = critic(torch.cat([z.detach(), prior])).float()
        truth = torch.cat([torch.zeros(z.shape[0], 1), torch.ones(z.shape[0], 1)]).to(z.device)
        loss = functional.binary_cross_entropy_with_logits(logits, truth)
        accuracy = ((logits.detach() > 0).float() == truth).float().mean()
        return loss, {"critic_loss": loss.detach(), "critic_accuracy": accuracy}

    # ------------------------------------------------------------------ validation

    def fewshot_k(self) -> int:
        return max(self.observed[0], min(4, self.observed[1]))

    @torch.no_grad()
    def evaluate(
        self, model: nn.Module, items: Any, device: torch.device, batch_size: int
    ) -> dict[str, float]:
        sums: dict[str, float] = {}
        weights: dict[str, float] = {}

        def add(name: str, value: torch.Tensor, weight: float) -> None:
            sums[name] = sums.get(name, 0.0) + float(value) * weight
            weights[name] = weights.get(name, 0.0) + weight

        rng = epoch_rng(0x5EED, 7)
        for index in _chunks(len(items), batch_size):
            part = items.take(index)
            if self.fonts:
                full = self._font_batch(part, rng, device, 10**6, None, all_targets=True)
            else:
                full = self.prepare(part, rng, device)
            out = model(full["images"], full["labels"], full["mask"], full["target_labels"])
            weight = float(full["target_mask"].sum())
            recon, l1 = self._recon(out["logits"], full["targets"], full["target_mask"])
            add("val_loss", recon, weight)
            add("val_recon_l1", l1, weight)
            if self.fonts:
                k = self.fewshot_k()
                few = self._font_batch(part, rng, device, k, k, all_targets=True)
                observed = torch.zeros_like(few["target_mask"])
                observed.scatter_(1, few["labels"], few["mask"])
                unseen = few["target_mask"] & ~observed
                out = model(few["images"], few["labels"], few["mask"], few["target_labels"])
                _, l1 = self._recon(out["logits"], few["targets"], unseen)
                add(f"val_fewshot{k}_l1", l1, float(unseen.sum()))
        return {name: sums[name] / max(weights[name], 1e-9) for name in sums}

    @torch.no_grad()
    def image_rows(
        self, model: StyleModel, fonts: FontArrays, samples: int, seed: int
    ) -> dict[str, list[np.ndarray]]:
        """Grids: per font real / reconstruction / few-shot rows, and prior samples."""
        device = model.device
        rng = epoch_rng(0x5EED, 11)
        full = self._font_batch(fonts, rng, device, 10**6, None, all_targets=True)
        k = self.fewshot_k() if self.fonts else 1
        few = self._font_batch(fonts, rng, device, k, k, all_targets=True)
        recon = (
            model.decode(model.encode(full["images"], full["labels"], full["mask"])).cpu().numpy()
        )
        fewshot = (
            model.decode(model.encode(few["images"], few["labels"], few["mask"])).cpu().numpy()
        )
        real = fonts.images.astype(np.float32) / 255.0
        real[~fonts.present] = np.nan
        rows: list[np.ndarray] = []
        for i in range(len(fonts)):
            rows += [real[i], recon[i], fewshot[i]]
        generator = torch.Generator().manual_seed(seed)
        sampled = model.decode(model.sample_prior(samples, generator)).cpu().numpy()
        return {"reconstruction": rows, "samples": list(sampled)}


def make_objective(model: nn.Module) -> Objective:
    if isinstance(model, GlyphClassifier):
        return ClassifierObjective(model)
    if isinstance(model, StyleModel):
        return StyleObjective(model)
    raise TypeError(f"no training objective for {type(model).__name__}")
