"""``glyphflow run --dry-run``: the runner's decisions, with nothing run and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pipeline.test_cli import gf
from tests.pipeline.test_lock import holding_lock


def _snapshot(root: Path) -> dict[str, int]:
    """Every path under root with its mtime (ns): any write or new file shows up."""
    return {
        str(p.relative_to(root)): p.stat().st_mtime_ns
        for p in [root, *root.rglob("*")]
        if p.exists()
    }


def test_dry_run_before_any_run_writes_nothing(
    capsys: pytest.CaptureFixture[str], pipeline_file: Path, demo_catalogue: list[str]
) -> None:
    code, out, _ = gf(capsys, "run", pipeline_file, "--dry-run")
    assert code == 0
    assert out.splitlines() == [
        "[1/3] numbers: would run: no output yet",
        "[2/3] double: would run: no output yet",
        "[3/3] total: would run: no output yet",
        "dry run: 3 would run; nothing was run or written",
    ]
    assert demo_catalogue == []
    assert not (pipeline_file.parent / "work").exists()  # no workdir, no lock, no record


def test_dry_run_after_a_run_and_after_a_changed_value(
    capsys: pytest.CaptureFixture[str], pipeline_file: Path, demo_catalogue: list[str]
) -> None:
    assert gf(capsys, "run", pipeline_file)[0] == 0
    demo_catalogue.clear()
    work = pipeline_file.parent / "work"
    before = _snapshot(work)

    code, out, _ = gf(capsys, "run", pipeline_file, "--dry-run")
    assert code == 0
    lines = out.splitlines()
    assert [line.split(": ")[1] for line in lines[:3]] == ["would skip"] * 3
    assert lines[0].startswith("[1/3] numbers: would skip: up to date (")
    assert lines[3] == "dry run: 3 would skip; nothing was run or written"

    code, out, _ = gf(capsys, "run", pipeline_file, "--dry-run", "--set", "double.factor=5")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("[1/3] numbers: would skip: up to date (")
    assert lines[1] == "[2/3] double: would run: config changed: factor: 2 -> 5"
    assert lines[2].startswith("[3/3] total: may run: current now, but reads step 'double'")
    assert lines[3] == "dry run: 1 would run, 1 may run, 1 would skip; nothing was run or written"

    assert demo_catalogue == []  # no stage ran
    assert _snapshot(work) == before  # no file written, touched or added (no _pipeline.json)

    # The dry run said what the real run then does.
    code, out, _ = gf(capsys, "run", pipeline_file, "--set", "double.factor=5")
    assert "[2/3] double: running: config changed: factor: 2 -> 5" in out
    assert demo_catalogue == ["demo_double", "demo_sum"]


def test_dry_run_honours_force_from_to_and_only(
    capsys: pytest.CaptureFixture[str], pipeline_file: Path, demo_catalogue: list[str]
) -> None:
    assert gf(capsys, "run", pipeline_file)[0] == 0
    code, out, _ = gf(
        capsys, "run", pipeline_file, "--dry-run", "--force", "numbers", "--to", "double"
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "[1/3] numbers: would run: forced (the output was up to date)"
    assert lines[1].startswith("[2/3] double: may run: ")
    assert lines[2] == "[3/3] total: not selected: after --to double"
    # "may": forcing numbers rewrites the same numbers, so the real run skips double.
    code, out, _ = gf(capsys, "run", pipeline_file, "--force", "numbers", "--to", "double")
    assert "[2/3] double: skipped: up to date (" in out

    code, out, _ = gf(capsys, "run", pipeline_file, "--dry-run", "--only", "total")
    lines = out.splitlines()
    assert lines[0] == "[1/3] numbers: not selected: not in --only total"
    assert lines[2].startswith("[3/3] total: would skip: up to date (")
    code, _, err = gf(capsys, "run", pipeline_file, "--dry-run", "--from", "totl")
    assert code == 2
    assert "--from totl: no step of that name" in err


def test_dry_run_runs_while_another_process_holds_the_workdir(
    capsys: pytest.CaptureFixture[str], pipeline_file: Path
) -> None:
    work = pipeline_file.parent / "work"
    with holding_lock(work):
        code, out, _ = gf(capsys, "run", pipeline_file, "--dry-run")
    assert code == 0
    assert out.splitlines()[-1] == "dry run: 3 would run; nothing was run or written"
