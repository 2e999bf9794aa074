"""Runs stages: the stage catalogue, and the pipeline runner with caching, lineage and sweeps.

- ``catalogue``: every stage's section, command, config model and run function.
- ``spec``: the pipeline file (``version: 1`` + ``pipeline:``), validated with located
  errors, overrides by step or stage, inputs and outputs wired.
- ``cache``: whether a step's output is complete and current, and if not, why.
- ``runner``: runs the selected steps in order (``glyphflow run``), or plans them (``--dry-run``).
- ``lock``: one run per local workdir at a time (``<workdir>/.glyphflow.lock``).
- ``lineage``: ``<workdir>/_pipeline.json`` and the ``glyphflow lineage`` table.
- ``parent_run``: the pipeline's MLflow parent run (mlflow imported lazily).
- ``sweep``: grids of config values, each point a child run (``glyphflow sweep``).
- ``reference``: ``docs/config.md`` rendered from the schemas.
"""

__all__: list[str] = []
