"""The nearest-neighbour baseline and the novelty distances."""

from __future__ import annotations

import numpy as np
import pytest

from glyphflow.evaluation.baseline import NearestNeighbourBaseline, nearest_fonts
from glyphflow.evaluation.fonts import FontTable


def _table(images: np.ndarray, present: np.ndarray | None = None, prefix: str = "f") -> FontTable:
    n = len(images)
    return FontTable(
        [f"{prefix}{i}" for i in range(n)],
        [f"Family {i}" for i in range(n)],
        "ABCDEF",
        images,
        np.ones(images.shape[:2], bool) if present is None else present,
    )


@pytest.fixture
def train() -> FontTable:
    rng = np.random.default_rng(0)
    return _table(rng.integers(0, 256, (5, 6, 8, 8), dtype=np.uint8))


def test_baseline_recovers_a_training_font_exactly(train: FontTable) -> None:
    font = train.images[3]
    observed = np.array([0, 2])
    targets = np.array([1, 3, 4, 5])
    baseline = NearestNeighbourBaseline(train)
    distances = baseline.distances(font[observed], observed)
    assert distances[3] == 0.0 and (np.delete(distances, 3) > 0).all()
    completed, source = baseline.complete(font[observed], observed, targets)
    assert (source == 3).all()
    np.testing.assert_array_equal(completed, font[targets])


def test_baseline_takes_a_missing_character_from_the_next_closest_font(train: FontTable) -> None:
    present = train.present.copy()
    present[3, 5] = False  # the twin lacks F
    train = _table(train.images, present)
    font = train.images[3]
    observed = np.array([0])
    baseline = NearestNeighbourBaseline(train)
    order = np.argsort(baseline.distances(font[observed], observed), kind="stable")
    completed, source = baseline.complete(font[observed], observed, np.array([1, 5]))
    assert source[0] == 3
    assert source[1] == order[1]  # the second closest font, which has F
    np.testing.assert_array_equal(completed[1], train.images[order[1], 5])


def test_baseline_with_no_font_holding_a_character_gives_a_blank(train: FontTable) -> None:
    present = train.present.copy()
    present[:, 4] = False
    train = _table(train.images, present)
    completed, source = NearestNeighbourBaseline(train).complete(
        train.images[0, :1], np.array([0]), np.array([4])
    )
    assert source.tolist() == [-1] and not completed.any()


def test_nearest_fonts_finds_twins_and_measures_mean_l1(train: FontTable) -> None:
    twin = train.images[1].copy()
    other = np.zeros_like(twin)
    shifted = np.clip(train.images[4].astype(int) + 51, 0, 255).astype(np.uint8)  # <= 0.2 away
    test = _table(np.stack([twin, other, shifted]), prefix="t")
    distances, nearest = nearest_fonts(test, train)
    assert distances[0] == 0.0 and nearest[0] == 1
    # blank font: distance = mean ink of the closest training font
    expected = (train.images.astype(float) / 255).mean(axis=(1, 2, 3))
    assert distances[1] == pytest.approx(expected.min())
    assert nearest[2] == 4 and 0 < distances[2] <= 0.2 + 1e-9


def test_nearest_fonts_uses_only_shared_glyphs(train: FontTable) -> None:
    images = train.images[2:3].copy()
    images[0, 0] = 255 - images[0, 0]  # a different A, absent from the test font
    present = np.ones((1, 6), bool)
    present[0, 0] = False
    distances, nearest = nearest_fonts(_table(images, present, "t"), train)
    assert distances[0] == 0.0 and nearest[0] == 2
