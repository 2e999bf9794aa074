"""Stage output folders: manifests, ``_SUCCESS`` markers and the checks on them.

A stage opens a :class:`StageOutput`, writes its files under ``output.url``, then calls
:meth:`StageOutput.commit`, which lists the files with sizes and checksums, writes
``_manifest.json`` and finally ``_SUCCESS``. A folder without ``_SUCCESS`` is not an
output, whatever else it holds; starting a stage removes the marker first, so a killed
rerun never leaves an old marker vouching for new, half-written files.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from glyphflow import __version__
from glyphflow.core.config import config_hash, dump_config
from glyphflow.core.errors import UsageError
from glyphflow.core.manifest import (
    MANIFEST_NAME,
    SUCCESS_NAME,
    Manifest,
    OutputFile,
    fingerprint,
)
from glyphflow.io import storage

__all__ = [
    "StageOutput",
    "input_fingerprint",
    "is_complete",
    "is_current",
    "read_manifest",
    "stage_fingerprint",
]


def read_manifest(url: str) -> Manifest | None:
    """The manifest of an output folder, or None if it has none (or an unreadable one)."""
    path = storage.join(url, MANIFEST_NAME)
    if not storage.exists(path):
        return None
    try:
        return Manifest.model_validate_json(storage.read_text(path))
    except (ValidationError, ValueError):
        return None


def is_complete(url: str, verify_files: bool = True) -> bool:
    """True when ``url`` has ``_SUCCESS``, a readable manifest and every file it lists."""
    if not storage.exists(storage.join(url, SUCCESS_NAME)):
        return False
    manifest = read_manifest(url)
    if manifest is None:
        return False
    if verify_files:
        for item in manifest.outputs:
            path = storage.join(url, item.path)
            if not storage.exists(path) or storage.size_of(path) != item.bytes:
                return False
    return True


def is_current(url: str, expected_fingerprint: str) -> bool:
    """True when ``url`` is complete and was made with exactly this fingerprint."""
    if not is_complete(url):
        return False
    manifest = read_manifest(url)
    return manifest is not None and manifest.fingerprint == expected_fingerprint


def input_fingerprint(url: str) -> str:
    """The fingerprint of an input: a complete output's own, or a plain file's sha256.

    An output folder that is not complete is refused: a later stage must never read a
    half-written output.
    """
    if storage.exists(storage.join(url, MANIFEST_NAME)) or storage.exists(
        storage.join(url, SUCCESS_NAME)
    ):
        manifest = read_manifest(url)
        if manifest is None or not is_complete(url, verify_files=False):
            raise UsageError(
                f"input {url} is not a complete stage output (no _SUCCESS marker); "
                "run the stage that writes it first, or rerun it if it was interrupted"
            )
        return manifest.fingerprint
    if storage.exists(url):
        fs, path = storage.filesystem(url)
        if fs.isdir(path):
            raise UsageError(
                f"input {url} is a folder without _SUCCESS: it is not a complete stage output"
            )
        return "sha256:" + storage.sha256_of(url)
    raise UsageError(f"input {url} does not exist; check the path or run the stage that writes it")


def stage_fingerprint(
    stage: str, config: BaseModel | Mapping[str, Any], inputs: Mapping[str, str]
) -> str:
    """The fingerprint a stage output would have with this config and these input URLs."""
    resolved = dump_config(config) if isinstance(config, BaseModel) else dict(config)
    return fingerprint(
        stage, __version__, resolved, {k: input_fingerprint(v) for k, v in inputs.items()}
    )


class StageOutput:
    """The output folder of one stage run: start it, write files, commit it."""

    def __init__(
        self,
        url: str,
        stage: str,
        config: BaseModel,
        inputs: Mapping[str, str] | None = None,
        input_fingerprints: Mapping[str, str] | None = None,
    ) -> None:
        self.url = url
        self.stage = stage
        self.config = config
        self.input_urls = dict(inputs or {})
        self.inputs = dict(input_fingerprints or {})
        for name, input_url in self.input_urls.items():
            self.inputs.setdefault(name, input_fingerprint(input_url))
        resolved = dump_config(config)
        self.fingerprint = fingerprint(stage, __version__, resolved, self.inputs)
        self.counts: dict[str, int] = {}
        self.timings: dict[str, float] = {}
        self.extra: dict[str, Any] = {}
        self.mlflow_run_id: str | None = None
        self._started = time.perf_counter()

    def is_current(self) -> bool:
        """The folder already holds a complete output with this same fingerprint."""
        return is_current(self.url, self.fingerprint)

    def begin(self) -> StageOutput:
        """Withdraw any old ``_SUCCESS`` before writing; the folder is now in progress."""
        storage.makedirs(self.url)
        storage.remove(storage.join(self.url, SUCCESS_NAME))
        self._started = time.perf_counter()
        return self

    def path(self, *parts: str) -> str:
        """The URL of a file inside the output folder."""
        return storage.join(self.url, *parts)

    def commit(
        self, checksums: bool = True, known_checksums: Mapping[str, str] | None = None
    ) -> Manifest:
        """List the files, write ``_manifest.json``, then ``_SUCCESS`` last.

        ``known_checksums`` maps relative paths to sha256s the stage already knows (files
        named by their content hash), so a large content-addressed folder is not read
        again just to be listed.
        """
        known = dict(known_checksums or {})
        self.timings.setdefault("total_s", round(time.perf_counter() - self._started, 3))
        fs, root = storage.filesystem(self.url)
        root = root.rstrip("/")
        files: list[OutputFile] = []
        for path in sorted(fs.find(root)):
            relative = path[len(root) :].lstrip("/")
            name = relative.rsplit("/", 1)[-1]
            if name in (MANIFEST_NAME, SUCCESS_NAME) or name.startswith("."):
                continue
            url = storage.join(self.url, relative)
            files.append(
                OutputFile(
                    path=relative,
                    bytes=int(fs.size(path)),
                    sha256=(known.get(relative) or storage.sha256_of(url)) if checksums else "",
                )
            )
        manifest = Manifest(
            stage=self.stage,
            package_version=__version__,
            config=dump_config(self.config),
            config_hash=config_hash(self.config),
            inputs=self.inputs,
            input_urls=self.input_urls,
            fingerprint=self.fingerprint,
            outputs=files,
            counts=self.counts,
            timings=self.timings,
            mlflow_run_id=self.mlflow_run_id,
            extra=self.extra,
        )
        storage.write_text(storage.join(self.url, MANIFEST_NAME), manifest.to_json())
        storage.write_text(storage.join(self.url, SUCCESS_NAME), manifest.fingerprint + "\n")
        return manifest
