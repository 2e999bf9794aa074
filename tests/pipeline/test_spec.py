"""The pipeline file: wiring of inputs and outputs, overrides by step or stage, located errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from glyphflow.core.errors import ConfigError
from glyphflow.pipeline.spec import load_pipeline


def _write(tmp_path: Path, text: str, name: str = "pipeline.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _problems(err: pytest.ExceptionInfo[ConfigError]) -> list[str]:
    return [str(p) for p in err.value.problems]


def test_outputs_default_to_workdir_and_inputs_to_the_previous_step(pipeline_file: Path) -> None:
    pipeline = load_pipeline(str(pipeline_file))
    work = str(pipeline_file.parent / "work")
    assert pipeline.names == ["numbers", "double", "total"]
    assert [s.output for s in pipeline.steps] == [
        f"{work}/numbers",
        f"{work}/double",
        f"{work}/total",
    ]
    double, total = pipeline.step("double"), pipeline.step("total")
    assert double.stage == "demo_double"  # given by its command, demo-double
    assert double.inputs == {"input": f"{work}/numbers"}
    assert double.upstream == {"input": "numbers"}
    assert total.config.input == f"{work}/double"  # type: ignore[attr-defined]
    assert pipeline.step("numbers").inputs == {}


def test_inputs_can_name_any_earlier_step_or_a_url(tmp_path: Path) -> None:
    url = _write(
        tmp_path,
        f"""\
version: 1
pipeline:
  workdir: {tmp_path}/w
  steps:
    - {{name: numbers, stage: demo_numbers}}
    - {{name: double, stage: demo_double}}
    - name: total
      stage: demo_sum
      inputs: {{input: numbers}}
    - name: external
      stage: demo_sum
      inputs: {{input: {tmp_path}/elsewhere}}
""",
    )
    pipeline = load_pipeline(url)
    assert pipeline.step("total").upstream == {"input": "numbers"}
    assert pipeline.step("total").inputs == {"input": f"{tmp_path}/w/numbers"}
    assert pipeline.step("external").upstream == {}
    assert pipeline.step("external").inputs == {"input": f"{tmp_path}/elsewhere"}
    assert pipeline.downstream({"numbers"}) == {"numbers", "double", "total"}
    assert pipeline.downstream({"double"}) == {"double"}


def test_overrides_address_a_step_by_name_or_every_step_of_a_stage(tmp_path: Path) -> None:
    url = _write(
        tmp_path,
        f"""\
version: 1
pipeline:
  workdir: {tmp_path}/w
  steps:
    - {{name: numbers, stage: demo_numbers}}
    - {{name: twice, stage: demo_double}}
    - {{name: again, stage: demo_double, config: {{factor: 5}}}}
""",
    )
    both = load_pipeline(url, ["demo_double.factor=3"])
    assert [s.config.factor for s in both.steps[1:]] == [3, 3]  # type: ignore[attr-defined]
    one = load_pipeline(url, ["again.factor=7", "pipeline.workdir=/tmp/elsewhere"])
    assert [s.config.factor for s in one.steps[1:]] == [2, 7]  # type: ignore[attr-defined]
    assert one.workdir == "/tmp/elsewhere"
    assert one.step("again").output == "/tmp/elsewhere/again"
    # A step name wins over the section when both could match; overrides apply in order.
    ordered = load_pipeline(url, ["demo_double.factor=3", "twice.factor=4"])
    assert [s.config.factor for s in ordered.steps[1:]] == [4, 3]  # type: ignore[attr-defined]


def test_a_config_file_step_is_read_beside_the_pipeline_with_its_own_positions(
    tmp_path: Path,
) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "double.yaml").write_text("version: 1\ndemo_double:\n  factor: -x\n")
    url = _write(
        tmp_path / "conf",
        f"""\
version: 1
pipeline:
  workdir: {tmp_path}/w
  steps:
    - {{name: numbers, stage: demo_numbers}}
    - {{name: double, stage: demo_double, config_file: double.yaml}}
""",
    )
    with pytest.raises(ConfigError) as err:
        load_pipeline(url)
    assert _problems(err) == [
        f"{tmp_path}/conf/double.yaml:3:3: double.factor: must be a valid integer, "
        "unable to parse string as an integer (got '-x')"
    ]
    (tmp_path / "conf" / "double.yaml").write_text("version: 1\ndemo_double:\n  factor: 9\n")
    pipeline = load_pipeline(url, ["double.factor=10"])
    assert pipeline.step("double").config.factor == 10  # type: ignore[attr-defined]


BAD = """\
version: 1
pipeline:
  workdir: {workdir}
  mlfow: {{}}
  steps:
    - name: numbers
      stage: demo_numbers
      config:
        count: 0
    - name: double
      stage: demo_doubel
    - name: total
      stage: demo_sum
      config:
        offset: lots
        bogus: 1
"""


def test_every_problem_is_reported_with_file_line_and_column(tmp_path: Path) -> None:
    url = _write(tmp_path, BAD.format(workdir=tmp_path / "w"))
    with pytest.raises(ConfigError) as err:
        load_pipeline(url)
    problems = _problems(err)
    assert problems[0] == f"{url}:4:3: pipeline.mlfow: unknown setting; did you mean 'mlflow'?"
    assert problems[1].startswith(
        f"{url}:11:7: pipeline.steps.1.stage: unknown stage 'demo_doubel'; "
        "did you mean 'demo_double'?"
    )
    assert len(problems) == 2  # the structure is wrong: stage configs are checked next
    fixed = (
        BAD.format(workdir=tmp_path / "w").replace("mlfow", "mlflow").replace("doubel", "double")
    )
    url = _write(tmp_path, fixed)
    with pytest.raises(ConfigError) as err:
        load_pipeline(url)
    assert _problems(err) == [
        f"{url}:9:9: numbers.count: must be >= 1 (got 0)",
        f"{url}:15:9: total.offset: must be a valid number, unable to parse string as a number "
        "(got 'lots')",
        f"{url}:16:9: total.bogus: unknown setting; valid here: input, offset, output, track",
    ]


def test_wiring_mistakes_are_located(tmp_path: Path) -> None:
    url = _write(
        tmp_path,
        f"""\
version: 1
pipeline:
  workdir: {tmp_path}/w
  steps:
    - name: numbers
      stage: demo_numbers
      inputs: {{input: total}}
    - name: double
      stage: demo_double
      inputs: {{source: numbers}}
    - name: total
      stage: demo_sum
      inputs: {{input: totl}}
    - name: total
      stage: demo_sum
""",
    )
    with pytest.raises(ConfigError) as err:
        load_pipeline(url)
    assert _problems(err) == [
        f"{url}:14:7: pipeline.steps.3.name: duplicate step name 'total' (also step 2); "
        "step names must be unique"
    ]
    text = Path(url).read_text()
    text = text[: text.rindex("    - name: total")].replace("totl", "later")
    url = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_pipeline(url)
    problems = _problems(err)
    assert problems[0] == (
        f"{url}:7:16: numbers.inputs.input: stage 'demo_numbers' has no input field 'input'; "
        "its input fields: none"
    )
    assert problems[1] == (
        f"{url}:10:16: double.inputs.source: stage 'demo_double' has no input field 'source'; "
        "its input fields: input"
    )
    assert problems[2] == (
        f"{url}:13:16: total.inputs.input: no earlier step named 'later' (earlier steps: "
        "numbers, double); a step reads only steps before it, or a URL"
    )


def test_bad_overrides_say_what_can_be_addressed(pipeline_file: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_pipeline(
            str(pipeline_file),
            ["dubble.factor=3", "double.facter=3", "training.epochs=1", "pipeline.steps.0.x=1"],
        )
    problems = _problems(err)
    assert problems[0] == (
        "--set pipeline.steps.0.x=1: pipeline.steps.0.x: address a step by its name: "
        "STEP.path=VALUE (or STAGE.path=VALUE for every step of a stage)"
    )
    assert "dubble: no step or stage named 'dubble'; did you mean 'double'?" in problems[1]
    # training is a real stage, but no step of this pipeline runs it.
    assert "training: no step of stage 'training' in this pipeline" in problems[2]
    with pytest.raises(ConfigError) as err:
        load_pipeline(str(pipeline_file), ["double.facter=3", "demo_sum.offset=x"])
    assert _problems(err) == [
        "--set double.facter=3: double.facter: unknown setting 'facter'; did you mean 'factor'?",
        "--set demo_sum.offset=x: total.offset: must be a valid number, unable to parse string "
        "as a number (got 'x')",
    ]
