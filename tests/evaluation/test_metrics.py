"""The evaluation metrics on hand-made arrays whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from glyphflow.evaluation.metrics import (
    SSIM_C1,
    SSIM_C2,
    frechet_distance,
    gaussian_window,
    l1,
    ssim,
)


def test_l1_known_values() -> None:
    zeros = np.zeros((3, 4, 4))
    ones = np.ones((3, 4, 4))
    checker = np.indices((4, 4)).sum(axis=0) % 2
    assert l1(zeros, ones) == pytest.approx([1.0, 1.0, 1.0])
    assert l1(zeros, ones * 0.25) == pytest.approx([0.25] * 3)
    assert l1(checker, zeros[0]) == pytest.approx([0.5])
    # uint8 input is read as /255
    full = np.full((1, 4, 4), 255, np.uint8)
    assert l1(full, np.zeros((1, 4, 4), np.uint8)) == pytest.approx([1.0])
    with pytest.raises(ValueError, match="differ in shape"):
        l1(zeros, np.zeros((3, 5, 5)))


def test_ssim_identical_images_is_one() -> None:
    rng = np.random.default_rng(0)
    images = rng.random((4, 16, 16))
    assert ssim(images, images) == pytest.approx([1.0] * 4)


def test_ssim_of_constant_images_is_the_luminance_term() -> None:
    a = np.full((1, 16, 16), 0.2)
    b = np.full((1, 16, 16), 0.7)
    expected = (2 * 0.2 * 0.7 + SSIM_C1) / (0.2**2 + 0.7**2 + SSIM_C1)
    assert ssim(a, b) == pytest.approx([expected], rel=1e-9)
    black, white = np.zeros((1, 16, 16)), np.ones((1, 16, 16))
    assert ssim(black, white) == pytest.approx([SSIM_C1 / (1 + SSIM_C1)], rel=1e-9)


def test_ssim_against_structure_with_a_flat_image() -> None:
    # An 11x11 image gives one window position: a hand calculation with the weights.
    rng = np.random.default_rng(1)
    x = rng.random((11, 11))
    y = np.full((11, 11), 0.5)
    w = gaussian_window()
    mu_x = (w * x).sum()
    var_x = (w * x * x).sum() - mu_x**2
    expected = (2 * mu_x * 0.5 + SSIM_C1) / (mu_x**2 + 0.25 + SSIM_C1) * SSIM_C2 / (var_x + SSIM_C2)
    assert ssim(x, y) == pytest.approx([expected], rel=1e-9)


def _reference_ssim(x: np.ndarray, y: np.ndarray, size: int) -> float:
    """Window by window, straight from the paper's definitions."""
    w = gaussian_window(size)
    values = []
    for i in range(x.shape[0] - size + 1):
        for j in range(x.shape[1] - size + 1):
            px, py = x[i : i + size, j : j + size], y[i : i + size, j : j + size]
            mx, my = (w * px).sum(), (w * py).sum()
            vx = (w * (px - mx) ** 2).sum()
            vy = (w * (py - my) ** 2).sum()
            c = (w * (px - mx) * (py - my)).sum()
            values.append(
                (2 * mx * my + SSIM_C1)
                * (2 * c + SSIM_C2)
                / ((mx**2 + my**2 + SSIM_C1) * (vx + vy + SSIM_C2))
            )
    return float(np.mean(values))


@pytest.mark.parametrize("size", [16, 8])
def test_ssim_matches_a_window_by_window_reference(size: int) -> None:
    rng = np.random.default_rng(size)
    x = rng.random((size, size))
    y = np.clip(x + rng.normal(0, 0.2, x.shape), 0, 1)
    window = 11 if size >= 11 else 7  # images smaller than 11 use the largest odd window
    assert ssim(x, y) == pytest.approx([_reference_ssim(x, y, window)], rel=1e-9)
    assert ssim(x, 1 - x)[0] < 0  # an inverted image is anti-correlated


def test_frechet_distance_known_answers() -> None:
    a = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    # same samples: zero
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    # shifted by (3, 4): the squared shift
    assert frechet_distance(a, a + np.array([3.0, 4.0])) == pytest.approx(25.0)
    # scaled by 2 and shifted: cov 2/3 I vs 8/3 I -> trace term 4/3 + 16/3 - 2 * 8/3 = 4/3
    assert frechet_distance(a, 2 * a + np.array([3.0, 4.0])) == pytest.approx(25.0 + 4.0 / 3.0)
    # symmetric
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(50, 3)), rng.normal(1.0, 2.0, size=(60, 3))
    assert frechet_distance(x, y) == pytest.approx(frechet_distance(y, x), rel=1e-6)


def test_frechet_distance_with_fewer_samples_than_features_is_finite() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(5, 16)), rng.normal(size=(5, 16))
    value = frechet_distance(x, y)
    assert np.isfinite(value) and value > 0
    with pytest.raises(ValueError, match="at least 2"):
        frechet_distance(x[:1], y)
