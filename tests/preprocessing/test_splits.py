"""Splits: by a hash of the font id (or family), stable as the corpus grows."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from glyphflow.io import shards, storage
from glyphflow.preprocessing.config import SplitFractions
from glyphflow.preprocessing.splits import split_of
from glyphflow.preprocessing.stage import run
from tests.preprocessing.helpers import corpus, make_config
from tests.support.fonts import make_font
from tests.support.rawstore import make_raw_store


def test_fractions_are_met_and_the_seed_reshuffles() -> None:
    fractions = SplitFractions(train=0.7, val=0.2, test=0.1)
    keys = [f"font-{i}" for i in range(5000)]
    counts = Counter(split_of(k, fractions) for k in keys)
    assert abs(counts["train"] / 5000 - 0.7) < 0.03
    assert abs(counts["val"] / 5000 - 0.2) < 0.03
    assert abs(counts["test"] / 5000 - 0.1) < 0.03
    moved = sum(split_of(k, fractions, 0) != split_of(k, fractions, 1) for k in keys)
    assert moved > 1000
    assert {split_of(k, SplitFractions(train=1, val=0, test=0)) for k in keys} == {"train"}
    assert {split_of(k, SplitFractions(train=0.5, val=0.5, test=0)) for k in keys} == {
        "train",
        "val",
    }


def _splits(output: str) -> dict[str, str]:
    table = shards.read_table(storage.join(output, "rendered"))
    return dict(zip(table["font_id"].to_pylist(), table["split"].to_pylist(), strict=True))


def test_a_fonts_split_does_not_change_when_fonts_are_added(tmp_path: Path) -> None:
    small = [make_font(spec) for spec in corpus(4)]
    more = [make_font(spec) for spec in corpus(6, start=4)]
    split = {"splits": {"train": 0.5, "val": 0.25, "test": 0.25}}
    raw_small = make_raw_store(str(tmp_path / "small"), small)
    raw_big = make_raw_store(str(tmp_path / "big"), [*more[:3], *small, *more[3:]])
    run(make_config(raw_small, str(tmp_path / "out-small"), **split))
    run(make_config(raw_big, str(tmp_path / "out-big"), **split))
    before = _splits(str(tmp_path / "out-small"))
    after = _splits(str(tmp_path / "out-big"))
    assert len(before) == 4 and len(after) == 10
    assert {k: after[k] for k in before} == before
    assert len(set(after.values())) > 1


def test_family_key_keeps_a_family_in_one_split(tmp_path: Path) -> None:
    raw = make_raw_store(str(tmp_path / "raw"), corpus(10))  # five families of two
    output = str(tmp_path / "out")
    run(
        make_config(
            raw, output, split_key="family", splits={"train": 0.5, "val": 0.25, "test": 0.25}
        )
    )
    table = shards.read_table(storage.join(output, "rendered"))
    by_family: dict[str, set[str]] = {}
    for family, split in zip(table["family"].to_pylist(), table["split"].to_pylist(), strict=True):
        by_family.setdefault(family, set()).add(split)
    assert len(by_family) == 5
    assert all(len(splits) == 1 for splits in by_family.values())
