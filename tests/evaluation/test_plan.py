"""The plan: which test fonts, which glyphs each observes, which are novel."""

from __future__ import annotations

import numpy as np

from glyphflow.evaluation.fonts import FontTable
from glyphflow.evaluation.plan import make_plan


def _table(n: int, prefix: str, seed: int, present: np.ndarray | None = None) -> FontTable:
    rng = np.random.default_rng(seed)
    return FontTable(
        [f"{prefix}{i:02d}" for i in range(n)],
        ["F"] * n,
        "ABCDEFGH",
        rng.integers(0, 256, (n, 8, 8, 8), dtype=np.uint8),
        np.ones((n, 8), bool) if present is None else present,
    )


def test_plan_selects_observes_and_finds_twins() -> None:
    train = _table(4, "train", 0)
    present = np.ones((10, 8), bool)
    present[0] = False  # a font with nothing usable is skipped
    present[1, 3:] = False  # three glyphs: enough for k=1, not for k=4
    test = _table(10, "test", 1, present)
    test.images[2] = train.images[1]  # a twin of a training font
    plan = make_plan(test, train, "ABCDEFG", [4, 1], seed=3, novelty_l1=0.05)
    assert plan.k_shots == [1, 4]
    assert plan.skipped == {"fonts_without_usable_glyphs": 1}
    assert plan.test.font_ids == [f"test{i:02d}" for i in range(1, 10)]
    assert not plan.test.present[:, 7].any()  # H is not usable by the model
    assert plan.observed[1].sum(axis=1).tolist() == [1] * 9
    assert plan.observed[4][0].sum() == 0 and plan.eligible(4).sum() == 8
    assert (plan.observed[1] <= plan.observed[4])[1:].all()  # nested
    assert not (plan.targets(4) & plan.observed[4]).any()
    assert plan.targets(None).sum() == plan.test.present.sum()
    twin = plan.test.font_ids.index("test02")
    assert plan.nearest_distance[twin] == 0 and plan.nearest_font[twin] == "train01"
    assert plan.novel.tolist() == [i != twin for i in range(9)]
    again = make_plan(test, train, "ABCDEFG", [1, 4], seed=3, novelty_l1=0.05)
    assert again.observed_chars() == plan.observed_chars()


def test_max_test_fonts_takes_a_seeded_sample() -> None:
    train, test = _table(2, "train", 0), _table(12, "test", 1)
    first = make_plan(test, train, "ABCDEFGH", [2], 0, 0.0, max_test_fonts=5).test.font_ids
    again = make_plan(test, train, "ABCDEFGH", [2], 0, 0.0, max_test_fonts=5).test.font_ids
    other = make_plan(test, train, "ABCDEFGH", [2], 1, 0.0, max_test_fonts=5).test.font_ids
    assert first == again and len(first) == 5 and first == sorted(first)
    assert first != other
