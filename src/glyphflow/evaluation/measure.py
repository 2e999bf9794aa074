"""Score a way of making glyphs (a style model, or the baseline) on a :class:`Plan`.

Each task (reconstruction, few-shot at each k) asks a :class:`Completer` for every
character of every test font given some observed glyphs, and keeps per-glyph scores of
the glyphs it did not observe: L1, SSIM, and, with a classifier, whether the generated
glyph reads as its character (exactly, and with case folded) and its feature vector.
:func:`summarise` then pools these over any subset of fonts: L1/SSIM as the mean over
fonts of the per-font mean (each font counts once), legibility over glyphs, Frechet
distance between generated and real glyph features of the same fonts and characters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from glyphflow.core.errors import UsageError
from glyphflow.evaluation import metrics
from glyphflow.evaluation.baseline import NearestNeighbourBaseline
from glyphflow.evaluation.plan import Plan

if TYPE_CHECKING:
    import torch
    from numpy.typing import NDArray

__all__ = [
    "BaselineCompleter",
    "Completer",
    "GlyphScores",
    "Judge",
    "MethodScores",
    "ModelCompleter",
    "SampleScores",
    "measure_method",
    "summarise",
    "task_name",
]


def task_name(k: int | None) -> str:
    return "reconstruction" if k is None else f"few_shot.k{k}"


class Completer(Protocol):
    """Makes every character of a batch of fonts from their observed glyphs."""

    def complete(
        self, images: NDArray[np.uint8], observed: NDArray[np.bool_]
    ) -> NDArray[np.float32]:
        """``images[B, C, H, W]`` (uint8, only observed ones are read), ``observed[B, C]``
        -> ``[B, C, H, W]`` float in [0, 1]."""
        ...


class ModelCompleter:
    """A style model as a :class:`Completer`, with the dataset's labels mapped to its own."""

    def __init__(self, model: Any, charset: str, device: str = "cpu") -> None:
        import torch

        if not (hasattr(model, "encode") and hasattr(model, "decode")):
            raise UsageError(
                f"{type(model).__name__} is not a style model (no encode/decode); "
                "evaluate a font_style or char_style_aae model"
            )
        self.model = model.to(device).eval()
        self.device = device
        self.charset = charset
        # Characters the model does not know get label 0; they are never observed or scored.
        self.labels = torch.tensor(
            [model.charset.index(c) if c in model.charset else 0 for c in charset],
            dtype=torch.long,
        )

    def _labels(self, batch: int) -> torch.Tensor:
        return self.labels.to(self.device).unsqueeze(0).expand(batch, -1)

    def encode(self, images: NDArray[np.uint8], observed: NDArray[np.bool_]) -> torch.Tensor:
        import torch

        with torch.no_grad():
            pixels = torch.from_numpy(np.ascontiguousarray(images)).to(self.device)
            mask = torch.from_numpy(np.ascontiguousarray(observed)).to(self.device)
            z: torch.Tensor = self.model.encode(
                pixels.float() / 255.0, self._labels(len(images)), mask
            )
        return z

    def decode(self, z: torch.Tensor) -> NDArray[np.float32]:
        import torch

        with torch.no_grad():
            out = self.model.decode(z.to(self.device), self._labels(len(z)))
        result: NDArray[np.float32] = out.float().clamp(0, 1).cpu().numpy()
        return result

    def complete(
        self, images: NDArray[np.uint8], observed: NDArray[np.bool_]
    ) -> NDArray[np.float32]:
        return self.decode(self.encode(images, observed))


class BaselineCompleter:
    """The nearest-neighbour baseline as a :class:`Completer`."""

    def __init__(self, baseline: NearestNeighbourBaseline) -> None:
        self.baseline = baseline

    def complete(
        self, images: NDArray[np.uint8], observed: NDArray[np.bool_]
    ) -> NDArray[np.float32]:
        batch, count = observed.shape
        out = np.zeros(images.shape, dtype=np.float32)
        everything = np.arange(count)
        for i in range(batch):
            labels = np.flatnonzero(observed[i])
            glyphs, _ = self.baseline.complete(images[i, labels], labels, everything)
            out[i] = glyphs.astype(np.float32) / 255.0
        return out


class Judge:
    """The glyph classifier: feature vectors, and whether a glyph reads as its character."""

    def __init__(self, classifier: Any, image_shape: tuple[int, int], device: str = "cpu") -> None:
        if not hasattr(classifier, "features"):
            raise UsageError(
                f"{type(classifier).__name__} is not a glyph classifier (no features()); "
                "evaluation.classifier must name a model of class classifier"
            )
        if tuple(classifier.image_shape) != tuple(image_shape):
            raise UsageError(
                f"the classifier reads {classifier.image_shape[0]}x{classifier.image_shape[1]} "
                f"glyphs but the test glyphs are {image_shape[0]}x{image_shape[1]}; give a "
                "classifier trained on the same glyph dataset"
            )
        self.model = classifier.to(device).eval()
        self.device = device
        self.charset: str = classifier.charset

    def __call__(
        self, images: NDArray[np.float32], chars: list[str], batch_size: int = 512
    ) -> tuple[NDArray[np.float32], NDArray[np.bool_], NDArray[np.bool_]]:
        """``images[M, H, W]`` in [0, 1] of characters ``chars`` -> features [M, F],
        exact [M], case-folded [M] correctness."""
        import torch

        features: list[NDArray[np.float32]] = []
        predicted: list[int] = []
        with torch.no_grad():
            for start in range(0, len(images), batch_size):
                x = torch.from_numpy(np.ascontiguousarray(images[start : start + batch_size]))
                x = x.to(self.device).float().unsqueeze(1)
                feats = self.model.features(x)
                head = getattr(self.model, "head", None)
                logits = head(feats) if callable(head) else self.model(x)
                features.append(feats.float().cpu().numpy())
                predicted.extend(logits.argmax(dim=1).cpu().tolist())
        names = [self.charset[p] for p in predicted]
        exact = np.array([p == c for p, c in zip(names, chars, strict=True)], dtype=bool)
        folded = np.array(
            [p.casefold() == c.casefold() for p, c in zip(names, chars, strict=True)], dtype=bool
        )
        dim = features[0].shape[1] if features else 0
        return (
            np.concatenate(features) if features else np.zeros((0, dim), np.float32),
            exact,
            folded,
        )


@dataclass
class GlyphScores:
    """Per-glyph scores of one task for one method; arrays are [N, C] (NaN/False off-target)."""

    targets: NDArray[np.bool_]
    l1: NDArray[np.float64]
    ssim: NDArray[np.float64]
    judged: NDArray[np.bool_] | None = None  # the classifier knows the character
    exact: NDArray[np.bool_] | None = None
    casefold: NDArray[np.bool_] | None = None
    features: NDArray[np.float32] | None = None  # [N, C, F]
    kept: dict[int, NDArray[np.float32]] = field(default_factory=dict)  # font -> [C, H, W]


@dataclass
class SampleScores:
    """Glyphs of random styles (the whole usable charset for each)."""

    images: NDArray[np.float32]  # [S, C, H, W]
    judged: NDArray[np.bool_] | None = None  # [S, C]
    exact: NDArray[np.bool_] | None = None
    casefold: NDArray[np.bool_] | None = None
    features: NDArray[np.float32] | None = None  # [S, C, F]


@dataclass
class MethodScores:
    """Everything measured for one method (model, baseline or champion)."""

    tasks: dict[str, GlyphScores] = field(default_factory=dict)
    samples: SampleScores | None = None


def _batches(count: int, size: int) -> Iterator[slice]:
    for start in range(0, count, size):
        yield slice(start, min(count, start + size))


def _judge_glyphs(
    judge: Judge,
    images: NDArray[np.float32],
    mask: NDArray[np.bool_],
    charset: str,
    batch_size: int,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_], NDArray[np.float32]]:
    """Judge the glyphs of ``images[N, C, H, W]`` where ``mask``; results as [N, C](, F)."""
    rows, cols = np.nonzero(mask)
    chars = [charset[c] for c in cols]
    feats, exact, folded = judge(images[rows, cols], chars, batch_size)
    shape = mask.shape
    judged = np.zeros(shape, bool)
    known = np.array([c in judge.charset for c in chars], dtype=bool)
    judged[rows, cols] = known
    exact_out = np.zeros(shape, bool)
    exact_out[rows, cols] = exact & known
    folded_out = np.zeros(shape, bool)
    folded_out[rows, cols] = folded & known
    features = np.zeros((*shape, feats.shape[1] if feats.ndim == 2 else 0), np.float32)
    features[rows, cols] = feats
    return judged, exact_out, folded_out, features


def measure_method(
    completer: Completer,
    plan: Plan,
    judge: Judge | None,
    batch_fonts: int,
    keep: list[int],
    judge_batch: int = 512,
    progress: Callable[[int], None] | None = None,
) -> MethodScores:
    """Run every task of ``plan`` through ``completer`` and score the glyphs it made."""
    test = plan.test
    charset = test.charset
    scores = MethodScores()
    tasks: list[int | None] = [None, *plan.k_shots]
    for k in tasks:
        observed_all = plan.test.present if k is None else plan.observed[k]
        targets = plan.targets(k)
        count = targets.shape
        result = GlyphScores(
            targets=targets,
            l1=np.full(count, np.nan),
            ssim=np.full(count, np.nan),
        )
        if judge is not None:
            result.judged = np.zeros(count, bool)
            result.exact = np.zeros(count, bool)
            result.casefold = np.zeros(count, bool)
        todo = np.flatnonzero(targets.any(axis=1))
        for part in _batches(len(todo), batch_fonts):
            fonts = todo[part]
            made = completer.complete(test.images[fonts], observed_all[fonts])
            truth = test.images[fonts].astype(np.float32) / 255.0
            mask = targets[fonts]
            rows, cols = np.nonzero(mask)
            if len(rows):
                l1_values = metrics.l1(made[rows, cols], truth[rows, cols])
                ssim_values = metrics.ssim(made[rows, cols], truth[rows, cols])
                result.l1[fonts[rows], cols] = l1_values
                result.ssim[fonts[rows], cols] = ssim_values
            if judge is not None:
                judged, exact, folded, feats = _judge_glyphs(
                    judge, made, mask, charset, judge_batch
                )
                assert result.judged is not None and result.exact is not None
                assert result.casefold is not None
                result.judged[fonts] = judged
                result.exact[fonts] = exact
                result.casefold[fonts] = folded
                if result.features is None:
                    result.features = np.zeros((*count, feats.shape[-1]), np.float32)
                result.features[fonts] = feats
            for slot, font in enumerate(fonts):
                if int(font) in keep:
                    result.kept[int(font)] = made[slot]
            if progress is not None:
                progress(len(fonts))
        scores.tasks[task_name(k)] = result
    return scores


def measure_samples(
    model: ModelCompleter,
    count: int,
    usable: NDArray[np.bool_],
    judge: Judge | None,
    seed: int,
    batch_fonts: int,
    judge_batch: int = 512,
) -> SampleScores:
    """Decode the usable charset for ``count`` random styles (seeded) and judge them."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    z = model.model.sample_prior(count, generator=generator)
    images = np.concatenate(
        [model.decode(z[part]) for part in _batches(count, batch_fonts)], axis=0
    )
    samples = SampleScores(images=images)
    if judge is not None:
        mask = np.broadcast_to(usable, images.shape[:2]).copy()
        judged, exact, folded, feats = _judge_glyphs(
            judge, images, mask, model.charset, judge_batch
        )
        samples.judged, samples.exact, samples.casefold, samples.features = (
            judged,
            exact,
            folded,
            feats,
        )
    return samples


def _font_mean(values: NDArray[np.float64], fonts: NDArray[np.bool_]) -> float | None:
    """Mean over fonts (of ``fonts``) of each font's mean over its scored glyphs."""
    chosen = values[fonts]
    has = ~np.isnan(chosen).all(axis=1) if chosen.size else np.zeros(0, bool)
    if not has.any():
        return None
    per_font = np.nanmean(chosen[has], axis=1)
    return float(per_font.mean())


def _rate(hits: NDArray[np.bool_], judged: NDArray[np.bool_]) -> float | None:
    total = int(judged.sum())
    return float(hits[judged].sum() / total) if total else None


def _fid(a: NDArray[np.float32], b: NDArray[np.float32]) -> float | None:
    if len(a) < 2 or len(b) < 2:
        return None
    return metrics.frechet_distance(a, b)


@dataclass
class RealGlyphs:
    """The classifier's view of the real test glyphs: features and legibility."""

    features: NDArray[np.float32]  # [N, C, F]
    judged: NDArray[np.bool_]
    exact: NDArray[np.bool_]
    casefold: NDArray[np.bool_]


def judge_real(plan: Plan, judge: Judge, judge_batch: int = 512) -> RealGlyphs:
    test = plan.test
    images = test.images.astype(np.float32) / 255.0
    judged, exact, folded, feats = _judge_glyphs(
        judge, images, test.present, test.charset, judge_batch
    )
    return RealGlyphs(feats, judged, exact, folded)


def summarise(
    scores: MethodScores, fonts: NDArray[np.bool_], real: RealGlyphs | None
) -> dict[str, float | None]:
    """The metrics of one method over the fonts in ``fonts`` (None: nothing to measure)."""
    out: dict[str, float | None] = {}
    for name, task in scores.tasks.items():
        out[f"{name}.l1"] = _font_mean(task.l1, fonts)
        out[f"{name}.ssim"] = _font_mean(task.ssim, fonts)
        if name == "reconstruction":
            continue
        if task.judged is not None and task.exact is not None and task.casefold is not None:
            judged = task.judged & fonts[:, None]
            out[f"{name}.legibility.exact"] = _rate(task.exact, judged)
            out[f"{name}.legibility.casefold"] = _rate(task.casefold, judged)
        if task.features is not None and real is not None:
            chosen = task.targets & fonts[:, None]
            out[f"{name}.fid"] = _fid(task.features[chosen], real.features[chosen])
    samples = scores.samples
    if samples is not None and samples.judged is not None:
        assert samples.exact is not None and samples.casefold is not None
        out["legibility.exact"] = _rate(samples.exact, samples.judged)
        out["legibility.casefold"] = _rate(samples.casefold, samples.judged)
        if samples.features is not None and real is not None:
            chosen = real.judged & fonts[:, None]
            out["fid"] = _fid(samples.features[samples.judged], real.features[chosen])
    return out


def summarise_real(real: RealGlyphs, fonts: NDArray[np.bool_]) -> dict[str, float | None]:
    """The classifier on the real test glyphs: the legibility a perfect model would reach."""
    judged = real.judged & fonts[:, None]
    return {
        "legibility.exact": _rate(real.exact, judged),
        "legibility.casefold": _rate(real.casefold, judged),
    }
