"""Serving: the HTTP API and the style explorer page for a trained style model.

``glyphflow serve -c serving.yaml`` runs :func:`glyphflow.serving.stage.run`: uvicorn
serving :func:`glyphflow.serving.app.create_app`. The API (``/v1``) generates glyphs
from style vectors, encodes uploaded fonts into style vectors (rendered exactly as the
model's training data), completes fonts from a few glyphs, interpolates between styles
and exports a style as an OpenType font; ``/`` is the page that does all of it in a
browser. FastAPI, uvicorn and prometheus-client (the ``serve`` extra) are imported only
by this package, and only when a service is built.
"""

from __future__ import annotations

from glyphflow.serving.config import ExportConfig, LimitsConfig, ServingConfig

__all__ = ["ExportConfig", "LimitsConfig", "ServingConfig"]
