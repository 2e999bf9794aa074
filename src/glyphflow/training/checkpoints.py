"""Checkpoints under ``OUTPUT/checkpoints/step-NNNNNNNN.pt``, on any fsspec URL.

A checkpoint holds everything a resumed run needs to continue exactly where this one
stopped: weights, optimizer, scheduler and scaler states, the position in the data
(epoch and batch; the order itself follows from the seed), RNG states, early-stopping
state, metric history and the MLflow run id. It is plain data written atomically and
read with ``weights_only=True``.
"""

from __future__ import annotations

import io
import logging
import re
from typing import Any

import torch

from glyphflow.io import storage

__all__ = ["CHECKPOINT_FORMAT", "FOLDER", "latest", "list_checkpoints", "load", "save"]

_log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "glyphflow.checkpoint/1"
FOLDER = "checkpoints"
_NAME = re.compile(r"step-(\d{8,})\.pt$")


def list_checkpoints(output: str) -> list[str]:
    """Checkpoint URLs under ``output``, oldest first."""
    folder = storage.join(output, FOLDER)
    found = [u for u in storage.listdir(folder) if _NAME.search(u)]
    return sorted(found, key=lambda u: int(_NAME.search(u).group(1)))  # type: ignore[union-attr]


def save(output: str, step: int, state: dict[str, Any], keep: int) -> str:
    """Write the checkpoint of ``step``; keep the newest ``keep`` ones."""
    url = storage.join(output, FOLDER, f"step-{step:08d}.pt")
    buffer = io.BytesIO()
    torch.save({"format": CHECKPOINT_FORMAT, **state}, buffer)
    storage.write_bytes(url, buffer.getvalue())
    for old in list_checkpoints(output)[:-keep]:
        storage.remove(old)
    _log.info("checkpoint saved: %s", url)
    return url


def load(url: str, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    state: dict[str, Any] = torch.load(
        io.BytesIO(storage.read_bytes(url)), map_location=map_location, weights_only=True
    )
    if state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{url} is not a glyphflow checkpoint")
    return state


def latest(output: str) -> str | None:
    found = list_checkpoints(output)
    return found[-1] if found else None
