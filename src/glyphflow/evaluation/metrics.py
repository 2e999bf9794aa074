"""Image and distribution metrics of the evaluation, on pixel values in [0, 1].

- :func:`l1`: mean absolute pixel difference of each image pair (0 = identical, 1 = the
  inverse image).
- :func:`ssim`: structural similarity of each image pair (Wang et al. 2004) with the
  standard choices: an 11x11 Gaussian window of sigma 1.5, C1 = (0.01 L)^2,
  C2 = (0.03 L)^2 with L = 1, averaged over the valid positions of the window. Images
  smaller than the window use the largest odd window that fits.
- :func:`frechet_distance`: ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)) between two
  Gaussians fitted to feature sets (the FID formula, here over classifier features).

Kept free of any model or dataset type so they can be checked on hand-made arrays.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch
    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "SSIM_C1",
    "SSIM_C2",
    "SSIM_SIGMA",
    "SSIM_WINDOW",
    "frechet_distance",
    "gaussian_stats",
    "gaussian_window",
    "l1",
    "ssim",
]

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_C1 = (0.01 * 1.0) ** 2
SSIM_C2 = (0.03 * 1.0) ** 2


def _as_float_images(images: ArrayLike | torch.Tensor) -> torch.Tensor:
    """[N, H, W] float64 tensor in [0, 1] from [H, W], [N, H, W] or [N, 1, H, W] input."""
    import torch

    tensor = images if isinstance(images, torch.Tensor) else torch.as_tensor(np.asarray(images))
    if tensor.dtype == torch.uint8:
        tensor = tensor.double() / 255.0
    tensor = tensor.double()
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 4 and tensor.shape[1] == 1:
        tensor = tensor[:, 0]
    if tensor.dim() != 3:
        raise ValueError(f"expected images [N, H, W] (got shape {list(tensor.shape)})")
    return tensor


def l1(a: ArrayLike | torch.Tensor, b: ArrayLike | torch.Tensor) -> NDArray[np.float64]:
    """Mean absolute difference of each pair of images: shape [N]."""
    x, y = _as_float_images(a), _as_float_images(b)
    if x.shape != y.shape:
        raise ValueError(f"image batches differ in shape: {list(x.shape)} vs {list(y.shape)}")
    out: NDArray[np.float64] = (x - y).abs().flatten(1).mean(dim=1).cpu().numpy()
    return out


def gaussian_window(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> NDArray[np.float64]:
    """A normalised ``size`` x ``size`` Gaussian window."""
    coords = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-(coords**2) / (2.0 * sigma**2))
    g /= g.sum()
    window: NDArray[np.float64] = np.outer(g, g)
    return window


def ssim(
    a: ArrayLike | torch.Tensor,
    b: ArrayLike | torch.Tensor,
    window: int = SSIM_WINDOW,
    sigma: float = SSIM_SIGMA,
) -> NDArray[np.float64]:
    """Structural similarity of each pair of images in [0, 1]: shape [N], 1 = identical."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    x, y = _as_float_images(a), _as_float_images(b)
    if x.shape != y.shape:
        raise ValueError(f"image batches differ in shape: {list(x.shape)} vs {list(y.shape)}")
    size = min(window, x.shape[-2], x.shape[-1])
    if size % 2 == 0:
        size -= 1
    kernel = torch.as_tensor(gaussian_window(size, sigma), dtype=torch.float64)[None, None]
    x, y = x.unsqueeze(1), y.unsqueeze(1)

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, kernel)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x**2
    var_y = blur(y * y) - mu_y**2
    cov = blur(x * y) - mu_x * mu_y
    numerator = (2 * mu_x * mu_y + SSIM_C1) * (2 * cov + SSIM_C2)
    denominator = (mu_x**2 + mu_y**2 + SSIM_C1) * (var_x + var_y + SSIM_C2)
    out: NDArray[np.float64] = (numerator / denominator).flatten(1).mean(dim=1).cpu().numpy()
    return out


def gaussian_stats(features: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean and covariance (unbiased, rows are samples) of a feature set [N, F]."""
    array = np.asarray(features, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] < 2:
        raise ValueError(f"need at least 2 feature vectors [N, F] (got shape {array.shape})")
    mean: NDArray[np.float64] = array.mean(axis=0)
    cov: NDArray[np.float64] = np.atleast_2d(np.cov(array, rowvar=False))
    return mean, cov


def frechet_distance(
    features_a: ArrayLike,
    features_b: ArrayLike,
    eps: float = 1e-6,
) -> float:
    """Frechet distance between Gaussians fitted to two feature sets [N, F] and [M, F]."""
    from scipy import linalg

    mu1, s1 = gaussian_stats(features_a)
    mu2, s2 = gaussian_stats(features_b)
    if mu1.shape != mu2.shape:
        raise ValueError(f"feature sizes differ: {mu1.shape[0]} vs {mu2.shape[0]}")
    diff = mu1 - mu2
    with warnings.catch_warnings():
        # A singular product (fewer samples than features) is expected with few glyphs;
        # its square root is still usable, and a non-finite one is handled below.
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(s1 @ s2)
        if not np.isfinite(covmean).all():
            # Nudge both diagonals, as the reference FID code does.
            offset = np.eye(s1.shape[0]) * eps
            covmean = linalg.sqrtm((s1 + offset) @ (s2 + offset))
    covmean = np.real(covmean)
    value = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))
    # Rounding can leave a tiny negative value for identical distributions.
    return max(0.0, value) if not math.isnan(value) else value
