"""The scoring stage: a trained glyph classifier's judgement added to every glyph record.

``glyphflow score -c scoring.yaml`` reads a glyph dataset, runs the classifier over every
glyph with the configured engine (``local`` or ``beam``: the same per-batch function, so
the same scores) and writes the same splits with ``confidence``, ``predicted`` (and, one
row per glyph, ``probabilities``) added. The training data filter ``min_confidence``
reads ``confidence`` to drop malformed and symbol glyphs before a style model trains.
"""

__all__: list[str] = []
