"""Checkers for notebook 08_base_residual_noise."""

import math

import torch

from ..methods.videofusion.model import lambdas
from . import ExerciseFailed, checker


def frame_noise(base: torch.Tensor, residual: torch.Tensor, lam: float) -> torch.Tensor:
    """eps^i = sqrt(lambda^i) b + sqrt(1 - lambda^i) r^i for b (B, C, 1, H, W), r (B, C, T, H, W)."""
    lam_t = lambdas(residual.shape[2], lam).to(residual).view(1, 1, -1, 1, 1)
    return lam_t.sqrt() * base + (1 - lam_t).sqrt() * residual


def noise_correlation(lam_i: float, lam_j: float) -> float:
    """corr(eps^i, eps^j) for i != j: the shared part's variance sqrt(lambda^i lambda^j)."""
    return math.sqrt(lam_i * lam_j)


@checker("frame_noise", reference=frame_noise)
def check_frame_noise(answer):
    g = torch.Generator().manual_seed(0)
    for frames, lam in ((5, 0.5), (4, 0.2), (3, 0.9)):
        base, residual = torch.randn(2, 1, 1, 3, 3, generator=g), torch.randn(2, 1, frames, 3, 3, generator=g)
        got = answer(base, residual, lam)
        if not isinstance(got, torch.Tensor) or got.shape != residual.shape:
            raise ExerciseFailed(f"expected a tensor of shape {tuple(residual.shape)}")
        if not torch.allclose(got, frame_noise(base, residual, lam), atol=1e-5):
            raise ExerciseFailed(
                f"wrong noise for T={frames}, lambda={lam}: use square roots of lambda^i and 1 - lambda^i, "
                "and lambda^k = 1 at the base frame k = T // 2"
            )


@checker("noise_correlation", reference=noise_correlation)
def check_noise_correlation(answer):
    for lam_i, lam_j in ((0.5, 0.5), (1.0, 0.25), (0.1, 0.9), (0.0, 0.7)):
        got = answer(lam_i, lam_j)
        if not math.isclose(float(got), noise_correlation(lam_i, lam_j), abs_tol=1e-6):
            raise ExerciseFailed(
                f"corr for lambda = ({lam_i}, {lam_j}) is {got}: the frames share only b, whose "
                "coefficients are sqrt(lambda^i) and sqrt(lambda^j) (each eps^i has unit variance)"
            )
