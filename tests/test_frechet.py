"""The Fréchet distance against a scipy reference (scipy is a test-only dependency)."""

import numpy as np
import pytest
import torch

from minilvdm.eval.frechet import (
    frechet_distance,
    frechet_distance_diagonal,
    frechet_from_stats,
    gaussian_stats,
    sqrtm_psd,
)


def scipy_frechet(a: np.ndarray, b: np.ndarray) -> float:
    """The classic FID formula with scipy.linalg.sqrtm (the pytorch-fid way)."""
    import scipy.linalg

    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    covmean = scipy.linalg.sqrtm(cov_a @ cov_b)
    covmean = covmean.real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(covmean))


@pytest.mark.parametrize("dim", [1, 4, 16, 64])
def test_matches_scipy_on_random_gaussians(dim):
    rng = np.random.default_rng(dim)
    mix_a, mix_b = rng.normal(size=(dim, dim)), rng.normal(size=(dim, dim)) * 0.5
    a = rng.normal(size=(400, dim)) @ mix_a + rng.normal(size=dim)
    b = rng.normal(size=(300, dim)) @ mix_b
    ours = frechet_distance(torch.from_numpy(a), torch.from_numpy(b))
    assert ours == pytest.approx(scipy_frechet(a, b), rel=1e-6, abs=1e-8)


def test_known_closed_form():
    # N(0, I) vs N(m, 4 I) in D dims: |m|^2 + D (1 + 4 - 2 * 2) = |m|^2 + D
    dim = 5
    mean = torch.arange(dim, dtype=torch.float64)
    d2 = frechet_from_stats(torch.zeros(dim), torch.eye(dim), mean, 4 * torch.eye(dim))
    assert d2 == pytest.approx(float(mean.square().sum()) + dim)


def test_identical_sets_score_zero_and_symmetry():
    x = torch.randn(200, 8, generator=torch.Generator().manual_seed(0))
    y = torch.randn(150, 8, generator=torch.Generator().manual_seed(1)) * 1.3
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-9)
    assert frechet_distance(x, y) == pytest.approx(frechet_distance(y, x), rel=1e-9)


def test_sqrtm_psd_squares_back_and_handles_singular():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 3))
    cov = torch.from_numpy(a @ a.T)  # rank 3 of 6: singular
    root = sqrtm_psd(cov)
    assert torch.allclose(root @ root, cov, atol=1e-9)


def test_diagonal_version_equals_full_when_covariances_are_diagonal():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(5000, 4, generator=g, dtype=torch.float64) * torch.tensor(
        [1.0, 2, 3, 4], dtype=torch.float64
    )
    b = torch.randn(5000, 4, generator=g, dtype=torch.float64) * 0.5 + 1
    full = frechet_from_stats(a.mean(0), torch.diag(a.var(0)), b.mean(0), torch.diag(b.var(0)))
    assert frechet_distance_diagonal(a, b) == pytest.approx(full, rel=1e-9)


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="N >= 2"):
        gaussian_stats(torch.zeros(1, 3))
    with pytest.raises(ValueError):
        frechet_distance(torch.zeros(10, 3), torch.zeros(10, 4))
    with pytest.raises(ValueError, match="NaN"):
        gaussian_stats(torch.tensor([[0.0], [float("nan")]]))
