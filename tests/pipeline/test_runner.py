"""The runner: run, skip with reasons, rerun what changed and what follows, rebuild the missing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glyphflow.core.errors import StageFailedError, UsageError
from glyphflow.io import storage
from glyphflow.io.outputs import stage_fingerprint
from glyphflow.pipeline.lineage import read_record
from glyphflow.pipeline.runner import PipelineResult, Selection, run_pipeline, run_step
from glyphflow.pipeline.spec import load_pipeline
from tests.pipeline.demo_stages import PIPELINE


def _run(
    pipeline_file: Path, overrides: list[str] | None = None, **selection: object
) -> PipelineResult:
    pipeline = load_pipeline(str(pipeline_file), overrides or [])
    return run_pipeline(pipeline, Selection(**selection))  # type: ignore[arg-type]


def _statuses(result: PipelineResult) -> dict[str, str]:
    return {r.name: r.status for r in result.steps}


def _total(pipeline_file: Path) -> float:
    metrics = json.loads((pipeline_file.parent / "work" / "total" / "metrics.json").read_text())
    return float(metrics["total"])


def test_three_steps_run_then_all_are_skipped(
    pipeline_file: Path, demo_catalogue: list[str]
) -> None:
    first = _run(pipeline_file)
    assert _statuses(first) == {"numbers": "ran", "double": "ran", "total": "ran"}
    assert all(r.why == "no output yet" for r in first.steps)
    assert demo_catalogue == ["demo_numbers", "demo_double", "demo_sum"]
    assert _total(pipeline_file) == (0 + 1 + 2 + 3) * 2
    # The runner's notion of "current" is the stages' own fingerprint.
    double = first.pipeline.step("double")
    assert first.step("double").fingerprint == stage_fingerprint(
        "demo_double", double.config, double.inputs
    )

    demo_catalogue.clear()
    second = _run(pipeline_file)
    assert _statuses(second) == {"numbers": "skipped", "double": "skipped", "total": "skipped"}
    assert demo_catalogue == []
    for before, after in zip(first.steps, second.steps, strict=True):
        assert after.why == f"up to date ({before.fingerprint[:12]})"  # type: ignore[index]


def test_a_changed_value_reruns_its_step_and_the_steps_after_it_only(
    pipeline_file: Path, demo_catalogue: list[str]
) -> None:
    _run(pipeline_file)
    demo_catalogue.clear()
    result = _run(pipeline_file, ["double.factor=3"])
    assert _statuses(result) == {"numbers": "skipped", "double": "ran", "total": "ran"}
    assert demo_catalogue == ["demo_double", "demo_sum"]
    assert result.step("double").why == "config changed: factor: 2 -> 3"
    assert result.step("total").why == "input 'input' (step 'double') changed"
    assert _total(pipeline_file) == 6 * 3

    demo_catalogue.clear()
    result = _run(pipeline_file, ["double.factor=3", "total.offset=0.5"])
    assert _statuses(result) == {"numbers": "skipped", "double": "skipped", "total": "ran"}
    assert result.step("total").why == "config changed: offset: 0.0 -> 0.5"
    assert demo_catalogue == ["demo_sum"]


def test_a_change_at_the_first_step_reruns_everything(
    pipeline_file: Path, demo_catalogue: list[str]
) -> None:
    _run(pipeline_file)
    demo_catalogue.clear()
    result = _run(pipeline_file, ["numbers.count=5", "numbers.start=1"])
    assert _statuses(result) == {"numbers": "ran", "double": "ran", "total": "ran"}
    assert result.step("numbers").why == "config changed: count: 4 -> 5, start: 0 -> 1"
    assert result.step("double").why == "input 'input' (step 'numbers') changed"
    assert _total(pipeline_file) == (1 + 2 + 3 + 4 + 5) * 2


def test_a_deleted_or_incomplete_output_is_rebuilt_never_trusted(
    pipeline_file: Path, demo_catalogue: list[str]
) -> None:
    _run(pipeline_file)
    work = pipeline_file.parent / "work"
    storage.remove(str(work / "double"), recursive=True)
    demo_catalogue.clear()
    result = _run(pipeline_file)
    assert _statuses(result) == {"numbers": "skipped", "double": "ran", "total": "skipped"}
    assert result.step("double").why == "no output yet"
    # Same config and inputs give the same fingerprint: the step after needs no rerun.
    assert demo_catalogue == ["demo_double"]

    (work / "total" / "_SUCCESS").unlink()
    (work / "numbers" / "numbers.json").write_text("[1]")  # changed size behind our back
    demo_catalogue.clear()
    result = _run(pipeline_file)
    assert (
        result.step("numbers").why
        == "incomplete output (numbers.json changed size since it was written)"
    )
    assert result.step("total").why == "incomplete output (no _SUCCESS marker: interrupted run?)"
    assert _statuses(result) == {"numbers": "ran", "double": "skipped", "total": "ran"}
    assert _total(pipeline_file) == 12


def test_force_reruns_a_current_step(pipeline_file: Path, demo_catalogue: list[str]) -> None:
    _run(pipeline_file)
    demo_catalogue.clear()
    result = _run(pipeline_file, force=("double",))
    assert _statuses(result) == {"numbers": "skipped", "double": "ran", "total": "skipped"}
    assert result.step("double").why == "forced (the output was up to date)"
    assert demo_catalogue == ["demo_double"]


def test_from_to_and_only_select_steps(pipeline_file: Path, demo_catalogue: list[str]) -> None:
    result = _run(pipeline_file, to="double")
    assert _statuses(result) == {"numbers": "ran", "double": "ran", "total": "not selected"}
    assert result.step("total").why == "after --to double; out of date: no output yet"

    demo_catalogue.clear()
    result = _run(pipeline_file, ["numbers.count=2"], from_="double")
    # numbers is left out: double reads its old, complete output and is current.
    assert _statuses(result) == {"numbers": "not selected", "double": "skipped", "total": "ran"}
    assert result.step("numbers").why == (
        "before --from double; out of date: config changed: count: 4 -> 2"
    )
    assert demo_catalogue == ["demo_sum"]

    demo_catalogue.clear()
    result = _run(pipeline_file, ["double.factor=10"], only=("double",), force=("double",))
    assert _statuses(result) == {
        "numbers": "not selected",
        "double": "ran",
        "total": "not selected",
    }
    assert result.step("double").why == "forced; config changed: factor: 2 -> 10"
    assert demo_catalogue == ["demo_double"]


def test_selection_mistakes_are_usage_errors(pipeline_file: Path) -> None:
    with pytest.raises(
        UsageError, match=r"--only dubble: no step of that name; did you mean 'double'\?"
    ):
        _run(pipeline_file, only=("dubble",))
    with pytest.raises(UsageError, match="--only cannot be combined"):
        _run(pipeline_file, only=("double",), to="total")
    with pytest.raises(UsageError, match="--from total comes after --to double"):
        _run(pipeline_file, from_="total", to="double")
    with pytest.raises(UsageError, match=r"--force numbers: that step is not selected"):
        _run(pipeline_file, from_="double", force=("numbers",))
    # A selected step needs the output of a left-out one: say so before running anything.
    with pytest.raises(
        UsageError, match=r"step 'total' reads input from step 'double'.*no output yet"
    ):
        _run(pipeline_file, only=("total",))


def test_a_failed_step_is_recorded_and_the_rest_not_run(
    pipeline_file: Path, demo_catalogue: list[str]
) -> None:
    _run(pipeline_file)
    demo_catalogue.clear()
    pipeline = load_pipeline(str(pipeline_file), ["double.fail=true"])
    with pytest.raises(StageFailedError, match="told to fail"):
        run_pipeline(pipeline)
    assert demo_catalogue == ["demo_double"]
    record = read_record(str(pipeline_file.parent / "work"))
    assert record is not None
    assert record.status == "failed"
    assert [(s.name, s.status) for s in record.steps] == [
        ("numbers", "skipped"),
        ("double", "failed"),
        ("total", "not run"),
    ]
    assert record.steps[1].error == "demo_double was told to fail (fail: true)"
    # The failed step withdrew its old marker: the next run rebuilds it, reusing numbers.
    demo_catalogue.clear()
    result = _run(pipeline_file)
    assert result.step("double").why == "incomplete output (no _SUCCESS marker: interrupted run?)"
    assert demo_catalogue == ["demo_double"]  # total read the same input before the failure
    assert result.step("total").status == "skipped"


def test_the_same_stage_twice_and_a_step_reading_an_earlier_one(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(
        f"""\
version: 1
pipeline:
  workdir: {tmp_path}/w
  steps:
    - {{name: numbers, stage: demo_numbers}}
    - {{name: twice, stage: demo_double}}
    - {{name: again, stage: demo_double, config: {{factor: 10}}}}
    - {{name: total, stage: demo_sum, inputs: {{input: twice}}}}
"""
    )
    result = run_pipeline(load_pipeline(str(path)))
    assert result.by_status("ran") == ["numbers", "twice", "again", "total"]
    again = json.loads((tmp_path / "w" / "again" / "numbers.json").read_text())
    assert again == [0, 20, 40, 60]
    assert json.loads((tmp_path / "w" / "total" / "metrics.json").read_text())["total"] == 12
    # Changing the step nobody reads reruns that step alone.
    result = run_pipeline(load_pipeline(str(path), ["again.factor=3"]))
    assert result.by_status("ran") == ["again"]


def test_the_record_holds_order_status_and_fingerprints(pipeline_file: Path) -> None:
    result = _run(pipeline_file)
    record = read_record(str(pipeline_file.parent / "work"))
    assert record is not None
    assert record.status == "done"
    assert [s.name for s in record.steps] == ["numbers", "double", "total"]
    assert [s.fingerprint for s in record.steps] == [r.fingerprint for r in result.steps]
    assert record.steps[2].upstream == {"input": "double"}
    assert result.record_url == str(pipeline_file.parent / "work" / "_pipeline.json")


def test_a_pipeline_on_object_storage_caches_the_same_way(
    tmp_path: Path, memory_url: str, demo_catalogue: list[str]
) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(PIPELINE.format(workdir=f"{memory_url}/work"))
    assert run_pipeline(load_pipeline(str(path))).by_status("ran") == ["numbers", "double", "total"]
    demo_catalogue.clear()
    result = run_pipeline(load_pipeline(str(path), ["total.offset=1"]))
    assert result.by_status("skipped") == ["numbers", "double"]
    assert demo_catalogue == ["demo_sum"]
    record = read_record(f"{memory_url}/work")
    assert record is not None and record.status == "done"
    assert storage.exists(f"{memory_url}/work/total/_SUCCESS")


def test_a_stage_that_breaks_the_contract_is_named_in_warnings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, demo_catalogue: list[str]
) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text(
        f"""\
version: 1
pipeline:
  workdir: {tmp_path}/w
  steps:
    - {{name: numbers, stage: demo_numbers}}
    - {{name: sloppy, stage: demo_sloppy}}
"""
    )
    with caplog.at_level("WARNING", logger="glyphflow.pipeline.runner"):
        run_pipeline(load_pipeline(str(path)))
    messages = [r.getMessage() for r in caplog.records]
    assert any(
        "stage 'demo_sloppy' recorded a config different from the one it was given "
        '(note: "as given" -> "rewritten")' in m
        for m in messages
    )
    assert any("did not record the fingerprint of input input" in m for m in messages)
    result = run_pipeline(load_pipeline(str(path)))
    assert result.step("sloppy").why == 'config changed: note: "rewritten" -> "as given"'


def test_run_step_settles_one_step_for_an_orchestrator(
    pipeline_file: Path, demo_catalogue: list[str]
) -> None:
    pipeline = load_pipeline(str(pipeline_file))
    with pytest.raises(UsageError, match=r"step 'double' reads input from step 'numbers'"):
        run_step(pipeline, "double")
    ran = [run_step(pipeline, name) for name in pipeline.names]
    assert [(r.name, r.status, r.why) for r in ran] == [
        (name, "ran", "no output yet") for name in pipeline.names
    ]
    assert demo_catalogue == ["demo_numbers", "demo_double", "demo_sum"]
    assert _total(pipeline_file) == (0 + 1 + 2 + 3) * 2
    # no record: the orchestrator keeps its own
    assert read_record(str(pipeline_file.parent / "work")) is None
    # the same decision as the whole pipeline's: current, then forced
    assert run_step(pipeline, "double").status == "skipped"
    assert run_step(pipeline, "double").fingerprint == ran[1].fingerprint
    forced = run_step(pipeline, "double", force=True)
    assert (forced.status, forced.why) == ("ran", "forced (the output was up to date)")
    with pytest.raises(UsageError, match="no step of that name"):
        run_step(pipeline, "dubble")
    failing = load_pipeline(str(pipeline_file), ["double.fail=true"])
    with pytest.raises(StageFailedError, match="told to fail"):
        run_step(failing, "double")
