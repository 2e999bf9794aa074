"""Learning-rate schedules, each ``factory(optimizer, total_steps, **kwargs) -> LambdaLR``.

The training loop steps the schedule once per optimizer step and knows the total number
of steps, so schedules are written in steps and a config never has to repeat the run
length. Every one accepts ``warmup_steps`` (linear warm-up from zero).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

__all__ = ["constant", "cosine", "exponential", "linear", "step"]


def _with_warmup(warmup_steps: int, after: Callable[[int], float]) -> Callable[[int], float]:
    if warmup_steps < 0:
        raise ValueError(f"warmup_steps must be >= 0 (got {warmup_steps})")

    def factor(step: int) -> float:
        if warmup_steps and step < warmup_steps:
            return (step + 1) / warmup_steps
        return after(step - warmup_steps)

    return factor


def constant(optimizer: Optimizer, total_steps: int, warmup_steps: int = 0) -> LambdaLR:
    """The optimizer's learning rate throughout (after an optional warm-up)."""
    return LambdaLR(optimizer, _with_warmup(warmup_steps, lambda _: 1.0))


def cosine(
    optimizer: Optimizer, total_steps: int, warmup_steps: int = 0, min_lr_ratio: float = 0.0
) -> LambdaLR:
    """Cosine decay from the learning rate to ``min_lr_ratio`` of it at the last step."""
    span = max(1, total_steps - warmup_steps)

    def after(step: int) -> float:
        progress = min(1.0, step / span)
        return min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return LambdaLR(optimizer, _with_warmup(warmup_steps, after))


def linear(
    optimizer: Optimizer, total_steps: int, warmup_steps: int = 0, end_ratio: float = 0.0
) -> LambdaLR:
    """Linear decay to ``end_ratio`` of the learning rate at the last step."""
    span = max(1, total_steps - warmup_steps)
    return LambdaLR(
        optimizer,
        _with_warmup(warmup_steps, lambda s: 1 - (1 - end_ratio) * min(1.0, s / span)),
    )


def step(
    optimizer: Optimizer,
    total_steps: int,
    step_size: int,
    gamma: float = 0.1,
    warmup_steps: int = 0,
) -> LambdaLR:
    """Multiply the learning rate by ``gamma`` every ``step_size`` steps."""
    if step_size < 1:
        raise ValueError(f"step_size must be >= 1 (got {step_size})")
    return LambdaLR(optimizer, _with_warmup(warmup_steps, lambda s: gamma ** (s // step_size)))


def exponential(
    optimizer: Optimizer, total_steps: int, gamma: float, warmup_steps: int = 0
) -> LambdaLR:
    """Multiply the learning rate by ``gamma`` every step."""
    return LambdaLR(optimizer, _with_warmup(warmup_steps, lambda s: gamma**s))
