"""Runs stages: the stage catalogue, and (later) the pipeline runner with caching and lineage."""

__all__: list[str] = []
