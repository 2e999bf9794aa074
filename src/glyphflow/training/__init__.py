"""The training stage: a classifier or a style model from glyph records, tracked in MLflow.

``glyphflow.training.run(config, resume=False) -> Manifest``; the config model is
:class:`glyphflow.training.config.TrainingConfig`. Importing this package imports no torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glyphflow.core.manifest import Manifest
    from glyphflow.training.config import TrainingConfig

__all__ = ["run"]


def run(config: TrainingConfig, resume: bool = False, **options: Any) -> Manifest:
    """Run the training stage (see :func:`glyphflow.training.stage.run`)."""
    from glyphflow.training.stage import run as run_stage

    return run_stage(config, resume=resume, **options)
