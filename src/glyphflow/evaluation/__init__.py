"""The evaluation stage: is a style model good enough, and better than the one in service?

On fonts held out by the preprocessing split it measures reconstruction, few-shot
completion, legibility and glyph-FID, beside a nearest-neighbour baseline, over all test
fonts and over the novel ones; it writes ``metrics.json``, ``report.html`` and one verdict
file (``BLESSED`` or ``NOT_BLESSED``), and a blessed model becomes the registry's
``champion``. Run it with ``glyphflow evaluate -c evaluation.yaml`` or
:func:`glyphflow.evaluation.stage.run`.
"""

__all__: list[str] = []
