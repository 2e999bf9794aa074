"""Each rule rejects the FontBuilder font made to fail it, and only that rule does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glyphflow.io.outputs import is_complete, read_manifest
from tests.validation.conftest import RULE_FONTS, Validated


@pytest.mark.parametrize(
    "family", [name for name, (_, rule) in RULE_FONTS.items() if rule is not None]
)
def test_each_broken_font_is_rejected_by_its_rule_only(rule_corpus: Validated, family: str) -> None:
    expected = RULE_FONTS[family][1]
    assert rule_corpus.rules_of(family) == {expected}


def test_the_good_font_passes_every_rule(rule_corpus: Validated) -> None:
    assert rule_corpus.rules_of("Good Sans") == set()
    assert [row["family"] for row in rule_corpus.accepted] == ["Good Sans"]


def test_messages_say_what_was_wrong(rule_corpus: Validated) -> None:
    assert "Windows Symbol (3,0)" in rule_corpus.messages_of("Symbol Sans")["symbol"]
    assert "no contour" in rule_corpus.messages_of("Empty Sans")["outlines"]
    coverage = rule_corpus.messages_of("Half Sans")["coverage"]
    assert "covers 31 of 62" in coverage and "needs 90%" in coverage
    assert "f g h" in coverage  # the missing characters are named
    assert "near-identical" in rule_corpus.messages_of("Box Sans")["symbol"]
    duplicate = rule_corpus.messages_of("Copy Sans")["duplicates"]
    good_id = rule_corpus.accepted[0]["id"]
    assert f"duplicate of {good_id}" in duplicate
    assert "format ttf is preferred to woff2" in duplicate
    assert (
        "units per em 50 is outside 64..16384" in rule_corpus.messages_of("Coarse Sans")["sanity"]
    )


def test_accepted_rows_keep_the_index_and_the_raw_store_url(rule_corpus: Validated) -> None:
    row = rule_corpus.accepted[0]
    assert row["stored_path"].startswith("files/") and not Path(row["stored_path"]).is_absolute()
    assert row["instance"] is None
    manifest = read_manifest(rule_corpus.output)
    assert manifest is not None
    assert manifest.input_urls["raw"] == rule_corpus.raw
    assert is_complete(rule_corpus.output)


def test_manifest_and_statistics_count_every_rule(rule_corpus: Validated) -> None:
    manifest = rule_corpus.manifest
    assert manifest is not None
    assert manifest.counts["fonts"] == len(RULE_FONTS)
    assert manifest.counts["accepted"] == 1
    assert manifest.counts["rejected"] == len(RULE_FONTS) - 1
    assert manifest.counts["rule.symbol"] == 2
    for rule in ("outlines", "coverage", "duplicates", "sanity"):
        assert manifest.counts[f"rule.{rule}"] == 1
    assert "rule.licence" not in manifest.counts  # off by default
    stats = json.loads(Path(rule_corpus.output, "statistics.json").read_text())
    assert stats["rules"]["symbol"]["failed"] == 2
    assert stats["rules"]["coverage"]["skipped"] == 1  # the font without outlines
    assert stats["by_format"]["woff2"] == {"fonts": 1, "accepted": 0}
    fonts = len(RULE_FONTS)
    # Every font draws A except Empty Sans; Half Sans also stops at e.
    assert stats["coverage"]["per_char"]["A"] == pytest.approx((fonts - 1) / fonts, abs=1e-6)
    assert stats["coverage"]["per_char"]["z"] == pytest.approx((fonts - 2) / fonts, abs=1e-6)
    assert stats["coverage"]["histogram"]["counts"][-1] >= 5
    ink = stats["ink"]["per_char"]["A"]
    assert ink["fonts"] == 1 and 0 < ink["mean"] < 1 and ink["std"] == 0.0
    assert stats["figures"]["accepted_fraction"] == pytest.approx(1 / len(RULE_FONTS), abs=1e-6)


def test_every_failed_rule_is_listed(corpus_maker, tmp_path: Path) -> None:
    from tests.support.fonts import ALNUM, FontSpec
    from tests.validation.conftest import validate

    two = FontSpec(
        family="Two Faults",
        seed="two",
        chars=ALNUM[:20],
        units_per_em=50,
        width=25,
        height=35,
        stroke=4,
    )
    result = validate(corpus_maker([two, FontSpec(family="Fine")]), str(tmp_path / "out"))
    assert result.rules_of("Two Faults") == {"sanity", "coverage"}
    assert [r["rule"] for r in result.rejected] == ["sanity", "coverage"]  # rule order


def test_unreadable_files_are_rejected_not_fatal(corpus_maker, tmp_path: Path) -> None:
    from tests.support.fonts import FontSpec, make_font
    from tests.validation.conftest import validate

    good = make_font(FontSpec(family="Fine"))
    raw = corpus_maker([good])
    # Damage the stored file after ingestion indexed it: a disk error, a partial copy.
    stored = next(Path(raw, "files").rglob("*.ttf"))
    stored.write_bytes(good[:2000])
    result = validate(raw, str(tmp_path / "out"), min_accepted=0, max_reject_fraction=1.0)
    assert result.rules_of("Fine") == {"parses"}
    assert "truncated" in result.messages_of("Fine")["parses"]


def test_licence_allow_list(corpus_maker, tmp_path: Path) -> None:
    from tests.support.fonts import FontSpec
    from tests.validation.conftest import validate

    raw = corpus_maker(
        [
            FontSpec(family="Open"),
            FontSpec(family="Closed", seed="c", license=None, license_url=None),
        ]
    )
    result = validate(
        raw, str(tmp_path / "out"), rules={"licence": {"enabled": True, "allow": ["OFL-1.1"]}}
    )
    assert result.rules_of("Open") == set()
    assert result.rules_of("Closed") == {"licence"}
    assert "'unknown' is not on the allow-list (OFL-1.1)" in result.messages_of("Closed")["licence"]
