"""Stage outputs: _SUCCESS last, incomplete outputs refused, fingerprints current."""

from __future__ import annotations

from pathlib import Path

import pytest

from glyphflow.core.config import ConfigModel
from glyphflow.core.errors import UsageError
from glyphflow.io import outputs, storage


class Demo(ConfigModel):
    size: int = 3


def _produce(url: str, config: Demo, inputs: dict[str, str] | None = None) -> outputs.StageOutput:
    out = outputs.StageOutput(url, "demo", config, inputs=inputs).begin()
    storage.write_text(out.path("data", "a.txt"), "a" * config.size)
    out.counts["rows"] = config.size
    out.commit()
    return out


def test_committed_output_is_complete_and_lists_its_files(tmp_path: Path) -> None:
    url = str(tmp_path / "out")
    out = _produce(url, Demo())
    manifest = outputs.read_manifest(url)
    assert manifest is not None
    assert [f.path for f in manifest.outputs] == ["data/a.txt"]
    assert manifest.outputs[0].bytes == 3
    assert manifest.counts == {"rows": 3}
    assert manifest.config == {"size": 3}
    assert outputs.is_complete(url)
    assert outputs.is_current(url, out.fingerprint)


def test_output_without_success_is_incomplete(tmp_path: Path) -> None:
    url = str(tmp_path / "out")
    _produce(url, Demo())
    storage.remove(storage.join(url, "_SUCCESS"))
    assert not outputs.is_complete(url)
    with pytest.raises(UsageError, match="not a complete stage output"):
        outputs.input_fingerprint(url)


def test_output_with_a_missing_file_is_incomplete(tmp_path: Path) -> None:
    url = str(tmp_path / "out")
    _produce(url, Demo())
    storage.remove(storage.join(url, "data", "a.txt"))
    assert not outputs.is_complete(url)


def test_begin_withdraws_the_old_marker(tmp_path: Path) -> None:
    url = str(tmp_path / "out")
    _produce(url, Demo())
    outputs.StageOutput(url, "demo", Demo(size=4)).begin()
    assert not outputs.is_complete(url)


def test_changed_config_or_input_changes_the_fingerprint(tmp_path: Path) -> None:
    upstream = str(tmp_path / "up")
    _produce(upstream, Demo())
    first = _produce(str(tmp_path / "a"), Demo(), {"up": upstream}).fingerprint
    assert first == outputs.stage_fingerprint("demo", Demo(), {"up": upstream})
    assert first != outputs.stage_fingerprint("demo", Demo(size=5), {"up": upstream})
    _produce(upstream, Demo(size=9))  # the input changed
    assert first != outputs.stage_fingerprint("demo", Demo(), {"up": upstream})
    assert not outputs.is_current(
        str(tmp_path / "a"), outputs.stage_fingerprint("demo", Demo(), {"up": upstream})
    )


def test_plain_file_inputs_are_fingerprinted_by_content(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_text("one")
    first = outputs.input_fingerprint(str(path))
    path.write_text("two")
    assert outputs.input_fingerprint(str(path)) != first
    with pytest.raises(UsageError, match="does not exist"):
        outputs.input_fingerprint(str(tmp_path / "missing"))


def test_outputs_on_memory_backend(memory_url: str) -> None:
    _produce(memory_url, Demo())
    assert outputs.is_complete(memory_url)


def test_new_content_under_the_same_fingerprint_changes_the_input_fingerprint(
    tmp_path: Path,
) -> None:
    url = str(tmp_path / "out")
    _produce(url, Demo())
    before = outputs.input_fingerprint(url)
    out = outputs.StageOutput(url, "demo", Demo()).begin()  # same config, new content
    storage.write_text(out.path("data", "b.txt"), "new font")
    out.commit()
    assert out.fingerprint == outputs.read_manifest(url).fingerprint  # type: ignore[union-attr]
    assert outputs.input_fingerprint(url) != before
