"""The pipeline commands as a user types them: run, lineage, sweep, config docs; exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from glyphflow.cli import main

REPO = Path(__file__).resolve().parents[2]


def gf(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``glyphflow ARGS`` in this process; return exit code, stdout, stderr."""
    with pytest.raises(SystemExit) as stopped:
        main([str(a) for a in args])
    captured = capsys.readouterr()
    code = stopped.value.code
    return int(code) if isinstance(code, int) else 1, captured.out, captured.err


def test_run_prints_every_step_with_why(
    capsys: pytest.CaptureFixture[str], pipeline_file: Path
) -> None:
    code, out, _ = gf(capsys, "run", pipeline_file)
    assert code == 0
    lines = out.splitlines()
    assert lines[:6] == [
        "[1/3] numbers: running: no output yet",
        lines[1],
        "[2/3] double: running: no output yet",
        lines[3],
        "[3/3] total: running: no output yet",
        lines[5],
    ]
    assert lines[1].startswith("[1/3] numbers: ran in ")
    assert lines[6] == f"done: 3 ran; lineage: glyphflow lineage {pipeline_file.parent / 'work'}"

    code, out, _ = gf(capsys, "run", pipeline_file, "--set", "double.factor=5")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("[1/3] numbers: skipped: up to date (")
    assert lines[1] == "[2/3] double: running: config changed: factor: 2 -> 5"
    assert lines[3] == "[3/3] total: running: input 'input' (step 'double') changed"
    assert lines[-1].startswith("done: 2 ran, 1 skipped")


def test_run_selection_flags(capsys: pytest.CaptureFixture[str], pipeline_file: Path) -> None:
    code, out, _ = gf(capsys, "run", pipeline_file, "--to", "double")
    assert code == 0
    assert "[3/3] total: not selected: after --to double" in out
    code, out, _ = gf(capsys, "run", pipeline_file, "--only", "double", "--force", "double")
    assert code == 0
    assert "[2/3] double: running: forced (the output was up to date)" in out
    assert "[1/3] numbers: not selected: not in --only double" in out
    code, out, _ = gf(capsys, "run", pipeline_file, "--from", "total")
    assert "[3/3] total: running: no output yet" in out
    code, _, err = gf(capsys, "run", pipeline_file, "--from", "totl")
    assert code == 2
    assert "--from totl: no step of that name; did you mean 'total'?" in err


def test_a_failing_step_exits_1_with_its_message(
    capsys: pytest.CaptureFixture[str], pipeline_file: Path
) -> None:
    code, out, err = gf(capsys, "run", pipeline_file, "--set", "double.fail=true")
    assert code == 1
    assert "[2/3] double: failed after" in out
    assert "[3/3] total: not run: step 'double' failed" in out
    assert "error: demo_double was told to fail (fail: true)" in err


def test_lineage_shows_fingerprints_counts_and_inputs(
    capsys: pytest.CaptureFixture[str], pipeline_file: Path
) -> None:
    gf(capsys, "run", pipeline_file)
    work = pipeline_file.parent / "work"
    record = json.loads((work / "_pipeline.json").read_text())
    code, out, _ = gf(capsys, "lineage", work)
    assert code == 0
    for step in record["steps"]:
        row = next(line for line in out.splitlines() if f" {step['name']} " in line)
        assert step["fingerprint"][:12] in row
        assert "ran" in row
        assert "numbers=4" in row
    assert "input<-double" in out
    # A deleted output shows in the lineage, and without a record the manifests still do.
    (work / "double" / "_SUCCESS").unlink()
    (work / "_pipeline.json").unlink()
    code, out, _ = gf(capsys, "lineage", work)
    assert code == 0
    assert "output incomplete now" in out
    assert "demo_sum" in out
    code, _, err = gf(capsys, "lineage", pipeline_file.parent / "nowhere")
    assert code == 2
    assert "no _pipeline.json and no stage outputs here" in err


BAD = """\
version: 1
pipeline:
  workdir: {workdir}
  steps:
    - name: numbers
      stage: demo_numbers
      config: {{count: -1}}
    - name: double
      stage: demo_double
      config:
        factr: 2
"""


def test_a_bad_pipeline_file_gives_located_errors_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD.format(workdir=tmp_path / "w"))
    code, out, err = gf(capsys, "run", path)
    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        "error: configuration has 2 problems:",
        f"  {path}:7:16: numbers.count: must be >= 1 (got -1)",
        f"  {path}:11:9: double.factr: unknown setting; did you mean 'factor'?",
    ]
    assert not (tmp_path / "w").exists()  # nothing ran


def test_the_installed_command_exits_2_on_a_bad_pipeline(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("version: 1\npipeline:\n  steps:\n    - {name: a, stage: nope}\n")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "glyphflow", "run", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert f"{path}:2:1: pipeline.workdir: required, missing" in done.stderr
    assert f"{path}:4:17: pipeline.steps.0.stage: unknown stage 'nope'" in done.stderr
    assert "Traceback" not in done.stderr


def test_sweep_without_mlflow_prints_a_table_of_metrics(
    capsys: pytest.CaptureFixture[str], pipeline_file: Path
) -> None:
    code, out, _ = gf(
        capsys, "sweep", pipeline_file, "--grid", "demo_double.factor=1,3", "--metric", "total"
    )
    assert code == 0, out
    assert "point 1/2" in out and "demo_double.factor=1" in out
    rows = [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in out.splitlines()
        if "done" in line and "│" in line
    ]
    assert [row[1:] for row in rows] == [["1", "done", "6"], ["3", "done", "18"]]
    assert "mean" not in out  # filtered by --metric


def test_config_docs_check(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "config.md"
    code, out, _ = gf(capsys, "config", "docs", "--output", target)
    assert code == 0 and out == f"wrote {target}\n"
    code, out, _ = gf(capsys, "config", "docs", "--output", target, "--check")
    assert code == 0
    assert out == f"{target}: current\n"
    target.write_text(target.read_text() + "edited\n")
    code, _, err = gf(capsys, "config", "docs", "--output", target, "--check")
    assert code == 1
    assert "is out of date" in err


def test_config_show_and_check_resolve_a_pipeline(
    capsys: pytest.CaptureFixture[str], pipeline_file: Path
) -> None:
    import yaml

    code, out, _ = gf(capsys, "config", "check", pipeline_file, "--set", "double.factor=4")
    assert code == 0
    assert out == f"{pipeline_file}: ok (pipeline of 3 steps: numbers, double, total)\n"
    code, out, _ = gf(capsys, "config", "show", pipeline_file, "--set", "double.factor=4")
    assert code == 0
    shown = yaml.safe_load(out)
    work = pipeline_file.parent / "work"
    assert shown["pipeline"]["steps"][1] == {
        "name": "double",
        "stage": "demo_double",
        "config": {
            "input": f"{work}/numbers",
            "factor": 4,
            "fail": False,
            "output": f"{work}/double",
        },
    }
    # What show prints is itself a pipeline file that resolves to the same steps.
    resolved = pipeline_file.parent / "resolved.yaml"
    resolved.write_text(out)
    code, out, _ = gf(capsys, "config", "show", resolved)
    assert yaml.safe_load(out) == shown
    code, out, _ = gf(capsys, "config", "schema", "pipeline")
    assert code == 0
    assert "StepSpec" in json.loads(out)["$defs"]
