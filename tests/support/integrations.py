"""Importing a framework for its integration test: skipped in the base venv, required in its own.

``make test`` runs in the base virtual environment, where ZenML, ClearML, MLServer and
BentoML are not installed (their pins must not constrain glyphflow's): there their tests
are skipped with the command that runs them. ``make test-integration-NAME`` runs them in
``.venvs/NAME`` with ``GLYPHFLOW_INTEGRATION=NAME`` set, and there a missing framework is
an error, so CI can never pass by skipping.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest

__all__ = ["require"]


def require(module: str, integration: str) -> ModuleType:
    """``module`` imported, or this test module skipped unless ``integration`` is under test."""
    if os.environ.get("GLYPHFLOW_INTEGRATION") == integration:
        return importlib.import_module(module)
    return pytest.importorskip(
        module,
        reason=f"{module} is not installed here; run `make test-integration-{integration}`",
    )
