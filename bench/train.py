"""Training throughput: samples per second of each model, on CPU or (``--gpu``) on CUDA.

Each model is measured with the architecture of its shipped example config
(``configs/examples/train-*.yaml``; ``--gpu`` uses ``train-font-style-gpu.yaml`` for the
style models), on a synthetic glyph set drawn with numpy, through the real training step
(data preparation, forward, backward, optimizer, critic): a few warm-up steps, then a
timed window. Samples are glyphs for the classifier and char_style_aae, fonts for
font_style (with the glyphs it decodes per second beside).

``--gpu`` adds GPU utilisation (mean and peak of ``nvidia-smi`` samples during the timed
window, or ``torch.cuda.utilization`` where nvidia-smi is missing) and peak GPU memory.

    python bench/train.py               # CPU, all three models
    python bench/train.py --gpu         # CUDA, the GPU-sized configs, bf16 autocast
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

import torch  # noqa: E402
from tests.support.glyphsets import make_glyph_dataset  # noqa: E402

from glyphflow.core.config import load_config  # noqa: E402
from glyphflow.models import build  # noqa: E402
from glyphflow.models.config import parse_model_config  # noqa: E402
from glyphflow.training.config import TrainingConfig  # noqa: E402
from glyphflow.training.data import (  # noqa: E402
    MemoryData,
    Selection,
    describe,
    load_items,
)
from glyphflow.training.distributed import World, pick_device  # noqa: E402
from glyphflow.training.loop import Trainer  # noqa: E402

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _config(name: str, overrides: list[str]) -> TrainingConfig:
    return load_config(
        "training", TrainingConfig, str(ROOT / "configs" / "examples" / name), overrides
    )


class _GpuSampler(threading.Thread):
    """Polls GPU utilisation (percent) until stopped."""

    def __init__(self, device: torch.device, every: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.device = device
        self.every = every
        self.samples: list[float] = []
        self.halt = threading.Event()
        self.smi = shutil.which("nvidia-smi")

    def _read(self) -> float | None:
        if self.smi:
            index = self.device.index or 0
            out = subprocess.run(
                [
                    self.smi,
                    "--query-gpu=utilization.gpu",
                    "--format=csv,noheader,nounits",
                    f"--id={index}",
                ],
                capture_output=True,
                text=True,
            )
            try:
                return float(out.stdout.strip().splitlines()[0])
            except (ValueError, IndexError):
                return None
        try:
            return float(torch.cuda.utilization(self.device))
        except Exception:
            return None

    def run(self) -> None:
        while not self.halt.is_set():
            value = self._read()
            if value is not None:
                self.samples.append(value)
            self.halt.wait(self.every)


def measure(
    config: TrainingConfig,
    items: Any,
    charset: str,
    shape: tuple[int, int],
    warmup: int,
    steps: int,
    device: torch.device,
    gpu: bool,
) -> dict[str, Any]:
    torch.manual_seed(0)
    model = build(config.model, charset, shape)
    data = MemoryData(items, config.batch_size, seed=0)
    trainer = Trainer(config, model, data, None, None, device, World())
    batches = iter(())
    done = 0

    def step() -> tuple[int, int]:
        nonlocal batches
        batch = next(batches, None)
        if batch is None:
            trainer.epoch += 1
            batches = iter(data.batches(trainer.epoch))
            batch = next(batches)
        _, samples = trainer._train_step(batch)
        glyphs = int(batch.present.sum()) if hasattr(batch, "present") else samples
        if config.model.class_ == "font_style" and config.model.targets_per_font:  # type: ignore[union-attr]
            glyphs = samples * min(config.model.targets_per_font, len(charset))  # type: ignore[union-attr]
        return samples, glyphs

    for _ in range(warmup):
        step()
    if gpu:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    sampler = _GpuSampler(device) if gpu else None
    if sampler:
        sampler.start()
    start = time.perf_counter()
    samples = glyphs = 0
    for _ in range(steps):
        s, g = step()
        samples += s
        glyphs += g
        done += 1
    if gpu:
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    result: dict[str, Any] = {
        "model": config.model.class_,
        "unit": trainer.objective.unit,
        "batch": config.batch_size,
        "parameters": sum(p.numel() for p in model.parameters()),
        "steps": done,
        "seconds": round(seconds, 3),
        "samples_per_s": round(samples / seconds, 2),
        "glyphs_per_s": round(glyphs / seconds, 1),
    }
    if sampler:
        sampler.halt.set()
        sampler.join()
        values = sampler.samples or [float("nan")]
        result["gpu_util_mean"] = round(statistics.fmean(values), 1)
        result["gpu_util_max"] = max(values)
        result["gpu_mem_gb"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
        result["amp"] = (
            str(trainer.autocast_dtype).replace("torch.", "") if trainer.autocast_dtype else "off"
        )
    return result


def main() -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--gpu", action="store_true", help="measure on CUDA with the GPU-sized configs"
    )
    parser.add_argument(
        "--size", type=int, default=None, help="glyph size (default 32 on CPU, 64 on GPU)"
    )
    parser.add_argument(
        "--fonts", type=int, default=None, help="synthetic fonts (default 48 CPU, 512 GPU)"
    )
    parser.add_argument("--steps", type=int, default=None, help="timed steps per model")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--models", default="classifier,char_style_aae,font_style")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    gpu = args.gpu
    if gpu and not torch.cuda.is_available():
        sys.exit("--gpu: no CUDA device here")
    device = pick_device("cuda" if gpu else "cpu")
    size = args.size or (64 if gpu else 32)
    n_fonts = args.fonts or (512 if gpu else 48)
    steps = args.steps or (50 if gpu else 8)
    with tempfile.TemporaryDirectory(prefix="glyphflow-bench-") as tmp:
        made = make_glyph_dataset(
            f"{tmp}/glyphs",
            n_fonts=n_fonts,
            charset=ALNUM,
            size=size,
            layout="font",
            splits=(1.0, 0.0, 0.0),
        )
        source = describe(made.url)
        style_file = "train-font-style-gpu.yaml" if gpu else "train-font-style.yaml"
        plans = {
            "classifier": "train-classifier.yaml",
            "char_style_aae": style_file,
            "font_style": style_file,
        }
        results = []
        for name in args.models.split(","):
            config = _config(
                plans[name],
                [
                    f"training.output={tmp}/out",
                    f"training.glyphs={made.url}",
                    "training.mlflow.enabled=false",
                ],
            )
            if name == "char_style_aae":  # the style model's sizes, one glyph per sample
                data = config.model.model_dump(by_alias=True)
                for key in ("pooling", "observed_min", "observed_max", "targets_per_font"):
                    data.pop(key, None)
                data["class"] = "char_style_aae"
                config = config.model_copy(
                    update={"model": parse_model_config(data), "batch_size": 256 if gpu else 64}
                )
            sel = Selection.build(source, config.data)
            model_kind = "fonts" if name == "font_style" else "glyphs"
            items = load_items(source, "train", sel, model_kind)
            results.append(
                measure(
                    config, items, sel.charset, source.image_shape, args.warmup, steps, device, gpu
                )
            )
    where = torch.cuda.get_device_name(device) if gpu else f"CPU, {torch.get_num_threads()} threads"
    print(
        f"\ntraining throughput on {where}: {size}x{size} glyphs, {len(ALNUM)} characters, torch {torch.__version__}\n"
    )
    keys = [
        "model",
        "unit",
        "batch",
        "parameters",
        "samples_per_s",
        "glyphs_per_s",
        "steps",
        "seconds",
    ]
    if gpu:
        keys += ["amp", "gpu_util_mean", "gpu_util_max", "gpu_mem_gb"]
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for row in results:
        print("| " + " | ".join(str(row[k]) for k in keys) + " |")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"device": where, "size": size, "results": results}, indent=2)
        )
    return results


if __name__ == "__main__":
    main()
