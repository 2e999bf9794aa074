"""Sweep planning: grid parsing, which steps each point owns, errors before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from glyphflow.core.errors import ConfigError, UsageError
from glyphflow.pipeline.sweep import grid_points, parse_grid, plan_sweep, run_sweep


def test_grid_values_split_on_top_level_commas_only() -> None:
    axes = parse_grid(["a.b=[1,2],[3,4]", "c='x,y', z", "d=1e-3,3e-4"])
    assert [(a.key, a.values) for a in axes] == [
        ("a.b", ("[1,2]", "[3,4]")),
        ("c", ("'x,y'", "z")),
        ("d", ("1e-3", "3e-4")),
    ]
    points = grid_points(axes)
    assert len(points) == 8
    assert points[0] == {"a.b": "[1,2]", "c": "'x,y'", "d": "1e-3"}
    assert points[1] == {"a.b": "[1,2]", "c": "'x,y'", "d": "3e-4"}


def test_bad_grids_are_refused() -> None:
    with pytest.raises(ConfigError) as err:
        parse_grid(["nokey", "a=1,,2", "b=1", "b=2"])
    assert [str(p) for p in err.value.problems] == [
        "--grid nokey: nokey: expected KEY=V1,V2,...",
        "--grid a=1,,2: a: expected KEY=V1,V2,... with no empty value",
        "--grid b=2: b: the same key is given twice",
    ]
    with pytest.raises(UsageError, match="at least one --grid"):
        parse_grid([])


def test_each_point_owns_the_steps_it_changes_and_those_after(pipeline_file: Path) -> None:
    base, points = plan_sweep(str(pipeline_file), [], parse_grid(["total.offset=0,1"]))
    work = pipeline_file.parent / "work"
    same, changed = points
    assert same.changed == [] and same.own == []  # offset 0 is the base value
    assert same.pipeline.step("total").output == str(work / "total")
    assert changed.changed == ["total"] and changed.own == ["total"]
    assert changed.pipeline.step("double").output == str(work / "double")
    assert changed.pipeline.step("total").output == str(work / f"total@{changed.id}")
    assert same.id != changed.id
    assert base.step("total").output == str(work / "total")


def test_a_bad_grid_value_fails_before_anything_runs(
    pipeline_file: Path, demo_catalogue: list[str]
) -> None:
    with pytest.raises(ConfigError) as err:
        run_sweep(str(pipeline_file), [], ["numbers.count=2,0"])
    assert [str(p) for p in err.value.problems] == [
        "--grid numbers.count=0: numbers.count: must be >= 1 (got 0)"
    ]
    assert demo_catalogue == []


def test_a_failed_point_does_not_stop_the_others(
    pipeline_file: Path, demo_catalogue: list[str]
) -> None:
    result = run_sweep(str(pipeline_file), [], ["double.fail=true,false"])
    assert [p.status for p in result.points] == ["failed", "done"]
    assert result.points[0].error == "demo_double was told to fail (fail: true)"
    assert result.points[1].metrics == {"total": 12.0, "mean": 3.0, "detail.max": 6.0}
    assert demo_catalogue.count("demo_numbers") == 1
