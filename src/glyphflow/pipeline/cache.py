"""Whether a step must run, and why: the runner's caching decision, explained.

A step is skipped only when its output folder is complete (``_SUCCESS``, a readable
manifest, every listed file present with its recorded size) and the manifest's
fingerprint equals the one the step would have now: same stage, same glyphflow version,
same resolved config (wired input and output URLs included) and the same fingerprints
of the inputs it read. Anything else reruns the step, and the decision says which of
these differed, down to the dotted config paths and the inputs that changed, so a user
never has to guess why a two-hour step started again.

The inputs are re-checked by the names and URLs the stage recorded in its manifest, so
the check holds whatever names a stage gives its inputs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from glyphflow import __version__
from glyphflow.core.errors import GlyphflowError
from glyphflow.core.manifest import MANIFEST_NAME, SUCCESS_NAME, Manifest, fingerprint
from glyphflow.io import storage
from glyphflow.io.outputs import input_fingerprint, read_manifest
from glyphflow.pipeline.spec import ResolvedStep

__all__ = ["Decision", "OutputState", "config_changes", "decide", "inspect_output"]

MAX_LISTED_CHANGES = 6


@dataclass(frozen=True)
class OutputState:
    """What an output folder holds: a complete output, or why it is not one."""

    complete: bool
    problem: str | None
    manifest: Manifest | None


@dataclass
class Decision:
    """Run the step or skip it, with the reasons a person can read."""

    run: bool
    reasons: list[str] = field(default_factory=list)
    manifest: Manifest | None = None  # the output's manifest, when the output is complete

    @property
    def why(self) -> str:
        return "; ".join(self.reasons)


def inspect_output(url: str) -> OutputState:
    """Look at an output folder the way a later step must: trust nothing unchecked."""
    if not storage.exists(url):
        return OutputState(False, "no output yet", None)
    if not storage.exists(storage.join(url, SUCCESS_NAME)):
        if storage.exists(storage.join(url, MANIFEST_NAME)) or storage.listdir(url):
            return OutputState(
                False, "incomplete output (no _SUCCESS marker: interrupted run?)", None
            )
        return OutputState(False, "no output yet", None)
    manifest = read_manifest(url)
    if manifest is None:
        return OutputState(False, "incomplete output (missing or unreadable _manifest.json)", None)
    for item in manifest.outputs:
        path = storage.join(url, item.path)
        if not storage.exists(path):
            return OutputState(False, f"incomplete output ({item.path} is missing)", manifest)
        if storage.size_of(path) != item.bytes:
            return OutputState(
                False,
                f"incomplete output ({item.path} changed size since it was written)",
                manifest,
            )
    return OutputState(True, None, manifest)


def decide(step: ResolvedStep, forced: bool = False) -> Decision:
    """Run or skip ``step``; the reasons name what changed since its output was made."""
    state = inspect_output(step.output)
    if not state.complete or state.manifest is None:
        missing = [state.problem or "no output yet"]
        return Decision(True, ["forced", *missing] if forced else missing)
    manifest = state.manifest
    resolved = step.resolved()
    reasons: list[str] = []
    if manifest.stage != step.stage:
        reasons.append(f"the output was written by stage {manifest.stage!r}, not {step.stage!r}")
    if manifest.package_version != __version__:
        reasons.append(f"glyphflow version changed ({manifest.package_version} -> {__version__})")
    changes = config_changes(manifest.config, resolved)
    if changes:
        listed = changes[:MAX_LISTED_CHANGES]
        more = len(changes) - len(listed)
        text = ", ".join(listed) + (f" and {more} more" if more > 0 else "")
        reasons.append(f"config changed: {text}")
    current: dict[str, str] = {}
    for name, recorded in sorted(manifest.inputs.items()):
        url = manifest.input_urls.get(name) or _config_url(resolved, name)
        label = _input_label(step, name, url)
        if url is None:
            reasons.append(f"cannot re-check input {label}: its URL was not recorded")
            continue
        try:
            now = input_fingerprint(url)
        except GlyphflowError as err:
            reasons.append(f"input {label} is unavailable: {err}")
            continue
        current[name] = now
        if now != recorded:
            reasons.append(f"input {label} changed")
    if not reasons:
        expected = fingerprint(manifest.stage, __version__, resolved, current)
        if expected != manifest.fingerprint:
            reasons.append(
                "fingerprint differs from the recorded one "
                "(the stage records its config or inputs differently)"
            )
    if reasons:
        return Decision(True, ["forced", *reasons] if forced else reasons, manifest)
    if forced:
        return Decision(True, ["forced (the output was up to date)"], manifest)
    if step.entry.external:
        return Decision(
            True, ["reads sources outside the pipeline; reruns are incremental"], manifest
        )
    return Decision(False, [f"up to date ({manifest.fingerprint[:12]})"], manifest)


def _config_url(resolved: Mapping[str, Any], name: str) -> str | None:
    value = resolved.get(name)
    return value if isinstance(value, str) else None


def _input_label(step: ResolvedStep, name: str, url: str | None) -> str:
    for field_name, upstream in step.upstream.items():
        if field_name == name or (url is not None and step.inputs.get(field_name) == url):
            return f"{name!r} (step {upstream!r})"
    return repr(name)


# ---------------------------------------------------------------------------- config diff


def config_changes(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted paths whose values differ, each as ``path: old -> new``."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in sorted({*old, *new}, key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in old:
                out.append(f"{path}: (unset) -> {_short(new[key])}")
            elif key not in new:
                out.append(f"{path}: {_short(old[key])} -> (unset)")
            else:
                out.extend(config_changes(old[key], new[key], path))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = []
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            out.extend(config_changes(a, b, f"{prefix}.{i}" if prefix else str(i)))
        return out
    if old == new and type(old) is type(new):
        return []
    return [f"{prefix or '<root>'}: {_short(old)} -> {_short(new)}"]


def _short(value: Any, limit: int = 48) -> str:
    text = json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."
