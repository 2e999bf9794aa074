"""glyphflow: learn generative models of typeface style from font files.

The package is a pipeline of stages (ingestion, validation, preprocessing, training,
scoring, evaluation, serving); each stage reads what the previous one wrote. Importing
this package is cheap on purpose: heavy dependencies load inside the functions that
need them.
"""

__all__ = ["__version__"]

__version__ = "0.2.0"
