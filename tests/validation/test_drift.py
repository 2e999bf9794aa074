"""Drift against a reference run, and the thresholds that fail a run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glyphflow.core.errors import StageFailedError, UsageError
from glyphflow.io.outputs import is_complete
from glyphflow.validation.drift import compare, tolerance_for
from tests.support.fonts import FontSpec
from tests.validation.conftest import validate

TOLERANCES = {"accepted_fraction": 0.1, "rule.*": 0.1}


def _fonts(good: int, boxes: int) -> list[FontSpec]:
    fonts = [FontSpec(family=f"Good {i}", seed=f"g{i}") for i in range(good)]
    fonts += [FontSpec(family=f"Box {i}", seed=f"b{i}", same_box=True, stroke=60 + 10 * i)
              for i in range(boxes)]  # fmt: skip
    return fonts


@pytest.fixture
def reference(corpus_maker, tmp_path: Path) -> str:
    """A reference run: 4 good fonts and 1 symbol-like font (80% accepted)."""
    validate(corpus_maker(_fonts(4, 1)), str(tmp_path / "ref"))
    return str(tmp_path / "ref" / "statistics.json")


def _stats(output: str) -> dict:
    return json.loads(Path(output, "statistics.json").read_text())


def test_change_within_tolerance_is_not_reported(corpus_maker, tmp_path, reference) -> None:
    out = str(tmp_path / "within")
    validate(
        corpus_maker(_fonts(5, 1)),  # 83% accepted: 3 points off the reference
        out,
        reference_statistics=reference,
        drift_tolerances=TOLERANCES,
        fail_on_drift=True,
    )
    drift = _stats(out)["drift"]
    assert drift["drifted"] == []
    assert drift["compared"] >= 2
    assert "No drift" in Path(out, "report.html").read_text()
    assert is_complete(out)


def test_change_beyond_tolerance_is_reported(corpus_maker, tmp_path, reference) -> None:
    out = str(tmp_path / "beyond")
    result = validate(
        corpus_maker(_fonts(4, 4)),  # half the corpus is now boxes
        out,
        reference_statistics=str(Path(reference).parent),  # the folder works too
        drift_tolerances=TOLERANCES,
    )
    drifted = {d["figure"]: d for d in _stats(out)["drift"]["drifted"]}
    assert set(drifted) == {"accepted_fraction", "rule.symbol"}
    assert drifted["accepted_fraction"]["reference"] == pytest.approx(0.8)
    assert drifted["accepted_fraction"]["current"] == pytest.approx(0.5)
    assert drifted["rule.symbol"]["change"] == pytest.approx(0.3)
    report = Path(out, "report.html").read_text()
    assert "2 of" in report and "rule.symbol" in report
    assert result.manifest is not None and result.manifest.extra["drifted"] == sorted(drifted)
    assert is_complete(out)  # drift alone is reported, not fatal


def test_fail_on_drift_fails_after_writing_the_report(corpus_maker, tmp_path, reference) -> None:
    out = tmp_path / "fatal"
    with pytest.raises(StageFailedError, match="drifted beyond tolerance"):
        validate(
            corpus_maker(_fonts(4, 4)),
            str(out),
            reference_statistics=reference,
            drift_tolerances=TOLERANCES,
            fail_on_drift=True,
        )
    assert (out / "report.html").exists() and (out / "statistics.json").exists()
    assert not (out / "_SUCCESS").exists()
    assert "This run FAILED" in (out / "report.html").read_text()


def test_missing_reference_is_a_usage_error(corpus_maker, tmp_path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        validate(
            corpus_maker(_fonts(1, 0)),
            str(tmp_path / "out"),
            reference_statistics=str(tmp_path / "nope.json"),
        )


def test_thresholds_fail_the_run_with_a_clear_message(corpus_maker, tmp_path) -> None:
    raw = corpus_maker(_fonts(1, 3))
    out = tmp_path / "rejecting"
    with pytest.raises(StageFailedError) as caught:
        validate(raw, str(out), max_reject_fraction=0.5)
    message = str(caught.value)
    assert "3 of 4 fonts rejected (75%), more than max_reject_fraction 50%" in message
    assert "symbol 3" in message and "report.html" in message
    assert (out / "report.html").exists() and (out / "rejected.parquet").exists()
    assert not (out / "_SUCCESS").exists() and not is_complete(str(out))

    with pytest.raises(StageFailedError, match="1 fonts accepted, fewer than min_accepted 2"):
        validate(raw, str(tmp_path / "few"), min_accepted=2)


def test_tolerance_patterns_first_match_wins() -> None:
    tolerances = {"rule.symbol": 0.5, "rule.*": 0.1}
    assert tolerance_for("rule.symbol", tolerances) == 0.5
    assert tolerance_for("rule.coverage", tolerances) == 0.1
    assert tolerance_for("ink_mean.A", tolerances) is None
    result = compare({"format.otf": 0.3}, {"format.ttf": 1.0}, {"format.*": 0.2})
    assert [d["figure"] for d in result["drifted"]] == ["format.otf", "format.ttf"]
    assert result["drifted"][0]["reference"] is None  # absent then, counted as 0


def test_an_empty_raw_store_fails_for_too_few_fonts(corpus_maker, tmp_path) -> None:
    out = tmp_path / "empty"
    with pytest.raises(StageFailedError, match="0 fonts accepted, fewer than min_accepted 1"):
        validate(corpus_maker([]), str(out))
    assert _stats(str(out))["counts"] == {"fonts": 0, "accepted": 0, "rejected": 0}
    assert "This run FAILED" in (out / "report.html").read_text()
