"""The stage end to end: variable instances, an S3 raw store, worker processes, the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from glyphflow.io import storage
from glyphflow.io.outputs import is_complete
from tests.support.fonts import FontSpec
from tests.support.raw_store import make_raw_store
from tests.support.variable import make_variable_font
from tests.validation.conftest import read_back, validate


def test_variable_fonts_expand_into_named_instances(corpus_maker, tmp_path: Path) -> None:
    raw = corpus_maker([("VarSans.ttf", make_variable_font(FontSpec(family="Var Sans")))])
    whole = validate(raw, str(tmp_path / "whole"))
    assert len(whole.accepted) == 1 and whole.accepted[0]["instance"] is None

    expanded = validate(raw, str(tmp_path / "expanded"), expand_variable_instances=True)
    assert expanded.rejected == []  # three different weights: no twins
    rows = {row["subfamily"]: row for row in expanded.accepted}
    assert sorted(rows) == ["Bold", "Light", "Regular"]
    bold = rows["Bold"]
    assert bold["id"].endswith("@wght=700")
    assert bold["weight_class"] == 700 and bold["postscript_name"] == "VarSans-Bold"
    assert bold["instance"] == [{"tag": "wght", "value": 700.0}]
    assert bold["stored_path"] == whole.accepted[0]["stored_path"]


def test_s3_raw_store_and_output(s3_bucket: str) -> None:
    raw = make_raw_store(f"{s3_bucket}/raw", [FontSpec(family="Cloud"), FontSpec(family="Box",
                         seed="b", same_box=True)])  # fmt: skip
    out = f"{s3_bucket}/validated"
    result = validate(raw, out)
    assert [row["family"] for row in result.accepted] == ["Cloud"]
    assert result.rules_of("Box") == {"symbol"}
    assert is_complete(out)
    assert "data:image/png;base64," in storage.read_text(f"{out}/report.html")


@pytest.mark.slow
def test_worker_processes_give_the_same_verdicts(rule_corpus, tmp_path: Path) -> None:
    pooled = validate(
        rule_corpus.raw,
        str(tmp_path / "pooled"),
        engine={"class": "local", "kwargs": {"workers": 2, "chunksize": 2}},
    )
    assert pooled.accepted == rule_corpus.accepted
    assert pooled.rejected == rule_corpus.rejected


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run the glyphflow command in this process: exit code and what it printed."""
    from glyphflow.cli import main

    with pytest.raises(SystemExit) as ended:
        main(["--quiet", *args])
    captured = capsys.readouterr()
    return int(ended.value.code or 0), captured.err + captured.out


def test_cli_validate_succeeds_and_fails_with_exit_codes(
    corpus_maker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = corpus_maker([FontSpec(family="One"), FontSpec(family="Box", seed="b", same_box=True)])
    config = tmp_path / "validate.yaml"
    config.write_text(f"version: 1\nvalidation:\n  raw: {raw}\n  output: {tmp_path / 'out'}\n")
    code, _ = _cli(capsys, "validate", "-c", str(config))
    assert code == 0
    assert read_back(raw, str(tmp_path / "out")).rules_of("Box") == {"symbol"}

    code, said = _cli(
        capsys, "validate", "-c", str(config), "--set", "validation.max_reject_fraction=0.25"
    )
    assert code == 1
    assert "1 of 2 fonts rejected (50%), more than max_reject_fraction 25%" in said
    assert "Traceback" not in said

    code, said = _cli(
        capsys, "validate", "-c", str(config), "--set", "validation.rules.symbl.enabled=false"
    )
    assert code == 2 and "did you mean 'validation.rules.symbol'" in said


def test_each_instance_is_judged_as_itself() -> None:
    """Validation inspects the instance's own outlines, not the default instance's."""
    from glyphflow.glyphs import RenderConfig
    from glyphflow.validation.inspection import InspectJob, inspect_font

    data = make_variable_font(FontSpec(family="Var Sans"))
    job = InspectJob(raw_url="unused", render=RenderConfig())
    base = {"id": "v", "family": "Var Sans", "stored_path": "v.ttf", "face_index": 0}
    ink = {}
    for weight in (300.0, 700.0):
        facts = inspect_font({**base, "instance": [{"tag": "wght", "value": weight}]}, data, job)
        assert facts.parsed, facts.parse_errors
        ink[weight] = float(np.nanmean(facts.ink))
    assert ink[700.0] > 2 * ink[300.0]
    bad = inspect_font({**base, "instance": [{"tag": "wdth", "value": 50.0}]}, data, job)
    assert "instancer" in bad.parse_errors
