"""The Fréchet distance between two Gaussians fitted to features (FID, FVD, ...).

For feature sets A and B with means mu_a, mu_b and covariances S_a, S_b:

    d^2 = |mu_a - mu_b|^2 + tr(S_a) + tr(S_b) - 2 tr( (S_a^{1/2} S_b S_a^{1/2})^{1/2} )

(the 2-Wasserstein distance between N(mu_a, S_a) and N(mu_b, S_b); FID and FVD report
d^2). tr((S_a S_b)^{1/2}) equals tr((S_a^{1/2} S_b S_a^{1/2})^{1/2}), and the second
form is a symmetric PSD matrix, so both square roots come from `torch.linalg.eigh`
in float64: no complex numbers, no scipy. The estimate is biased upward for small
samples, so compare only distances computed with the same sample counts.
"""

from __future__ import annotations

import torch


def gaussian_stats(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, D) features -> mean (D,) and unbiased covariance (D, D), float64."""
    f = torch.as_tensor(features).detach().to("cpu", torch.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"expected features (N, D) with N >= 2, got shape {tuple(f.shape)}")
    if not torch.isfinite(f).all():
        raise ValueError("features contain NaN or inf")
    mu = f.mean(0)
    centred = f - mu
    return mu, centred.T @ centred / (f.shape[0] - 1)


def sqrtm_psd(matrix: torch.Tensor) -> torch.Tensor:
    """Square root of a symmetric positive semi-definite matrix via eigendecomposition:
    S = Q diag(l) Q^T  ->  S^{1/2} = Q diag(sqrt(max(l, 0))) Q^T."""
    sym = (matrix + matrix.T) / 2  # remove round-off asymmetry
    eigvals, eigvecs = torch.linalg.eigh(sym)
    return (eigvecs * eigvals.clamp(min=0).sqrt()) @ eigvecs.T


def frechet_from_stats(mu_a, cov_a, mu_b, cov_b) -> float:
    """d^2 between N(mu_a, cov_a) and N(mu_b, cov_b) (formula in the module docstring)."""
    mu_a, cov_a, mu_b, cov_b = (torch.as_tensor(x, dtype=torch.float64) for x in (mu_a, cov_a, mu_b, cov_b))
    if mu_a.shape != mu_b.shape or cov_a.shape != cov_b.shape or cov_a.shape != (len(mu_a), len(mu_a)):
        raise ValueError(
            f"mismatched shapes: mu {tuple(mu_a.shape)}/{tuple(mu_b.shape)}, "
            f"cov {tuple(cov_a.shape)}/{tuple(cov_b.shape)}"
        )
    root_a = sqrtm_psd(cov_a)
    middle = root_a @ cov_b @ root_a  # S_a^{1/2} S_b S_a^{1/2}: symmetric PSD
    eig = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp(min=0)
    trace_cross = eig.sqrt().sum()  # tr((S_a^{1/2} S_b S_a^{1/2})^{1/2})
    d2 = (mu_a - mu_b).square().sum() + cov_a.trace() + cov_b.trace() - 2 * trace_cross
    return float(d2.clamp(min=0))


def frechet_distance(feats_a: torch.Tensor, feats_b: torch.Tensor) -> float:
    """Fréchet distance (squared, as in FID/FVD) between two feature sets (N, D) and (M, D)."""
    if feats_a.ndim != 2 or feats_b.ndim != 2 or feats_a.shape[1] != feats_b.shape[1]:
        raise ValueError(
            f"expected (N, D) and (M, D) features, got {tuple(feats_a.shape)} and {tuple(feats_b.shape)}"
        )
    return frechet_from_stats(*gaussian_stats(feats_a), *gaussian_stats(feats_b))


def frechet_distance_diagonal(feats_a: torch.Tensor, feats_b: torch.Tensor) -> float:
    """The same distance when both covariances are taken as diagonal (variances s^2):
    d^2 = sum_i (mu_a,i - mu_b,i)^2 + (s_a,i - s_b,i)^2. Notebook 04's exercise."""
    a, b = (torch.as_tensor(x, dtype=torch.float64) for x in (feats_a, feats_b))
    return float(((a.mean(0) - b.mean(0)).square() + (a.std(0) - b.std(0)).square()).sum())
