"""The bottom layer: configuration, errors, registries, manifests and logging.

Nothing here imports another glyphflow package; everything else may import this.
Names are re-exported lazily so that importing ``glyphflow.core.errors`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ComponentSpec",
    "ConfigError",
    "ConfigModel",
    "ConfigProblem",
    "GlyphflowError",
    "Manifest",
    "MissingDependencyError",
    "Registry",
    "StageFailedError",
    "UnknownNameError",
    "UsageError",
    "fingerprint",
    "load_config",
]

_HOMES = {
    "ComponentSpec": "config",
    "ConfigModel": "config",
    "load_config": "config",
    "ConfigError": "errors",
    "ConfigProblem": "errors",
    "GlyphflowError": "errors",
    "MissingDependencyError": "errors",
    "StageFailedError": "errors",
    "UnknownNameError": "errors",
    "UsageError": "errors",
    "Manifest": "manifest",
    "fingerprint": "manifest",
    "Registry": "registry",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'glyphflow.core' has no attribute {name!r}")
    return getattr(importlib.import_module(f"glyphflow.core.{home}"), name)
