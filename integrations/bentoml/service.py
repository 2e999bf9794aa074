"""The BentoML service of glyphflow, for `bentoml serve service:GlyphflowService` here
and for `bentoml build` with bentofile.yaml (the class lives in glyphflow itself)."""

from glyphflow.integrations.bentoml import GlyphflowService

__all__ = ["GlyphflowService"]
